// The header of every signed-in page: the pages the user's role may use, who is signed in,
// with which role, and sign out.
import { logout, me } from "./api.js";
import { el, fill } from "./dom.js";

/**
 * The pages that start work, with the roles the service lets use them: plan and verification
 * jobs are a physicist's (POST /api/jobs/plan, /api/jobs/verify), assessing a case a
 * physicist's or a physician's (POST /api/assess), the response from measurements also a
 * nurse's (POST /api/response).
 */
export const TOOLS = [
  { id: "nav-plan", path: "/jobs/new", label: "New plan", roles: ["physicist"] },
  { id: "nav-verify", path: "/jobs/new?kind=verify", label: "Verify", roles: ["physicist"] },
  { id: "nav-assess", path: "/assess", label: "Assess", roles: ["physicist", "physician"] },
  { id: "nav-response", path: "/response", label: "Response", roles: ["physicist", "physician", "nurse"] },
];

/** The tools a role may use, each as a link; `patient` (a pseudonym) is passed along. */
export function toolLinks(role, patient = "", prefix = "") {
  return TOOLS.filter((t) => t.roles.includes(role)).map((t) => {
    let href = t.path;
    if (patient) href += `${href.includes("?") ? "&" : "?"}patient=${encodeURIComponent(patient)}`;
    return el("a", { href, id: prefix ? `${prefix}-${t.id}` : t.id }, t.label);
  });
}

export async function header() {
  const user = await me();
  const button = el("button", { type: "button", className: "link" }, "Sign out");
  button.addEventListener("click", logout);
  fill("user", el("span", { className: "tools" }, toolLinks(user.role)),
    el("span", { className: "who" }, `${user.user_name} (${user.role})`), " ", button);
  return user;
}

/** Point the page's "back" link (id back) at the patient named in the address, if any. */
export function backToPatient() {
  const patient = new URLSearchParams(location.search).get("patient");
  if (!patient) return;
  const back = document.getElementById("back");
  back.setAttribute("href", `/patients/${encodeURIComponent(patient)}`);
  fill(back, `← ${patient}`);
}
