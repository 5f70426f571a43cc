// The login page: user name and password to POST /api/login, then back to where the user was.
import { ApiError } from "./api.js";
import { el, fill } from "./dom.js";

const form = document.getElementById("login-form");

function nextPage() {
  const next = new URLSearchParams(location.search).get("next") || "/";
  // Only a path of this site (never another origin).
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const userName = String(data.get("user_name") || "").trim();
  const password = String(data.get("password") || "");
  if (!userName || !password) {
    fill("login-status", el("p", { className: "error", role: "alert" }, "Enter your user name and password."));
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const response = await fetch("/api/login", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ user_name: userName, password }),
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new ApiError(response.status, response.status === 401 ? "Wrong user name or password." : body.detail);
    }
    location.assign(nextPage());
  } catch (error) {
    fill("login-status", el("p", { className: "error", role: "alert" }, error.message));
  } finally {
    button.disabled = false;
  }
});
