// The review console's only script: sends the API key and the reviewer id with every write,
// swaps server-rendered fragments into the page, and handles the queue's keyboard shortcuts.
"use strict";

const KEY = "lexflow-api-key";
const REVIEWER = "lexflow-reviewer";

function reviewerId() {
  let id = sessionStorage.getItem(REVIEWER);
  if (!id) {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    id = "r" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    sessionStorage.setItem(REVIEWER, id);
  }
  return id;
}

function showMessage(text, kind) {
  const box = document.getElementById("message");
  box.textContent = text;
  box.className = kind || "info";
  box.hidden = !text;
}

async function call(method, url, body, contentType) {
  const headers = { "X-Reviewer": reviewerId() };
  const key = sessionStorage.getItem(KEY);
  if (key) headers["X-API-Key"] = key;
  if (contentType) headers["Content-Type"] = contentType;
  const response = await fetch(url, { method, headers, body });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      message = (await response.json()).error || message;
    } catch (_) { /* not JSON */ }
    if (response.status === 401) message += " (enter the API key at the top of the page)";
    showMessage(message, "error");
    throw new Error(message);
  }
  showMessage("");
  return response;
}

function setupLogin() {
  const form = document.getElementById("login");
  const input = document.getElementById("api-key");
  const state = document.getElementById("key-state");
  const refresh = () => {
    state.textContent = sessionStorage.getItem(KEY) ? "key set" : (document.body.dataset.keyRequired === "true" ? "no key: read only" : "");
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (input.value) sessionStorage.setItem(KEY, input.value); else sessionStorage.removeItem(KEY);
    input.value = "";
    refresh();
    if (document.body.dataset.page === "queue") loadNext();
    const stored = document.querySelector("#document[data-load]");
    if (stored) loadDocument(stored);
  });
  refresh();
}

// -- review a contract -------------------------------------------------------------------------
async function classify(name, body) {
  const target = document.getElementById("document");
  target.innerHTML = '<p class="muted">Classifying…</p>';
  try {
    const response = await call("POST", "/ui/documents?name=" + encodeURIComponent(name), body, "application/octet-stream");
    target.innerHTML = await response.text();
  } catch (_) {
    target.innerHTML = "";
  }
}

async function decide(row, label) {
  const status = row.querySelector(".status");
  status.textContent = "saving…";
  try {
    const response = await call("POST", "/ui/feedback", JSON.stringify({ prediction_id: row.dataset.predictionId, label }), "application/json");
    const result = await response.json();
    status.textContent = result.status;
    row.className = "provision " + result.status;
    const done = document.querySelectorAll("tr.provision.confirmed, tr.provision.corrected").length;
    const all = document.querySelectorAll("tr.provision").length;
    document.getElementById("doc-progress").textContent = `${done} of ${all} provisions reviewed`;
  } catch (_) {
    status.textContent = "not saved";
  }
}

async function loadDocument(target) {
  try {
    target.innerHTML = await (await call("GET", target.dataset.load)).text();
  } catch (_) {
    target.innerHTML = '<p class="muted">Reviewed documents quote stored texts: enter the API key.</p>';
  }
}

async function download(link) {
  // A plain link cannot send the API key: fetch the export with it and save the answer.
  const response = await call("GET", link.getAttribute("href"));
  const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
  const url = URL.createObjectURL(await response.blob());
  const save = document.createElement("a");
  save.href = url;
  save.download = match ? match[1] : "export";
  document.body.appendChild(save);
  save.click();
  save.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

async function openReport(link) {
  // A drift report needs the API key when one is set, which a plain link cannot send: fetch it with
  // the key and show it from memory (a blob: page keeps this page's policy: it runs no script).
  const response = await call("GET", link.getAttribute("href"));
  const url = URL.createObjectURL(new Blob([await response.text()], { type: "text/html" }));
  if (!window.open(url, "_blank")) location.assign(url);
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function setupModels() {
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a.report");
    if (link) {
      event.preventDefault();
      openReport(link).catch(() => {});
    }
  });
}

// A closed <select> changes (and says so) on every arrow key: a decision is sent once the choice
// has rested for a moment, so moving through the labels by keyboard stores only the last one.
const pending = new WeakMap();
const SETTLE_MS = 400;

