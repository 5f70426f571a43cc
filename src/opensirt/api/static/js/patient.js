// A patient's page: the timeline of the pathway (each kind with its symbol and colour, the
// date and the summary; plans and verifications link to their review pages; each entry's
// history from the audit log) and the record forms.
import { getJson } from "./api.js";
import { el, fill, showError } from "./dom.js";
import { FORMS, buildForm } from "./forms.js";
import { header, toolLinks } from "./header.js";

const pseudonym = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");

/** Symbol and registry table of each timeline kind (the colour is in the CSS, by kind). */
const KINDS = {
  findings: ["◆", "clinical_findings"],
  labs: ["⚗", "lab_panels"],
  "quality-of-life": ["☺", "quality_of_life"],
  mdt: ["⚑", "mdt_decisions"],
  imaging: ["▣", "imaging_studies"],
  "work-up": ["◎", "workups"],
  plan: ["✎", "plan_versions"],
  session: ["✚", "treatment_sessions"],
  monitoring: ["♥", "monitoring"],
  verification: ["✓", "verifications"],
  "adverse-event": ["⚠", "adverse_events"],
  lesions: ["◯", "lesion_measurements"],
  response: ["↘", "response_assessments"],
  outcome: ["■", "outcome_events"],
};

function link(entry) {
  if (entry.kind === "plan") return el("a", { href: `/plans/${entry.id}` }, "Review plan");
  if (entry.kind === "verification") return el("a", { href: `/verifications/${entry.id}` }, "Review verification");
  return null;
}

function historyButton(entry) {
  const [, table] = KINDS[entry.kind] || ["", entry.kind];
  const box = el("div", { className: "history" });
  const button = el("button", { type: "button", className: "link" }, "History");
  button.addEventListener("click", async () => {
    try {
      const data = await getJson(`/api/audit?${new URLSearchParams({ entity: table, key: String(entry.id) })}`);
      const entries = Array.isArray(data) ? data : data.entries || [];
      fill(box, entries.length
        ? el("ul", {}, entries.map((a) => el("li", {}, `${a.at} · ${a.actor} · ${a.action}`)))
        : el("p", { className: "muted" }, "No audit entries."));
    } catch (error) {
      showError(box, error);
    }
  });
  return [button, box];
}

function item(entry) {
  const [symbol] = KINDS[entry.kind] || ["•"];
  return el("li", { className: `event kind-${entry.kind}` },
    el("span", { className: "icon", "aria-hidden": "true" }, symbol),
    el("div", { className: "event-body" },
      el("p", { className: "event-head" },
        el("time", { datetime: entry.date }, entry.date), " ",
        el("span", { className: "kind" }, entry.kind), " ", link(entry)),
      el("p", { className: "summary" }, entry.summary),
      historyButton(entry)));
}

async function loadTimeline() {
  try {
    const data = await getJson(`/api/patients/${encodeURIComponent(pseudonym)}/timeline`);
    const p = data.patient;
    fill("patient-facts", el("dl", { className: "facts" },
      el("dt", {}, "Diagnosis"), el("dd", {}, `${p.diagnosis} since ${p.diagnosis_date}`),
      el("dt", {}, "Sex"), el("dd", {}, p.sex),
      el("dt", {}, "Born"), el("dd", {}, String(p.birth_year))));
    fill("timeline", data.entries.length ? data.entries.map(item) : el("li", { className: "muted" }, "No events yet."));
  } catch (error) {
    showError("timeline-status", error);
  }
}

async function main() {
  document.title = `${pseudonym} · OpenSIRT`;
  fill("pseudonym", pseudonym);
  const exportLink = document.getElementById("export");
  exportLink.setAttribute("href", `/api/patients/${encodeURIComponent(pseudonym)}/export`);
  const user = await header();
  fill("patient-tools", toolLinks(user.role, pseudonym, "patient"));
  await loadTimeline();
  const forms = document.getElementById("forms");
  if (user.role === "viewer") {
    fill(forms, el("p", { className: "muted" }, "Viewers read only: recording needs another role."));
    return;
  }
  for (const definition of FORMS) buildForm(forms, definition, pseudonym, loadTimeline);
}

main().catch((error) => showError("timeline-status", error));
