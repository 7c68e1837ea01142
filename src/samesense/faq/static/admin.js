// The support team's page (/admin): ask box with scores and candidates, and, with the bearer token,
// the entries and the unanswered questions (assign, add, dismiss). On a read-only server that has a
// token, the unanswered questions alone, with no action (nothing is written from here). Plain DOM, no
// build step; every text from the server goes in with textContent (answers through i18n.js's
// renderAnswer), never as HTML. The page's own words come through i18n.js's t(), in the language
// the server rendered the page in (page_strings.py); what the server says (its errors, an unanswered
// question's reason) is shown as it came.
"use strict";

const $ = (sel) => document.querySelector(sel);
const TOKEN_KEY = "samesense-token";
let token = sessionStorage.getItem(TOKEN_KEY) || "";
let fallbackText = "";  // shown under "No confident answer": the server's --fallback-text, or the page's own
let writable = false;  // the server takes writes (with the token); else the log is shown read-only
let entriesOffset = 0;  // the admin list's first entry
let entriesShown = 0;  // the latest list asked for: an earlier one answered late must not replace it

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function call(method, path, body, auth) {
  const headers = { "Content-Type": "application/json" };
  if (auth) headers["Authorization"] = "Bearer " + token;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({ detail: response.statusText }));
  if (!response.ok) throw new HttpError(response.status, data.detail || ("HTTP " + response.status));
  return data;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function button(text, className, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.className = className;
  b.addEventListener("click", onClick);
  return b;
}

function showError(message) {
  const box = $("#error");
  box.textContent = message;
  box.hidden = !message;
}

// -- what the server says about itself --------------------------------------------------------

async function loadConfig() {
  const config = await call("GET", "/config");
  fallbackText = config.fallback_is_default ? t("fallback") : config.fallback_text;  // samesense's own, translated
  writable = config.writable;
  // the log holds customers' questions: it needs the token, so a server without one shows nothing here
  $("#admin").hidden = !config.has_token;
  if (!writable) {
    $("#admin-summary").textContent = t("readOnlySummary");
    $("#unanswered-hint").textContent = t("readOnlyHint");
    $("#nearest-heading").textContent = t("nearestHeading");
  }
  document.body.dataset.config = "loaded";
}

// -- asking ---------------------------------------------------------------------------------

function showAnswer(result) {
  const box = $("#answer-box");
  box.replaceChildren();
  const main = document.createElement("div");
  if (result.answered) {
    box.className = "answered";
    main.id = "answer";
    main.append(renderAnswer(result.answer));
    const matched = document.createElement("p");
    matched.className = "matched";
    matched.textContent = t("matched", { question: result.matched_question, score: result.score.toFixed(3) });
    box.append(main, matched);
  } else {
    box.className = "abstained";
    main.id = "no-answer";
    main.textContent = t("noConfidentAnswer");
    box.append(main);
    if (fallbackText) {
      const fallback = document.createElement("p");
      fallback.id = "fallback";
      fallback.textContent = fallbackText;
      box.append(fallback);
    }
    const reason = document.createElement("p");
    reason.className = "reason";
    reason.textContent = result.reason;
    box.append(reason);
  }
  const choices = $("#choices");
  choices.replaceChildren();
  for (const choice of result.did_you_mean) {
    const item = document.createElement("li");
    item.append(button(`${choice.question} (${choice.score.toFixed(3)})`, "choice", () => showAnswer({ ...result,
      answered: true, answer: choice.answer, matched_question: choice.question, score: choice.score, did_you_mean: [] })));
    choices.append(item);
  }
  $("#did-you-mean").hidden = result.did_you_mean.length === 0;
  const rows = $("#candidates tbody");
  rows.replaceChildren();
  for (const c of result.candidates) {
    const row = rows.insertRow();
    cell(row, c.score.toFixed(3), "score");
    cell(row, c.question);
    cell(row, c.answer);
    cell(row, "#" + c.entry_id);
  }
  $("#result").hidden = false;
}

