"""Answer or abstain (faq/matcher.py): the "did you mean" choices a question below the threshold gets
when the bank's `suggest` setting allows them, and never otherwise."""

import pytest

from samesense.faq.choices import ANSWER_DEFAULTS
from samesense.faq.matcher import SUGGESTIONS, Candidate, decide, suggest_choices, unreadable_answer

THRESHOLD, MARGIN = 0.8, 0.02
# below the threshold: two stored questions of one answer, then four other answers, best first
CANDIDATES = [Candidate(1, "how do i pay", "By card.", 0.72), Candidate(1, "paying", "By card.", 0.71),
              Candidate(2, "can i pay later", "Yes, within 30 days.", 0.66),
              Candidate(3, "do you take cash", "No.", 0.61), Candidate(4, "refunds", "Within a week.", 0.60),
              Candidate(5, "opening hours", "9 to 5.", 0.41)]


def below_threshold(candidates=CANDIDATES):
    answer = decide("how can i pay", list(candidates), THRESHOLD, MARGIN)
    assert not answer.answered and answer.reason.startswith("below threshold") and answer.did_you_mean == []
    return answer


def test_off_by_default_a_question_below_the_threshold_gets_no_choices():
    assert suggest_choices(below_threshold(), ANSWER_DEFAULTS["suggest"]).did_you_mean == []


def test_below_the_threshold_but_above_suggest_up_to_three_choices_one_per_answer_best_first():
    answer = suggest_choices(below_threshold(), 0.6)
    assert [c.question for c in answer.did_you_mean] == ["how do i pay", "can i pay later", "do you take cash"]
    assert len(answer.did_you_mean) == SUGGESTIONS and not answer.answered  # still no answer: choices only
    assert answer.reason.startswith("below threshold")


def test_only_the_candidates_reaching_suggest_are_offered():
    assert [c.entry_id for c in suggest_choices(below_threshold(), 0.65).did_you_mean] == [1, 2]
    assert [c.entry_id for c in suggest_choices(below_threshold(), 0.72).did_you_mean] == [1]


def test_below_suggest_no_choices():
    assert suggest_choices(below_threshold(), 0.73).did_you_mean == []


def test_an_unreadable_question_or_an_empty_bank_gets_no_choices():
    unreadable = unreadable_answer("????", "the model cannot read this question (100% unknown tokens)", THRESHOLD)
    assert suggest_choices(unreadable, -1.0).did_you_mean == []
    assert suggest_choices(decide("anything", [], THRESHOLD, MARGIN), -1.0).did_you_mean == []


@pytest.mark.parametrize("scores", [(0.9, 0.5), (0.9, 0.895)], ids=["answered", "too-close-to-call"])
def test_an_answer_or_a_too_close_call_is_left_as_it_is(scores):
    candidates = [Candidate(1, "a", "A.", scores[0]), Candidate(2, "b", "B.", scores[1])]
    made = decide("q", candidates, THRESHOLD, MARGIN)
    before = (made.answered, [c.entry_id for c in made.did_you_mean])
    after = suggest_choices(made, -1.0)
    assert (after.answered, [c.entry_id for c in after.did_you_mean]) == before


def test_the_bank_offers_them_once_suggest_is_set(bank):
    question = "how can i reset the pin"
    best = bank.search([question])[0][0]
    bank.set_settings(threshold=min(1.0, best.score + 0.01))
    assert bank.ask(question).did_you_mean == []  # off: today's behaviour
    bank.set_settings(suggest=best.score - 0.01)
    answer = bank.ask(question)
    assert not answer.answered and [c.entry_id for c in answer.did_you_mean] == [best.entry_id]
    assert bank.info()["suggest"] == pytest.approx(best.score - 0.01)
