// Building the page: every text goes in with textContent (never parsed as HTML), so that a
// string typed by a user, such as "<script>", is shown as text and never run.

/**
 * An element: el("td", {className: "num"}, "12.3", child, ...). Attributes are set with
 * setAttribute (never an on* handler); children are nodes or strings (text nodes).
 */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) throw new Error(`no inline handlers: ${key}`);
    if (key === "className") node.className = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace the children of an element (by id or node). */
export function fill(target, ...children) {
  const node = typeof target === "string" ? document.getElementById(target) : target;
  node.replaceChildren();
  append(node, children);
  return node;
}

/** A number with a unit, or an em dash when absent. */
export function fmt(value, digits = 1, unit = "") {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  const text = Number(value).toFixed(digits);
  return unit ? `${text} ${unit}` : text;
}

/** Show an error message in a page's status line (role="alert"). */
export function showError(target, error) {
  fill(target, el("p", { className: "error", role: "alert" }, error.message || String(error)));
}

/** Today's date as YYYY-MM-DD in the browser's time zone. */
export function today() {
  const now = new Date();
  const local = new Date(now.getTime() - now.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 10);
}
