"""`samesense faq learn` and `faq rollback` on banks of a tiny transformer the tests build (16-d, letters
as tokens): the switch when the new model answers more held-back paraphrases, the refusal when it does
not, the way back, and a learn killed mid-way (a real kill, and one inside the switch's transaction)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_encoders import write_pretrained_folder

from samesense.cli import main
from samesense.errors import SamesenseError
from samesense.faq import FaqBank, store_writes
from samesense.faq.learn import LearnOptions, learn
from samesense.faq.learn_models import (
    LEARN_HISTORY,
    learning_lock,
    models_dir,
    rollback,
)

KEYS = ["zebra", "quartz", "jumpy", "vixen", "wombat", "kiwi"]
FILLER = ["how do i", "please tell me how to", "what is the way to", "i want to know how to", "can you say how to",
          "help me"]
# what a tiny random transformer needs to learn six groups in seconds
FAST = {"epochs": 30, "lr": 1e-2, "freeze_layers": 0, "holdout": 0.5, "batch_size": 16, "threads": 1,
        "show_progress": False}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A samesense model of a tiny random BERT before any fine-tuning (what `faq learn` fine-tunes again)."""
    from samesense.encoders.untrained import pretrained_model

    root = tmp_path_factory.mktemp("tiny")
    folder = write_pretrained_folder(root / "bert")
    pretrained_model(folder, max_len=32).save(root / "model")
    return str(root / "model")


def make_bank(path: Path, model: str, sentences_of) -> Path:
    with FaqBank.open(path, model) as bank:
        for i, key in enumerate(KEYS):
            questions = sentences_of(i, key)
            bank.add(questions[0], f"answer {key}", paraphrases=questions[1:], group=key)
    return path


def filler_bank(path, model):
    """Each entry's questions share one key word among filler words every entry uses: the untrained
    model hears the filler; fine-tuned, it hears the key."""
    return make_bank(path, model, lambda i, key: [f"{FILLER[(i + j) % 6]} {key}" for j in range(5)])


def plain_bank(path, model):
    """Each entry's questions are its key word, repeated or varied: the untrained model already
    answers every held-back paraphrase, so no new model can answer more."""
    return make_bank(path, model, lambda i, key: [key, f"{key} {key}", f"{key}?", f"{key} {key} {key}", f"{key}!"])


PROBES = ["please tell me how to zebra", "help me quartz", "what is the way to kiwi", "vixen", "jumpy jumpy"]  # asked before and after


def answers(path):
    with FaqBank.open(path, create=False, read_only=True) as bank:
        return [(a.answered, a.entry_id, [(c.entry_id, round(c.score, 4)) for c in a.candidates])
                for a in map(bank.ask, PROBES)]


def settings(path):
    with FaqBank.open_without_model(path) as bank:
        return dict(bank.store.settings())


