// Assess a case (POST /api/assess, as `opensirt assess`): the case file uploaded, then the
// eligibility verdict with each rule's result, and the liver function scores and BCLC stage
// with their sources. The service's problems with the case are shown next to its field.
import { postForm } from "./api.js";
import { el, fill, fmt, showError } from "./dom.js";
import { showFieldProblems, splitProblems } from "./fields.js";
import { TOOLS, backToPatient, header } from "./header.js";

const form = document.getElementById("assess-form");
const FIELDS = ["case"];
/** Row classes of a rule's status: caution marked like a binding limit, refusal like an exceeded one. */
const STATUS_CLASS = { caution: "binding", "not eligible": "exceeded" };

function eligibilityTable(eligibility) {
  return [
    el("caption", {}, "Eligibility rules"),
    el("thead", {}, el("tr", {}, ["Rule", "Result", "Why", "Source"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, eligibility.reasons.map((r) => el("tr", { className: STATUS_CLASS[r.status] || null },
      el("th", { scope: "row" }, r.rule.replaceAll("_", " ")),
      el("td", {}, r.status),
      el("td", {}, r.message),
      el("td", { className: "source" }, r.source)))),
  ];
}

/** One row per score: its value, what it means, its source; "—" where inputs were missing. */
function scoreRows(a) {
  const cp = a.child_pugh;
  const albi = a.albi;
  const meld = a.meld;
  const bclc = a.bclc;
  return [
    ["Child-Pugh", cp && cp.label, cp && `${cp.points} points, class ${cp.class}`, cp && cp.source],
    ["ALBI", albi && fmt(albi.score, 2), albi && `grade ${albi.grade}`, albi && albi.source],
    ["MELD", meld && String(meld.score), meld && `MELD-Na ${meld.meld_na}`, meld && meld.source],
    ["ECOG", a.ecog && String(a.ecog.status), a.ecog && a.ecog.description, null],
    ["BCLC", bclc && bclc.stage, bclc && [bclc.treatment, ...(bclc.reasons || [])].join("; "), bclc && bclc.source],
  ];
}

function scoresTable(assessment) {
  return [
    el("caption", {}, "Liver function and stage"),
    el("thead", {}, el("tr", {}, ["Score", "Value", "Meaning", "Source"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, scoreRows(assessment).map(([name, value, meaning, source]) => el("tr", {},
      el("th", { scope: "row" }, name),
      el("td", { className: "num" }, value ?? "—"),
      el("td", {}, meaning ?? "not computed: inputs missing"),
      el("td", { className: "source" }, source ?? "")))),
  ];
}

function notes(assessment) {
  const missing = Object.entries(assessment.missing || {}).filter(([, keys]) => keys.length);
  return [
    missing.length ? el("h3", {}, "Missing from the case file") : null,
    missing.length ? el("ul", { id: "assess-missing" }, missing.map(([score, keys]) => el("li", {}, `${score}: ${keys.join(", ")}`))) : null,
    (assessment.notes || []).length ? el("h3", {}, "Notes") : null,
    el("ul", {}, (assessment.notes || []).map((n) => el("li", {}, n))),
  ];
}

function show(assessment) {
  const section = document.getElementById("assessment");
  section.hidden = false;
  const verdict = assessment.eligibility.verdict;
  fill("assessment-title", `Assessment of ${assessment.patient_id}`);
  fill("verdict", "SIRT eligibility: ",
    el("span", { className: `badge verdict-${verdict.replaceAll(" ", "-")}`, id: "verdict-value" }, verdict));
  fill("eligibility", eligibilityTable(assessment.eligibility));
  fill("scores", scoresTable(assessment));
  fill("assess-notes", notes(assessment));
}

async function submit(event) {
  event.preventDefault();
  const file = form.elements.case.files[0];
  const problems = {};
  if (!file) problems.case = "required: the case file (YAML)";
  else if (!/\.ya?ml$/i.test(file.name)) problems.case = `${file.name} is not a YAML file (.yaml or .yml)`;
  showFieldProblems("assess", FIELDS, problems);
  if (problems.case) return;
  const body = new FormData();
  body.append("case", file);
  const button = document.getElementById("assess-submit");
  button.disabled = true;
  try {
    show(await postForm("/api/assess", body));
  } catch (error) {
    document.getElementById("assessment").hidden = true;
    const split = splitProblems(error, FIELDS, () => "case");
    showFieldProblems("assess", FIELDS, split.problems, split.formLevel);
  } finally {
    button.disabled = false;
  }
}

async function main() {
  const user = await header();
  backToPatient();
  const allowed = TOOLS.find((t) => t.id === "nav-assess").roles;
  if (!allowed.includes(user.role)) {
    form.hidden = true;
    fill("assess-page-status", el("p", { className: "muted" },
      `Assessing a case is for the ${allowed.join(" or ")} role (you are ${user.role}).`));
    return;
  }
  form.addEventListener("submit", submit);
}

main().catch((error) => showError("assess-page-status", error));
