// The Style page: two images in, POST /v1/style (multipart), the result shown with a download
// link. A transfer is one request that lasts seconds to minutes, so the status line counts the
// seconds while it runs. Plain script, no build step; uses Studio from studio.js.
"use strict";

(() => {
  const { byId, readError, errorText, formatDuration } = Studio;
  const INPUTS = ["content", "style"];
  let limits = null;           // from GET /v1/style
  const previewUrls = {};      // input name -> object URL of its preview
  let resultUrl = null;
  let ticking = null;

  function setStatus(text) { byId("style-status").textContent = text || ""; }

  function showError(text) {
    byId("style-error").textContent = text || "";
    byId("style-error").hidden = !text;
  }

  function formatBytes(bytes) {
    return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} kB`;
  }

  // The server's limits and defaults: the inputs' bounds follow them.
  async function loadInfo() {
    try {
      const response = await fetch("/v1/style", { cache: "no-store" });
      if (!response.ok) { showError(errorText(await readError(response))); return; }
      const info = await response.json();
      limits = info.limits;
      for (const name of ["size", "steps"]) byId(name).value = info.defaults[name];
      byId("size").min = limits.min_size;
      byId("size").max = limits.max_size;
      byId("steps").max = limits.max_steps;
      byId("style-limits").textContent =
        `PNG, JPEG or WebP, each at most ${formatBytes(limits.max_file_bytes)}. Size from ` +
        `${limits.min_size} to ${limits.max_size} pixels, at most ${limits.max_steps} steps: ` +
        "bigger and more look better and take longer.";
      if (!info.weights.available) {
        byId("weights-notice").textContent =
          `Style transfer is not available on this server yet: ${info.weights.message}. ` +
          "Reload this page once the file is installed.";
        byId("weights-notice").hidden = false;
        byId("transfer").disabled = true;
      }
    } catch (error) {
      showError(`Could not reach the server: ${error}`);
    }
  }

  // A file picked: preview it, and refuse it here already when it is over the size limit.
  function onPick(name) {
    const input = byId(name);
    const preview = byId(`${name}-preview`);
    const file = input.files[0];
    if (previewUrls[name]) URL.revokeObjectURL(previewUrls[name]);
    previewUrls[name] = null;
    preview.hidden = true;
    showError("");
    if (!file) return;
    if (limits && file.size > limits.max_file_bytes) {
      showError(`The ${name} image is ${formatBytes(file.size)}, over the limit of ` +
                `${formatBytes(limits.max_file_bytes)}: choose a smaller file.`);
      return;
    }
    previewUrls[name] = URL.createObjectURL(file);
    preview.src = previewUrls[name];
    preview.alt = `${name} image: ${file.name}`;
    preview.hidden = false;
  }

  function startClock(text) {
    const started = performance.now();
    const tick = () => setStatus(`${text} ${formatDuration((performance.now() - started) / 1000)}`);
    tick();
    ticking = setInterval(tick, 1000);
    return started;
  }

  function stopClock() {
    clearInterval(ticking);
    ticking = null;
  }

  function setBusy(busy) {
    byId("transfer").disabled = busy;
    byId("style-progress").hidden = !busy;
    byId("style-result").setAttribute("aria-busy", busy ? "true" : "false");
  }

  async function onSubmit(event) {
    event.preventDefault();
    showError("");
    const missing = INPUTS.find((name) => !byId(name).files[0]);
    if (missing) {
      showError(`Choose a ${missing} image first.`);
      byId(missing).focus();
      return;
    }
    const body = new FormData();
    for (const name of INPUTS) body.append(name, byId(name).files[0]);
    // Numbers go to the API as typed so that the API, not the browser, judges them.
    for (const name of ["size", "steps"]) {
      const value = byId(name).value.trim();
      if (value !== "") body.append(name, value);
    }
    setBusy(true);
    const steps = byId("steps").value || "the default number of";
    const started = startClock(`Transferring the style (${steps} steps; this can take minutes)…`);
    try {
      const response = await fetch("/v1/style", { method: "POST", body });
      if (!response.ok) {
        const error = await readError(response);
        showError(errorText(error));
        setStatus("");
        return;
      }
      showResult(await response.blob(), response.headers, (performance.now() - started) / 1000);
    } catch (error) {
      showError(`Request failed: ${error}`);
      setStatus("");
    } finally {
      stopClock();
      setBusy(false);
    }
  }

  function showResult(blob, headers, seconds) {
    if (resultUrl) URL.revokeObjectURL(resultUrl);
    resultUrl = URL.createObjectURL(blob);
    const contentName = byId("content").files[0].name;
    const styleName = byId("style").files[0].name;
    const image = byId("result-image");
    image.src = resultUrl;
    image.alt = `${contentName} in the style of ${styleName}`;
    const size = headers.get("X-Style-Size") || "";
    const steps = headers.get("X-Style-Steps") || "";
    const details = [size && `${size.replace("x", "×")} px`, steps && `${steps} steps`,
                     formatDuration(seconds)].filter(Boolean).join(", ");
    byId("result-caption").textContent = `${contentName} in the style of ${styleName}: ${details}.`;
    const link = byId("result-download");
    link.href = resultUrl;
    link.download = `${contentName.replace(/\.[^.]*$/, "") || "image"}-styled.png`;
    byId("style-result").hidden = false;
    setStatus(`Done in ${formatDuration(seconds)}.`);
    byId("result-heading").focus();
  }

  for (const name of INPUTS) byId(name).addEventListener("change", () => onPick(name));
  byId("style-form").addEventListener("submit", onSubmit);
  loadInfo();
})();
