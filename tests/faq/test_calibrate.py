import numpy as np
import pytest

from conftest import CALIBRATION_ROWS, labelled_questions

from samesense.errors import SamesenseError
from samesense.faq import FaqBank, FaqRow
from samesense.faq.calibrate import CoverageTooLow, TargetUnreachable, calibrate, choose, curve
from samesense.faq.outcomes import Outcomes, group_outcomes


def outcomes(scores, correct, in_scope=None, decidable=None):
    n = len(scores)
    return Outcomes(np.array(scores, float), np.array(correct, bool),
                    np.ones(n, bool) if decidable is None else np.array(decidable, bool),
                    np.ones(n, bool) if in_scope is None else np.array(in_scope, bool))


def test_curve_counts_precision_and_coverage_at_each_score():
    o = outcomes([0.9, 0.8, 0.7, 0.6], [True, True, False, True], in_scope=[True, True, False, True])
    c = curve(o)
    assert list(c.thresholds) == [0.9, 0.8, 0.7, 0.6]
    assert list(c.precision) == pytest.approx([1.0, 1.0, 2 / 3, 3 / 4])
    assert list(c.coverage) == pytest.approx([1 / 3, 2 / 3, 2 / 3, 1.0])
    assert list(c.out_of_scope_recall) == pytest.approx([1.0, 1.0, 0.0, 0.0])


def test_choose_takes_the_lowest_threshold_meeting_the_target():
    o = outcomes([0.9, 0.8, 0.7, 0.6, 0.5], [True, True, False, True, False])
    threshold, i, c = choose(o, 0.75)
    assert c.thresholds[i] == 0.6 and threshold == pytest.approx(0.55)  # half-way to the next score
    threshold, _, _ = choose(o, 1.0)
    assert threshold == pytest.approx(0.75)
    with pytest.raises(SamesenseError, match="no threshold reaches precision") as unreachable:
        choose(outcomes([0.9, 0.8], [False, False]), 0.5)
    assert (unreachable.value.best_precision, unreachable.value.best_threshold) == (0.0, pytest.approx(0.9))


def test_too_close_questions_count_as_unanswered():
    o = outcomes([0.9, 0.8], [False, True], decidable=[False, True])
    threshold, i, c = choose(o, 1.0)
    assert c.precision[i] == 1.0 and threshold < 0.8


def test_calibrate_from_groups_and_from_pairs(tmp_path, model):
    with FaqBank.open(tmp_path / "b.faq", model) as bank:
        bank.import_rows([FaqRow(*row) for row in CALIBRATION_ROWS])
        groups, oos = labelled_questions(tmp_path)
        result = calibrate(bank, 1.0, groups=str(groups), oos=str(oos), plot=tmp_path / "c.png")
        assert result.precision == 1.0 and result.kind == "groups"
        assert (result.n_in_scope, result.n_out_of_scope) == (4, 2)
        assert bank.settings["threshold"] == result.threshold
        assert bank.settings["calibration"]["coverage"] == result.coverage
        assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
        for question in ["reset my pin please", "opening hours"]:  # answered at the chosen threshold
            assert bank.ask(question).answered == (bank.ask(question).score is not None)

        pairs = tmp_path / "pairs.tsv"
        pairs.write_text("reset my pin\treset my pin please\t1\nreset my pin\topening hours\t0\n"
                         "close my account\tclose account now\t1\nweather\tclose my account\t0\n")
        result = calibrate(bank, 1.0, pairs=str(pairs), save=False)
        assert result.kind == "pairs" and result.precision == 1.0 and result.coverage == 1.0

        with pytest.raises(SamesenseError, match="none of its groups"):
            other = tmp_path / "other.tsv"
            other.write_text("zzz\tsomething\n")
            calibrate(bank, 0.9, groups=str(other))


