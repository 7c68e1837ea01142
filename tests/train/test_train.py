import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from safetensors.torch import load_file

import samesense
from samesense.data import Groups, read_groups
from samesense.errors import DataError, SamesenseError
from samesense.evaluate import evaluate_groups
from samesense.train import TrainConfig, TrainGroups, prepare_data, train

from records import TIMING, same_records


def same_weights(run_a, run_b) -> None:
    """The last checkpoint (model, head, loss, optimizer slots, RNG) and the best model's
    component files hold the same bytes in both runs."""
    a, b = load_file(str(run_a / "checkpoint" / "state.safetensors")), load_file(str(run_b / "checkpoint" / "state.safetensors"))
    assert a.keys() == b.keys() and any(k.startswith("model.") for k in a)
    for key in a:
        assert np.array_equal(a[key].numpy(), b[key].numpy()), key
    for part in ("encoder/weights.safetensors", "tokenizer/vocab.json", "pooling/config.json"):
        assert (run_a / "model" / part).read_bytes() == (run_b / "model" / part).read_bytes(), part


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
        train(TrainConfig.of(train=["x"], out=str(out)))


def test_held_out_split_when_no_val(synthetic_files, tmp_path):
    cfg = TrainConfig.of(train=[str(synthetic_files[0])], out=str(tmp_path / "r"), epochs=1, min_count=1,
                         embed_dim=8, hidden_dim=8, val_fraction=0.2, show_progress=False)
    result = train(cfg)
    assert 0 < result["val_n"] < 1500 * 0.4
    info = samesense.load(tmp_path / "r").info
    assert info["val_sentences"] == result["val_n"] and info["train_sentences"] + info["val_sentences"] == 1500


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
    mid_epoch = False
    while time.time() < deadline and proc.poll() is None:  # kill once past the first epoch, mid-way in the second
        if state.exists():
            try:
                meta = json.loads(state.read_text())
            except (json.JSONDecodeError, FileNotFoundError):
                continue
            if meta["state"]["epoch"] >= 1 and meta["state"]["step_in_epoch"] > 0:
                mid_epoch = True
                break
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert mid_epoch and proc.returncode == -signal.SIGKILL

    resumed = run_cli(["train", "--out", str(killed_dir), "--resume", "--quiet", "--threads", "1"])
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read()
    said = resumed.stderr.read()
    assert "resuming" in said and ", step " in said  # from the mid-epoch checkpoint, not an epoch end

    def log(d):
        return [json.loads(line) for line in (d / "log.jsonl").read_text().splitlines()]

    a, b = log(tmp_path / "straight"), log(killed_dir)
    assert [r["epoch"] for r in b] == [1, 2, 3, 4]
    same_records(a, b)  # losses and validation scores equal, not only close
    same_weights(tmp_path / "straight", killed_dir)
    texts = read_groups(test_file).sentences
    va = samesense.load(tmp_path / "straight").encode(texts)
    vb = samesense.load(killed_dir).encode(texts)
    assert np.array_equal(va, vb)


@pytest.mark.parametrize("loss", ["softmax", "am-softmax", "aam-softmax", "a-softmax", "simpler-a-softmax",
                                  "contrastive", "triplet", "pair"])
