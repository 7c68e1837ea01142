// The FAQ page: ask box, and an admin view that needs the bearer token. Plain DOM, no build step.
"use strict";

const $ = (sel) => document.querySelector(sel);
let token = sessionStorage.getItem("samesense-token") || "";

async function call(method, path, body, auth) {
  const headers = { "Content-Type": "application/json" };
  if (auth) headers["Authorization"] = "Bearer " + token;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({ detail: response.statusText }));
  if (!response.ok) throw new Error(data.detail || ("HTTP " + response.status));
  return data;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function showError(message) {
  const box = $("#error");
  box.textContent = message;
  box.hidden = !message;
}

// -- asking ---------------------------------------------------------------------------------

function showAnswer(result) {
  const box = $("#answer-box");
  box.replaceChildren();
  const main = document.createElement("p");
  if (result.answered) {
    box.className = "answered";
    main.id = "answer";
    main.textContent = result.answer;
    const matched = document.createElement("p");
    matched.className = "matched";
    matched.textContent = `matched "${result.matched_question}" (score ${result.score.toFixed(3)})`;
    box.append(main, matched);
  } else {
    box.className = "abstained";
    main.id = "no-answer";
    main.textContent = "No confident answer";
    const reason = document.createElement("p");
    reason.className = "reason";
    reason.textContent = result.reason;
    box.append(main, reason);
  }
  const choices = $("#choices");
  choices.replaceChildren();
  for (const choice of result.did_you_mean) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `${choice.question} (${choice.score.toFixed(3)})`;
    button.addEventListener("click", () => showAnswer({ ...result, answered: true, answer: choice.answer,
      matched_question: choice.question, score: choice.score, did_you_mean: [] }));
    item.append(button);
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
  $("#save-entry").textContent = "Add entry";
  $("#cancel-edit").hidden = true;
}

function edit(entry) {
  $("#entry-id").value = entry.id;
  $("#entry-question").value = entry.question;
  $("#entry-answer").value = entry.answer;
  $("#entry-paraphrases").value = entry.paraphrases.join("\n");
  $("#entry-tags").value = entry.tags.join(", ");
  $("#save-entry").textContent = "Save entry " + entry.id;
  $("#cancel-edit").hidden = false;
  $("#entry-question").focus();
}

async function loadEntries() {
  const filter = $("#filter").value.trim();
  const data = await call("GET", "/faq?limit=200" + (filter ? "&contains=" + encodeURIComponent(filter) : ""));
  const rows = $("#entries tbody");
  rows.replaceChildren();
  for (const entry of data.entries) {
    const row = rows.insertRow();
    row.dataset.id = entry.id;
    cell(row, entry.id);
    cell(row, entry.question + (entry.paraphrases.length ? ` (+${entry.paraphrases.length})` : ""));
    cell(row, entry.answer);
    const actions = row.insertCell();
    const editButton = document.createElement("button");
    editButton.textContent = "Edit";
    editButton.className = "edit";
    editButton.addEventListener("click", () => edit(entry));
    const deleteButton = document.createElement("button");
    deleteButton.textContent = "Delete";
    deleteButton.className = "delete";
    deleteButton.addEventListener("click", async () => {
      try {
        await call("DELETE", "/faq/" + entry.id, undefined, true);
        adminStatus(`Deleted entry ${entry.id}.`);
        await loadEntries();
      } catch (err) { adminStatus(err.message); }
    });
    actions.append(editButton, " ", deleteButton);
  }
  adminStatus(`${data.total} entries` + (filter ? `; ${data.entries.length} shown` : ""));
}

$("#token-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  token = $("#token").value.trim();
  sessionStorage.setItem("samesense-token", token);
  $("#admin-body").hidden = false;
  await loadEntries().catch((err) => adminStatus(err.message));
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
  try {
    const saved = id ? await call("PUT", "/faq/" + id, entry, true) : await call("POST", "/faq", entry, true);
    resetForm();
    await loadEntries();
    adminStatus(`${id ? "Saved" : "Added"} entry ${saved.id}.`);
  } catch (err) { adminStatus(err.message); }
});

$("#cancel-edit").addEventListener("click", resetForm);
$("#filter").addEventListener("input", () => loadEntries().catch((err) => adminStatus(err.message)));
if (token) $("#token").value = token;
