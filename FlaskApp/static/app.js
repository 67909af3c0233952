// The condgan page: fill the model and class lists from /v1/models, call :generate, show the
// grid and any API error. Plain script, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
let models = {};
let lastRequest = null;
// A link from the Models or Jobs page may name a model and one of its versions
// (?model=NAME&version=N): requests for that model then go to that version, not the newest.
const wanted = new URLSearchParams(window.location.search);
let pinned = null;  // {name, version}

function setStatus(text) { $("status").textContent = text; }

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

async function apiError(response) {
  try {
    const body = await response.json();
    if (body && body.error) return `${body.error.message} (${body.error.code}, HTTP ${response.status})`;
  } catch (e) { /* not JSON: fall through */ }
  return `HTTP ${response.status} ${response.statusText}`;
}

async function loadModels() {
  for (let attempt = 0; attempt < 60; attempt++) {
    const response = await fetch("/v1/models");
    if (response.status === 503) { setStatus("Models are loading…"); await new Promise(r => setTimeout(r, 1000)); continue; }
    if (!response.ok) { showError(await apiError(response)); return; }
    const list = (await response.json()).models;
    models = Object.fromEntries(list.map((m) => [m.name, m]));
    const select = $("model");
    select.replaceChildren(...list.map((m) => new Option(`${m.name} (${m.kind}, ${m.image_size}px)`, m.name)));
    if (!list.length) { showError("No model is being served: export one into the models directory."); }
    setStatus(list.length ? "Ready." : "");
    const problem = await applyQuery();
    onModelChange();
    if (problem) showError(problem);
    return;
  }
  showError("The models did not finish loading; reload the page later.");
}

// Preselects the model (and version) the query names; returns what went wrong, if anything.
async function applyQuery() {
  const name = wanted.get("model");
  if (!name) return "";
  if (!models[name]) return `No model named "${name}" is served here: pick one from the list.`;
  $("model").value = name;
  const version = wanted.get("version");
  if (!version) return "";
  const response = await fetch(`/v1/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`);
  if (!response.ok) return await apiError(response);
  models[name] = await response.json();  // that version's classes and card, not the newest's
  pinned = { name, version: String(models[name].version) };
  return "";
}

function onModelChange() {
  const model = models[$("model").value];
  if (!model) return;
  showError("");  // an error about the previous model's input does not apply to this one
  const caption = model.conditioning === "caption";
  $("caption-field").hidden = !caption;
  $("label-field").hidden = model.conditioning !== "label";
  $("label").replaceChildren(...(model.classes || []).map((c, i) => new Option(`${i}: ${c}`, c)));
  // The example comes from the model (its card, or words of its vocabulary): a caption written
  // for another data set would be all unknown words to this one.
  $("caption").placeholder = model.example_caption || "a caption using words the model knows";
  renderExamples(caption ? model.example_captions || [] : []);
  renderEditControls(model);
  renderBlendControls(model);
  renderTruncationControl(model);
  $("attention").hidden = !model.word_attention;
  $("attention-view").hidden = true;
  const metrics = Object.entries(model.metrics || {}).map(([k, v]) => `${k} ${formatMetric(v)}`);
  $("model-info").textContent = `version ${model.version}` + (metrics.length ? ` · ${metrics.join(" · ")}` : "");
}

// Captions the model knows every word of (with two-object ones where it has them): a click
// puts one in the caption field, to generate or to see its word attention.
function renderExamples(examples) {
  $("examples").hidden = !examples.length;
  const label = $("examples").firstElementChild;
  $("examples").replaceChildren(label, ...examples.map((text) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "example";
    button.textContent = text;
    button.addEventListener("click", () => { $("caption").value = text; $("caption").focus(); });
    return button;
  }));
}

