// The plan's images in Niivue (bundled in /static/vendor/niivue, nothing from elsewhere): the
// CT in grey, the dose as a perceptual colour wash ('inferno') above a threshold, the structure
// outlines from the label image; three planes; window/level and dose threshold controls, and a
// legend of the dose colours in Gy.
import { MULTIPLANAR_TYPE, Niivue, SHOW_RENDER, SLICE_TYPE, cmapper } from "/static/vendor/niivue/niivue.js";

// Inferno (matplotlib; van der Walt and Smith 2015), perceptually uniform, from its 25 % point:
// its black end would hide the CT under the lowest doses shown. A part of a perceptually
// uniform map is perceptually uniform.
const DOSE_COLORMAP = "inferno-wash";

function addDoseColormap() {
  const lut = cmapper.colormap("inferno");
  // Transparent below the first level (Niivue hides what maps to alpha 0: doses below the
  // threshold), opaque from the next level on.
  const map = { R: [lut[256]], G: [lut[257]], B: [lut[258]], A: [0], I: [0] };
  const stops = 16;
  for (let i = 0; i < stops; i += 1) {
    const index = Math.round(64 + ((255 - 64) * i) / (stops - 1));
    map.R.push(lut[4 * index]);
    map.G.push(lut[4 * index + 1]);
    map.B.push(lut[4 * index + 2]);
    map.A.push(255);
    map.I.push(Math.max(1, Math.round((255 * i) / (stops - 1))));
  }
  cmapper.addColormap(DOSE_COLORMAP, map);
}

/** A colour as [r, g, b] (0-255) from "#RRGGBB" or a list; white when absent. */
function rgb(colour) {
  if (typeof colour === "string" && /^#[0-9a-f]{6}$/i.test(colour)) {
    return [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16));
  }
  return Array.isArray(colour) ? colour : [255, 255, 255];
}

/** The label image's colour table from labels.json: {value: {name, colour}} or a list. */
function labelTable(labels) {
  const entries = Array.isArray(labels)
    ? labels.map((l) => [Number(l.value ?? l.label), l])
    : Object.entries(labels.labels ?? labels).map(([k, v]) => [Number(k), typeof v === "string" ? { name: v } : v]);
  entries.sort((a, b) => a[0] - b[0]);
  const max = Math.max(0, ...entries.map(([value]) => value));
  const table = { R: [], G: [], B: [], A: [], I: [], labels: [] };
  const byValue = new Map(entries);
  for (let value = 0; value <= max; value += 1) {
    const entry = byValue.get(value);
    const colour = entry ? rgb(entry.colour ?? entry.color) : [0, 0, 0];
    table.R.push(colour[0]);
    table.G.push(colour[1]);
    table.B.push(colour[2]);
    table.A.push(entry && value > 0 ? 255 : 0);
    table.I.push(value);
    table.labels.push(entry ? String(entry.name ?? "") : "");
  }
  return { table, entries: entries.filter(([value]) => value > 0) };
}

/** The dose colour bar (an image of the colour map) with ticks in Gy. */
function drawLegend(canvas, ticks, minGy, maxGy) {
  const lut = cmapper.colormap(DOSE_COLORMAP);
  const context = canvas.getContext("2d");
  const image = context.createImageData(256, 1);
  image.data.set(lut.subarray(0, 256 * 4));
  for (let i = 3; i < image.data.length; i += 4) image.data[i] = 255;
  const strip = document.createElement("canvas");
  strip.width = 256;
  strip.height = 1;
  strip.getContext("2d").putImageData(image, 0, 0);
  context.imageSmoothingEnabled = true;
  context.drawImage(strip, 0, 0, canvas.width, canvas.height);
  const step = (maxGy - minGy) / 4;
  ticks.replaceChildren(...[0, 1, 2, 3, 4].map((i) => {
    const tick = document.createElement("span");
    tick.textContent = `${(minGy + i * step).toFixed(0)}`;
    return tick;
  }));
}

/**
 * Open the plan's images in `canvas`; `controls` holds the input elements and outputs of the
 * page (window, level, threshold, plane buttons, legend canvas and ticks, structure list).
 */
async function optionalJson(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  return response.ok ? response.json() : null;
}

/**
 * Open the plan's images in `canvas`; `controls` holds the input elements and outputs of the
 * page (window, level, threshold, plane buttons, legend canvas and ticks, structure list,
 * and a status element for what could not be shown). The dose is needed; without the CT the
 * dose is shown alone, without the label image no outlines.
 */
