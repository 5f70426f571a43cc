// The patient list: search, filters (diagnosis, status, diagnosis date range) and paging,
// kept in the address so that a list can be bookmarked and the back button works.
import { getJson } from "./api.js";
import { el, fill, showError } from "./dom.js";
import { header } from "./header.js";

const PAGE_SIZE = 25;
const form = document.getElementById("filters");
const FIELDS = ["q", "diagnosis", "status", "from", "to"];

function readAddress() {
  const params = new URLSearchParams(location.search);
  for (const name of FIELDS) form.elements[name].value = params.get(name) || "";
  return Math.max(0, Number(params.get("offset")) || 0);
}

function query(offset) {
  const params = new URLSearchParams();
  for (const name of FIELDS) {
    const value = form.elements[name].value.trim();
    if (value) params.set(name, value);
  }
  if (offset) params.set("offset", String(offset));
  return params;
}

function row(patient) {
  const link = el("a", { href: `/patients/${encodeURIComponent(patient.pseudonym)}` }, patient.pseudonym);
  return el(
    "tr",
    {},
    el("td", {}, link),
    el("td", {}, patient.diagnosis ?? "—"),
    el("td", {}, patient.diagnosis_date ?? "—"),
    el("td", {}, patient.first_sirt ?? "—"),
    el("td", { className: "num" }, patient.sessions ?? "—"),
    el("td", {}, patient.latest_plan_state ?? "—"),
    el("td", {}, patient.last_record ?? "—"),
    el("td", {}, patient.died ? `died ${patient.died}` : "alive"),
  );
}

async function load(offset) {
  const params = query(offset);
  params.set("limit", String(PAGE_SIZE));
  params.set("offset", String(offset));
  fill("list-status", el("p", { className: "muted" }, "Loading …"));
  try {
    const data = await getJson(`/api/patients?${params}`);
    fill("patient-rows", data.patients.map(row));
    const last = Math.min(offset + data.patients.length, data.total);
    fill(
      "list-status",
      el("p", {}, data.total === 0 ? "No patient matches." : `Patients ${offset + 1}–${last} of ${data.total}`),
    );
    document.getElementById("prev").disabled = offset <= 0;
    document.getElementById("next").disabled = last >= data.total;
  } catch (error) {
    showError("list-status", error);
  }
}

function go(offset) {
  history.pushState(null, "", `/?${query(offset)}`);
  load(offset);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  go(0);
});
form.addEventListener("reset", () => setTimeout(() => go(0), 0));
document.getElementById("prev").addEventListener("click", () => go(Math.max(0, readOffset() - PAGE_SIZE)));
document.getElementById("next").addEventListener("click", () => go(readOffset() + PAGE_SIZE));
window.addEventListener("popstate", () => load(readAddress()));

function readOffset() {
  return Math.max(0, Number(new URLSearchParams(location.search).get("offset")) || 0);
}

header();
load(readAddress());
