import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import samesense
from samesense.data import SamesenseError, read_groups
from samesense.evaluate import evaluate_groups
from samesense.train import TrainConfig, train


def test_small_training_run_ranks_unseen_groups(trained_run, synthetic_files):
    out, result = trained_run
    assert result["val_top1"] >= 0.9  # held-out groups, never seen in training
    model = samesense.load(out)  # a run folder resolves to its best model
    scores = evaluate_groups(model.encode, read_groups(synthetic_files[1]))
    assert abs(scores["top1"] - result["val_top1"]) < 1e-9
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == list(range(1, 7))
    assert log[-1]["loss"] < log[0]["loss"]
    assert (out / "curve.png").read_bytes()[:4] == b"\x89PNG"
    assert model.info["best_epoch"] == result["best_epoch"]


def test_existing_run_needs_resume_or_overwrite(trained_run):
    out, _ = trained_run
    with pytest.raises(SamesenseError, match="--resume"):
        train(TrainConfig(train=["x"], out=str(out)))


def test_held_out_split_when_no_val(synthetic_files, tmp_path):
    cfg = TrainConfig(train=[str(synthetic_files[0])], out=str(tmp_path / "r"), epochs=1, min_count=1,
                      embed_dim=8, hidden_dim=8, val_fraction=0.2, show_progress=False)
    result = train(cfg)
    assert 0 < result["val_n"] < 1500 * 0.4


def run_cli(args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "samesense.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"}, **kwargs)


def test_resume_after_kill_9_matches_an_uninterrupted_run(synthetic_files, tmp_path):
    train_file, test_file = synthetic_files
    common = ["train", "--train", str(train_file), "--val", str(test_file), "--min-count", "1",
              "--embed-dim", "16", "--hidden-dim", "32", "--batch-size", "16", "--epochs", "4",
              "--threads", "1", "--checkpoint-every", "7", "--quiet"]
    straight = run_cli(common + ["--out", str(tmp_path / "straight")])
    assert straight.wait(timeout=300) == 0, straight.stderr.read()

    killed_dir = tmp_path / "killed"
    proc = run_cli(common + ["--out", str(killed_dir)])
    state = killed_dir / "checkpoint" / "state.json"
    deadline = time.time() + 120
    while time.time() < deadline:  # kill once it is past the first epoch, mid-way in the second
        if state.exists():
            try:
                meta = json.loads(state.read_text())
            except (json.JSONDecodeError, FileNotFoundError):
                continue
            if meta["state"]["epoch"] >= 1 and meta["state"]["step_in_epoch"] > 0:
                break
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    resumed = run_cli(["train", "--out", str(killed_dir), "--resume", "--quiet", "--threads", "1"])
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read()
    assert "resuming" in resumed.stderr.read()

    def log(d):
        return [json.loads(line) for line in (d / "log.jsonl").read_text().splitlines()]

    a, b = log(tmp_path / "straight"), log(killed_dir)
    assert [r["epoch"] for r in b] == [1, 2, 3, 4]
    for ra, rb in zip(a, b):
        assert ra["loss"] == pytest.approx(rb["loss"], rel=1e-5)
        assert ra["val_top1"] == pytest.approx(rb["val_top1"], abs=1e-9)
    texts = read_groups(test_file).sentences
    va = samesense.load(tmp_path / "straight").encode(texts)
    vb = samesense.load(killed_dir).encode(texts)
    assert np.allclose(va, vb, atol=1e-4)
