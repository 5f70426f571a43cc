// The plan review page: the images (viewer.js), the DVH (dvh.js), doses against limits with
// the binding one highlighted, every method side by side, warnings, signatures and the sign
// buttons, the PDF report.
import { getJson, getText, postJson } from "./api.js";
import { el, fill, fmt, showError } from "./dom.js";
import { drawDvh, parseDvhCsv } from "./dvh.js";
import { header } from "./header.js";

const planId = location.pathname.split("/").filter(Boolean)[1];
const ROLES = ["physicist", "physician"];

function resultOf(plan) {
  if (plan.result && typeof plan.result === "object") return plan.result;
  return JSON.parse(plan.result_json || "{}");
}

function limitsTable(result) {
  const rows = Object.entries(result.limits || {}).map(([name, limit]) => {
    const state = limit.exceeded ? "exceeded" : limit.binding ? "binding" : "";
    return el("tr", { className: state },
      el("th", { scope: "row" }, name, limit.binding ? el("span", { className: "badge" }, "binding") : null,
        limit.exceeded ? el("span", { className: "badge danger" }, "exceeded") : null),
      el("td", { className: "num" }, fmt(limit.dose_gy, 1, "Gy")),
      el("td", { className: "num" }, fmt(limit.value, 1, "Gy")),
      el("td", { className: "num" }, limit.value ? `${fmt((100 * limit.dose_gy) / limit.value, 0)} %` : "—"),
      el("td", {}, limit.enforced ? "enforced" : "reported"),
      el("td", { className: "source" }, limit.source || ""));
  });
  return el("table", {},
    el("caption", {}, "Doses against limits (the binding limit sets the activity)"),
    el("thead", {}, el("tr", {}, ["Limit", "Dose", "Limit", "Use", "", "Source"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows));
}

function methodsTable(result) {
  const methods = Object.values(result.methods || { [result.method]: result });
  const tumours = [...new Set(methods.flatMap((m) => Object.keys(m.doses_gy?.tumours || {})))];
  const lines = [
    ["Activity", (m) => fmt(m.activity_gbq, 2, "GBq")],
    ["Lung dose", (m) => fmt(m.doses_gy?.lung, 1, "Gy")],
    ["Normal liver", (m) => fmt(m.doses_gy?.normal_liver, 1, "Gy")],
    ["Perfused liver", (m) => fmt(m.doses_gy?.perfused, 1, "Gy")],
    ...tumours.map((t) => [`Tumour ${t}`, (m) => fmt(m.doses_gy?.tumours?.[t], 1, "Gy")]),
    ["Binding limit", (m) => (m.binding_limit || "none").replace(/_/g, " ")],
    ["Target", (m) => (m.target ? `${m.target.name.replace(/_/g, " ")} ${fmt(m.target.value_gy, 0, "Gy")}: ${m.target.reached ? "reached" : "not reached"}` : "—")],
    ["Refused", (m) => m.refused || "no"],
  ];
  return el("table", { className: "methods" },
    el("caption", {}, `Every method side by side (the plan uses ${result.method})`),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, ""),
      methods.map((m) => el("th", { scope: "col", className: m.method === result.method ? "val chosen" : "val" }, m.method)))),
    el("tbody", {}, lines.map(([label, value]) => el("tr", {}, el("th", { scope: "row" }, label),
      methods.map((m) => el("td", { className: m.method === result.method ? "val chosen" : "val" }, value(m)))))));
}

