// The header of every signed-in page: who is signed in, with which role, and sign out.
import { logout, me } from "./api.js";
import { el, fill } from "./dom.js";

export async function header() {
  const user = await me();
  const button = el("button", { type: "button", className: "link" }, "Sign out");
  button.addEventListener("click", logout);
  fill("user", el("span", { className: "who" }, `${user.user_name} (${user.role})`), " ", button);
  return user;
}
