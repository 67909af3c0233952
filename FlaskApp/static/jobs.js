// The Jobs page: the job list (GET /v1/jobs every 2 s) and one job followed live. EventSource
// cannot send the Authorization header the job routes need, so the event stream is read with
// fetch() and parsed here; if the stream breaks, GET /v1/jobs/<id> is polled every second.
"use strict";

(() => {
  const { byId, element, formatNumber, formatDuration } = Studio;
  const LIST_EVERY_MS = 2000;
  const POLL_EVERY_MS = 1000;
  const FINISHED = new Set(["succeeded", "failed", "cancelled", "interrupted"]);
  // history.jsonl columns that count progress rather than measure the model
  const BOOKKEEPING = new Set(["epoch", "step", "images_seen", "kimg", "wall_time_s", "images_per_s", "lr"]);
  const COLORS = ["#2457c5", "#c2410c", "#15803d", "#9333ea", "#b91c1c", "#0e7490", "#a16207", "#4b5563"];
  const SVG = "http://www.w3.org/2000/svg";

  let selectedId = null;
  let watcher = null;          // {id, controller}: the live view of the selected job
  let authBlocked = false;     // the token was refused: stop asking until it changes
  let lastStatus = null;
  let sampleKey = null;        // which sample grid is on screen, so it is fetched once per epoch
  let sampleObjectUrl = null;

  // ---- the list -------------------------------------------------------------------------

  function showListError(text) {
    byId("list-error").textContent = text || "";
    byId("list-error").hidden = !text;
  }

  // A refused token: say why and what to do, and stop the timers' requests until it changes.
  function refused(error) {
    const problem = Studio.authProblem(error);
    if (!problem) return false;
    authBlocked = true;
    Studio.showAuthProblem(`${problem} The server said: ${error.message}`);
    byId("job-list").hidden = true;
    byId("job-detail").hidden = true;
    byId("list-status").textContent = "";
    return true;
  }

  function badge(job) {
    const stopping = job.cancel_requested && !FINISHED.has(job.status);
    return element("span", { class: `badge status-${job.status}`,
                             text: stopping ? `${job.status} (cancelling)` : job.status });
  }

  function epochText(job) {
    if (job.epoch === null || job.epoch === undefined) return "–";
    return job.epochs ? `${job.epoch} / ${job.epochs}` : String(job.epoch);
  }

  function row(job) {
    const link = element("a", { href: `#${job.id}`, text: `#${job.id} ${job.name}`,
                                "aria-current": job.id === selectedId ? "true" : null });
    const cells = [
      element("th", { scope: "row" }, link),
      element("td", {}, badge(job)),
      element("td", { text: job.data ? `${job.config} on ${job.data}` : job.config }),
      element("td", { class: "num", text: epochText(job) }),
      element("td", { class: "num", text: formatNumber(job.images_seen || 0) }),
      element("td", { class: "num", text: job.images_per_s === null ? "–" : formatNumber(job.images_per_s) }),
      element("td", { class: "num", text: job.status === "running" ? formatDuration(job.eta_s) : "–" }),
    ];
    return element("tr", { class: job.id === selectedId ? "selected" : null, "data-job": job.id }, ...cells);
  }

  // Rows are updated in place, never rebuilt while their order holds, so that a job link
  // with the keyboard focus keeps it across the refreshes every two seconds.
  function updateRows(jobs) {
    const body = byId("jobs-body");
    const current = [...body.rows];
    const sameOrder = current.length === jobs.length &&
      current.every((tr, i) => tr.dataset.job === String(jobs[i].id));
    if (!sameOrder) {
      const focused = document.activeElement && body.contains(document.activeElement)
        ? document.activeElement.getAttribute("href") : null;
      body.replaceChildren(...jobs.map(row));
      if (focused) { const again = body.querySelector(`a[href="${focused}"]`); if (again) again.focus(); }
      return;
    }
    jobs.forEach((job, i) => {
      const fresh = row(job);
      const old = current[i];
      const link = old.cells[0].querySelector("a");
      if (link.textContent !== fresh.cells[0].textContent) link.textContent = fresh.cells[0].textContent;
      for (let c = 1; c < fresh.cells.length; c++) {
        if (old.cells[c].innerHTML !== fresh.cells[c].innerHTML) old.cells[c].replaceWith(fresh.cells[c].cloneNode(true));
      }
    });
  }

  async function refreshList() {
    if (authBlocked) return;
    let response;
    try {
      response = await Studio.authFetch("/v1/jobs");
    } catch (error) {
      byId("list-status").textContent = `Could not reach the server (${error}); retrying.`;
      return;
    }
    if (!response.ok) {
      const error = await Studio.readError(response);
      if (!refused(error)) showListError(Studio.errorText(error));
      return;
    }
    const jobs = (await response.json()).jobs;
    Studio.showAuthProblem("");
    showListError("");
    byId("job-list").hidden = false;
    updateRows(jobs);
    byId("jobs-empty").hidden = jobs.length > 0;
    const active = jobs.filter((job) => !FINISHED.has(job.status)).length;
    const summary = `${jobs.length} job(s), ${active} queued or running.`;
    // Rewriting the same words would make some screen readers say them again every 2 s.
    if (byId("list-status").textContent !== summary) byId("list-status").textContent = summary;
    // The selected job was resumed elsewhere (another tab, the API) after its stream ended.
    const chosen = jobs.find((job) => job.id === selectedId);
    if (chosen && !FINISHED.has(chosen.status) && watcher && watcher.done) watch(selectedId);
  }

  // ---- one job --------------------------------------------------------------------------

  function showDetailError(text) {
    byId("detail-error").textContent = text || "";
    byId("detail-error").hidden = !text;
  }

  function fact(term, value) {
    return [element("dt", { text: term }), element("dd", { text: value })];
  }

  function render(job) {
    if (job.id !== selectedId) return;
    byId("job-detail").hidden = false;
    byId("detail-title").textContent = `Job ${job.id}: ${job.name}`;
    byId("detail-status").replaceWith(Object.assign(badge(job), { id: "detail-status" }));
    const parts = [];
    if (job.epoch !== null && job.epoch !== undefined) parts.push(`epoch ${epochText(job)}`);
    parts.push(`${formatNumber(job.images_seen || 0)} images seen`);
    if (job.images_per_s !== null && job.images_per_s !== undefined) parts.push(`${formatNumber(job.images_per_s)} images/s`);
    if (job.status === "running" && job.eta_s !== null) parts.push(`ETA ${formatDuration(job.eta_s)}`);
    byId("detail-summary").textContent = parts.join(" · ");

    const progress = byId("detail-progress");
    if (job.status === "succeeded") { progress.max = 1; progress.value = 1; }
    else if (job.epochs) { progress.max = job.epochs; progress.value = job.epoch || 0; }
    else if (job.status === "running") progress.removeAttribute("value");  // indeterminate
    else { progress.max = 1; progress.value = 0; }

    const losses = Object.entries(job.losses || {}).map(([k, v]) => `${k} ${formatNumber(v)}`).join(", ");
    byId("detail-facts").replaceChildren(
      ...fact("Recipe", job.config), ...fact("Data", job.data || "the recipe's own"),
      ...fact("Settings", (job.set || []).join(", ") || "the recipe's"),
      ...fact("Latest losses", losses || "–"),
      ...fact("Training time", formatDuration(job.wall_time_s)),
      ...fact("Created", Studio.formatTime(job.created_at)),
      ...fact("Started", Studio.formatTime(job.started_at)),
      ...fact("Ended", Studio.formatTime(job.ended_at)),
      ...fact("Attempts", String(job.attempts)));

    byId("cancel").disabled = !job.cancellable;
    byId("resume").disabled = !job.resumable;
    const link = byId("generate-link");
    link.hidden = !(job.status === "succeeded" && job.model_version);
    if (!link.hidden) {
      link.href = Studio.generateUrl(job.name, job.model_version);
      link.textContent = `Generate with ${job.name} version ${job.model_version}`;
    }
    // A cancelled or interrupted job's error says how to go on; only "failed" is a failure.
    showDetailError(job.error ? `${job.status === "failed" ? "The job failed: " : ""}${job.error}` : "");
    if (job.status !== lastStatus) {
      const said = FINISHED.has(job.status) ? job.status : `is ${job.status}`;  // "succeeded", "is running"
      byId("detail-message").textContent = `Job ${job.id} ${said}.` +
        (job.status === "succeeded" && job.model_version ? ` It exported ${job.name} version ${job.model_version}.` : "");
      lastStatus = job.status;
    }
    if (Array.isArray(job.history)) drawChart(job.history);
    if (job.sample_url) loadSample(job);
    renderLog(job.log || []);
  }

  function renderLog(lines) {
    const pre = byId("log");
    const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 8;
    pre.textContent = lines.length ? lines.join("\n") : "(nothing logged yet)";
    if (atBottom) pre.scrollTop = pre.scrollHeight;  // follow the tail unless the user scrolled up
  }

  // The sample route needs the bearer header too, so the PNG comes as a blob, not an <img src>.
  async function loadSample(job) {
    const key = `${job.id}:${job.sample_epoch}:${job.attempts}`;
    if (key === sampleKey) return;
    sampleKey = key;
    let response;
    try {
      response = await Studio.authFetch(job.sample_url);
    } catch (error) {
      sampleKey = null;  // try again on the next update
      return;
    }
    if (!response.ok || job.id !== selectedId) { sampleKey = response.ok ? sampleKey : null; return; }
    const blob = await response.blob();
    if (job.id !== selectedId) return;
    const img = byId("sample");
    const previous = sampleObjectUrl;
    sampleObjectUrl = URL.createObjectURL(blob);
    img.onload = () => { if (previous) URL.revokeObjectURL(previous); };
    img.src = sampleObjectUrl;
    img.alt = `Sample grid of job ${job.id} (${job.name}) after epoch ${job.sample_epoch}`;
    img.hidden = false;
    byId("no-sample").hidden = true;
    byId("sample-caption").textContent = `Sample grid after epoch ${job.sample_epoch}`;
  }

  function svg(tag, attributes = {}, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // One line per loss over the epochs, on a shared axis; the legend is HTML so it wraps on a
  // narrow screen, and the SVG's label sums the curves up for a screen reader.
  function drawChart(history) {
    const box = byId("loss-chart");
    const keys = [];
    for (const rowData of history) {
      for (const [key, value] of Object.entries(rowData)) {
        if (!BOOKKEEPING.has(key) && typeof value === "number" && !keys.includes(key)) keys.push(key);
      }
    }
    const rows = history.filter((r) => typeof r.epoch === "number");
    if (!rows.length || !keys.length) {
      box.replaceChildren(element("p", { class: "muted", text: "No losses yet: they come at the end of each epoch." }));
      return;
    }
    const W = 480, H = 220, left = 52, right = 14, top = 12, bottom = 34;
    const values = rows.flatMap((r) => keys.map((k) => r[k]).filter((v) => typeof v === "number" && Number.isFinite(v)));
    let low = Math.min(...values), high = Math.max(...values);
    if (high - low < 1e-9) { low -= 0.5; high += 0.5; }
    const pad = (high - low) * 0.06;
    low -= pad; high += pad;
    const first = rows[0].epoch, last = rows[rows.length - 1].epoch;
    const x = (epoch) => (last === first ? left + (W - left - right) / 2
                                         : left + (epoch - first) / (last - first) * (W - left - right));
    const y = (value) => top + (high - value) / (high - low) * (H - top - bottom);

    const summary = keys.map((k) => {
      const series = rows.filter((r) => typeof r[k] === "number");
      return series.length ? `${k} from ${formatNumber(series[0][k])} to ${formatNumber(series[series.length - 1][k])}` : null;
    }).filter(Boolean).join("; ");
    const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "loss-svg",
                               "aria-label": `Losses over epochs ${first} to ${last}: ${summary}.` });
    for (let i = 0; i <= 3; i++) {
      const value = low + (high - low) * i / 3;
      chart.append(svg("line", { x1: left, x2: W - right, y1: y(value), y2: y(value), class: "grid-line" }),
                   svg("text", { x: left - 6, y: y(value) + 4, "text-anchor": "end", class: "tick" }, formatNumber(value)));
    }
    const ticks = last === first ? [first] : [first, Math.round((first + last) / 2), last].filter((v, i, a) => a.indexOf(v) === i);
    for (const epoch of ticks) {
      chart.append(svg("text", { x: x(epoch), y: H - bottom + 16, "text-anchor": "middle", class: "tick" }, String(epoch)));
    }
    chart.append(svg("text", { x: left + (W - left - right) / 2, y: H - 4, "text-anchor": "middle", class: "axis-label" }, "epoch"));
    chart.append(svg("line", { x1: left, x2: left, y1: top, y2: H - bottom, class: "axis" }),
                 svg("line", { x1: left, x2: W - right, y1: H - bottom, y2: H - bottom, class: "axis" }));
    const legend = element("ul", { class: "legend" });
    keys.forEach((key, i) => {
      const color = COLORS[i % COLORS.length];
      const series = rows.filter((r) => typeof r[key] === "number" && Number.isFinite(r[key]));
      const points = series.map((r) => `${x(r.epoch).toFixed(1)},${y(r[key]).toFixed(1)}`).join(" ");
      const line = svg("polyline", { points, fill: "none", stroke: color, "stroke-width": 2, "data-loss": key });
      chart.append(line);
      if (series.length <= 60) {
        for (const r of series) chart.append(svg("circle", { cx: x(r.epoch), cy: y(r[key]), r: 3, fill: color }));
      }
      const newest = series[series.length - 1];
      legend.append(element("li", {}, element("span", { class: "swatch", style: `background:${color}` }),
                            `${key}${newest ? ` ${formatNumber(newest[key])}` : ""}`));
    });
    box.replaceChildren(chart, legend);
  }

  // ---- following the selected job ------------------------------------------------------

  function parseEvent(block) {
    let type = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (!line || line.startsWith(":")) continue;  // a comment: the server's heartbeat
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") type = value;
      else if (field === "data") data.push(value);
    }
    return { type, data: data.join("\n") };
  }

  // Reads the job's event stream until its "end" event; resolves "end", or "closed" when the
  // connection dropped first.
  async function readStream(id, signal) {
    const response = await Studio.authFetch(`/v1/jobs/${id}/events`, { signal, headers: { Accept: "text/event-stream" } });
    if (!response.ok) throw Object.assign(new Error("refused"), { api: await Studio.readError(response) });
    if (!response.body || !window.TextDecoderStream) throw new Error("this browser cannot read a stream");
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return "closed";
        buffer = (buffer + value).replace(/\r\n?/g, "\n");
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const event = parseEvent(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
          if (event.type === "job") render(JSON.parse(event.data));
          else if (event.type === "end") return "end";
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  // The job in an answer of the jobs API, drawn; null once the answer's error is shown.
  async function renderAnswer(response) {
    if (!response.ok) {
      const error = await Studio.readError(response);
      if (!refused(error)) showDetailError(Studio.errorText(error));
      return null;
    }
    const job = await response.json();
    render(job);
    return job;
  }

  async function poll(id, signal) {
    while (!signal.aborted) {
      try {
        const job = await renderAnswer(await Studio.authFetch(`/v1/jobs/${id}`, { signal }));
        if (!job || FINISHED.has(job.status)) return;
      } catch (error) {
        if (signal.aborted) return;
      }
      await Studio.sleep(POLL_EVERY_MS);
    }
  }

  function stopWatching() {
    if (watcher) watcher.controller.abort();
    watcher = null;
  }

  async function watch(id) {
    stopWatching();
    const controller = new AbortController();
    const current = { id, controller, done: false };
    watcher = current;
    try {
      if (await readStream(id, controller.signal) === "end") return;
    } catch (error) {
      if (controller.signal.aborted) return;
      if (error.api) {
        if (!refused(error.api)) showDetailError(Studio.errorText(error.api));
        if (error.api.status !== 500) return;  // 401/403/404 will not change by asking again
      }
    } finally {
      current.done = true;
    }
    if (!controller.signal.aborted) {
      current.done = false;
      await poll(id, controller.signal);
      current.done = true;
    }
  }

  function select(id) {
    if (id === selectedId && watcher) return;
    selectedId = id;
    lastStatus = null;
    sampleKey = null;
    byId("sample").hidden = true;
    byId("sample").removeAttribute("src");
    byId("no-sample").hidden = false;
    byId("sample-caption").textContent = "Sample grid";
    byId("loss-chart").replaceChildren();
    byId("detail-message").textContent = "";
    byId("log").textContent = "";
    showDetailError("");
    for (const link of byId("jobs-body").querySelectorAll("a")) {
      const on = link.getAttribute("href") === `#${id}`;
      link.toggleAttribute("aria-current", on);
      if (on) link.setAttribute("aria-current", "true");
      link.closest("tr").classList.toggle("selected", on);
    }
    if (!authBlocked) watch(id);
  }

  function selectFromHash(focus) {
    const match = /^#(\d+)$/.exec(window.location.hash);
    if (!match) return;
    select(Number(match[1]));
    if (focus) byId("detail-title").focus();
  }

  async function act(action) {
    const id = selectedId;
    if (id === null) return;
    const button = byId(action);
    button.disabled = true;
    showDetailError("");
    try {
      const job = await renderAnswer(await Studio.postJson(`/v1/jobs/${id}:${action}`, {}, true));
      if (!job) return;
      byId("detail-message").textContent = action === "cancel"
        ? `Cancel requested: job ${id} stops within seconds; resuming it goes on from its newest checkpoint.`
        : `Job ${id} is queued again; it goes on from its newest checkpoint.`;
      if (action === "resume") { lastStatus = job.status; watch(id); }
      refreshList();
    } catch (error) {
      showDetailError(`Request failed: ${error}`);
    }
  }

  function onTokenChange() {
    authBlocked = false;
    stopWatching();
    refreshList();
    if (selectedId !== null) { const id = selectedId; selectedId = null; select(id); }
  }

  if (!Studio.jobsEnabled()) return;
  byId("cancel").addEventListener("click", () => act("cancel"));
  byId("resume").addEventListener("click", () => act("resume"));
  window.addEventListener("hashchange", () => selectFromHash(true));
  Studio.bindTokenForm(onTokenChange);
  refreshList();
  selectFromHash(false);
  setInterval(refreshList, LIST_EVERY_MS);
})();
