// A plan or a verification from images: upload the case file and a zip of its DICOM to
// POST /api/jobs/plan (or /api/jobs/verify), then follow the background job (GET
// /api/jobs/{id}: state, progress fraction, step) with a progress bar until it links to the
// plan or the verification it recorded, or shows why it failed. The job's own address
// (/jobs/{id}) keeps following it after a reload.
import { getJson, postForm } from "./api.js";
import { el, fill, showError } from "./dom.js";
import { showFieldProblems, splitProblems } from "./fields.js";
import { TOOLS, backToPatient, header } from "./header.js";

const POLL_MS = 1000;
const params = new URLSearchParams(location.search);
const jobId = location.pathname.split("/").filter(Boolean)[1] || "new";
const form = document.getElementById("job-form");
const FIELDS = ["case", "plan_version", "dicom", "tolerance"];
const TITLES = { plan: "Plan from images", verify: "Verify a treatment from images" };

function kind() {
  return form.elements.kind.value === "verify" ? "verify" : "plan";
}

function showKind() {
  const verify = kind() === "verify";
  for (const node of form.querySelectorAll(".verify-only")) node.hidden = !verify;
  document.getElementById("job-case-required").hidden = verify;
  fill("job-title", TITLES[kind()]);
  document.title = `${TITLES[kind()]} · OpenSIRT`;
}

function showProblems(problems, formLevel = []) {
  showFieldProblems("job", FIELDS, problems, formLevel);
}

/** The page's own checks: the files needed, their kinds, the numbers' ranges. */
function pageProblems() {
  const problems = {};
  const caseFile = form.elements.case.files[0];
  const dicom = form.elements.dicom.files[0];
  const version = form.elements.plan_version.value.trim();
  if (kind() === "plan" && !caseFile) problems.case = "required: the case file (YAML)";
  if (kind() === "verify" && !caseFile && !version) problems.case = "give the case file, or the plan version below";
  if (kind() === "verify" && caseFile && version) problems.plan_version = "give either the case file or the plan version, not both";
  if (version && !/^[1-9]\d*$/.test(version)) problems.plan_version = "a record id (a whole number from 1)";
  if (caseFile && !/\.ya?ml$/i.test(caseFile.name)) problems.case = `${caseFile.name} is not a YAML file (.yaml or .yml)`;
  if (!dicom) problems.dicom = "required: a zip of the DICOM files";
  else if (!/\.zip$/i.test(dicom.name)) problems.dicom = `${dicom.name} is not a zip file (.zip)`;
  const tolerance = Number(form.elements.tolerance.value);
  if (kind() === "verify" && !(tolerance > 0 && tolerance < 1)) problems.tolerance = "a fraction between 0 and 1 (0.2 is 20 %)";
  return problems;
}

/** Which field a plain refusal is about: the zip's problems by their words. */
function guess(error) {
  if (error.status === 413 || /zip|DICOM|symbolic link|absolute path/i.test(error.message)) return "dicom";
  if (/plan version/i.test(error.message)) return "plan_version";
  if (/case/i.test(error.message)) return "case";
  return null;
}

async function submit(event) {
  event.preventDefault();
  const problems = pageProblems();
  showProblems(problems);
  if (Object.keys(problems).length) return;
  const body = new FormData();
  const caseFile = form.elements.case.files[0];
  if (caseFile) body.append("case", caseFile);
  body.append("dicom", form.elements.dicom.files[0]);
  if (kind() === "verify") {
    const version = form.elements.plan_version.value.trim();
    if (version) body.append("plan_version", version);
    body.append("tolerance", form.elements.tolerance.value);
  }
  const button = document.getElementById("job-submit");
  button.disabled = true;
  fill("job-form-status", el("p", { className: "muted", role: "status" }, "Uploading…"));
  try {
    const { job_id: id } = await postForm(`/api/jobs/${kind()}`, body);
    const query = params.get("patient") ? `?patient=${encodeURIComponent(params.get("patient"))}` : "";
    history.replaceState(null, "", `/jobs/${encodeURIComponent(id)}${query}`);
    form.hidden = true;
    follow(id);
  } catch (error) {
    const split = splitProblems(error, FIELDS, guess);
    showProblems(split.problems, split.formLevel);
    button.disabled = false;
  }
}

function resultLink(job) {
  const result = job.result || {};
  if (job.kind === "verify" && result.page) {
    return el("a", { id: "job-link", href: result.page }, "Review the verification");
  }
  if (result.plan) return el("a", { id: "job-link", href: result.plan }, "Review the plan");
  return el("p", { className: "muted" }, "Done; the result is on the patient's timeline.");
}

function showJob(job) {
  const section = document.getElementById("job");
  section.hidden = false;
  section.dataset.state = job.state;
  fill("job-title", TITLES[job.kind] || "Job");
  fill("job-state", `${job.kind === "verify" ? "Verification" : "Plan"} by ${job.created_by}: ${job.state}`);
  const fraction = Math.max(0, Math.min(1, Number(job.progress) || 0));
  const bar = document.getElementById("job-progress");
  bar.value = fraction;
  bar.setAttribute("aria-valuetext", `${Math.round(fraction * 100)} %`);
  fill("job-percent", `${Math.round(fraction * 100)} %`);
  fill("job-step", job.state === "queued" ? "waiting for the jobs before it" : job.step || "");
  if (job.state === "done") fill("job-result", el("p", { className: "ok", role: "status" }, "Done. ", resultLink(job)));
  if (job.state === "failed") {
    fill("job-result", el("p", { className: "error", role: "alert" }, "Failed: ", el("span", { id: "job-error" }, job.error || "no reason given")));
  }
}

async function follow(id) {
  try {
    const job = await getJson(`/api/jobs/${encodeURIComponent(id)}`);
    showJob(job);
    if (job.state === "queued" || job.state === "running") setTimeout(() => follow(id), POLL_MS);
  } catch (error) {
    showError("job-result", error);
  }
}

async function main() {
  const user = await header();
  backToPatient();
  if (jobId !== "new") {
    form.hidden = true;
    await follow(jobId);
    return;
  }
  form.elements.kind.value = params.get("kind") === "verify" ? "verify" : "plan";
  showKind();
  const allowed = TOOLS.find((t) => t.id === "nav-plan").roles;
  if (!allowed.includes(user.role)) {
    form.hidden = true;
    fill("job-page-status", el("p", { className: "muted" },
      `Planning and verifying from images is for the ${allowed.join(" or ")} role (you are ${user.role}).`));
    return;
  }
  for (const radio of form.elements.kind) radio.addEventListener("change", () => { showKind(); showProblems({}); });
  form.addEventListener("submit", submit);
}

main().catch((error) => showError("job-page-status", error));
