"""`samesense faq evaluate`: a labelled test set scored at the bank's stored settings, as `ask` answers."""

import pytest

from samesense.errors import SamesenseError
from samesense.faq import FaqBank
from samesense.faq.calibrate import calibrate
from samesense.faq.evaluate_bank import evaluate_bank


@pytest.fixture
def grouped_bank(tmp_path, model):
    bank = FaqBank.open(tmp_path / "grouped.faq", model)
    bank.add("how do i reset my pin", "Settings > Security.", paraphrases=["forgot pin code"], group="pin")
    bank.add("what are your opening hours", "9 to 5.", group="hours")
    bank.add("how do i close my account", "Write to us.")  # no group: labelled by its id
    yield bank
    bank.close()


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_each_question_is_right_wrong_or_unanswered_at_the_stored_threshold(grouped_bank, tmp_path):
    closing = grouped_bank.list_entries()[2].id
    questions = write(tmp_path / "test.tsv", "pin\treset my pin\n"  # right
                      "hours\tforgot pin code please\n"  # answered with the pin entry: wrong
                      f"{closing}\tclose my account\n"  # right, by the entry's id
                      "hours\tzebra\n")  # nothing near: no answer
    oos = write(tmp_path / "oos.txt", "pin code zebra\nquantum chromodynamics\n")
    grouped_bank.set_settings(threshold=0.5, margin=0.0)
    evaluation = evaluate_bank(grouped_bank, questions, oos)
    answers = [grouped_bank.ask(q) for q in ("reset my pin", "forgot pin code please", "close my account", "zebra",
                                              "pin code zebra", "quantum chromodynamics")]
    assert [a.answered for a in answers] == [True, True, True, False, answers[4].answered, False]
    assert evaluation.counts == {"right": 2, "wrong": 1, "none": 1, "oos_answered": int(answers[4].answered),
                                 "oos_refused": 2 - int(answers[4].answered)}
    answered = 3 + int(answers[4].answered)
    assert evaluation.precision == pytest.approx(2 / answered) and evaluation.coverage == pytest.approx(3 / 4)
    assert evaluation.right_share == pytest.approx(2 / 4)
    assert {e["label"]: (e["right"], e["wrong"], e["none"]) for e in evaluation.per_entry} == {
        "pin": (1, 0, 0), "hours": (0, 1, 1), str(closing): (1, 0, 0)}
    assert evaluation.settings["threshold"] == 0.5 and "hours: 0 / 1 / 1" in evaluation.to_text()


def test_it_scores_what_calibration_measured_at_the_threshold_calibration_chose(grouped_bank, tmp_path):
    questions = write(tmp_path / "test.tsv", "pin\treset my pin\npin\tmy pin code\nhours\topening hours today\n"
                      "hours\twhen are the hours\n")
    oos = write(tmp_path / "oos.txt", "the weather today\nmy account pin is great\n")
    result = calibrate(grouped_bank, 0.5, groups=questions, oos=oos, min_coverage=0.0)
    evaluation = evaluate_bank(grouped_bank, questions, oos)
    assert evaluation.settings["threshold"] == pytest.approx(result.threshold)
    assert evaluation.right_share == pytest.approx(result.in_scope_accuracy)
    assert evaluation.coverage == pytest.approx(result.coverage)


def test_labels_no_entry_has_are_named(grouped_bank, tmp_path):
    questions = write(tmp_path / "test.tsv", "pin\treset my pin\nparcels\twhere is my parcel\n")
    evaluation = evaluate_bank(grouped_bank, questions)
    assert evaluation.unknown_labels == ["parcels"] and "labels no entry has" in evaluation.to_text()


def test_a_bad_test_file_is_one_line_naming_it(grouped_bank, tmp_path):
    bad = write(tmp_path / "bad.tsv", "pin\treset my pin\njust a question without a label\n")
    with pytest.raises(SamesenseError, match=r"bad.tsv:2: no tab"):
        evaluate_bank(grouped_bank, bad)
    unrelated = write(tmp_path / "unrelated.tsv", "other\treset my pin\n")
    with pytest.raises(SamesenseError, match="none of its groups"):
        evaluate_bank(grouped_bank, unrelated)


def test_ranked_first_is_what_the_loosest_settings_answer_right(grouped_bank, tmp_path):
    """Fewer right than ranked first: the settings hold answers back; the model ranked the others wrong."""
    questions = write(tmp_path / "test.tsv", "pin\treset my pin\nhours\tforgot pin code please\nhours\thours\n")
    grouped_bank.set_settings(threshold=0.999, margin=0.0)
    strict = evaluate_bank(grouped_bank, questions)
    assert strict.counts["right"] == 0 and strict.ranked_first == 2  # the pin question and "hours"
    assert "ranked first for 2" in strict.to_text()
    grouped_bank.set_settings(threshold=0.0, margin=0.0)
    assert evaluate_bank(grouped_bank, questions).counts["right"] == strict.ranked_first


def test_the_did_you_mean_choices_of_the_unanswered_are_counted_as_ask_shows_them(grouped_bank, tmp_path):
    questions = write(tmp_path / "test.tsv", "pin\treset my pin\n"  # 0.707: answered, no choices
                      "pin\tpin hours\n"  # 0.408 pin, 0.316 hours: both shown, its own among them
                      "hours\tforgot pin hours\n"  # 0.667 pin, 0.258 hours: pin alone shown
                      "hours\topening hours pin\n")  # 0.516 hours, 0.333 pin: both shown
    oos = write(tmp_path / "oos.txt", "pin code weather\nquantum chromodynamics\n")  # 0.667 pin; 0 everywhere
    grouped_bank.set_settings(threshold=0.7, margin=0.0, suggest=0.3)
    evaluation = evaluate_bank(grouped_bank, questions, oos)
    assert evaluation.choices == {"given": 3, "right": 2, "oos_given": 1}
    entry_of = {e.id: e.group for e in grouped_bank.list_entries()}
    shown = {q: [entry_of[c.entry_id] for c in grouped_bank.ask(q).did_you_mean]  # as ask shows them
             for q in ("reset my pin", "pin hours", "forgot pin hours", "opening hours pin", "pin code weather")}
    assert shown == {"reset my pin": [], "pin hours": ["pin", "hours"], "forgot pin hours": ["pin"],
                     "opening hours pin": ["hours", "pin"], "pin code weather": ["pin"]}
    assert "3 in scope shown choices, the right entry among them for 2; 1 out of scope" in evaluation.to_text()
    grouped_bank.set_settings(suggest=1.0)  # off, and no margin: nothing too close to call either
    assert evaluate_bank(grouped_bank, questions, oos).choices == {"given": 0, "right": 0, "oos_given": 0}
