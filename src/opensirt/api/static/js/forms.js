// The record forms of the patient page (MDT decision, treatment session, the nurses' 4-6 h
// monitoring after it, adverse event, follow-up measurement): built from a field list, validated in the page (required fields,
// ranges, no date in the future), then sent to the service, whose 422 field errors are shown
// next to their field.
import { postJson } from "./api.js";
import { el, fill, today } from "./dom.js";

const THERAPIES = ["sirt", "tace", "tae", "haic", "ablation", "resection", "transplant",
  "external-beam", "systemic", "best-supportive-care"];
const INTENTS = ["palliative", "downstaging", "bridge-to-resection", "bridge-to-transplant", "curative"];
const ATTRIBUTIONS = ["unrelated", "unlikely", "possible", "probable", "definite"];
/**
 * The vital signs of one observation after a session. The bounds only catch typing errors
 * (values no living patient shows), they are no clinical thresholds; pain on the 0-10
 * numeric rating scale (Hawker et al. 2011, doi:10.1002/acr.20543).
 */
const VITALS = [
  { name: "time", label: "Time", type: "time" },
  { name: "heart_rate_bpm", label: "Heart rate (/min)", type: "number", min: 20, max: 250, step: 1 },
  { name: "systolic_mmhg", label: "Systolic (mmHg)", type: "number", min: 40, max: 300, step: 1 },
  { name: "diastolic_mmhg", label: "Diastolic (mmHg)", type: "number", min: 20, max: 200, step: 1 },
  { name: "spo2_pct", label: "SpO₂ (%)", type: "number", min: 50, max: 100, step: 1 },
  { name: "temperature_c", label: "Temp. (°C)", type: "number", min: 30, max: 45, step: "any" },
  { name: "pain_nrs", label: "Pain (0–10)", type: "number", min: 0, max: 10, step: 1 },
];

/** A datetime-local value ("2026-11-27T10:30", the browser's time zone) in ISO 8601 UTC. */
function utc(local) {
  return new Date(local).toISOString();
}

/** The forms: kind (the API's record kind), title, fields and how the body is made. */
export const FORMS = [
  {
    kind: "mdt",
    noun: "MDT decision",
    title: "MDT decision",
    fields: [
      { name: "date", label: "Date", type: "date", required: true },
      { name: "roles_present", label: "Roles present (comma-separated)", type: "text", required: true, max: 500 },
      { name: "options_considered", label: "Options considered", type: "checks", options: THERAPIES, required: true },
      { name: "chosen", label: "Chosen", type: "select", options: THERAPIES, required: true },
      { name: "intent", label: "Intent", type: "select", options: INTENTS, required: true },
      { name: "line", label: "Line of therapy", type: "number", min: 1, max: 20, step: 1 },
      { name: "rationale", label: "Rationale", type: "textarea", max: 4000 },
    ],
    check(values) {
      if (values.chosen && !values.options_considered.includes(values.chosen)) {
        return { chosen: "the chosen option must be among the options considered" };
      }
      return {};
    },
    body(values) {
      const roles = values.roles_present.split(",").map((s) => s.trim()).filter(Boolean);
      return { ...values, roles_present: roles };
    },
  },
  {
    kind: "session",
    noun: "treatment session",
    title: "Treatment session",
    fields: [
      { name: "date", label: "Date", type: "date", required: true },
      { name: "therapy", label: "Therapy", type: "select", options: THERAPIES, required: true },
      { name: "territory", label: "Territory", type: "text", max: 64 },
      { name: "delivered_activity_gbq", label: "Delivered activity (GBq)", type: "number", min: 0, max: 50, step: "any" },
      { name: "plan", label: "Plan label", type: "text", max: 64 },
      { name: "device", label: "Device (SIRT)", type: "text", max: 64, into: "details" },
      { name: "residual_fraction", label: "Residual fraction (0–1, SIRT)", type: "number", min: 0, max: 1, step: "any", into: "details" },
      { name: "catheter_position", label: "Catheter position (SIRT)", type: "text", max: 500, into: "details" },
    ],
    check(values) {
      if (values.therapy === "sirt" && !values.details.device) return { device: "a SIRT session needs its device" };
      return {};
    },
    body(values) {
      return values;
    },
  },
  {
    kind: "monitoring",
    noun: "monitoring",
    title: "Monitoring after the session (4–6 h)",
    fields: [
      // The service names this field "monitoring date" when no session was on that day.
      { name: "date", label: "Date of the session", type: "date", required: true, aliases: ["monitoring date"] },
      { name: "start", label: "Monitoring from", type: "datetime-local", required: true },
      { name: "end", label: "until", type: "datetime-local", required: true },
      { name: "observations", label: "Observations", type: "rows", columns: VITALS, rows: 3 },
      { name: "discharged", label: "Discharged", type: "select", options: ["yes", "no"], required: true },
      { name: "notes", label: "Notes", type: "textarea", max: 4000 },
    ],
    check(values) {
      if (values.end <= values.start) return { end: "the end must be after the start" };
      if (values.start.slice(0, 10) < values.date) return { start: "the monitoring starts before the session's date" };
      return {};
    },
    body(values) {
      return { ...values, start: utc(values.start), end: utc(values.end), discharged: values.discharged === "yes" };
    },
  },
  {
    kind: "adverse-event",
    noun: "adverse event",
    title: "Adverse event (CTCAE v5.0)",
    fields: [
      { name: "date", label: "Onset date", type: "date", required: true },
      { name: "term", label: "CTCAE term", type: "text", required: true, minLength: 2, max: 128 },
      { name: "grade", label: "Grade (1–5)", type: "number", min: 1, max: 5, step: 1, required: true },
      { name: "attribution", label: "Attribution", type: "select", options: ATTRIBUTIONS, required: true },
      { name: "resolved", label: "Resolved on", type: "date" },
      { name: "session_date", label: "After the session of", type: "date" },
    ],
    check(values) {
      if (values.resolved && values.date && values.resolved < values.date) {
        return { resolved: "the resolution date is before the onset" };
      }
      return {};
    },
    body(values) {
      return values;
    },
  },
  {
    kind: "measurements",
    noun: "measurement",
    title: "Follow-up measurement",
    fields: [
      { name: "date", label: "Date", type: "date", required: true },
      { name: "lesion_id", label: "Lesion", type: "text", required: true, max: 64 },
      { name: "role", label: "Role", type: "select", options: ["target", "non-target", "new"], required: true },
      { name: "organ", label: "Organ", type: "text", max: 64, initial: "liver" },
      { name: "longest_diameter_mm", label: "Longest diameter (mm)", type: "number", min: 0, max: 500, step: "any" },
      { name: "short_axis_mm", label: "Short axis (mm)", type: "number", min: 0, max: 500, step: "any" },
      { name: "viable_diameter_mm", label: "Viable diameter (mm, mRECIST)", type: "number", min: 0, max: 500, step: "any" },
      { name: "status", label: "Status", type: "select", options: ["present", "absent", "unequivocal-progression"], required: true },
    ],
    check() {
      return {};
    },
    body(values) {
      return values;
    },
  },
];