// One row per attribute the model can be steered along: which value, and how far (a slider).
function renderEditControls(model) {
  const edits = model.edits;
  $("edits-field").hidden = !edits;
  if (!edits) { $("edits").replaceChildren(); return; }
  const [low, high] = edits.strength_range;
  $("edits").replaceChildren(...Object.entries(edits.attributes).map(([attribute, values]) => {
    const row = document.createElement("div");
    row.className = "row edit";
    const id = `edit-${attribute}`;
    const label = document.createElement("label");
    label.htmlFor = `${id}-strength`;
    label.textContent = attribute;
    const value = document.createElement("select");
    value.id = `${id}-value`;
    value.setAttribute("aria-label", `${attribute} value`);
    value.replaceChildren(...values.map((v) => new Option(v, v)));
    const slider = document.createElement("input");
    Object.assign(slider, { type: "range", id: `${id}-strength`, min: low, max: high, step: 0.25, value: 0 });
    slider.dataset.attribute = attribute;
    const shown = document.createElement("output");
    shown.htmlFor = slider.id;
    shown.textContent = "0";
    slider.addEventListener("input", () => { shown.textContent = slider.value; regenerateSoon(); });
    value.addEventListener("change", regenerateSoon);
    row.append(label, value, slider, shown);
    return row;
  }));
  const mean = edits.measured && edits.measured.mean;
  $("edits-measured").textContent = mean ? "Measured: " + Object.entries(mean).map(([s, m]) =>
    `at strength ${s} the value shows ${Math.round(100 * m.success)} %, the other attributes stay ${Math.round(100 * m.kept)} %`).join("; ") : "";
}

// A class model that takes blends: a second class and how far towards it (a slider).
function renderBlendControls(model) {
  const blend = model.conditioning === "label" && model.class_blend;
  $("blend-field").hidden = !blend;
  $("blend-weight").value = 0;
  $("blend-shown").textContent = "0";
  const classes = blend ? model.classes : [];
  $("blend-class").replaceChildren(...classes.map((c, i) => new Option(`${i}: ${c}`, c)));
  if (classes.length > 1) $("blend-class").value = classes[1];
}

// A model that samples with a truncation psi (StyleGAN): a slider starting at the model's own.
function renderTruncationControl(model) {
  const offered = (model.options || []).includes("truncation");
  $("truncation-field").hidden = !offered;
  const psi = offered ? (model.option_defaults || {}).truncation ?? 1 : 1;
  $("truncation").value = psi;
  $("truncation-shown").textContent = String(psi);
}

// The label of a request: the class, or {class: 1 - w, other: w} while the blend slider is up.
function currentLabel(model) {
  const label = $("label").value;
  const weight = Number($("blend-weight").value);
  const other = $("blend-class").value;
  if (!model.class_blend || weight === 0 || other === label) return label;
  if (weight === 1) return other;
  return { [label]: Number((1 - weight).toFixed(2)), [other]: weight };
}

function currentEdits() {
  const edits = {};
  for (const slider of document.querySelectorAll("#edits input[type=range]")) {
    const strength = Number(slider.value);
    if (strength !== 0) edits[`${slider.dataset.attribute}=${$(`edit-${slider.dataset.attribute}-value`).value}`] = strength;
  }
  return edits;
}

// Moving a slider redraws the images on screen (same seeds), once the hand pauses.
let regenerateTimer = null;
function regenerateSoon() {
  if (!lastRequest) return;
  clearTimeout(regenerateTimer);
  regenerateTimer = setTimeout(() => {
    $("seed").value = lastRequest.body.seed;
    $("generate-form").requestSubmit();
  }, 200);
}

// Three significant digits (0.8159 -> 0.816, 16.243 -> 16.2), whole numbers as they are.
function formatNumber(value) {
  if (Number.isInteger(value)) return String(value);
  if (Math.abs(value) >= 100) return value.toFixed(1);
  return String(Number(value.toPrecision(3)));
}

// A card metric's value may itself be an object (per-attribute accuracies): name its parts.
function formatMetric(value) {
  if (typeof value === "number") return formatNumber(value);
  if (Array.isArray(value)) return `[${value.map(formatMetric).join(", ")}]`;
  if (value && typeof value === "object") {
    return `(${Object.entries(value).map(([k, v]) => `${k} ${formatMetric(v)}`).join(", ")})`;
  }
  return String(value);
}

// Numbers go to the API as typed so that the API, not the browser, judges them.
function numberOrRaw(text) {
  const value = Number(text);
  return text.trim() !== "" && Number.isFinite(value) ? value : text;
}

function buildRequest() {
  const model = models[$("model").value];
  const body = { n: numberOrRaw($("n").value || "1") };
  if (model.conditioning === "label") body.label = currentLabel(model);
  if (model.conditioning === "caption") body.caption = $("caption").value;
  if ($("seed").value.trim() !== "") body.seed = numberOrRaw($("seed").value);
  if ((model.options || []).includes("truncation")) body.truncation = Number($("truncation").value);
  if (model.edits) {
    const edits = currentEdits();
    if (Object.keys(edits).length) body.edits = edits;
  }
  return { name: model.name, body };
}

