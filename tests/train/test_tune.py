"""samesense tune: a tiny study on generated groups that runs, prunes, is killed and resumes, and a
two-objective one with its Pareto front; the retrain command it writes trains."""

import csv
import json
import os
import shlex
import signal
import subprocess
import sys
import time

import pytest

optuna = pytest.importorskip("optuna")

import samesense  # noqa: E402
from samesense.cli import main  # noqa: E402
from samesense.train import TrainConfig  # noqa: E402
from samesense.train.tune import TuneConfig, open_study, tune  # noqa: E402

GOOD = {"encoder": "gru", "embed_dim": 64, "hidden_dim": 64, "pooling_gru": "max", "loss": "am-softmax",
        "scale": 30.0, "margin_am-softmax": 0.35, "lr": 3e-3, "batch_size": 50, "dropout": 0.0}


def base_config(synthetic_files, out, **more):
    train_file, test_file = synthetic_files
    return TrainConfig.of(train=[str(train_file)], val=str(test_file), out=str(out), min_count=1, epochs=2,
                          threads=1, show_progress=False, spectra=False, **more)


def read_trials(study):
    with open(study / "trials.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_a_study_runs_and_prunes_a_weak_trial_on_its_learning_curve(synthetic_files, tmp_path):
    base = base_config(synthetic_files, tmp_path / "study")
    tc = TuneConfig(trials=4, speed_sentences=50)
    study = open_study(optuna, base, tc)
    for seed_lr in (3e-3, 4e-3, 5e-3):
        study.enqueue_trial({**GOOD, "lr": seed_lr})
    study.enqueue_trial({**GOOD, "lr": 1e-4, "scale": 10.0})  # barely moves in an epoch: below the median
    summary = tune(base, tc, fixed=set(), command=["--train", "x"])
    rows = read_trials(tmp_path / "study")
    states = [t["state"] for t in rows]
    assert states == ["complete", "complete", "complete", "pruned"]
    assert summary["pruned"] == 1 and summary["completed"] == 3
    assert samesense.load(tmp_path / "study" / "best").dim == 64
    assert (tmp_path / "study" / "pareto.png").stat().st_size > 1000
    command = (tmp_path / "study" / "best_command.txt").read_text()
    best = max(rows[:3], key=lambda t: float(t["val_top1"]))  # the best completed trial, never the pruned one
    assert command.startswith("samesense train --train x") and f"--lr {json.loads(best['settings'])['lr']:g} " in command


def test_two_objectives_give_a_pareto_front_and_a_flag_given_is_not_searched(synthetic_files, tmp_path):
    base = base_config(synthetic_files, tmp_path / "study", loss="softmax")
    summary = tune(base, TuneConfig(trials=3, sampler="nsga2", objectives="top1-speed", encoders=["gru", "srnn"],
                                    speed_sentences=50), fixed={"loss"}, command=["--loss", "softmax"])
    rows = read_trials(tmp_path / "study")
    assert len(rows) == 3 and all("loss" not in json.loads(r["settings"]) for r in rows)
    assert summary["front"] and set(summary["front"]) <= {int(r["trial"]) for r in rows}
    assert "--loss softmax" in summary["command"]


def test_a_killed_study_goes_on_and_runs_the_killed_trial_again(synthetic_files, tmp_path):
    train_file, test_file = synthetic_files
    study = tmp_path / "study"
    command = [sys.executable, "-m", "samesense", "tune", "--train", str(train_file), "--val", str(test_file),
               "--out", str(study), "--min-count", "1", "--epochs", "3", "--threads", "1", "--speed-sentences", "50",
               "--stale-after", "2", "--pruner", "none", "--encoders", "gru"]
    process = subprocess.Popen(command + ["--trials", "3"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not (study / "trials" / "0001" / "checkpoint").exists() and time.time() < deadline:
        time.sleep(0.1)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    time.sleep(3)  # past --stale-after: the killed trial's heartbeat has stopped
    subprocess.run(command + ["--trials", "2"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = read_trials(study)
    states = {int(r["trial"]): r["state"] for r in rows}
    assert states[0] == "complete" and states[1] == "fail"  # trial 0 kept, trial 1 killed
    retried = [r for r in rows if int(r["trial"]) > 1 and r["settings"] == rows[1]["settings"]]
    assert retried and retried[0]["state"] == "complete"  # the killed trial's settings run again


def test_the_command_line_tunes_and_its_retrain_command_trains(synthetic_files, tmp_path, capsys):
    train_file, test_file = synthetic_files
    assert main(["tune", "--train", str(train_file), "--val", str(test_file), "--out", str(tmp_path / "study"),
                 "--trials", "2", "--epochs", "1", "--min-count", "1", "--threads", "1", "--encoders", "gru",
                 "--speed-sentences", "50", "--sampler", "random"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["completed"] == 2
    retrain = shlex.split((tmp_path / "study" / "best_command.txt").read_text())
    assert retrain[:2] == ["samesense", "train"]
    retrain[retrain.index("--out") + 1] = str(tmp_path / "chosen")
    assert main(retrain[1:]) == 0 and samesense.load(tmp_path / "chosen").dim > 0


def test_a_glyph_trial_names_its_glyph_scope_so_its_retrain_command_keeps_it():
    from samesense.train.tune import flags_of, suggest

    study = optuna.create_study()
    study.enqueue_trial({"glyphs": True})
    trial = study.ask()
    base = TrainConfig.of(out="o", glyph_scope="rare")
    settings = suggest(trial, set(), TuneConfig(), base)
    assert settings["glyphs"] is True and settings["glyph_scope"] == "rare"
    assert flags_of({"glyph_scope": "rare"}) == ["--glyph-scope", "rare"]
    said = suggest(trial, {"glyph_scope"}, TuneConfig(), base)  # given on the command line: already in it
    assert "glyph_scope" not in said