function control(spec, id) {
  const common = { id, name: spec.name, "aria-describedby": `${id}-error` };
  if (spec.type === "select") {
    return el("select", { ...common, required: spec.required },
      el("option", { value: "" }, "— choose —"),
      spec.options.map((o) => el("option", { value: o }, o)));
  }
  if (spec.type === "checks") {
    return el("div", { className: "checks", id, role: "group", "aria-describedby": `${id}-error` },
      spec.options.map((o) => el("label", {}, el("input", { type: "checkbox", name: spec.name, value: o }), ` ${o}`)));
  }
  if (spec.type === "textarea") return el("textarea", { ...common, rows: 3, maxlength: spec.max });
  if (spec.type === "rows") return rowsTable(spec, id);
  const attributes = { ...common, type: spec.type, required: spec.required, value: spec.initial };
  if (spec.type === "number") Object.assign(attributes, { min: spec.min, max: spec.max, step: spec.step });
  if (spec.type === "date") attributes.max = today();
  if (spec.type === "text") Object.assign(attributes, { maxlength: spec.max, minlength: spec.minLength });
  return el("input", attributes);
}

/** One group of small labelled inputs per observation, one input per vital sign. */
function rowsTable(spec, id) {
  const rows = Array.from({ length: spec.rows }, (_, i) => el("fieldset", { className: "row" },
    el("legend", {}, `Observation ${i + 1}`),
    spec.columns.map((c) => {
      const cellId = `${id}-${i}-${c.name}`;
      return el("div", { className: "cell" }, el("label", { for: cellId }, c.label), control({ ...c, required: false }, cellId));
    })));
  return el("div", { className: "rows", id, role: "group", "aria-labelledby": `${id}-label`, "aria-describedby": `${id}-error` }, rows);
}

/** The filled rows of a rows group: [{column: value}], empty rows left out. */
function readRows(form, spec) {
  const rows = [];
  for (let i = 0; i < spec.rows; i += 1) {
    const row = {};
    for (const column of spec.columns) {
      const raw = form.querySelector(`#${form.id}-${spec.name}-${i}-${column.name}`).value.trim();
      if (raw !== "") row[column.name] = column.type === "number" ? Number(raw) : raw;
    }
    if (Object.keys(row).length) rows.push(row);
  }
  return rows;
}

function readValue(form, spec) {
  if (spec.type === "rows") return readRows(form, spec);
  if (spec.type === "checks") {
    return [...form.querySelectorAll(`input[name="${spec.name}"]:checked`)].map((box) => box.value);
  }
  const raw = form.elements[spec.name].value.trim();
  if (raw === "") return null;
  return spec.type === "number" ? Number(raw) : raw;
}

