// The cumulative dose-volume histogram as an SVG drawn here: one curve per structure (colours
// of the Okabe-Ito palette, distinguishable with colour-vision deficiency), a legend that
// shows and hides curves, and a hover read-out of the dose and each structure's volume.

const SVG = "http://www.w3.org/2000/svg";
const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442", "#999999", "#882255"];
const SIZE = { width: 720, height: 360, left: 56, right: 16, top: 12, bottom: 44 };

/**
 * Curves from the plan's DVH CSV: the column ``dose_gy`` and, per structure, the columns
 * ``NAME_volume_percent`` (the volume receiving at least that dose, %).
 */
export function parseDvhCsv(text) {
  const lines = text.trim().split(/\r?\n/);
  const header = lines[0].split(",");
  const doseColumn = header.indexOf("dose_gy");
  if (doseColumn < 0) throw new Error("the DVH table has no dose_gy column");
  const rows = lines.slice(1).map((line) => line.split(",").map(Number));
  const curves = [];
  header.forEach((name, column) => {
    if (!name.endsWith("_volume_percent")) return;
    curves.push({
      name: name.slice(0, -"_volume_percent".length),
      points: rows.map((row) => [row[doseColumn], row[column]]),
    });
  });
  return curves;
}

function svg(tag, attributes = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

function niceStep(span, count) {
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
}

/** Volume (%) of a curve at a dose (Gy), linear between its points. */
export function volumeAt(points, dose) {
  if (dose <= points[0][0]) return points[0][1];
  for (let i = 1; i < points.length; i += 1) {
    const [d1, v1] = points[i];
    if (d1 >= dose) {
      const [d0, v0] = points[i - 1];
      return v0 + ((v1 - v0) * (dose - d0)) / (d1 - d0 || 1);
    }
  }
  return points.at(-1)[1];
}

/** Draw the DVH into `container` (an element), with its legend and read-out. */
export function drawDvh(container, curves) {
  const { width, height, left, right, top, bottom } = SIZE;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const lastDose = Math.max(...curves.map((c) => {
    const reached = c.points.filter(([, v]) => v > 0.05);
    return reached.length ? reached.at(-1)[0] : 0;
  }), 1);
  const step = niceStep(lastDose, 8);
  const maxDose = Math.ceil(lastDose / step) * step;
  const x = (d) => left + (d / maxDose) * plotW;
  const y = (v) => top + (1 - v / 100) * plotH;

  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "dvh-plot" });
  root.append(svg("title", {}, "Cumulative dose-volume histogram: volume (%) receiving at least a dose (Gy)"));
  const grid = svg("g", { class: "grid" });
  for (let d = 0; d <= maxDose + 1e-9; d += step) {
    grid.append(svg("line", { x1: x(d), x2: x(d), y1: top, y2: top + plotH }));
    grid.append(svg("text", { x: x(d), y: top + plotH + 18, "text-anchor": "middle" }, `${+d.toFixed(6)}`));
  }
  for (let v = 0; v <= 100; v += 20) {
    grid.append(svg("line", { x1: left, x2: left + plotW, y1: y(v), y2: y(v) }));
    grid.append(svg("text", { x: left - 6, y: y(v) + 5, "text-anchor": "end" }, `${v}`));
  }
  grid.append(svg("text", { x: left + plotW / 2, y: height - 4, "text-anchor": "middle", class: "axis-title" }, "Dose (Gy)"));
  grid.append(svg("text", { x: 14, y: top + plotH / 2, "text-anchor": "middle", class: "axis-title", transform: `rotate(-90 14 ${top + plotH / 2})` }, "Volume (%)"));
  root.append(grid);

  const paths = curves.map((curve, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const d = curve.points.filter(([dose]) => dose <= maxDose)
      .map(([dose, v], j) => `${j ? "L" : "M"}${x(dose).toFixed(1)},${y(v).toFixed(1)}`).join("");
    const path = svg("path", { d, stroke: colour, class: "curve", "data-structure": curve.name });
    root.append(path);
    return { curve, colour, path, visible: true };
  });

  const cursor = svg("line", { class: "cursor", y1: top, y2: top + plotH, x1: -10, x2: -10 });
  root.append(cursor);
  const hit = svg("rect", { x: left, y: top, width: plotW, height: plotH, class: "hit" });
  root.append(hit);

  const readout = document.createElement("div");
  readout.className = "dvh-readout";
  readout.setAttribute("aria-live", "polite");
  readout.textContent = "Move the pointer over the plot to read the volumes at a dose.";

  function show(dose) {
    cursor.setAttribute("x1", x(dose));
    cursor.setAttribute("x2", x(dose));
    readout.replaceChildren();
    const head = document.createElement("strong");
    head.textContent = `${dose.toFixed(1)} Gy: `;
    readout.append(head);
    for (const p of paths.filter((q) => q.visible)) {
      const span = document.createElement("span");
      span.className = "readout-item";
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.backgroundColor = p.colour;
      span.append(swatch, `${p.curve.name} ${volumeAt(p.curve.points, dose).toFixed(1)} %`);
      readout.append(span);
    }
  }
  hit.addEventListener("pointermove", (event) => {
    const box = root.getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * width;
    show(Math.min(maxDose, Math.max(0, ((px - left) / plotW) * maxDose)));
  });

  const legend = document.createElement("ul");
  legend.className = "dvh-legend";
  for (const p of paths) {
    const button = document.createElement("button");
    button.type = "button";
    button.setAttribute("aria-pressed", "true");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.backgroundColor = p.colour;
    button.append(swatch, p.curve.name);
    button.addEventListener("click", () => {
      p.visible = !p.visible;
      button.setAttribute("aria-pressed", String(p.visible));
      p.path.classList.toggle("hidden", !p.visible);
    });
    const li = document.createElement("li");
    li.append(button);
    legend.append(li);
  }
  container.replaceChildren(root, legend, readout);
  return { show };
}
