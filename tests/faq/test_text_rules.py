"""One set of text rules for every way into a bank: Python (add, update, import_rows), an imported
file, the command line and HTTP refuse the same texts, each in its own way (a SamesenseError, a
file:line, a one-line CLI error, a 422)."""

import json
import re

import pytest
from fastapi.testclient import TestClient

from conftest import TOKEN

from samesense.cli import main
from samesense.errors import DataError, SamesenseError
from samesense.faq import FaqRow
from samesense.faq.importer import read_rows
from samesense.faq.serve import create_app
from samesense.faq.text import clean, clean_list

GOOD = {"question": "do you ship abroad", "answer": "Yes.", "paraphrases": [], "tags": [], "group": None}
BAD = {  # field: value, and what the refusal says
    "question too long": ({"question": "x" * 1001}, "question: longer than 1000 characters (1001)"),
    "answer too long": ({"answer": "y" * 20_001}, "answer: longer than 20000 characters (20001)"),
    "NUL in an answer": ({"answer": "a\x00b"}, "answer: control character U+0000 at character 2"),
    "escape in a question": ({"question": "a\x1b[31mb"}, "question: control character U+001B"),
    "C1 control in a paraphrase": ({"paraphrases": ["p\x85q"]}, "paraphrase: control character U+0085"),
    "lone surrogate in a group": ({"group": "g\ud800"}, "group: not valid UTF-8"),
    "lone surrogate in an answer": ({"answer": "\udcff"}, "answer: not valid UTF-8"),
    "tag too long": ({"tags": ["t" * 101]}, "tag: longer than 100 characters"),
    "group too long": ({"group": "g" * 201}, "group: longer than 200 characters"),
    "too many paraphrases": ({"paraphrases": [f"p{i}" for i in range(1001)]}, "paraphrases: more than 1000 (1001)"),
    "too many tags": ({"tags": [f"t{i}" for i in range(51)]}, "tags: more than 50 (51)"),
}


def test_what_a_bank_stores_of_a_text():
    assert clean("  how\tdo i\n reset  my pin ", "question") == "how do i reset my pin"
    assert clean(" Step 1:\tcall us.\r\nStep 2: wait.\n", "answer") == "Step 1:\tcall us.\r\nStep 2: wait."
    assert clean("caf\u00e9 \U0001f600", "tag") == "caf\u00e9 \U0001f600"
    assert clean_list(("a ", " b"), "paraphrases") == ["a", "b"]
    with pytest.raises(SamesenseError, match="paraphrases: expected a list of texts, got str"):
        clean_list("abc", "paraphrases")


@pytest.mark.parametrize("case", BAD)
def test_the_bank_refuses_what_breaks_a_rule(bank, case):
    change, message = BAD[case]
    before = bank.count()
    with pytest.raises(SamesenseError, match=re.escape(message)):
        bank.add(**{**GOOD, **change})
    with pytest.raises(SamesenseError, match=re.escape("row of line 7: " + message)):
        bank.import_rows([FaqRow("a good row", "fine", line=6), FaqRow(**{**GOOD, **change}, line=7)])
    if "group" not in change:  # an entry's group cannot be changed
        with pytest.raises(SamesenseError, match=re.escape(message)):
            bank.update(1, **change)
    assert bank.count() == before


@pytest.mark.parametrize("case", BAD)
def test_an_imported_row_that_breaks_a_rule_is_a_bad_row(tmp_path, case):
    change, message = BAD[case]
    path = tmp_path / "faq.jsonl"
    row = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    path.write_text(json.dumps({"question": "a good row", "answer": "fine"}) + "\n" + json.dumps(row) + "\n")
    with pytest.raises(DataError) as err:
        read_rows(path)
    assert str(err.value).startswith(f"{path}:2: {message}")
    rows, skipped = read_rows(path, on_error="skip")
    assert [r.question for r in rows] == ["a good row"] and len(skipped) == 1


@pytest.mark.parametrize("case", BAD)
def test_http_refuses_what_breaks_a_rule_with_a_422(bank, case):
    change, _ = BAD[case]
    body = json.dumps({k: v for k, v in {**GOOD, **change}.items() if v is not None})  # lone surrogates: \ud800
    with TestClient(create_app(bank, TOKEN)) as client:
        r = client.post("/faq", content=body, headers={"Authorization": f"Bearer {TOKEN}",
                                                      "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] and "\n" not in r.json()["detail"]


def test_faq_add_refuses_a_control_character(tmp_path, capsys):
    bank = str(tmp_path / "b.faq")
    assert main(["faq", "add", bank, "--question", "q", "--answer", "a\x01b"]) == 2
    assert "answer: control character U+0001 at character 2" in capsys.readouterr().err


def test_questions_asked_and_searched_for_obey_the_rules_too(bank):
    with pytest.raises(SamesenseError, match="question: longer than 1000 characters"):
        bank.ask("x" * 1001)
    with pytest.raises(SamesenseError, match=re.escape("question: control character U+0000")):
        bank.ask("pin\x00")
    with pytest.raises(SamesenseError, match="contains: not valid UTF-8"):
        bank.list_entries(contains="\ud800")