function decideSoon(row, label) {
  clearTimeout(pending.get(row));
  row.querySelector(".status").textContent = "…";
  pending.set(row, setTimeout(() => { pending.delete(row); decide(row, label); }, SETTLE_MS));
}

function setupReview() {
  const stored = document.querySelector("#document[data-load]");
  if (stored) loadDocument(stored);
  const paste = document.getElementById("classify-paste");
  if (paste) {
    paste.addEventListener("click", () => classify("pasted.txt", new TextEncoder().encode(document.getElementById("paste").value)));
    document.getElementById("classify-file").addEventListener("click", async () => {
      const file = document.getElementById("upload").files[0];
      if (!file) { showMessage("choose a file first", "error"); return; }
      await classify(file.name, await file.arrayBuffer());
    });
  }
  document.addEventListener("change", (event) => {
    if (event.target.matches("select.label-choice")) decideSoon(event.target.closest("tr"), event.target.value);
  });
  document.addEventListener("click", (event) => {
    if (event.target.matches("a.download")) {
      event.preventDefault();
      download(event.target).catch(() => {});
    } else if (event.target.matches("button.confirm")) {
      const row = event.target.closest("tr");
      clearTimeout(pending.get(row));
      decide(row, row.querySelector("select.label-choice").value);
    }
  });
}

// -- the queue ---------------------------------------------------------------------------------
let busy = false;

async function loadNext() {
  const target = document.getElementById("queue-item");
  try {
    const response = await call("POST", "/ui/queue/next");
    target.innerHTML = await response.text();
  } catch (error) {
    target.innerHTML = '<p class="muted">The queue needs the API key.</p>';
  }
}

async function act(path, body) {
  const record = document.querySelector(".queue-record");
  if (!record || busy) return;
  busy = true;
  try {
    await call("POST", `/ui/queue/${record.dataset.predictionId}/${path}`, body ? JSON.stringify(body) : undefined, body ? "application/json" : undefined);
    await loadNext();
  } catch (_) {
    /* the message says why */
  } finally {
    busy = false;
  }
}

function filterLabels(query) {
  const wanted = query.trim().toLowerCase();
  const shown = [];
  for (const choice of document.querySelectorAll("button.choice")) {
    const match = !wanted || choice.dataset.label.toLowerCase().includes(wanted);
    choice.closest("li").hidden = !match;
    if (match) shown.push(choice);
  }
  const help = document.getElementById("filter-help");
  if (help) help.textContent = wanted ? `${shown.length} matching` : `${shown.length} labels`;
  return shown;
}

function setupQueue() {
  loadNext();
  document.addEventListener("input", (event) => {
    if (event.target.id === "label-filter") filterLabels(event.target.value);
  });
  document.addEventListener("keydown", (event) => {
    const record = document.querySelector(".queue-record");
    if (!record || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.id === "label-filter") {  // any label, by name: Enter picks the first match
      if (event.key === "Enter") {
        event.preventDefault();
        const [first] = filterLabels(event.target.value);
        if (first) act("answer", { label: first.dataset.label });
      } else if (event.key === "Escape") {
        event.target.value = "";
        filterLabels("");
        event.target.blur();
      }
      return;
    }
    if (event.target.matches("input, textarea, select")) return;
    if (event.target.matches("button") && (event.key === "Enter" || event.key === " ")) return;  // the focused button's own click
    if (event.key === "Enter") {
      event.preventDefault();
      act("answer", { label: record.dataset.predicted });
    } else if (event.key === "s") {
      act("skip");
    } else if (event.key === "/") {
      event.preventDefault();
      document.getElementById("label-filter").focus();
    } else if (/^[1-9]$/.test(event.key)) {
      const choice = document.querySelectorAll("button.choice")[Number(event.key) - 1];
      if (choice) act("answer", { label: choice.dataset.label });
    }
  });
  document.addEventListener("click", (event) => {
    const record = document.querySelector(".queue-record");
    if (!record) return;
    const choice = event.target.closest("button.choice");
    if (choice) act("answer", { label: choice.dataset.label });
    else if (event.target.id === "confirm-item") act("answer", { label: record.dataset.predicted });
    else if (event.target.id === "skip-item") act("skip");
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setupLogin();
  const page = document.body.dataset.page;
  if (page === "review") setupReview();
  if (page === "queue") setupQueue();
  if (page === "models") setupModels();
});