def test_every_loss_learns_on_generated_groups(loss, synthetic_files, tmp_path):
    train_file, test_file = synthetic_files
    cfg = TrainConfig.of(train=[str(train_file)], val=str(test_file), out=str(tmp_path / loss), loss=loss,
                         encoder="gru", epochs=6, min_count=1, embed_dim=32, hidden_dim=64, batch_size=32, lr=3e-3,
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
                  hidden_dim=16, batch_size=32, show_progress=False, encoder="gru")
    result = train(TrainConfig.of(out=str(tmp_path / "am"), center_loss=0.01, orthogonal=1e-4, **common))
    record = result["history"][-1]
    assert {"head.centres", "encoder.embedding.weight", "encoder.gru.weight_hh_l0"} <= set(record["singular_values"])
    assert len(record["singular_values"]["head.centres"]) == 3

    hard = write_hard_negatives(tmp_path / "hard.tsv", train_file)
    result = train(TrainConfig.of(out=str(tmp_path / "nce"), loss="contrastive", hard_negatives=str(hard), **common))
    assert "head.centres" not in result["history"][-1]["singular_values"]
    assert samesense.load(tmp_path / "nce").info["hard_negatives"] == 300
    with pytest.raises(SamesenseError, match="hard negatives need a loss over batches of groups"):
        train(TrainConfig.of(out=str(tmp_path / "x"), loss="am-softmax", hard_negatives=str(hard), **common))
    with pytest.raises(SamesenseError, match="orthogonal penalty acts on class centres"):
        train(TrainConfig.of(out=str(tmp_path / "y"), loss="triplet", orthogonal=1e-4, **common))


@pytest.mark.parametrize("loss,sample_rate", [("pair", 1.0), ("a-softmax", 1.0), ("am-softmax", 0.3)])
def test_resume_at_an_epoch_end_matches_a_straight_run(loss, sample_rate, synthetic_files, tmp_path):
    """Random negatives (pair), the annealing step (A-Softmax), and the sampled centres and their
    RowAdam slots (--sample-rate) must survive a resume."""
    train_file, test_file = synthetic_files
    common = dict(train=[str(train_file)], val=str(test_file), min_count=1, embed_dim=16, hidden_dim=16,
                  batch_size=32, show_progress=False, loss=loss, spectra=False, sample_rate=sample_rate)
    straight = train(TrainConfig.of(out=str(tmp_path / "straight"), epochs=3, **common))
    first = train(TrainConfig.of(out=str(tmp_path / "resumed"), epochs=1, **common))
    assert first["epochs"] == 1 and [r["epoch"] for r in first["history"]] == [1]
    # a resumed run keeps the settings it was started with (run.json): only the RESUMABLE ones
    # (here: epochs) may change; asking for others is refused, naming them
    other = TrainConfig.of(out=str(tmp_path / "resumed"), epochs=3, resume=True, **{**common, "lr": 0.5, "seed": 7})
    with pytest.raises(SamesenseError, match=r"differ from its run.json: optim.lr, optim.seed"):
        train(other)
    again = TrainConfig.of(out=str(tmp_path / "resumed"), epochs=3, **common)
    resumed = train(again.replace(resume=True))
    assert straight["epochs"] == resumed["epochs"] == 3 and not resumed["stopped"]
    assert [r["epoch"] for r in resumed["history"]] == [1, 2, 3]
    same_records(straight["history"], resumed["history"])  # loss, val top-1/5/10, lambda, lr: all equal
    if loss == "a-softmax":
        lambdas = [r["a_softmax_lambda"] for r in resumed["history"]]
        assert lambdas[0] > lambdas[1] > lambdas[2]  # the schedule went on from where it stopped
    assert {k: v for k, v in straight.items() if k not in TIMING | {"history", "model"}} == \
        {k: v for k, v in resumed.items() if k not in TIMING | {"history", "model"}}
    same_weights(tmp_path / "straight", tmp_path / "resumed")


