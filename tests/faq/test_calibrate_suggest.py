"""calibrate --suggest choose: the "did you mean" level below the threshold, chosen from the labelled
questions as the threshold is (the right entry among the choices at the target precision), stored, and
chosen again when the bank moves to another model."""

import numpy as np
import pytest

from conftest import CALIBRATION_ROWS
from fakes import WordModel

from samesense.cli import main
from samesense.errors import SamesenseError
from samesense.faq import FaqBank, FaqRow
from samesense.faq.calibrate import calibrate, choose_suggest, recalibrate
from samesense.faq.matcher import Candidate, decide, suggest_choices
from samesense.faq.outcomes import Asked


def candidates(*scored):
    """Candidates best first from (entry id, score): each entry its own answer."""
    return [Candidate(entry, f"question {entry}", f"answer {entry}", score) for entry, score in scored]


# entry id -> label; below the threshold 0.9: a right first (0.85), a right second (0.8), an out-of-scope
# question (0.7), one whose entry is not among its three choices (0.6); and one above the threshold
ASKED = Asked(results=[candidates((1, 0.85), (2, 0.5)), candidates((2, 0.8), (1, 0.78)), candidates((3, 0.7), (1, 0.2)),
                       candidates((1, 0.6), (2, 0.59), (3, 0.58), (4, 0.57)), candidates((1, 0.95))],
              readable=np.array([True, True, True, True, True]), labels=["a", "a", None, "d", "a"],
              label_of={1: "a", 2: "b", 3: "c", 4: "d"})


def test_the_lowest_level_whose_choices_hold_the_right_entry_at_the_target_is_chosen():
    assert choose_suggest(ASKED, 0.9, 1.0) == (0.75, 2, 2)  # half-way to the out-of-scope question's 0.7
    assert choose_suggest(ASKED, 0.9, 0.6) == (0.65, 2, 3)  # the out-of-scope one given choices: 2 of 3
    assert choose_suggest(ASKED, 0.9, 0.5) == (0.599, 2, 4)  # the lowest best: just under it
    assert choose_suggest(ASKED, 0.84, 1.0) == (0.75, 1, 1)  # the 0.85 is answered now: not counted


def test_the_level_gives_in_the_matcher_exactly_the_choices_it_was_chosen_on():
    level, right, given = choose_suggest(ASKED, 0.9, 1.0)
    shown = [suggest_choices(decide("q", list(c), 0.9, 0.02), level).did_you_mean for c in ASKED.results]
    assert [len(s) > 0 for s in shown] == [True, True, False, False, False]
    assert sum(any(ASKED.label_of[c.entry_id] == label for c in s) for s, label in zip(shown, ASKED.labels)) == right


def test_off_where_no_level_reaches_the_target_or_nothing_is_below_the_threshold():
    wrong_first = Asked([candidates((3, 0.8), (4, 0.7))], np.array([True]), ["a"], ASKED.label_of)
    assert choose_suggest(wrong_first, 0.9, 0.9) == (1.0, 0, 0)
    assert choose_suggest(ASKED, 0.5, 0.9) == (1.0, 0, 0)
    unreadable = Asked(ASKED.results[:1], np.array([False]), ["a"], ASKED.label_of)  # no choices to count
    assert choose_suggest(unreadable, 0.9, 0.9) == (1.0, 0, 0)


@pytest.fixture
def calibration_bank(tmp_path, model):
    with FaqBank.open(tmp_path / "b.faq", model) as bank:
        bank.import_rows([FaqRow(*row) for row in CALIBRATION_ROWS])
        yield bank


def labelled(tmp_path):
    """Labelled questions for CALIBRATION_ROWS over the word model: "hours close account now" finds the close
    entry first (0.577, wrong: the threshold goes above it) and its own second (0.289); "pin of my account
    card" ties its own entry with another (0.516)."""
    groups, oos = tmp_path / "groups.tsv", tmp_path / "oos.txt"
    groups.write_text("pin\treset my pin please\nhours\topening hours\nclose\tclose account now\n"
                      "pin\tpin of my account card\nhours\thours close account now\n")
    oos.write_text("what is the weather\n")
    return groups, oos


def test_calibrate_stores_the_level_it_chose_and_leaves_a_hand_set_one_when_not_asked(calibration_bank, tmp_path):
    groups, oos = labelled(tmp_path)
    calibration_bank.set_settings(suggest=0.3)
    result = calibrate(calibration_bank, 1.0, groups=str(groups), oos=str(oos))
    assert result.suggest is None and calibration_bank.settings["suggest"] == 0.3  # not asked: left alone
    result = calibrate(calibration_bank, 1.0, groups=str(groups), oos=str(oos), suggest="choose")
    # both questions below the threshold get their entry among the choices from half-way between the
    # tie's 0.516 and the weather's 0: every entry at 0 would be offered to the weather
    assert (result.suggest, result.suggest_right, result.suggest_given) == (pytest.approx(0.2582, abs=1e-4), 2, 2)
    assert calibration_bank.settings["suggest"] == result.suggest == calibration_bank.settings["calibration"]["suggest"]
    asked = calibration_bank.ask("hours close account now")
    assert not asked.answered and [c.entry_id for c in asked.did_you_mean] == [3, 2]  # close first, hours second
    assert calibration_bank.ask("what is the weather").did_you_mean == []
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("reset my pin\treset my pin please\t1\n")
    with pytest.raises(SamesenseError, match="a suggest level to choose"):
        calibrate(calibration_bank, 1.0, pairs=str(pairs), suggest="choose")
    with pytest.raises(SamesenseError, match="faq set --suggest"):
        calibrate(calibration_bank, 1.0, groups=str(groups), suggest=0.5)


def test_a_bank_moved_to_another_model_chooses_the_level_again(calibration_bank, tmp_path):
    groups, oos = labelled(tmp_path)
    calibrate(calibration_bank, 1.0, groups=str(groups), oos=str(oos), suggest="choose")
    previous = calibration_bank.settings["calibration"]
    path = calibration_bank.path
    calibration_bank.close()
    with FaqBank.open(path, WordModel(fingerprint="fake-model-2")) as moved:
        assert moved.settings["suggest"] == 1.0  # another model's scale: reset with the threshold
        result = recalibrate(moved, previous)
        assert moved.settings["suggest"] == result.suggest == previous["suggest"]  # the same words: the same level
        assert moved.settings["calibration"]["model_fingerprint"] == "fake-model-2"
    calibrate_by_hand = {**previous, "suggest": None}  # a calibration that did not choose it: left off
    with FaqBank.open(path, WordModel(fingerprint="fake-model-3")) as moved:
        assert recalibrate(moved, calibrate_by_hand).suggest is None and moved.settings["suggest"] == 1.0


def test_the_cli_takes_choose_alone(calibration_bank, tmp_path, capsys):
    groups, _ = labelled(tmp_path)
    with pytest.raises(SystemExit) as refused:
        main(["calibrate", str(calibration_bank.path), "--groups", str(groups), "--suggest", "0.5"])
    assert refused.value.code == 2 and "argument --suggest: invalid choice: '0.5'" in capsys.readouterr().err
