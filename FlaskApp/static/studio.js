// Helpers shared by the Models, Train and Jobs pages: the admin token, authorised fetches, the
// API's error messages, number and time formatting. Plain script, no build step: it defines
// one global, `Studio`, which the page scripts loaded after it use.
"use strict";

const Studio = (() => {
  const TOKEN_KEY = "condgan.admin-token";
  const byId = (id) => document.getElementById(id);

  // sessionStorage, not localStorage: the token leaves with the tab instead of staying on disk.
  function token() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; }
  }

  function setToken(value) {
    try {
      if (value) sessionStorage.setItem(TOKEN_KEY, value);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage blocked: the token lasts until the page reloads */ }
    memoryToken = value;
  }

  let memoryToken = token();

  function authHeaders(extra) {
    const headers = { ...(extra || {}) };
    if (memoryToken) headers.Authorization = `Bearer ${memoryToken}`;
    return headers;
  }

  // A fetch of a job route: the token rides along as a bearer header.
  function authFetch(path, options = {}) {
    return fetch(path, { ...options, headers: authHeaders(options.headers), cache: "no-store" });
  }

  function postJson(path, body, withToken) {
    const options = { method: "POST", headers: { "Content-Type": "application/json" },
                      body: JSON.stringify(body === undefined ? {} : body) };
    return withToken ? authFetch(path, options) : fetch(path, options);
  }

  // The API's error body {"error": {"code", "message"}}, or what HTTP alone says.
  async function readError(response) {
    try {
      const body = await response.json();
      if (body && body.error && typeof body.error === "object") {
        return { status: response.status, code: body.error.code || "", message: body.error.message || "" };
      }
      if (body && typeof body.error === "string") return { status: response.status, code: "", message: body.error };
    } catch (e) { /* not JSON */ }
    return { status: response.status, code: "", message: `HTTP ${response.status} ${response.statusText}` };
  }

  function errorText(error) {
    return error.code ? `${error.message} (${error.code}, HTTP ${error.status})` : error.message;
  }

  // What to tell the user when a job route refuses them; null when it is not about the token.
  function authProblem(error) {
    if (error.code === "jobs_disabled") {
      return "Training jobs are off on this server. Start it with the environment variable " +
        "CONDGAN_ADMIN_TOKEN set (for example CONDGAN_ADMIN_TOKEN=choose-a-secret python " +
        "FlaskApp/endpoint_full.py), then enter that token above.";
    }
    if (error.status === 401) {
      return "This page needs the server's admin token: enter the value of CONDGAN_ADMIN_TOKEN " +
        "the server was started with in the Admin token field above.";
    }
    if (error.status === 403) {
      return "The server refused this admin token: it is not the server's CONDGAN_ADMIN_TOKEN. " +
        "Check it and enter it again above.";
    }
    return null;
  }

  function showAuthProblem(text) {
    const box = byId("auth-message");
    if (!box) return;
    box.textContent = text || "";
    box.hidden = !text;
  }

  // Wires the token form; `onChange` runs after a new token is saved or the old one forgotten.
  function bindTokenForm(onChange) {
    const form = byId("token-form");
    if (!form) return;
    const input = byId("token");
    input.value = memoryToken;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      setToken(input.value.trim());
      showAuthProblem("");
      onChange();
    });
    byId("token-forget").addEventListener("click", () => {
      input.value = "";
      setToken("");
      onChange();
      input.focus();
    });
  }

  function jobsEnabled() { return document.body.dataset.jobsEnabled === "true"; }

  // Three significant digits (0.8159 -> 0.816, 16.243 -> 16.2), whole numbers as they are.
  function formatNumber(value) {
    if (typeof value !== "number" || !Number.isFinite(value)) return String(value);
    if (Number.isInteger(value)) return value.toLocaleString("en-US");
    if (Math.abs(value) >= 100) return value.toFixed(1);
    return String(Number(value.toPrecision(3)));
  }

  function formatDuration(seconds) {
    if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  }

  function formatTime(unixSeconds) {
    if (!unixSeconds) return "–";
    return new Date(unixSeconds * 1000).toLocaleString();
  }

  function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

  // A link to the Generate page with the model (and one of its versions) preselected.
  function generateUrl(name, version) {
    const query = new URLSearchParams({ model: name });
    if (version !== null && version !== undefined && /^\d+$/.test(String(version))) query.set("version", String(version));
    return `/?${query}`;
  }

  function element(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    node.append(...children.filter((child) => child !== null && child !== undefined));
    return node;
  }

  return { byId, token: () => memoryToken, setToken, authFetch, postJson, readError, errorText,
           authProblem, showAuthProblem, bindTokenForm, jobsEnabled, formatNumber, formatDuration,
           formatTime, sleep, generateUrl, element };
})();