def test_the_centres_rate_is_written_into_run_json_and_an_older_run_resumes_at_its_own(synthetic_files, tmp_path):
    """--head-lr's default (3e-2, from scratch) is saved as a number; a run.json from before that
    default (null: the centres at the encoder's rate) resumes at that rate, not the new default."""
    train_file, test_file = synthetic_files
    common = dict(train=[str(train_file)], val=str(test_file), min_count=1, embed_dim=16, hidden_dim=16,
                  batch_size=32, show_progress=False, spectra=False, encoder="gru")
    train(TrainConfig.of(out=str(tmp_path / "new"), epochs=1, **common))
    assert json.loads((tmp_path / "new" / "run.json").read_text())["optim"]["head_lr"] == 0.03

    straight = train(TrainConfig.of(out=str(tmp_path / "straight"), epochs=2, head_lr=1e-3, **common))
    train(TrainConfig.of(out=str(tmp_path / "old"), epochs=1, head_lr=1e-3, **common))
    saved = json.loads((tmp_path / "old" / "run.json").read_text())
    saved["optim"]["head_lr"] = None  # as samesense wrote it before 2026-12-06
    (tmp_path / "old" / "run.json").write_text(json.dumps(saved))
    resumed = train(TrainConfig.of(out=str(tmp_path / "old"), epochs=2, resume=True, **common))
    same_records(straight["history"], resumed["history"])
    same_weights(tmp_path / "straight", tmp_path / "old")


def test_a_call_that_leaves_the_tokenizer_and_rate_to_their_defaults_resumes_a_run_that_named_them(synthetic_files,
                                                                                                     tmp_path):
    """A script written before the default encoder changed names the GRU and leaves the rest: the run it
    started (run.json: char, 1e-3) resumes, as it did before."""
    train_file, test_file = synthetic_files
    common = dict(train=[str(train_file)], val=str(test_file), encoder="gru", min_count=1, embed_dim=8, hidden_dim=8,
                  batch_size=64, show_progress=False, spectra=False)
    train(TrainConfig.of(out=str(tmp_path / "r"), epochs=1, tokenizer="char", lr=1e-3, **common))
    assert train(TrainConfig.of(out=str(tmp_path / "r"), epochs=2, resume=True, **common))["epochs"] == 2


def test_learning_rate_schedules():
    """learning_rate gives the share of each group's base rate: the schedule, after any warm-up."""
    from samesense.train import learning_rate

    for schedule, middle in (("constant", 1.0), ("cosine", 0.5), ("linear", 0.5)):
        cfg = TrainConfig.of(train=["x"], out="y", lr=1e-3, lr_schedule=schedule)
        assert learning_rate(cfg, 0, 100) == pytest.approx(1.0)
        assert learning_rate(cfg, 50, 100) == pytest.approx(middle)
        assert learning_rate(cfg, 100, 100) == pytest.approx(1.0 if schedule == "constant" else 0.0, abs=1e-12)
    warm = TrainConfig.of(train=["x"], out="y", warmup_steps=10)
    assert [learning_rate(warm, step, 100) for step in (0, 4, 9, 50)] == pytest.approx([0.1, 0.5, 1.0, 1.0])
    with pytest.raises(SamesenseError, match="lr_schedule must be one of"):
        TrainConfig.of(train=["x"], out="y", lr_schedule="step").check()


# ---------------------------------------------------------------------------------------------
# Groups in memory, callbacks


def memory_groups(path) -> Groups:
    """A groups file as a caller would hold it in memory: records, no file name."""
    return Groups.from_records([tuple(line.split("\t")) for line in path.read_text().splitlines()])


