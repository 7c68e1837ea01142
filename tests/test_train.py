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


@pytest.mark.parametrize("loss", ["softmax", "am-softmax", "aam-softmax", "a-softmax", "simpler-a-softmax",
                                  "contrastive", "triplet", "pair"])
def test_every_loss_learns_on_generated_groups(loss, synthetic_files, tmp_path):
    train_file, test_file = synthetic_files
    cfg = TrainConfig(train=[str(train_file)], val=str(test_file), out=str(tmp_path / loss), loss=loss,
                      epochs=6, min_count=1, embed_dim=32, hidden_dim=64, batch_size=32, lr=3e-3,
                      show_progress=False, spectra=False)
    result = train(cfg)
    assert result["val_top1"] >= 0.7, result["history"]  # an untrained encoder scores about 0.2


def write_hard_negatives(path, train_file):
    """For each training group, a sentence of another group: 'judged not equivalent'."""
    groups = read_groups(train_file)
    lines = [f"{groups.names[(label + 1) % groups.num_groups]}\t{sentence}"
             for sentence, label in zip(groups.sentences[::5], groups.labels[::5])]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_regularisers_hard_negatives_and_spectra_are_logged(synthetic_files, tmp_path):
    train_file, test_file = synthetic_files
    common = dict(train=[str(train_file)], val=str(test_file), epochs=2, min_count=1, embed_dim=16,
                  hidden_dim=16, batch_size=32, show_progress=False)
    result = train(TrainConfig(out=str(tmp_path / "am"), center_loss=0.01, orthogonal=1e-4, **common))
    record = result["history"][-1]
    assert {"head.centres", "encoder.embedding.weight", "encoder.gru.weight_hh_l0"} <= set(record["singular_values"])
    assert len(record["singular_values"]["head.centres"]) == 3

    hard = write_hard_negatives(tmp_path / "hard.tsv", train_file)
    result = train(TrainConfig(out=str(tmp_path / "nce"), loss="contrastive", hard_negatives=str(hard), **common))
    assert "head.centres" not in result["history"][-1]["singular_values"]
    assert samesense.load(tmp_path / "nce").info["hard_negatives"] == 300
    with pytest.raises(SamesenseError, match="hard negatives need a loss over batches of groups"):
        train(TrainConfig(out=str(tmp_path / "x"), loss="am-softmax", hard_negatives=str(hard), **common))
    with pytest.raises(SamesenseError, match="orthogonal penalty acts on class centres"):
        train(TrainConfig(out=str(tmp_path / "y"), loss="triplet", orthogonal=1e-4, **common))


@pytest.mark.parametrize("loss", ["pair", "a-softmax"])
def test_resume_at_an_epoch_end_matches_a_straight_run(loss, synthetic_files, tmp_path):
    """Random negatives (pair) and the annealing step (A-Softmax) must survive a resume."""
    train_file, test_file = synthetic_files
    common = dict(train=[str(train_file)], val=str(test_file), min_count=1, embed_dim=16, hidden_dim=16,
                  batch_size=32, show_progress=False, loss=loss, spectra=False)
    straight = train(TrainConfig(out=str(tmp_path / "straight"), epochs=3, **common))
    train(TrainConfig(out=str(tmp_path / "resumed"), epochs=1, **common))
    resumed = train(TrainConfig(out=str(tmp_path / "resumed"), epochs=3, **common), resume=True)
    for a, b in zip(straight["history"], resumed["history"]):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-6)
        assert a.get("a_softmax_lambda") == b.get("a_softmax_lambda")


def test_learning_rate_schedules():
    from samesense.train import learning_rate

    for schedule, middle in (("constant", 1e-3), ("cosine", 5e-4), ("linear", 5e-4)):
        cfg = TrainConfig(train=["x"], out="y", lr=1e-3, lr_schedule=schedule)
        assert learning_rate(cfg, 0, 100) == pytest.approx(1e-3)
        assert learning_rate(cfg, 50, 100) == pytest.approx(middle)
        assert learning_rate(cfg, 100, 100) == pytest.approx(1e-3 if schedule == "constant" else 0.0, abs=1e-12)
    with pytest.raises(SamesenseError, match="lr_schedule must be one of"):
        TrainConfig(train=["x"], out="y", lr_schedule="step").check()
