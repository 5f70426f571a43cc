// The verification review: per structure, the predicted dose (as planned and scaled to the
// delivered activity) against the delivered dose, the difference and the flag.
import { getJson } from "./api.js";
import { el, fill, fmt, showError } from "./dom.js";
import { header } from "./header.js";

const verificationId = location.pathname.split("/").filter(Boolean)[1];

function structureRows(structures) {
  return structures.map((s) => {
    const flagged = Boolean(s.flagged);
    return el("tr", { className: flagged ? "flagged" : "" },
      el("th", { scope: "row" }, s.structure ?? s.name),
      el("td", { className: "num" }, fmt(s.predicted_gy, 1, "Gy")),
      el("td", { className: "num" }, fmt(s.predicted_scaled_gy, 1, "Gy")),
      el("td", { className: "num" }, fmt(s.delivered_gy, 1, "Gy")),
      el("td", { className: "num" }, s.difference_pct === null || s.difference_pct === undefined
        ? "—" : `${s.difference_pct > 0 ? "+" : ""}${fmt(s.difference_pct, 1)} %`),
      el("td", {}, flagged ? el("span", { className: "badge danger" }, "⚑ differs") : "within tolerance"));
  });
}

async function main() {
  await header();
  const v = await getJson(`/api/verifications/${verificationId}`);
  const patient = v.patient ?? v.pseudonym;
  if (patient) document.getElementById("patient-link").setAttribute("href", `/patients/${encodeURIComponent(patient)}`);
  fill("verification-title", `Verification ${verificationId}${patient ? ` · ${patient}` : ""}`);
  fill("facts", el("dl", { className: "facts" },
    el("dt", {}, "Date"), el("dd", {}, v.date ?? "—"),
    el("dt", {}, "Modality"), el("dd", {}, v.modality ?? "—"),
    el("dt", {}, "Delivered activity"), el("dd", {}, fmt(v.delivered_activity_gbq, 2, "GBq"))));
  const structures = v.structures || [];
  fill("structures", el("table", {},
    el("caption", {}, "Predicted against delivered, per structure (flagged rows differ beyond tolerance)"),
    el("thead", {}, el("tr", {}, ["Structure", "Predicted", "Predicted, scaled to delivered activity", "Delivered",
      "Difference", "Flag"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, structureRows(structures))));
  const flagged = structures.filter((s) => s.flagged).length;
  fill("summary", `${flagged} of ${structures.length} structures flagged.`);
}

main().catch((error) => showError("verification-status", error));