$("#ask-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("");
  try {
    showAnswer(await call("POST", "/ask", { question: $("#question").value, k: 5 }));
  } catch (err) {
    $("#result").hidden = true;
    showError(err.message);
  }
});

// -- admin ----------------------------------------------------------------------------------

function adminStatus(message) {
  $("#admin-status").textContent = message;
}

function resetForm() {
  $("#entry-form").reset();
  $("#entry-id").value = "";
  $("#entry-from-log").value = "";
  $("#save-entry").textContent = t("addEntry");
  $("#cancel-edit").hidden = true;
}

function edit(entry) {
  $("#entry-id").value = entry.id;
  $("#entry-question").value = entry.question;
  $("#entry-answer").value = entry.answer;
  $("#entry-paraphrases").value = entry.paraphrases.join("\n");
  $("#entry-tags").value = entry.tags.join(", ");
  $("#save-entry").textContent = t("saveEntry", { id: entry.id });
  $("#cancel-edit").hidden = false;
  $("#entry-question").focus();
}

async function remove(entry) {
  try {
    await call("DELETE", "/faq/" + entry.id, undefined, true);
    adminStatus(t("deletedEntry", { id: entry.id }));
    await loadEntries();
  } catch (err) { adminStatus(err.message); }
}

function entryRow(rows, entry) {
  const row = rows.insertRow();
  row.dataset.id = entry.id;
  cell(row, entry.id);
  cell(row, entry.question + (entry.paraphrases.length ? ` (+${entry.paraphrases.length})` : ""));
  cell(row, entry.answer);
  row.insertCell().append(button(t("edit"), "edit", () => edit(entry)), " ",
    button(t("delete"), "delete", () => remove(entry)));
}

async function loadEntries() {
  const filter = $("#filter").value.trim();
  const limit = Number($("#page-size").value);
  // one more than a page: whether there is a next page, with or without a filter
  const query = new URLSearchParams({ offset: entriesOffset, limit: limit + 1 });
  if (filter) query.set("contains", filter);
  const request = ++entriesShown;
  const data = await call("GET", "/faq?" + query);
  if (request !== entriesShown) return;  // typing in the filter sends a request a key: only the last counts
  if (data.entries.length === 0 && entriesOffset > 0) {  // past the end (the last entries were deleted)
    entriesOffset = Math.max(0, entriesOffset - limit);
    return loadEntries();
  }
  const shown = data.entries.slice(0, limit);
  const rows = $("#entries tbody");
  rows.replaceChildren();
  for (const entry of shown) entryRow(rows, entry);
  $("#previous-page").disabled = entriesOffset === 0;
  $("#next-page").disabled = data.entries.length <= limit;
  const range = shown.length ? `${entriesOffset + 1}–${entriesOffset + shown.length}` : t("noneShown");
  $("#page-range").textContent = filter ? t("pageRangeFiltered", { range, total: data.total, filter })
    : t("pageRange", { range, total: data.total });
}

function turnPage(step) {
  entriesOffset = Math.max(0, entriesOffset + step * Number($("#page-size").value));
  loadEntries().catch((err) => adminStatus(err.message));
}

// the entries a logged question came nearest to first, then any entry by its id
function assignChoice(q) {
  const select = document.createElement("select");
  select.className = "assign-to";
  for (const near of q.nearest) {
    const option = new Option(`#${near.entry_id} ${near.question} (${near.score.toFixed(3)})`, near.entry_id);
    select.append(option);
  }
  select.append(new Option(t("anotherEntry"), ""));
  const other = document.createElement("input");
  other.type = "number";
  other.min = "1";
  other.className = "assign-id";
  other.hidden = q.nearest.length > 0;
  select.addEventListener("change", () => { other.hidden = select.value !== ""; });
  const assign = button(t("assign"), "assign", async () => {
    const entryId = Number(select.value || other.value);
    if (!entryId) return adminStatus(t("chooseEntry"));
    await logAction("/unanswered/assign", { question: q.question, entry_id: entryId },
      t("assigned", { question: q.question, id: entryId }));
  });
  const span = document.createElement("span");
  span.append(select, " ", other, " ", assign);
  return span;
}