/** The page's own checks of one field; a message or null. */
export function fieldProblem(spec, value) {
  const empty = value === null || (Array.isArray(value) && value.length === 0);
  if (empty) return spec.required ? "required" : null;
  if (spec.type === "number") {
    if (!Number.isFinite(value)) return "not a number";
    if (spec.step === 1 && !Number.isInteger(value)) return "a whole number is expected";
    if (spec.min !== undefined && value < spec.min) return `at least ${spec.min}`;
    if (spec.max !== undefined && value > spec.max) return `at most ${spec.max}`;
  }
  if (spec.type === "date") {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) return "a date YYYY-MM-DD is expected";
    if (value > today()) return `in the future (today is ${today()})`;
  }
  if (spec.type === "datetime-local") {
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value) || Number.isNaN(Date.parse(value))) return "a date and time is expected";
    if (new Date(value) > new Date()) return "in the future";
  }
  if (spec.type === "rows") {
    for (const [i, row] of value.entries()) {
      for (const column of spec.columns) {
        const problem = row[column.name] === undefined ? null : fieldProblem(column, row[column.name]);
        if (problem) return `observation ${i + 1}, ${column.label}: ${problem}`;
      }
    }
  }
  if (spec.type === "text" || spec.type === "textarea") {
    if (spec.minLength && value.length < spec.minLength) return `at least ${spec.minLength} characters`;
    if (spec.max && value.length > spec.max) return `at most ${spec.max} characters`;
  }
  return null;
}

function showProblems(form, definition, problems, formLevel) {
  for (const spec of definition.fields) {
    const message = problems[spec.name] || "";
    const box = form.querySelector(`#${form.id}-${spec.name}-error`);
    box.textContent = message;
    const input = form.querySelector(`#${form.id}-${spec.name}`);
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
  fill(form.querySelector(".form-status"), formLevel.map((m) => el("p", { className: "error", role: "alert" }, m)));
}

/** The service's 422 answer split into field messages and form-level messages. */
function serviceProblems(definition, error) {
  const names = new Set(definition.fields.map((f) => f.name));
  const problems = {};
  const formLevel = [];
  if (!error.fields.length) {
    // A plain message that starts with a field's name (or its alias) is that field's.
    const spec = definition.fields.find((f) => [f.name, ...(f.aliases || [])].some((n) => error.message.startsWith(`${n} `)));
    if (spec) problems[spec.name] = error.message;
    return { problems, formLevel: spec ? [] : [error.message] };
  }
  for (const { field = "", message } of error.fields) {
    // "details.device", "roles_present[0]": the deepest part that is a field of the form.
    const parts = String(field).split(/[.[\]]/).filter((p) => p && !/^\d+$/.test(p));
    const name = [...parts].reverse().find((p) => names.has(p)) ?? "";
    if (names.has(name)) problems[name] = problems[name] ? `${problems[name]}; ${message}` : message;
    else formLevel.push(field ? `${field}: ${message}` : message);
  }
  return { problems, formLevel };
}

/** Build one form into `container`; `onRecorded` runs after the service accepted it. */
export function buildForm(container, definition, pseudonym, onRecorded) {
  const formId = `form-${definition.kind}`;
  const form = el("form", { id: formId, className: "record-form", novalidate: true },
    el("h3", {}, definition.title),
    definition.fields.map((spec) => {
      const id = `${formId}-${spec.name}`;
      const label = spec.type === "checks" || spec.type === "rows"
        ? el("span", { className: "label", id: `${id}-label` }, spec.label, spec.required ? " *" : "")
        : el("label", { for: id }, spec.label, spec.required ? " *" : "");
      return el("div", { className: "field" }, label, control(spec, id),
        el("p", { className: "field-error", id: `${id}-error`, "aria-live": "polite" }));
    }),
    el("div", { className: "form-status" }),
    el("button", { type: "submit" }, `Record the ${definition.noun}`));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = { patient: pseudonym };
    const problems = {};
    for (const spec of definition.fields) {
      const value = readValue(form, spec);
      const problem = fieldProblem(spec, value);
      if (problem) problems[spec.name] = problem;
      if (value === null || (Array.isArray(value) && !value.length && !spec.required)) continue;
      if (spec.into) values[spec.into] = { ...(values[spec.into] || {}), [spec.name]: value };
      else values[spec.name] = value;
    }
    if (definition.fields.some((f) => f.into) && !values.details) values.details = {};
    Object.assign(problems, Object.keys(problems).length ? {} : definition.check(values));
    showProblems(form, definition, problems, []);
    if (Object.keys(problems).length) {
      form.querySelector("[aria-invalid=true]")?.focus();
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await postJson(`/api/patients/${encodeURIComponent(pseudonym)}/records/${definition.kind}`, definition.body(values));
      form.reset();
      fill(form.querySelector(".form-status"), el("p", { className: "ok", role: "status" }, `Recorded: ${definition.title}.`));
      onRecorded();
    } catch (error) {
      if (error.status === 422) {
        const split = serviceProblems(definition, error);
        showProblems(form, definition, split.problems, split.formLevel);
      } else {
        showProblems(form, definition, {}, [error.message]);
      }
    } finally {
      button.disabled = false;
    }
  });
  container.append(form);
  return form;
}
