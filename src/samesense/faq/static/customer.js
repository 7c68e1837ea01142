// The customer view (/ and the embeddable /widget): the answer, rendered safely (i18n.js), or a polite
// "no confident answer" with the server's fallback text and at most three "did you mean" questions.
// No scores and no other entries' answers: those are the support team's (/admin).
"use strict";

const $ = (sel) => document.querySelector(sel);
const DID_YOU_MEAN = 3;
let fallbackText = null;  // the server's --fallback-text; null: the interface's own, in its language

async function askServer(question) {
  const response = await fetch("/ask", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ question, k: 5 }) });
  if (!response.ok) throw new Error(t("error"));
  return response.json();
}

function showAnswer(text) {
  const box = $("#answer-box");
  box.replaceChildren();
  box.className = "answered";
  const answer = document.createElement("div");
  answer.id = "answer";
  answer.append(renderAnswer(text));
  box.append(answer);
}

function showNoAnswer(result) {
  const box = $("#answer-box");
  box.replaceChildren();
  box.className = "abstained";
  const sorry = document.createElement("p");
  sorry.id = "no-answer";
  sorry.textContent = t("noAnswer");
  const fallback = document.createElement("p");
  fallback.id = "fallback";
  fallback.append(renderAnswer(fallbackText ?? t("fallback")));
  box.append(sorry, fallback);
  const choices = result.did_you_mean.slice(0, DID_YOU_MEAN);
  if (choices.length) {
    const heading = document.createElement("p");
    heading.className = "did-you-mean";
    heading.textContent = t("didYouMean");
    const list = document.createElement("ul");
    list.id = "choices";
    for (const choice of choices) {
      const item = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "choice";
      b.textContent = choice.question;
      b.addEventListener("click", () => showAnswer(choice.answer));
      item.append(b);
      list.append(item);
    }
    box.append(heading, list);
  }
}

$("#ask-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("#error").hidden = true;
  try {
    const result = await askServer($("#question").value);
    if (result.answered) showAnswer(result.answer);
    else showNoAnswer(result);
    $("#result").hidden = false;
  } catch (err) {
    $("#result").hidden = true;
    $("#error").textContent = t("error");
    $("#error").hidden = false;
  }
});

// the page came in its language, compact on /widget (the server's doing); the fallback text is the server's
fetch("/config").then((r) => r.json()).then((config) => {
  fallbackText = config.fallback_is_default ? null : config.fallback_text;
  document.body.dataset.config = "loaded";
}).catch(() => {});  // the interface's own fallback text, then