def test_learn_switches_when_the_new_model_answers_more_and_rollback_restores_the_old(tiny_model, tmp_path, capsys):
    bank = filler_bank(tmp_path / "bank.faq", tiny_model)
    before, before_settings = answers(bank), settings(bank)
    report = learn(bank, LearnOptions(**FAST))
    assert report.switched and report.held_back == 12
    assert report.new["counts"]["right"] > report.current["counts"]["right"]
    after = settings(bank)
    assert after["model_path"] == str(models_dir(bank) / "1") == report.model
    assert after["model_fingerprint"] != before_settings["model_fingerprint"]
    assert after["threshold"] == report.threshold and after["learn_last"]["switched"]
    assert after[LEARN_HISTORY][-1]["spec"] == tiny_model
    assert answers(bank) != before
    assert not [p for p in models_dir(bank).iterdir() if p.name.startswith(".work-")]  # the work is cleared

    assert main(["faq", "rollback", str(bank), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["spec"] == tiny_model
    restored = settings(bank)
    assert restored["model_path"] == tiny_model and restored[LEARN_HISTORY] == []
    for key in ("model_fingerprint", "dim", "threshold", "margin", "hybrid", "calibration"):
        assert restored[key] == before_settings[key], key
    assert answers(bank) == before
    assert not (models_dir(bank) / "1").exists()  # neither used nor to roll back to: deleted
    assert main(["faq", "rollback", str(bank)]) == 2
    assert "nothing to roll back to" in capsys.readouterr().err


def test_a_bank_model_fine_tuned_elsewhere_is_what_every_learn_goes_on_from(tiny_model, tmp_path, capsys):
    """Not the pretrained transformer it came from (which would drop its own training), nor the last learned model."""
    import shutil

    given = str(shutil.copytree(tiny_model, tmp_path / "given"))
    bank = filler_bank(tmp_path / "bank.faq", given)
    first = learn(bank, LearnOptions(**FAST))
    assert first.switched and first.base["pretrained"] == given
    second = learn(bank, LearnOptions(**{**FAST, "epochs": 1}))
    assert second.base["pretrained"] == given
    shutil.rmtree(given)
    capsys.readouterr()
    assert main(["faq", "learn", str(bank), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "the model this bank's model was learned from is gone" in err and len(err.strip().splitlines()) == 1
    shutil.copytree(settings(bank)["model_path"], given)  # another model at its path: the learned one
    assert main(["faq", "learn", str(bank), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{given}: not the model this bank's model was learned from (its files changed since" in err
    assert len(err.strip().splitlines()) == 1


def test_learn_keeps_the_model_when_the_new_one_answers_no_more(tiny_model, tmp_path, capsys):
    bank = plain_bank(tmp_path / "bank.faq", tiny_model)
    before, before_settings = answers(bank), settings(bank)
    assert main(["faq", "learn", str(bank), "--epochs", "30", "--lr", "1e-2", "--freeze-layers", "0",
                 "--holdout", "0.5", "--batch-size", "16", "--threads", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "not switched" in out and "not more, so the bank keeps its model" in out
    after = settings(bank)
    last = after.pop("learn_last")
    assert not last["switched"] and last["current"]["counts"]["right"] == last["held_back"]  # all answered already
    assert {k: v for k, v in after.items() if k != "generation"} == \
        {k: v for k, v in before_settings.items() if k != "generation"}
    assert answers(bank) == before
    assert not [p for p in models_dir(bank).iterdir() if p.name != ".lock"]  # nothing kept of the new model


def test_a_calibrated_bank_learns_with_threshold_and_margin_calibrated_again_for_the_new_model(tiny_model, tmp_path):
    """The bank's calibration made again on its files for the new model as `calibrate` makes it (the
    margin chosen with the threshold: calibrate.recalibrate), stored with that model in the switch."""
    from samesense.faq.calibrate import MARGIN_CHOICES, calibrate

    bank = filler_bank(tmp_path / "bank.faq", tiny_model)
    groups, oos = tmp_path / "groups.tsv", tmp_path / "oos.txt"  # questions the bank does not store
    groups.write_text("".join(f"{key}\t{FILLER[(i + 5) % 6]} {key}\n{key}\tplease {key}\n" for i, key in enumerate(KEYS)),
                      encoding="utf-8")
    oos.write_text("what is the weather\nhow do i cook rice\n", encoding="utf-8")
    with FaqBank.open(bank, create=False) as opened:
        calibrate(opened, 0.5, groups=str(groups), oos=str(oos), margin=0.02, answers=0.3, suggest="choose")
    before = settings(bank)["model_fingerprint"]
    report = learn(bank, LearnOptions(**FAST))
    assert report.switched and report.threshold_from.startswith("calibrated on")
    assert (report.calibration_questions, report.out_of_scope) == (2 * len(KEYS), 2)  # judged beside the held back
    assert sum(report.new["counts"][k] for k in ("right", "wrong", "none")) == report.held_back + 2 * len(KEYS)
    after = settings(bank)
    calibration = after["calibration"]
    assert calibration["model_fingerprint"] == after["model_fingerprint"] != before
    assert set(calibration["margins_tried"]) == {f"{m:g}" for m in MARGIN_CHOICES}  # chosen, not kept
    assert (after["threshold"], after["margin"], after["hybrid"], after["answers"]) == \
        (calibration["threshold"], calibration["margin"], calibration["hybrid"], 0.3)  # the weight kept for the model
    assert calibration["suggest"] is not None and after["suggest"] == calibration["suggest"]  # chosen again, not off
    assert after[LEARN_HISTORY][-1]["margin"] == 0.02  # what the switch replaced, for rollback


def test_a_learn_killed_while_training_leaves_the_bank_answering_as_before(tiny_model, tmp_path):
    bank = filler_bank(tmp_path / "bank.faq", tiny_model)
    before, before_settings = answers(bank), settings(bank)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OMP_NUM_THREADS": "1"}
    learning = subprocess.Popen([sys.executable, "-m", "samesense", "faq", "learn", str(bank), "--epochs", "100000",
                                 "--freeze-layers", "0", "--holdout", "0.5", "--threads", "1", "--quiet"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not list(models_dir(bank).glob(".work-*/run/checkpoint")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert learning.poll() is None, "the learn ended before it could be killed"
        learning.send_signal(signal.SIGKILL)
    finally:
        learning.wait(30)
    assert list(models_dir(bank).glob(".work-*")), "killed mid-way: its work folder is left"
    assert settings(bank) == before_settings and answers(bank) == before
    report = learn(bank, LearnOptions(**{**FAST, "epochs": 1}))  # the next learn clears what the kill left
    assert not list(models_dir(bank).glob(".work-*")) and report.held_back == 12


def test_a_learn_killed_inside_its_switch_changes_nothing(tiny_model, tmp_path, monkeypatch):
    bank = filler_bank(tmp_path / "bank.faq", tiny_model)
    before, before_settings = answers(bank), settings(bank)
    replace_vectors, replaced = store_writes.replace_vectors, []

    def killed(conn, ids, vectors):  # the new vectors written inside the switch's transaction, then the end
        replace_vectors(conn, ids, vectors)
        replaced.append(len(ids))
        raise KeyboardInterrupt

    monkeypatch.setattr(store_writes, "replace_vectors", killed)
    with pytest.raises(KeyboardInterrupt):
        learn(bank, LearnOptions(**FAST))
    monkeypatch.undo()
    assert replaced == [30]  # it died in the switch, every question's new vector written
    assert settings(bank) == before_settings and answers(bank) == before


def test_what_learn_cannot_do_is_one_line(tiny_model, tmp_path, capsys):
    few = make_bank(tmp_path / "few.faq", tiny_model, lambda i, key: [key])  # no paraphrase to hold back
    assert main(["faq", "learn", str(few), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "too few to hold any back" in err and len(err.strip().splitlines()) == 1
    two = make_bank(tmp_path / "two.faq", tiny_model, lambda i, key: [key, f"{key} {key}"])
    assert main(["faq", "learn", str(two), "--holdout", "0.99", "--quiet"]) == 2
    assert "leaves no entry a paraphrase to learn from" in capsys.readouterr().err
    assert main(["faq", "learn", str(tmp_path / "none.faq")]) == 2
    assert "no such FAQ bank" in capsys.readouterr().err
    assert main(["faq", "rollback", str(tmp_path / "none.faq")]) == 2
    assert "no such FAQ bank" in capsys.readouterr().err
    assert not (tmp_path / "none.faq").exists() and not (tmp_path / "none.faq.models").exists()
    assert main(["faq", "learn", str(few), "--holdout", "1"]) == 2  # argparse: above 0 and at most 1, learn: below 1
    capsys.readouterr()


def test_one_learn_at_a_time(tiny_model, tmp_path):
    bank = filler_bank(tmp_path / "bank.faq", tiny_model)
    with learning_lock(bank):
        with pytest.raises(SamesenseError, match="another faq learn or rollback is at work"):
            learn(bank, LearnOptions(**FAST))
        with pytest.raises(SamesenseError, match="another faq learn or rollback is at work"):
            rollback(bank)


def test_a_bank_whose_model_is_no_pretrained_transformer_is_refused(tmp_path, model):
    with FaqBank.open(tmp_path / "fake.faq", model) as bank:
        bank.add("how do i reset my pin", "A", paraphrases=["forgot my pin", "pin reset"])
        bank.add("opening hours", "B", paraphrases=["when are you open", "hours today"])
    with pytest.raises(SamesenseError, match="no such|has no model|fine-tunes a pretrained transformer"):
        learn(tmp_path / "fake.faq", LearnOptions(**FAST))


def test_evaluate_scores_a_test_file_from_the_command_line(tiny_model, tmp_path, capsys):
    bank = plain_bank(tmp_path / "bank.faq", tiny_model)
    (tmp_path / "test.tsv").write_text("zebra\tzebra zebra zebra zebra\nkiwi\tkiwi kiwi?\n", encoding="utf-8")
    (tmp_path / "oos.txt").write_text("xylophone\n", encoding="utf-8")
    assert main(["faq", "evaluate", str(bank), str(tmp_path / "test.tsv"), "--oos", str(tmp_path / "oos.txt"),
                 "--json"]) == 0
    evaluation = json.loads(capsys.readouterr().out)
    with FaqBank.open(bank, create=False, read_only=True) as opened:
        asked = [opened.ask(q) for q in ("zebra zebra zebra zebra", "kiwi kiwi?", "xylophone")]
        group_of = {e.id: e.group for e in opened.list_entries()}
    right = sum(a.answered and group_of[a.entry_id] == g for a, g in zip(asked, ("zebra", "kiwi")))
    assert evaluation["counts"]["right"] == right and evaluation["counts"]["oos_answered"] == int(asked[2].answered)
    assert main(["faq", "evaluate", str(bank)]) == 2
    assert "TESTFILE or --groups" in capsys.readouterr().err
