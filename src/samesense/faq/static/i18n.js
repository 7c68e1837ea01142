// The pages' own words in English and Chinese, and the safe rendering of an answer. Loaded before
// the page's script. The language: ?lang=en|zh in the page's address, else the server's setting
// (serve --page-language), else the browser's languages (its Accept-Language), else English.
"use strict";

const STRINGS = {
  en: {
    title: "Ask a question",
    hint: "Answers come from our FAQ.",
    placeholder: "Type your question",
    ask: "Ask",
    noAnswer: "Sorry, we have no confident answer to that question.",
    fallback: "Please rephrase the question, or contact support.",
    didYouMean: "Did you mean",
    error: "Something went wrong; please try again.",
  },
  zh: {
    title: "提问",
    hint: "答案来自我们的常见问题。",
    placeholder: "请输入您的问题",
    ask: "提问",
    noAnswer: "抱歉，我们没有把握回答这个问题。",
    fallback: "请换一种说法，或联系客服。",
    didYouMean: "您是不是想问",
    error: "出错了，请重试。",
  },
};
const LANGUAGES = Object.keys(STRINGS);

// the first of the page's ?lang=, the server's setting and the browser's languages that we have
function chooseLanguage(serverSetting) {
  const asked = new URLSearchParams(location.search).get("lang");
  const browser = (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ""]);
  for (const wanted of [asked, serverSetting === "auto" ? null : serverSetting, ...browser]) {
    const base = (wanted || "").toLowerCase().split("-")[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return "en";
}

let language = "en";

function t(key) {
  return STRINGS[language][key] ?? STRINGS.en[key];
}

// every element with data-i18n="key" gets that string (data-i18n-placeholder: its placeholder)
function applyLanguage(chosen) {
  language = chosen;
  document.documentElement.lang = chosen === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}

// An answer as minimal markdown, built from DOM nodes (never innerHTML, so no text can be markup):
// its lines kept (a blank line starts a paragraph), [text](https://...) and bare http(s) addresses
// as links that open in a new tab. Any other scheme (javascript:, data:) stays text.
const LINK = /\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])/g;

function renderAnswer(text) {
  const box = document.createDocumentFragment();
  for (const paragraph of text.split(/\n\s*\n/)) {
    const p = document.createElement("p");
    paragraph.split("\n").forEach((line, i) => {
      if (i > 0) p.append(document.createElement("br"));
      appendLinked(p, line);
    });
    box.append(p);
  }
  return box;
}

function appendLinked(parent, line) {
  let last = 0;
  for (const match of line.matchAll(LINK)) {
    parent.append(line.slice(last, match.index));
    const a = document.createElement("a");
    a.href = match[2] || match[3];
    a.textContent = match[1] || match[3];
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    parent.append(a);
    last = match.index + match[0].length;
  }
  parent.append(line.slice(last));
}
