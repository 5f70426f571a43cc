// Tumour response from a lesion measurement table (POST /api/response, as `opensirt
// response`): per patient, each time point's response by RECIST 1.1, mRECIST and EASL with
// the change from baseline, the best overall response and the criteria's sources; with
// "record" the measurements and responses are also written to the registry.
import { postForm } from "./api.js";
import { el, fill, fmt, showError } from "./dom.js";
import { showFieldProblems, splitProblems } from "./fields.js";
import { TOOLS, backToPatient, header } from "./header.js";

const form = document.getElementById("response-form");
const FIELDS = ["table", "confirm", "confirmation_days", "sd_min_days", "record"];
const CRITERIA = [["recist", "RECIST 1.1"], ["mrecist", "mRECIST"], ["easl", "EASL"]];
const NUMBERS = { confirmation_days: 1, sd_min_days: 0 };

function cell(point, key) {
  const details = (point.details || {})[key];
  const change = details ? details.change_from_baseline_pct : null;
  return el("td", {}, el("strong", {}, point[key] ?? "—"),
    change === null || change === undefined ? null : el("span", { className: "muted" }, ` (${change > 0 ? "+" : ""}${fmt(change, 1)} %)`));
}

function patientTable(p) {
  const head = el("tr", {}, el("th", { scope: "col" }, "Date"), CRITERIA.map(([, name]) => el("th", { scope: "col" }, name)));
  const rows = p.timepoints.map((t) => el("tr", {}, el("th", { scope: "row" }, t.date), CRITERIA.map(([key]) => cell(t, key))));
  const best = el("tr", { className: "best" }, el("th", { scope: "row" }, "Best overall"),
    CRITERIA.map(([key]) => el("td", {}, el("strong", {}, (p.best || {})[key] ?? "—"))));
  return el("table", { className: "response-table" },
    el("caption", {}, `Baseline ${p.baseline}; change from baseline in brackets${p.confirmation ? "; CR/PR confirmed" : ""}`),
    el("thead", {}, head), el("tbody", {}, rows, best));
}

function patientSection(p) {
  return el("section", { className: "response-patient", "aria-label": p.patient_id },
    el("h3", {}, el("a", { href: `/patients/${encodeURIComponent(p.patient_id)}` }, p.patient_id)),
    el("div", { className: "table-wrap" }, patientTable(p)),
    (p.warnings || []).length ? el("ul", { className: "warnings" }, p.warnings.map((w) => el("li", {}, w))) : null,
    el("ul", { className: "sources muted" }, CRITERIA.map(([key, name]) => el("li", {}, `${name}: ${(p.sources || {})[key] ?? ""}`))));
}

function show(answer) {
  document.getElementById("responses").hidden = false;
  const recorded = answer.recorded
    ? el("p", { className: "ok", role: "status", id: "response-recorded" }, "Recorded: ",
      Object.entries(answer.recorded).map(([k, v]) => `${v} ${k.replaceAll("_", " ")}`).join(", "), ".")
    : null;
  fill("response-warnings", recorded,
    (answer.warnings || []).length ? el("ul", { className: "warnings" }, answer.warnings.map((w) => el("li", {}, w))) : null);
  fill("response-patients", answer.patients.length ? answer.patients.map(patientSection) : el("p", { className: "muted" }, "No patients in the table."));
}

function pageProblems() {
  const problems = {};
  const file = form.elements.table.files[0];
  if (!file) problems.table = "required: the measurement table (CSV)";
  else if (!/\.(csv|txt)$/i.test(file.name)) problems.table = `${file.name} is not a CSV file (.csv)`;
  for (const [name, min] of Object.entries(NUMBERS)) {
    const raw = form.elements[name].value.trim();
    if (!/^\d+$/.test(raw) || Number(raw) < min) problems[name] = `a whole number of days, at least ${min}`;
  }
  return problems;
}

async function submit(event) {
  event.preventDefault();
  const problems = pageProblems();
  showFieldProblems("response", FIELDS, problems);
  if (Object.keys(problems).length) return;
  const body = new FormData();
  body.append("table", form.elements.table.files[0]);
  for (const name of ["confirm", "record"]) body.append(name, String(form.elements[name].checked));
  for (const name of Object.keys(NUMBERS)) body.append(name, form.elements[name].value.trim());
  const button = document.getElementById("response-submit");
  button.disabled = true;
  try {
    show(await postForm("/api/response", body));
  } catch (error) {
    document.getElementById("responses").hidden = true;
    const split = splitProblems(error, FIELDS, (e) => (e.status === 413 || e.status === 422 ? "table" : null));
    showFieldProblems("response", FIELDS, split.problems, split.formLevel);
  } finally {
    button.disabled = false;
  }
}

async function main() {
  const user = await header();
  backToPatient();
  const allowed = TOOLS.find((t) => t.id === "nav-response").roles;
  if (!allowed.includes(user.role)) {
    form.hidden = true;
    fill("response-page-status", el("p", { className: "muted" },
      `The response assessment is for the ${allowed.join(", ")} roles (you are ${user.role}).`));
    return;
  }
  form.addEventListener("submit", submit);
}

main().catch((error) => showError("response-page-status", error));
