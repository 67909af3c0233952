// The Train page: the recipes from GET /v1/recipes, a form built from the chosen recipe's typed
// fields, and POST /v1/jobs with only the fields the user changed.
"use strict";

(() => {
  const { byId, element } = Studio;
  let recipes = {};
  let dataSets = [];
  let nameEdited = false;

  function setStatus(text) { byId("train-status").textContent = text || ""; }

  function showError(text) {
    const box = byId("train-error");
    box.textContent = text || "";
    box.hidden = !text;
  }

  // The text a field's input starts with: what the recipe says, in the form `--set` parses.
  function initialText(field) {
    const value = field.value;
    if (value === null || value === undefined) return "";
    if (field.type === "list" && Array.isArray(value)) {
      return value.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(",");
    }
    if (field.type === "json" || typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  function fieldInput(field, id, describedBy) {
    const common = { id, name: field.name, "aria-describedby": describedBy, "data-field": field.name };
    if (field.type === "bool") {
      const input = element("input", { ...common, type: "checkbox" });
      input.checked = field.value === true;
      input.dataset.initial = String(field.value === true);
      return input;
    }
    const attributes = { ...common, autocomplete: "off", spellcheck: "false" };
    if (field.type === "int" || field.type === "float") {
      Object.assign(attributes, { type: "number", step: field.type === "int" ? "1" : "any",
                                  inputmode: field.type === "int" ? "numeric" : "decimal" });
    } else {
      attributes.type = "text";
    }
    if (field.value === null) attributes.placeholder = "none";
    const input = element("input", attributes);
    input.value = initialText(field);
    input.dataset.initial = input.value;
    return input;
  }

  function fieldRow(field) {
    const id = `set-${field.name}`;
    const helpId = `${id}-help`;
    // A checkbox says "true or false" by itself; other inputs name the type they parse as.
    const help = [field.help, field.type === "bool" ? "" : field.type_text].filter(Boolean).join(" — ");
    const input = fieldInput(field, id, helpId);
    const label = element("label", { for: id, text: field.name });
    const small = element("small", { id: helpId, text: help });
    const row = field.type === "bool"
      ? element("div", { class: "field field-check" }, element("span", { class: "check" }, input, label), small)
      : element("div", { class: "field" }, label, input, small);
    input.addEventListener(field.type === "bool" ? "change" : "input", () => markChanged(input));
    return row;
  }

  function isChanged(input) {
    const now = input.type === "checkbox" ? String(input.checked) : input.value;
    return now !== input.dataset.initial;
  }

  function markChanged(input) {
    input.closest(".field").classList.toggle("changed", isChanged(input));
  }

  // Numbers go as numbers when they read as one, anything else as typed, so that the server's
  // typed config, not the browser, judges the value and names what is wrong.
  function valueOf(input, field) {
    if (field.type === "bool") return input.checked;
    const text = input.value;
    if (field.type === "int" || field.type === "float") {
      if (text.trim() === "") return input.validity.badInput ? "not a number" : null;
      const number = Number(text);
      return Number.isFinite(number) ? number : text;
    }
    return text;
  }

  function changedSettings(recipe) {
    const set = {};
    for (const field of recipe.fields) {
      const input = byId(`set-${field.name}`);
      if (input && isChanged(input)) set[field.name] = valueOf(input, field);
    }
    return set;
  }

  function renderRecipe() {
    const recipe = recipes[byId("recipe").value];
    if (!recipe) return;
    const presence = recipe.data_present ? "" : " (not on this server: choose a data set)";
    byId("recipe-info").textContent = `Family ${recipe.family} · trains on ${recipe.data}${presence}`;
    const own = new Option(`the recipe's own: ${recipe.data}`, "");
    byId("data").replaceChildren(own, ...dataSets.map((name) => new Option(name, name)));
    if (!recipe.data_present && dataSets.length) byId("data").value = dataSets[0];
    if (!nameEdited) byId("name").value = recipe.name;
    byId("fields").replaceChildren(...recipe.fields.map(fieldRow));
  }

  async function loadRecipes() {
    setStatus("Loading recipes…");
    let response;
    try {
      response = await Studio.authFetch("/v1/recipes");
    } catch (error) {
      setStatus("");
      showError(`Could not reach the server: ${error}`);
      return;
    }
    if (!response.ok) {
      const error = await Studio.readError(response);
      const problem = Studio.authProblem(error);
      byId("train-form").hidden = true;
      setStatus("");
      if (problem) Studio.showAuthProblem(`${problem} The server said: ${error.message}`);
      else showError(Studio.errorText(error));
      return;
    }
    Studio.showAuthProblem("");
    showError("");
    const body = await response.json();
    const previous = byId("recipe").value;
    recipes = Object.fromEntries(body.recipes.map((recipe) => [recipe.name, recipe]));
    dataSets = body.data_sets || [];
    const select = byId("recipe");
    select.replaceChildren(...body.recipes.map((r) => new Option(`${r.name} (${r.family})`, r.name)));
    if (recipes[previous]) select.value = previous;
    const limits = body.limits || {};
    byId("limits").textContent = `Limits on this server: ${limits.max_running} job(s) train at once, ` +
      `${limits.max_queued} may wait in the queue, each trains for at most ${limits.max_minutes} minutes.`;
    if (!body.recipes.length) {
      showError("This server has no recipe a job can train: add a config file to its recipes folder.");
      byId("train-form").hidden = true;
      setStatus("");
      return;
    }
    byId("train-form").hidden = false;
    renderRecipe();
    setStatus(`${body.recipes.length} recipe(s) ready.`);
  }

  async function onSubmit(event) {
    event.preventDefault();
    const recipe = recipes[byId("recipe").value];
    if (!recipe) return;
    showError("");
    byId("submitted").hidden = true;
    const request = { config: recipe.name, name: byId("name").value.trim(), set: changedSettings(recipe) };
    if (byId("data").value) request.data = byId("data").value;
    const button = byId("submit");
    button.disabled = true;
    setStatus("Sending the job…");
    try {
      const response = await Studio.postJson("/v1/jobs", request, true);
      if (!response.ok) {
        const error = await Studio.readError(response);
        const problem = Studio.authProblem(error);
        if (problem) Studio.showAuthProblem(`${problem} The server said: ${error.message}`);
        else showError(Studio.errorText(error));
        setStatus("");
        return;
      }
      const job = await response.json();
      const link = element("a", { href: `/jobs#${job.id}`, id: "job-link", text: `job ${job.id}` });
      byId("submitted").replaceChildren(`Queued as `, link, ` (model ${job.name}). Opening it on the Jobs page…`);
      byId("submitted").hidden = false;
      setStatus(`Job ${job.id} is ${job.status}.`);
      setTimeout(() => { window.location.href = `/jobs#${job.id}`; }, 600);
    } catch (error) {
      showError(`Request failed: ${error}`);
      setStatus("");
    } finally {
      button.disabled = false;
    }
  }

  function resetFields() {
    renderRecipe();
    setStatus("Settings reset to the recipe's values.");
  }

  if (!Studio.jobsEnabled()) return;
  byId("recipe").addEventListener("change", () => { showError(""); renderRecipe(); });
  byId("name").addEventListener("input", () => { nameEdited = byId("name").value.trim() !== ""; });
  byId("train-form").addEventListener("submit", onSubmit);
  byId("reset-fields").addEventListener("click", resetFields);
  Studio.bindTokenForm(loadRecipes);
  loadRecipes();
})();