def test_precision_where_nothing_is_answered_is_undefined_not_one():
    """The bug: the best-scoring question too close to call made precision 1.0 at a threshold
    answering nothing, and that threshold (coverage 0) was stored."""
    o = outcomes([0.9, 0.8], [True, False], decidable=[False, True])
    assert np.isnan(curve(o).precision[0])
    with pytest.raises(TargetUnreachable, match="no threshold reaches precision 0.900"):
        choose(o, 0.9)
    with pytest.raises(SamesenseError, match="no calibration question is answered at any threshold"):
        choose(outcomes([0.9, 0.8], [True, True], decidable=[False, False]), 0.5)


def few_right_and_many_wrong(tmp_path, bank):
    """A groups file where only the exact stored question is answered right (score 1); twenty more,
    labelled with another group, match the pin entry at 0.866: precision 1 only above them,
    answering 1 of 21 in-scope questions (4.8%)."""
    bank.import_rows([FaqRow("reset my pin", "A", "pin"), FaqRow("opening hours today", "B", "hours")])
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo",
             "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango"]
    groups = tmp_path / "groups.tsv"
    groups.write_text("pin\treset my pin\n" + "".join(f"hours\treset my pin {w}\n" for w in words))
    return str(groups)


def test_a_threshold_answering_too_few_questions_is_refused_and_nothing_is_stored(tmp_path, model):
    with FaqBank.open(tmp_path / "b.faq", model) as bank:
        groups = few_right_and_many_wrong(tmp_path, bank)
        before = dict(bank.store.settings())
        with pytest.raises(CoverageTooLow, match=r"reaches precision 1.000 but answers 4.8% of the in-scope "
                                                 r"questions \(--min-coverage 0.05\)"):
            calibrate(bank, 0.9, groups=groups, plot=tmp_path / "c.png")
        assert bank.store.settings() == before and not (tmp_path / "c.png").exists()
        result = calibrate(bank, 0.9, groups=groups, min_coverage=0.04)  # the user's floor: taken
        assert result.coverage == pytest.approx(1 / 21) and bank.settings["threshold"] == result.threshold


def test_calibration_counts_questions_the_model_cannot_read_as_unanswered(tmp_path, model):
    with FaqBank.open(tmp_path / "b.faq", model) as bank:
        bank.import_rows([FaqRow("reset my pin", "A", "pin")])
        groups = tmp_path / "groups.tsv"
        groups.write_text("pin\treset my pin\npin\tсбросить пин\n")
        o = group_outcomes(bank, str(groups), None, margin=0.02)
        assert list(o.decidable) == [True, False] and list(o.in_scope) == [True, True]


def test_calibrate_chooses_the_margin_with_the_threshold(tmp_path, model):
    """Issue 34: calibrate chose the threshold alone; with scores that bunch (two entries nearly as close
    to each question), the default margin made every answer "too close to call"."""
    words = " ".join(f"w{i}" for i in range(20))
    rows = [FaqRow(f"{words} alpha", "A", "a"), FaqRow(f"{words} beta", "B", "b")]
    groups = tmp_path / "groups.tsv"
    groups.write_text(f"a\t{words} alpha one\nb\t{words} beta two\na\t{words} alpha three\n")
    oos = tmp_path / "oos.txt"
    oos.write_text("nothing like it\n")
    with FaqBank.open(tmp_path / "b.faq", model) as bank:
        bank.import_rows(rows)
        bank.set_settings(margin=0.05)
        with pytest.raises(SamesenseError):  # the bank's margin: every question too close to call
            calibrate(bank, 0.9, groups=str(groups), oos=str(oos), save=False)
        result = calibrate(bank, 0.9, groups=str(groups), oos=str(oos), margin="choose")
        assert result.margin < 0.05 and result.in_scope_accuracy == 1.0
        assert result.margins_tried["0.05"] is None and result.margins_tried[f"{result.margin:g}"] == 1.0
        assert (bank.policy.margin, bank.policy.threshold) == (result.margin, result.threshold)
        assert bank.ask(f"{words} beta two").answer == "B"
        with pytest.raises(SamesenseError, match="a margin to choose"):
            calibrate(bank, 0.9, pairs=str(groups), margin="choose")
