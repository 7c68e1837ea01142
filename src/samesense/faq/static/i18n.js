// The pages' own words, and the safe rendering of an answer. Loaded before the page's script
// (customer.js, admin.js). The server chose the language (page_language.py: ?lang, its
// --page-language, the request's Accept-Language) and sent the page in it, with the strings its
// script shows later in the JSON block #interface-strings (page_strings.py); nothing here chooses again.
"use strict";

const STRINGS_BLOCK = document.getElementById("interface-strings");
const STRINGS = STRINGS_BLOCK ? JSON.parse(STRINGS_BLOCK.textContent) : {};

// the page's string `key`, its {name} placeholders filled from `values` (as text: the caller puts
// the result in with textContent); a placeholder with no value stays as written
function t(key, values = {}) {
  return (STRINGS[key] ?? key).replace(/\{(\w+)\}/g, (whole, name) => (Object.hasOwn(values, name) ? String(values[name]) : whole));
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
