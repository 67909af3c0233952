// The Models page: every served model from GET /v1/models, its versions and card metrics, and
// four samples drawn with seeds 0-3 so that two visits show the same pictures.
"use strict";

(() => {
  const { byId, element, formatNumber } = Studio;
  const SAMPLES = 4;
  const MAX_CLASSES_SHOWN = 20;

  function setStatus(text) { byId("models-status").textContent = text || ""; }

  function showError(text) {
    byId("models-error").textContent = text || "";
    byId("models-error").hidden = !text;
  }

  const sampleBoxes = new Map();  // model name -> the element its samples go in

  const isNumbered = (version) => /^\d+$/.test(String(version));

  // A card metric may be a number, a list or an object of parts (per-attribute scores): one
  // table row per number, named by its path.
  function metricRows(metrics, prefix = "") {
    const rows = [];
    for (const [key, value] of Object.entries(metrics || {})) {
      const name = prefix ? `${prefix}.${key}` : key;
      if (value && typeof value === "object" && !Array.isArray(value)) rows.push(...metricRows(value, name));
      else if (Array.isArray(value)) rows.push([name, value.map((v) => (typeof v === "number" ? formatNumber(v) : String(v))).join(", ")]);
      else rows.push([name, typeof value === "number" ? formatNumber(value) : String(value)]);
    }
    return rows;
  }

  function metricsTable(model, titleId) {
    const rows = metricRows(model.metrics);
    if (!rows.length) return element("p", { class: "muted", text: "No scores on its card yet." });
    const body = element("tbody", {}, ...rows.map(([name, value]) =>
      element("tr", {}, element("th", { scope: "row", text: name }), element("td", { class: "num", text: value }))));
    return element("table", { class: "data-table metrics", "aria-describedby": titleId },
      element("caption", { text: "Card metrics" }),
      element("thead", {}, element("tr", {}, element("th", { scope: "col", text: "Metric" }),
                                               element("th", { scope: "col", text: "Value" }))),
      body);
  }

  function classesText(classes) {
    if (!classes || !classes.length) return "–";
    const shown = classes.slice(0, MAX_CLASSES_SHOWN).join(", ");
    return classes.length > MAX_CLASSES_SHOWN ? `${shown}, … (${classes.length} in all)` : shown;
  }

  function versionList(model) {
    const versions = model.versions && model.versions.length ? model.versions : [model.version];
    if (!versions.every(isNumbered)) {
      // A single-version folder: its version is the content hash, not a number to link to.
      return element("span", { class: "mono", title: String(model.version), text: `${String(model.version).slice(0, 19)}…` });
    }
    const list = element("ul", { class: "versions" });
    for (const version of [...versions].reverse()) {
      const newest = String(version) === String(model.version);
      list.append(element("li", {}, element("a", {
        href: Studio.generateUrl(model.name, version),
        "aria-label": `Generate with ${model.name} version ${version}${newest ? " (newest)" : ""}`,
        text: `v${version}${newest ? " (newest)" : ""}`,
      })));
    }
    return list;
  }

  function exportedText(text) {
    if (!text) return "–";
    const when = new Date(text);
    return Number.isNaN(when.getTime()) ? String(text) : when.toLocaleString();
  }

  function card(model) {
    const titleId = `model-${model.name}-title`;  // a model name has no space, so it fits in an id
    const facts = element("dl", { class: "facts" });
    const add = (term, value) => facts.append(element("dt", { text: term }),
                                              value instanceof Node ? element("dd", {}, value) : element("dd", { text: value }));
    add("Kind", model.kind);
    add("Conditioning", model.conditioning === "none" ? "none (unconditional)" : model.conditioning);
    add("Image size", `${model.image_size} × ${model.image_size}, ${model.channels} channel(s)`);
    if (model.conditioning === "label") add(`Classes (${model.classes.length})`, classesText(model.classes));
    add("Latent size", String(model.latent_dim));
    add("Images seen", model.images_seen ? formatNumber(model.images_seen) : "–");
    add("Exported", exportedText(model.exported_at));
    add("Versions", versionList(model));
    const generate = element("a", { class: "button-link", href: Studio.generateUrl(model.name, isNumbered(model.version) ? model.version : null),
                                    text: "Generate", "aria-label": `Generate with ${model.name}` });
    const samples = element("div", { class: "samples", "aria-label": `samples from ${model.name}`, role: "group" },
                            element("p", { class: "muted", text: "Drawing samples…" }));
    sampleBoxes.set(model.name, samples);
    return element("article", { class: "model-card panel", id: `model-${model.name}`, "aria-labelledby": titleId },
      element("div", { class: "card-head" }, element("h2", { id: titleId, text: model.name }), generate),
      facts, metricsTable(model, titleId), samples);
  }

  // The sample request a model takes: its first class, its own example caption, or nothing.
  function sampleRequest(model) {
    const body = { n: SAMPLES, seed: 0, format: "b64_json" };
    if (model.conditioning === "label") {
      if (!model.classes || !model.classes.length) return null;
      body.label = model.classes[0];
    } else if (model.conditioning === "caption") {
      if (!model.example_caption) return null;
      body.caption = model.example_caption;
    }
    return body;
  }

  async function drawSamples(model) {
    const box = sampleBoxes.get(model.name);
    const body = sampleRequest(model);
    if (!body) {
      box.replaceChildren(element("p", { class: "muted", text: "No samples: the model has no example caption." }));
      return;
    }
    const name = encodeURIComponent(model.name);
    const path = isNumbered(model.version) ? `/v1/models/${name}/versions/${model.version}:generate` : `/v1/models/${name}:generate`;
    try {
      const response = await Studio.postJson(path, body, false);
      if (!response.ok) {
        box.replaceChildren(element("p", { class: "muted", text: `No samples: ${Studio.errorText(await Studio.readError(response))}` }));
        return;
      }
      const result = await response.json();
      const what = body.label ? `class ${body.label}` : body.caption ? `“${body.caption}”` : "no condition";
      box.replaceChildren(
        element("p", { class: "muted sample-note", text: `Seeds 0–${SAMPLES - 1}, ${what}` }),
        element("div", { class: "sample-row" }, ...result.images.map((image) => {
          const img = element("img", { src: `data:image/png;base64,${image.b64_json}`, width: result.image_size,
                                       height: result.image_size, alt: `${model.name}, ${what}, seed ${image.seed}` });
          return img;
        })));
    } catch (error) {
      box.replaceChildren(element("p", { class: "muted", text: `No samples: ${error}` }));
    }
  }

  async function load() {
    let list = null;
    for (let attempt = 0; attempt < 60 && list === null; attempt++) {
      let response;
      try {
        response = await fetch("/v1/models", { cache: "no-store" });
      } catch (error) {
        showError(`Could not reach the server: ${error}`);
        return;
      }
      if (response.status === 503) { setStatus("Models are loading…"); await Studio.sleep(1000); continue; }
      if (!response.ok) { showError(Studio.errorText(await Studio.readError(response))); setStatus(""); return; }
      list = (await response.json()).models;
    }
    if (list === null) { showError("The models did not finish loading; reload the page later."); return; }
    if (!list.length) {
      setStatus("");
      showError("No model is being served: export one into the models directory, or train one.");
      return;
    }
    byId("models").replaceChildren(...list.map(card));
    setStatus(`${list.length} model(s). Drawing samples…`);
    for (const model of list) await drawSamples(model);  // one at a time: the server stays responsive
    setStatus(`${list.length} model(s).`);
  }

  load();
})();
