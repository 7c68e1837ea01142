"""The pages' interface language, chosen by the server for each request, and the pages rendered in it.

    choose_language(setting, asked, accept_language)   # "en" or "zh"
    render_page(page, language, widget)                # "customer" (/, /widget) or "admin" (/admin), in it

One rule for every page (the customer view, the widget, the support team's /admin): the page
address's ?lang=en|zh, else the server's setting (`serve --page-language en|zh`), else the first
language the request's Accept-Language header names that the pages have (best q-value first, a q
of 0 refused; zh, zh-CN, zh-TW, any zh-*: Chinese, en-*: English), else English. The server
decides, so the HTML arrives in its language (`<html lang>`, the headings, labels, buttons and
placeholders, and the strings the script shows later, in a JSON block): nothing is shown in
English first. A header that cannot be read (no language, a q that is not a number) counts as
no header: English, never an error.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from .page_strings import LANGUAGES, STRINGS

DEFAULT = "en"
# what <html lang> says: the Chinese strings are in simplified characters, whichever zh-* was asked for
HTML_LANG = {"en": "en", "zh": "zh-CN"}

# StrictUndefined: a key the template names and the table lacks is an error in the tests, never a blank
_templates = Environment(loader=PackageLoader("samesense.faq", "templates"), autoescape=select_autoescape(["html"]),
                         undefined=StrictUndefined)


def language_of(tag: str | None) -> str | None:
    """The pages' language for a language tag (its primary subtag: zh-TW, ZH_cn -> zh), or None."""
    primary = (tag or "").strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in LANGUAGES else None


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


def render_page(page: str, language: str, widget: bool = False) -> str:
    """The HTML of `page` ("customer": / and, compact with `widget`, /widget; "admin": /admin) in
    `language`: templates/<page>.html with its table of strings (page_strings.py), which also goes
    in whole as the JSON block #interface-strings that the page's script reads through i18n.js."""
    return _templates.get_template(f"{page}.html").render(
        strings=STRINGS[page][language], html_lang=HTML_LANG[language], widget=widget)