async function logAction(path, body, done) {
  try {
    await call("POST", path, body, true);
    adminStatus(done);
    await Promise.all([loadEntries(), loadUnanswered()]);
  } catch (err) { adminStatus(err.message); }
}

async function loadUnanswered() {
  const data = await call("GET", "/unanswered?limit=20", undefined, true);
  const rows = $("#unanswered tbody");
  rows.replaceChildren();
  for (const q of data.questions) {
    const row = rows.insertRow();
    row.dataset.question = q.question;
    cell(row, q.count, "count");
    cell(row, q.question);
    cell(row, q.reason || "");
    if (!writable) {  // read-only: what it came nearest to, as text; no action
      cell(row, q.nearest.map((near) => `#${near.entry_id} ${near.question} (${near.score.toFixed(3)})`).join("; "),
        "nearest");
      continue;
    }
    row.insertCell().append(assignChoice(q));
    row.insertCell().append(button(t("addAsEntry"), "add-entry", () => {
      resetForm();
      $("#entry-question").value = q.question;
      $("#entry-from-log").value = q.question;  // saved through /unanswered/add: it leaves this list
      $("#entry-answer").focus();
    }), " ", button(t("dismiss"), "dismiss", () => logAction("/unanswered/dismiss", { question: q.question },
      t("dismissed", { question: q.question }))));
  }
  // one string for one and one for more: English says "1 time", "2 times"; Chinese says both alike
  const questions = t(data.total === 1 ? "oneQuestion" : "manyQuestions", { count: data.total });
  const times = t(data.asks === 1 ? "oneTime" : "manyTimes", { count: data.asks });
  $("#unanswered-status").textContent = data.recording ? t("unansweredCount", { questions, times }) : t("noLog");
}

async function unlock() {
  token = $("#token").value.trim();
  $("#admin-body").hidden = true;
  $("#token-status").textContent = "";
  try {
    await call("GET", "/auth", undefined, true);  // the server, not the page, says whether the token is right
  } catch (err) {
    sessionStorage.removeItem(TOKEN_KEY);
    $("#token-status").textContent = err.status === 401 ? t("wrongToken") : err.message;
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $("#admin-body").hidden = false;
  $("#entry-tools").hidden = !writable;  // a read-only server: the log alone
  entriesOffset = 0;
  await Promise.all([writable ? loadEntries() : null, loadUnanswered()]).catch((err) => adminStatus(err.message));
}

$("#token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  unlock();
});

$("#entry-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const id = $("#entry-id").value;
  const entry = {
    question: $("#entry-question").value,
    answer: $("#entry-answer").value,
    paraphrases: $("#entry-paraphrases").value.split("\n").map((s) => s.trim()).filter(Boolean),
    tags: $("#entry-tags").value.split(",").map((s) => s.trim()).filter(Boolean),
  };
  const fromLog = $("#entry-from-log").value;
  try {
    const saved = id ? await call("PUT", "/faq/" + id, entry, true)
      : await call("POST", fromLog ? "/unanswered/add" : "/faq", entry, true);
    resetForm();
    await Promise.all([loadEntries(), fromLog ? loadUnanswered() : null]);
    adminStatus(t(id ? "savedEntry" : "addedEntry", { id: saved.id }));
  } catch (err) { adminStatus(err.message); }
});

$("#cancel-edit").addEventListener("click", resetForm);
$("#filter").addEventListener("input", () => {
  entriesOffset = 0;
  loadEntries().catch((err) => adminStatus(err.message));
});
$("#page-size").addEventListener("change", () => {
  entriesOffset = 0;
  loadEntries().catch((err) => adminStatus(err.message));
});
$("#previous-page").addEventListener("click", () => turnPage(-1));
$("#next-page").addEventListener("click", () => turnPage(1));
$("#refresh-unanswered").addEventListener("click", () => loadUnanswered().catch((err) => adminStatus(err.message)));
if (token) $("#token").value = token;
loadConfig().catch((err) => showError(err.message));
