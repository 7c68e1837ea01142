"""The customer pages' interface language, chosen by the server for each request, and their words.

    choose_language(setting, asked, accept_language)   # "en" or "zh"
    customer_page(language, widget)                    # the customer view's HTML, in that language

The one rule: the page address's ?lang=en|zh, else the server's setting (`serve --page-language
en|zh`), else the first language the request's Accept-Language header names that the pages have
(best q-value first, a q of 0 refused; zh, zh-CN, zh-TW, any zh-*: Chinese, en-*: English), else
English. The server decides, so the HTML arrives in its language (`<html lang>`, the headings,
the placeholder, and the strings the script shows later, in a JSON block): nothing is shown in
English first. A header that cannot be read (no language, a q that is not a number) counts as
no header: English, never an error.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from .choices import FALLBACK_TEXT

DEFAULT = "en"
# the interface's own words; the keys are those the template and customer.js use
STRINGS = {
    "en": {
        "title": "Ask a question",
        "hint": "Answers come from our FAQ.",
        "placeholder": "Type your question",
        "ask": "Ask",
        "noAnswer": "Sorry, we have no confident answer to that question.",
        "fallback": FALLBACK_TEXT,
        "didYouMean": "Did you mean",
        "error": "Something went wrong; please try again.",
    },
    "zh": {
        "title": "提问",
        "hint": "答案来自我们的常见问题。",
        "placeholder": "请输入您的问题",
        "ask": "提问",
        "noAnswer": "抱歉，我们没有把握回答这个问题。",
        "fallback": "请换一种说法，或联系客服。",
        "didYouMean": "您是不是想问",
        "error": "出错了，请重试。",
    },
}
# what <html lang> says: the Chinese strings are in simplified characters, whichever zh-* was asked for
HTML_LANG = {"en": "en", "zh": "zh-CN"}

_templates = Environment(loader=PackageLoader("samesense.faq", "templates"), autoescape=select_autoescape(["html"]))


def language_of(tag: str | None) -> str | None:
    """The pages' language for a language tag (its primary subtag: zh-TW, ZH_cn -> zh), or None."""
    primary = (tag or "").strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in STRINGS else None


def from_accept_language(header: str | None) -> str | None:
    """The first language of `header` (best q first; ties in the header's order) that the pages
    have; None when it names none (or cannot be read)."""
    for tag, quality in parse_accept_header(header or "", LanguageAccept):  # werkzeug: sorted, bad items dropped
        if quality > 0 and language_of(tag):
            return language_of(tag)
    return None


def choose_language(setting: str, asked: str | None, accept_language: str | None) -> str:
    """`setting`: the server's (auto, en, zh); `asked`: the page address's ?lang; `accept_language`:
    the request's header. The rule in the module's docstring."""
    return (language_of(asked) or (None if setting == "auto" else language_of(setting))
            or from_accept_language(accept_language) or DEFAULT)


def customer_page(language: str, widget: bool) -> str:
    """The customer view's HTML in `language` (compact, to embed, with `widget`)."""
    return _templates.get_template("index.html").render(
        strings=STRINGS[language], html_lang=HTML_LANG[language], widget=widget)