def test_training_on_groups_in_memory_reads_no_file(synthetic_files, tmp_path):
    train_file, test_file = synthetic_files
    settings = dict(min_count=1, embed_dim=16, hidden_dim=16, batch_size=32, epochs=2, show_progress=False,
                    spectra=False)
    from_files = train(TrainConfig.of(train=[str(train_file)], val=str(test_file), out=str(tmp_path / "files"),
                                      **settings))
    groups = TrainGroups(train=memory_groups(train_file), val=memory_groups(test_file))
    cfg = TrainConfig.of(out=str(tmp_path / "memory"), **settings)  # no training or validation file
    assert cfg.data.train == [] and cfg.data.val is None
    in_memory = train(cfg, data=groups)
    same_records(from_files["history"], in_memory["history"])  # the same groups give the same run
    assert in_memory["val_n"] == 300 and samesense.load(tmp_path / "memory").info["train_groups"] == 300
    assert json.loads((tmp_path / "memory" / "run.json").read_text())["data"]["train"] == []
    with pytest.raises(SamesenseError, match="no training file given"):
        train(TrainConfig.of(out=str(tmp_path / "nothing"), **settings))  # no data and no files

    # data prepared once is reused as it is by another run with the same tokenizer settings
    prepared = prepare_data(cfg, groups)
    assert prepare_data(cfg.replace(lr=5e-3), prepared) is prepared
    assert prepare_data(cfg.replace(max_len=8), prepared) is not prepared
    reused = train(cfg.replace(out=str(tmp_path / "reused")), data=prepared)
    same_records(in_memory["history"], reused["history"])

    # without val, a share of the given groups is held out, as with files
    held_out = train(TrainConfig.of(out=str(tmp_path / "held"), val_fraction=0.2, **settings),
                     data=TrainGroups(train=memory_groups(train_file)))
    info = samesense.load(tmp_path / "held").info
    assert info["train_groups"] + info["val_groups"] == 300 and 0 < held_out["val_n"] < 1500 * 0.4


def test_on_epoch_sees_every_record_and_can_stop_the_run(synthetic_files, tmp_path):
    train_file, test_file = synthetic_files
    seen = []

    def stop_after_two(record):
        seen.append(record)
        return False if record["epoch"] == 2 else None  # None (no opinion) goes on

    out = tmp_path / "early"
    result = train(TrainConfig.of(train=[str(train_file)], val=str(test_file), out=str(out), epochs=5,
                                  min_count=1, embed_dim=8, hidden_dim=8, show_progress=False, spectra=False),
                   on_epoch=stop_after_two)
    assert result["epochs"] == 2 and "after epoch 2" in result["stopped"]
    assert [r["epoch"] for r in seen] == [1, 2] and seen == result["history"]
    assert len((out / "log.jsonl").read_text().splitlines()) == 2
    meta = json.loads((out / "checkpoint" / "state.json").read_text())
    assert meta["state"]["epoch"] == 2 and meta["state"]["stopped"] == result["stopped"]
    assert samesense.load(out).info["best_epoch"] == result["best_epoch"] <= 2

    kept = train(TrainConfig.of(train=[str(train_file)], val=str(test_file), out=str(tmp_path / "all"), epochs=2,
                                min_count=1, embed_dim=8, hidden_dim=8, show_progress=False, spectra=False),
                 on_epoch=lambda record: True)
    assert kept["epochs"] == 2 and kept["stopped"] == ""
    same_records(result["history"], kept["history"])  # stopping changes nothing before it


# ---------------------------------------------------------------------------------------------
# A run killed before its first checkpoint; data that cannot train or validate


class Killed(BaseException):
    """What kill -9 is to a run: it stops where it is, and nothing cleans up after it."""


def logged(run) -> list[dict]:
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


def test_resume_before_the_first_checkpoint_starts_afresh(synthetic_files, tmp_path, monkeypatch, capsys):
    from samesense.cli import main
    from samesense.train import loop

    train_file, test_file = synthetic_files
    flags = ["--train", str(train_file), "--val", str(test_file), "--min-count", "1", "--embed-dim", "8",
             "--hidden-dim", "8", "--epochs", "2", "--no-spectra", "--quiet"]
    assert main(["train", *flags, "--out", str(tmp_path / "straight")]) == 0

    def killed_while_saving(path, *args):  # atomic_dir has made its temporary, not yet renamed it
        (path.parent / ".checkpoint.1a2b.tmp").mkdir()
        raise Killed

    killed = tmp_path / "killed"
    with monkeypatch.context() as patch:
        patch.setattr(loop, "save_checkpoint", killed_while_saving)
        with pytest.raises(Killed):
            main(["train", *flags, "--out", str(killed)])
    assert {p.name for p in killed.iterdir()} == {"run.json", "model", ".checkpoint.1a2b.tmp"}
    capsys.readouterr()

    # the usual way to resume (the folder's settings) starts the run again from its beginning
    assert main(["train", "--out", str(killed), "--resume", "--quiet"]) == 0
    assert "has no checkpoint yet: starting afresh" in capsys.readouterr().err
    same_records(logged(tmp_path / "straight"), logged(killed))
    # killed before it wrote anything: the command line again, with --resume, starts it
    never = tmp_path / "never"
    assert main(["train", *flags, "--out", str(never), "--resume"]) == 0
    same_records(logged(tmp_path / "straight"), logged(never))


