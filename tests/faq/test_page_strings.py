"""Issue 34: the pages' own words (faq/page_strings.py), one table a page and a language: the English
and Chinese tables agree (keys, placeholders), each Chinese string is translated, and every key the
page's template or script names is in its table, and every key in the table is named by one of them."""

import re
from pathlib import Path

import pytest

import samesense.faq
from samesense.faq.page_strings import LANGUAGES, STRINGS

FAQ = Path(samesense.faq.__file__).parent
SCRIPTS = {"customer": "customer.js", "admin": "admin.js"}  # each page's script (static/), its template templates/<page>.html
PLACEHOLDER = re.compile(r"\{(\w+)\}")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def template_keys(page: str) -> set[str]:
    """The keys templates/<page>.html names, and the templates it extends (page.html)."""
    keys, name = set(), f"{page}.html"
    while name:
        template = (FAQ / "templates" / name).read_text(encoding="utf-8")
        keys.update(re.findall(r"\bstrings\.(\w+)", template))
        extends = re.search(r'{%-?\s*extends\s+"([^"]+)"', template)
        name = extends and extends[1]
    return keys


def script_keys(page: str) -> set[str]:
    """The keys the script passes to t(): every first argument must name its key (or keys, in a
    conditional) as string literals, so that this list is the whole of them."""
    script = re.sub(r"(^|\s)//.*", "", (FAQ / "static" / SCRIPTS[page]).read_text(encoding="utf-8"), flags=re.MULTILINE)
    keys = set()
    for first_argument in re.findall(r"\bt\(([^,)]*)", script):
        literals = re.findall(r'"(\w+)"', first_argument)
        assert literals, f"{SCRIPTS[page]}: t({first_argument}...) names no key as a literal"
        keys.update(literals)
    return keys


def test_there_is_a_table_for_each_page_and_language():
    assert set(STRINGS) == set(SCRIPTS) and set(LANGUAGES) == {"en", "zh"}
    for page, tables in STRINGS.items():
        assert set(tables) == set(LANGUAGES), page


@pytest.mark.parametrize("page", sorted(SCRIPTS))
def test_english_and_chinese_have_the_same_keys_and_placeholders(page):
    english, chinese = STRINGS[page]["en"], STRINGS[page]["zh"]
    assert set(english) == set(chinese)
    for key in english:
        assert set(PLACEHOLDER.findall(english[key])) == set(PLACEHOLDER.findall(chinese[key])), key
        assert CHINESE.search(chinese[key]), f"{page}/{key}: not translated: {chinese[key]!r}"


@pytest.mark.parametrize("page", sorted(SCRIPTS))
def test_every_key_the_page_uses_exists_and_every_key_is_used(page):
    template, script = template_keys(page), script_keys(page)
    assert template and script
    table = set(STRINGS[page]["en"])
    assert template - table == set(), f"templates/{page}.html names keys its table lacks"
    assert script - table == set(), f"{SCRIPTS[page]} names keys its table lacks"
    assert table - template - script == set(), f"{page}'s table holds keys nothing uses"
