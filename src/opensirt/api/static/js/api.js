// The JSON API of the service, as the pages use it: the session's user with its CSRF token,
// reads, and writes that repeat the CSRF token in the X-CSRF-Token header.

let mePromise = null;

/** An error answered by the service: HTTP status, message and field-level problems. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(ApiError.describe(status, detail));
    this.status = status;
    this.detail = detail;
    // [{field, message}] when the service names the fields (422), else [].
    this.fields = Array.isArray(detail) ? detail.filter((d) => d && typeof d === "object") : [];
  }

  static describe(status, detail) {
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      return detail.map((d) => (d.field ? `${d.field}: ${d.message}` : d.message)).join("; ");
    }
    return `the service answered HTTP ${status}`;
  }
}

async function answer(response) {
  if (response.status === 401 && !location.pathname.startsWith("/login")) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    return new Promise(() => {}); // the page is left for the login page: nothing more to do

  }
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const detail = body && typeof body === "object" && "detail" in body ? body.detail : body;
    throw new ApiError(response.status, detail);
  }
  return body;
}

/** GET a JSON resource of the API. */
export async function getJson(path) {
  return answer(await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } }));
}

/** GET a text resource of the API (CSV). */
export async function getText(path) {
  return answer(await fetch(path, { credentials: "same-origin" }));
}

/** The signed-in user: {user_name, role, csrf_token} (fetched once per page). */
export function me() {
  if (mePromise === null) mePromise = getJson("/api/me");
  return mePromise;
}

/** POST a JSON body with the session's CSRF token; the answer's JSON. */
export async function postJson(path, body) {
  const { csrf_token: csrf } = await me();
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body),
  });
  return answer(response);
}

/** POST a multipart form (files) with the session's CSRF token; the answer's JSON. */
export async function postForm(path, formData) {
  const { csrf_token: csrf } = await me();
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { Accept: "application/json", "X-CSRF-Token": csrf },
    body: formData,
  });
  return answer(response);
}

/** Sign out and go to the login page. */
export async function logout() {
  try {
    await postJson("/api/logout", {});
  } finally {
    location.assign("/login");
  }
}