@pytest.mark.parametrize("files, message", [
    ({"val": "a\tx\nb\ty\n"}, "val.tsv: no group of the validation file has two sentences: nothing to rank"),
    ({"val": ""}, "val.tsv: no sentences"),
    ({"watch": "a\tx\nb\ty\n"}, "watch.tsv: no group of the watched file has two sentences: nothing to rank"),
    ({"train": "a\tx\nb\ty\nc\tz\nd\tw\n", "val": None},
     "train.tsv: no group held out for validation has two sentences: nothing to rank"),
    ({"train": "a\tx\na\ty\n", "val": None}, "train.tsv: found 1 group: training needs at least 2, plus 1 to hold out"),
    ({"train": "a\tx\na\ty\n"}, "train.tsv: found 1 group: training needs at least 2$"),
    ({"train": ""}, "train.tsv: no sentences"),
])
def test_data_that_cannot_train_or_validate_is_refused_before_training(synthetic_files, tmp_path, files, message):
    paths = {"train": synthetic_files[0], "val": synthetic_files[1], "watch": None}
    for role, content in files.items():
        paths[role] = None if content is None else tmp_path / f"{role}.tsv"
        if content is not None:
            paths[role].write_text(content)
    cfg = TrainConfig.of(train=[str(paths["train"])], val=paths["val"] and str(paths["val"]),
                         watch=[str(paths["watch"])] if paths["watch"] else [], val_fraction=0.5,
                         out=str(tmp_path / "run"), epochs=1, min_count=1, show_progress=False)
    with pytest.raises(DataError, match=message):
        train(cfg)
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_a_moved_run_resumes_from_its_new_place(synthetic_files, tmp_path, monkeypatch):
    """run.json keeps the folder it was started in; the folder named now, moved or relative, is the run."""
    settings = dict(train=[str(synthetic_files[0])], val=str(synthetic_files[1]), min_count=1, embed_dim=8,
                    hidden_dim=8, show_progress=False)
    train(TrainConfig.of(out=str(tmp_path / "r"), epochs=1, **settings))
    (tmp_path / "r").rename(tmp_path / "moved")
    monkeypatch.chdir(tmp_path)
    result = train(TrainConfig.of(out="moved", epochs=2, resume=True, **settings))
    log = [json.loads(line) for line in (tmp_path / "moved" / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2] and result["model"].startswith("moved")


def test_resume_mends_a_record_that_a_kill_left_an_epoch_short(synthetic_files, tmp_path):
    """A kill -9 between the checkpoint and the log write leaves log.jsonl and curve.png without the
    last epoch; the checkpoint has it, and a resumed run writes the record from it, even when no
    epoch is left to train."""
    train_file, test_file = synthetic_files
    cfg = TrainConfig.of(train=[str(train_file)], val=str(test_file), out=str(tmp_path / "run"), epochs=2,
                         min_count=1, embed_dim=8, hidden_dim=8, show_progress=False, spectra=False)
    train(cfg)
    log = tmp_path / "run" / "log.jsonl"
    whole = log.read_text()
    log.write_text(whole.splitlines(keepends=True)[0])  # as the kill left it: the second epoch missing
    (tmp_path / "run" / "curve.png").unlink()
    train(cfg.replace(resume=True))
    assert log.read_text() == whole and (tmp_path / "run" / "curve.png").is_file()
