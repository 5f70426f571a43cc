// Errors next to their field on the upload pages (plan and verification jobs, assess,
// response): each field `name` has the input `${prefix}-${name}` and the message box
// `${prefix}-${name}-error`; what belongs to no field goes in `${prefix}-form-status`.
import { el, fill } from "./dom.js";

/** Show `problems` ({field: message}) next to their fields, the rest in the form's status. */
export function showFieldProblems(prefix, names, problems, formLevel = []) {
  for (const name of names) {
    const input = document.getElementById(`${prefix}-${name}`);
    fill(`${prefix}-${name}-error`, problems[name] || "");
    if (problems[name]) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
  fill(`${prefix}-form-status`, formLevel.map((m) => el("p", { className: "error", role: "alert" }, m)));
  document.querySelector(`[id^="${prefix}-"][aria-invalid=true]`)?.focus();
}

/**
 * The service's refusal split by field: its [{field, message}] by the field's name (any
 * part of the dotted path), a plain message by `guess(error)` (a field name or null).
 */
export function splitProblems(error, names, guess) {
  const problems = {};
  const formLevel = [];
  // One problem a line; a message that names its field already is not prefixed again.
  const add = (name, message) => {
    problems[name] = problems[name] ? `${problems[name]}\n${message}` : message;
  };
  const named = (field, message) => (!field || message.startsWith(field) ? message : `${field}: ${message}`);
  if (!error.fields || !error.fields.length) {
    const name = error.status === undefined ? null : guess(error);
    if (name) add(name, error.message);
    else formLevel.push(error.message);
    return { problems, formLevel };
  }
  for (const { field = "", message } of error.fields) {
    const name = names.find((n) => String(field).split(".").includes(n));
    if (name) add(name, message);
    else {
      const fallback = guess(error);
      if (fallback) add(fallback, named(field, message));
      else formLevel.push(named(field, message));
    }
  }
  return { problems, formLevel };
}
