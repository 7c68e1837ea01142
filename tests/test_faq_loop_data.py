"""The FAQs of benchmarks/faq_loop.py: every log question names an entry of its FAQ (or none, out of
scope), and no question is both stored and asked, or asked in two roles (log, dev, test)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
faq_loop = pytest.importorskip("faq_loop")


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", list(faq_loop.FAQS))
def test_faq_loop_data(name, lang):
    faq = faq_loop.FAQS[name](lang)
    groups = {group for group, *_ in faq["entries"]}
    stored = [q for _, question, _, paraphrases in faq["entries"] for q in [question, *paraphrases]]
    log = [(g, q) for round_ in sorted(faq["log"]) for g, q in faq["log"][round_]]
    assert sorted(faq["log"]) == [1, 2] and all(g is None or g in groups for g, _ in log)
    assert all(len([1 for g, _ in faq["log"][r] if g is not None]) == len(groups) for r in faq["log"])  # one an entry
    asked = ([q for _, q in log] + [q for _, q in faq["dev"]] + faq["oos_dev"] + [q for _, q in faq["test"]]
             + faq["oos_test"])
    every = stored + asked
    assert len(set(every)) == len(every)  # nothing stored is asked, nothing asked twice
    assert {g for g, _ in faq["test"]} == groups and faq["oos_test"]