function signatures(plan, user) {
  const byRole = new Map((plan.signatures || []).map((s) => [s.role, s]));
  const list = el("ul", { className: "signatures" }, ROLES.map((role) => {
    const s = byRole.get(role);
    return el("li", {}, `${role}: `, s ? `signed by ${s.user_name} at ${s.signed_at}` : "not signed");
  }));
  const buttons = ROLES.map((role) => {
    let reason = null;
    if (plan.state !== "draft") reason = `the plan is ${plan.state}; only a draft is signed`;
    else if (user.role !== role) reason = `signing as ${role} needs the ${role} role (you are ${user.role})`;
    const button = el("button", { type: "button", id: `sign-${role}`, disabled: reason !== null,
      "aria-describedby": `sign-${role}-reason` }, `Sign as ${role}`);
    button.addEventListener("click", () => sign(role, plan.row_version, button));
    return el("div", { className: "sign" }, button, el("p", { className: "muted", id: `sign-${role}-reason` }, reason || ""));
  });
  return [el("p", {}, "State: ", el("strong", { id: "plan-state" }, plan.state)), list, buttons];
}

async function sign(role, rowVersion, button) {
  button.disabled = true;
  try {
    await postJson(`/api/plans/${planId}/sign`, { role, row_version: rowVersion });
    fill("sign-status", el("p", { className: "ok", role: "status" }, `Signed as ${role}.`));
    await load();
  } catch (error) {
    fill("sign-status", el("p", { className: "error", role: "alert" }, error.message));
    button.disabled = false;
  }
}

async function load() {
  const [plan, user] = await Promise.all([getJson(`/api/plans/${planId}`), header()]);
  const result = resultOf(plan);
  fill("plan-title", `Plan ${plan.label ?? ""} v${plan.version ?? ""} · ${plan.patient ?? plan.pseudonym ?? ""}`);
  const back = plan.patient ?? plan.pseudonym;
  if (back) document.getElementById("patient-link").setAttribute("href", `/patients/${encodeURIComponent(back)}`);
  fill("key-numbers", el("dl", { className: "facts" },
    el("dt", {}, "Method"), el("dd", {}, `${result.method} (${result.device})`),
    el("dt", {}, "Activity"), el("dd", {}, fmt(result.activity_gbq, 2, "GBq")),
    el("dt", {}, "Lung shunt"), el("dd", {}, fmt(100 * result.lung_shunt_fraction, 1, "%"))));
  fill("limits", limitsTable(result));
  fill("methods", methodsTable(result));
  const warnings = [...(result.warnings || []), ...(result.refused ? [`refused: ${result.refused}`] : [])];
  fill("warnings", warnings.length ? el("ul", {}, warnings.map((w) => el("li", {}, typeof w === "string" ? w : JSON.stringify(w))))
    : el("p", { className: "muted" }, "No warnings."));
  fill("signing", signatures(plan, user));
  const history = await getJson(`/api/audit?${new URLSearchParams({ entity: "plan_versions", key: String(plan.id) })}`);
  fill("plan-history", history.entries.length
    ? el("ol", {}, history.entries.map((a) => el("li", {}, `${a.at} · ${a.actor} · ${a.action}`,
      a.detail ? ` · ${JSON.stringify(a.detail)}` : "")))
    : el("p", { className: "muted" }, "No audit entries."));
}

async function main() {
  document.getElementById("report").setAttribute("href", `/api/plans/${planId}/report.pdf`);
  document.getElementById("dvh-csv").setAttribute("href", `/api/plans/${planId}/dvh.csv`);
  await load().catch((error) => showError("plan-status", error));
  getText(`/api/plans/${planId}/dvh.csv`)
    .then((text) => drawDvh(document.getElementById("dvh"), parseDvhCsv(text)))
    .catch((error) => showError("dvh", error));
  const { openViewer } = await import("./viewer.js");
  const $ = (id) => document.getElementById(id);
  openViewer($("viewer"), planId, {
    window: $("ww"), level: $("wl"), threshold: $("threshold"),
    windowOut: $("ww-out"), levelOut: $("wl-out"), thresholdOut: $("threshold-out"),
    planes: [...document.querySelectorAll("[data-plane]")],
    legend: $("legend-bar"), ticks: $("legend-ticks"), structures: $("structures"), location: $("location"),
    status: $("viewer-status"),
  }).catch((error) => showError("viewer-status", error));
}

main();