export async function openViewer(canvas, planId, controls) {
  const base = `/api/plans/${planId}/volumes`;
  const missing = [];
  const nv = new Niivue({
    backColor: [0, 0, 0, 1],
    crosshairColor: [0.2, 0.8, 1, 0.8],
    isColorbar: false,
    show3Dcrosshair: false,
    multiplanarShowRender: SHOW_RENDER.NEVER,
    dragAndDropEnabled: false,
  });
  await nv.attachToCanvas(canvas);
  addDoseColormap();
  let ct = null;
  try {
    await nv.loadVolumes([{ url: `${base}/ct.nii.gz`, colormap: "gray", name: "ct.nii.gz" }]);
    [ct] = nv.volumes;
  } catch {
    missing.push("the CT (ct.nii.gz)");
  }
  const doseOptions = { url: `${base}/dose.nii.gz`, colormap: DOSE_COLORMAP, opacity: ct ? 0.55 : 1, name: "dose.nii.gz" };
  try {
    if (ct) await nv.addVolumeFromUrl(doseOptions);
    else await nv.loadVolumes([doseOptions]);
  } catch {
    throw new Error("The dose image (dose.nii.gz) of this plan is not available from the service.");
  }
  const dose = nv.volumes.at(-1);
  const labels = await optionalJson(`${base}/labels.json`).catch(() => null);
  let entries = [];
  if (labels) {
    try {
      // Outlines only: Niivue draws a label image's borders opaque (atlasOutline 1) and its
      // inside at the layer's opacity (nearly none here), for a label map (NIfTI intent 1002).
      await nv.addVolumeFromUrl({ url: `${base}/labels.nii.gz`, opacity: 0.04, name: "labels.nii.gz" });
      const labelImage = nv.volumes.at(-1);
      labelImage.hdr.intent_code = 1002;
      const label = labelTable(labels);
      labelImage.setColormapLabel(label.table);
      nv.setAtlasOutline(1);
      entries = label.entries;
    } catch {
      missing.push("the structure outlines (labels.nii.gz)");
    }
  } else {
    missing.push("the structure outlines (labels.json)");
  }
  controls.status.textContent = missing.length ? `Not available from the service: ${missing.join(", ")}.` : "";
  nv.setInterpolation(false);
  // Three planes side by side on a wide canvas, as a grid on a narrow one.
  nv.setMultiplanarLayout(canvas.clientWidth > 1.6 * canvas.clientHeight ? MULTIPLANAR_TYPE.ROW : MULTIPLANAR_TYPE.GRID);
  nv.setSliceType(SLICE_TYPE.MULTIPLANAR);

  const maxGy = Math.ceil(dose.global_max ?? dose.cal_max);
  controls.threshold.max = String(maxGy);
  controls.threshold.value = String(Math.min(maxGy, Number(controls.threshold.value) || 5));

  function applyWindow() {
    const width = Number(controls.window.value);
    const level = Number(controls.level.value);
    controls.windowOut.textContent = `${width} HU`;
    controls.levelOut.textContent = `${level} HU`;
    if (!ct) return;
    ct.cal_min = level - width / 2;
    ct.cal_max = level + width / 2;
  }
  function applyThreshold() {
    const threshold = Number(controls.threshold.value);
    dose.cal_min = threshold;
    dose.cal_max = maxGy;
    controls.thresholdOut.textContent = `${threshold} Gy`;
    drawLegend(controls.legend, controls.ticks, threshold, maxGy);
  }
  function update() {
    applyWindow();
    applyThreshold();
    nv.updateGLVolume();
  }
  for (const input of [controls.window, controls.level, controls.threshold]) input.addEventListener("input", update);
  for (const button of controls.planes) {
    button.addEventListener("click", () => {
      nv.setSliceType(SLICE_TYPE[button.dataset.plane]);
      for (const b of controls.planes) b.setAttribute("aria-pressed", String(b === button));
    });
  }
  // The cross-hair's position (mm) with the CT number, the dose and the structure there.
  const labelNames = new Map(entries.map(([value, entry]) => [value, String(entry.name ?? value)]));
  nv.onLocationChange = (location) => {
    if (!location || !location.mm) return;
    const parts = [`${[...location.mm].slice(0, 3).map((v) => v.toFixed(0)).join(", ")} mm`];
    for (const value of location.values || []) {
      if (value.name === "ct.nii.gz") parts.push(`CT ${value.value.toFixed(0)} HU`);
      if (value.name === "dose.nii.gz") parts.push(`dose ${value.value.toFixed(1)} Gy`);
      if (value.name === "labels.nii.gz") parts.push(labelNames.get(Math.round(value.value)) || "no structure");
    }
    controls.location.textContent = parts.join(" · ");
  };
  controls.structures.replaceChildren(...entries.map(([value, entry]) => {
    const li = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    const c = rgb(entry.colour ?? entry.color);
    swatch.style.backgroundColor = `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
    li.append(swatch, `${entry.name ?? value}`);
    return li;
  }));
  update();
  canvas.dataset.ready = "true";
  // The volumes are drawn at the next frame: a mark for benchmarks/web_first_paint.py.
  requestAnimationFrame(() => performance.mark("opensirt-viewer-drawn"));
  return nv;
}