async function callModel(name, verb, body) {
  const version = pinned && pinned.name === name ? `/versions/${encodeURIComponent(pinned.version)}` : "";
  return fetch(`/v1/models/${encodeURIComponent(name)}${version}:${verb}`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
}

const callGenerate = (name, body) => callModel(name, "generate", body);

// An AttnGAN's word attention for the caption and the first seed shown (or typed): the
// picture the API draws, one row per attentional stage, a panel per word.
async function onAttention() {
  const model = models[$("model").value];
  if (!model || !model.word_attention) return;
  showError("");
  const body = { caption: $("caption").value };
  const shown = lastRequest && lastRequest.name === model.name ? lastRequest.body.seed : undefined;
  if (shown !== undefined) body.seed = shown;
  else if ($("seed").value.trim() !== "") body.seed = numberOrRaw($("seed").value);
  $("attention").disabled = true;
  try {
    const response = await callModel(model.name, "attention", body);
    if (!response.ok) { showError(await apiError(response)); return; }
    const result = await response.json();
    $("attention-image").src = `data:image/png;base64,${result.image.b64_json}`;
    $("attention-image").alt = `word attention of ${model.name} for "${result.caption}", seed ${result.seed}`;
    $("attention-note").textContent = `Seed ${result.seed}. Each row is an attentional stage: its ` +
      `image, then one panel per word read (${result.words.join(" ")}), bright where that word looks.`;
    $("attention-view").hidden = false;
  } catch (error) {
    showError(`Request failed: ${error}`);
  } finally {
    $("attention").disabled = false;
  }
}

async function onGenerate(event) {
  event.preventDefault();
  if (!models[$("model").value]) return;
  showError("");
  const { name, body } = buildRequest();
  $("generate").disabled = true;
  setStatus("Generating…");
  const started = performance.now();
  try {
    const response = await callGenerate(name, body);
    if (!response.ok) { showError(await apiError(response)); setStatus(""); return; }
    const result = await response.json();
    lastRequest = { name, body: { ...body, seed: result.seeds[0], format: "png" } };
    $("download").disabled = false;
    renderGrid(result);
    const unknown = result.unknown_words || [];
    $("unknown-words").hidden = !unknown.length;
    $("unknown-words").textContent = unknown.length ? `Words the model does not know (ignored): ${unknown.join(", ")}` : "";
    setStatus(`${result.n} image(s) from ${name}, seeds ${result.seeds[0]}–${result.seeds[result.seeds.length - 1]}, ${Math.round(performance.now() - started)} ms.`);
  } catch (error) {
    showError(`Request failed: ${error}`);
    setStatus("");
  } finally {
    $("generate").disabled = false;
  }
}

function renderGrid(result) {
  const blend = result.blend && Object.entries(result.blend).map(([c, w]) => `${c} ${formatNumber(w)}`).join(" + ");
  const what = result.label ?? blend ?? result.caption ?? result.model;
  $("grid").replaceChildren(...result.images.map((image) => {
    const figure = document.createElement("figure");
    const img = document.createElement("img");
    img.src = `data:image/png;base64,${image.b64_json}`;
    img.alt = `${what}, seed ${image.seed}`;
    img.width = result.image_size;
    img.height = result.image_size;
    const caption = document.createElement("figcaption");
    caption.textContent = `seed ${image.seed}`;
    figure.append(img, caption);
    return figure;
  }));
}

// The download is the API's own PNG grid for the same seeds, so it matches what is shown.
async function onDownload() {
  if (!lastRequest) return;
  showError("");
  const response = await callGenerate(lastRequest.name, lastRequest.body);
  if (!response.ok) { showError(await apiError(response)); return; }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = `${lastRequest.name}-seed${lastRequest.body.seed}-n${lastRequest.body.n}.png`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

$("model").addEventListener("change", onModelChange);
$("blend-weight").addEventListener("input", () => {
  $("blend-shown").textContent = $("blend-weight").value;
  regenerateSoon();
});
$("blend-class").addEventListener("change", regenerateSoon);
$("truncation").addEventListener("input", () => {
  $("truncation-shown").textContent = $("truncation").value;
  regenerateSoon();
});
$("generate-form").addEventListener("submit", onGenerate);
$("download").addEventListener("click", onDownload);
$("attention").addEventListener("click", onAttention);
loadModels();
