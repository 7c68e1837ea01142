"""The answer settings as one typed value (faq/policy.py): checked where it is made, naming the
setting; a bank holding a value out of bounds still opens, and `faq set` puts it right."""

import pytest

from samesense.cli import main
from samesense.errors import SamesenseError
from samesense.faq.choices import ANSWER_DEFAULTS
from samesense.faq.policy import AnswerPolicy


def test_the_policy_of_stored_settings_is_floats_with_defaults_for_what_is_not_stored():
    policy = AnswerPolicy.from_settings({"threshold": 1, "margin": 0.05, "index": "auto", "calibration": None})
    assert policy == AnswerPolicy(threshold=1.0, margin=0.05) and isinstance(policy.threshold, float)
    assert policy.as_settings() == {**ANSWER_DEFAULTS, "threshold": 1.0, "margin": 0.05}
    assert list(policy.as_settings()) == list(ANSWER_DEFAULTS)


@pytest.mark.parametrize("key, value", [("threshold", "0.7"), ("margin", None), ("hybrid", True),
                                        ("max_unknown", float("nan")), ("threshold", -1.5)])
def test_a_stored_value_out_of_bounds_is_named(key, value):
    with pytest.raises(SamesenseError, match=f"^b.faq: stored {key} must be a number from"):
        AnswerPolicy.from_settings({key: value}, "b.faq")


def test_a_bank_holding_a_bad_value_opens_refuses_to_answer_and_faq_set_puts_it_right(bank, tmp_path, capsys):
    bank.store.put_settings(threshold="high")  # written by another program
    bank.refresh()
    with pytest.raises(SamesenseError, match="stored threshold must be a number from -1 to 1, got 'high'"):
        bank.ask("how do i reset my pin")
    assert main(["faq", "set", str(tmp_path / "bank.faq"), "--reset"]) == 0
    assert "threshold 0.6, margin 0.02, max_unknown 0.5, hybrid 0, answers 0, suggest 1" in capsys.readouterr().out
    bank.refresh()
    assert bank.policy == AnswerPolicy() and bank.ask("how do i reset my pin").answered
