"""The newcomer FAQ of benchmarks/faq_newcomer.py: the sizes the benchmark promises, and no question
asked at test time that is also stored (or asked twice)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
faq_newcomer = pytest.importorskip("faq_newcomer")


@pytest.mark.parametrize("lang", list(faq_newcomer.LANGUAGES))
def test_newcomer_faq_data(lang):
    entries, oos = faq_newcomer.LANGUAGES[lang]
    assert len(entries) >= 30 and len(oos) >= 20
    for question, answer, stored, held_out in entries:
        assert question.strip() and answer.strip()
        assert len(stored) == 2 and len(held_out) == 2
    every = [q for question, _, stored, held_out in entries for q in [question, *stored, *held_out]] + oos
    assert len(set(every)) == len(every)  # nothing stored is asked, nothing asked twice
    data = faq_newcomer.split(entries, oos)
    assert not set(data["oos_dev"]) & set(data["oos_test"])
    assert {s for _, s in data["dev"]}.isdisjoint(s for _, s in data["test"])
