"""Class centres split over two processes (gloo, on this machine): the loss and every gradient equal
one process's, and a run over two processes trains, checkpoints and resumes."""

import math

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from samesense.train import distributed
from samesense.train.batch import Batch
from samesense.errors import SamesenseError
from samesense.train.heads import CosineHead, ShardedCosineHead
from samesense.losses import make_loss
from samesense.train import TrainConfig, train
from samesense.train.step import training_hits

from records import same_records

CLASSES, DIM, ROWS = 30, 8, 21  # 21 rows: the two processes' parts differ in length
# am-softmax@2000: a scale at which exp(s * (cos - 1)) underflows in float64, so the log-sum-exp
# is shifted by the row maxima across the shares instead of by s
LOSSES = ["am-softmax", "aam-softmax", "softmax", "simpler-a-softmax", "am-softmax@2000"]


def loss_named(name):
    name, _, scale = name.partition("@")
    return make_loss(name, scale=float(scale) if scale else None).eval()


def problem():
    """The same inputs, encoder and labels in every process: a linear map of fixed inputs."""
    torch.manual_seed(0)
    inputs = torch.randn(ROWS, 5, dtype=torch.float64)
    encoder = torch.nn.Linear(5, DIM).double()
    labels = torch.randint(0, CLASSES, (ROWS,))
    labels[:3] = torch.tensor([0, CLASSES - 1, CLASSES // 2])  # both ends of both shares
    return inputs, encoder, labels


def step(encoder, head, loss, inputs, labels, sharded):
    z = F.normalize(encoder(inputs), dim=-1)
    logits, targets = head(z, labels)
    batch = Batch(rows=np.arange(len(labels)), features={}, labels=labels, logits=logits, targets=targets,
                  sharded=sharded)
    value = loss(batch)
    value.backward()
    distributed.sum_gradients([encoder])
    return value, training_hits(batch)


def sharded_worker(rank, port, folder):
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        out = {}
        for name in LOSSES:
            inputs, encoder, labels = problem()
            torch.manual_seed(1)
            head = ShardedCosineHead(CLASSES, DIM, 1.0, rank, 2).double()
            loss = loss_named(name)
            rows = np.array_split(np.arange(ROWS), 2)[rank]
            value, hits = step(encoder, head, loss, inputs[rows], labels[rows], sharded=True)
            out[f"{name}.loss"] = value.detach().reshape(1)
            out[f"{name}.hits"] = torch.tensor(hits)
            out[f"{name}.encoder"] = encoder.weight.grad
            out[f"{name}.head"] = head.weight.grad
        save_file(out, f"{folder}/rank-{rank}.safetensors")
    finally:
        dist.destroy_process_group()


def test_two_process_sharded_loss_and_gradients_equal_one_process(tmp_path):
    mp.start_processes(sharded_worker, args=(distributed.free_port(), str(tmp_path)), nprocs=2, start_method="spawn")
    ranks = [load_file(str(tmp_path / f"rank-{r}.safetensors")) for r in range(2)]
    for name in LOSSES:
        inputs, encoder, labels = problem()
        torch.manual_seed(1)
        head = CosineHead(CLASSES, DIM).double()
        value, hits = step(encoder, head, loss_named(name), inputs, labels, sharded=False)
        for got in ranks:  # every process has the whole loss and the whole encoder gradient
            assert torch.allclose(got[f"{name}.loss"], value.detach().reshape(1), atol=1e-12), name
            assert torch.allclose(got[f"{name}.encoder"], encoder.weight.grad, atol=1e-12), name
            assert got[f"{name}.hits"].tolist() == list(hits), name
        shares = torch.cat([ranks[0][f"{name}.head"], ranks[1][f"{name}.head"]])
        assert shares.shape == head.weight.shape
        assert torch.allclose(shares, head.weight.grad, atol=1e-12), name


@pytest.fixture()
def run_settings(synthetic_files):
    train_file, test_file = synthetic_files
    return dict(train=[str(train_file)], val=str(test_file), min_count=1, embed_dim=16, hidden_dim=16,
                batch_size=32, show_progress=False, spectra=False, dropout=0.0, threads=1)


def test_a_run_over_two_processes_matches_one_process_and_resumes(run_settings, tmp_path):
    one = train(TrainConfig.of(out=str(tmp_path / "one"), epochs=2, **run_settings))
    straight = train(TrainConfig.of(out=str(tmp_path / "two"), epochs=2, processes=2, **run_settings))
    # the same batches and starting weights, no dropout: the same training but for the order of sums
    for a, b in zip(one["history"], straight["history"]):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-3) and abs(a["val_top1"] - b["val_top1"]) <= 0.02
    checkpoint = tmp_path / "two" / "checkpoint"
    assert (checkpoint / "rank-1" / "state.safetensors").is_file()
    first, second = load_file(str(checkpoint / "state.safetensors")), load_file(str(checkpoint / "rank-1" / "state.safetensors"))
    whole = load_file(str(tmp_path / "one" / "checkpoint" / "state.safetensors"))["head.weight"]
    assert len(first["head.weight"]) + len(second["head.weight"]) == len(whole)  # each process its share
    assert all(torch.equal(first[k], second[k]) for k in first if k.startswith("model."))  # one encoder

    train(TrainConfig.of(out=str(tmp_path / "resumed"), epochs=1, processes=2, **run_settings))
    resumed = train(TrainConfig.of(out=str(tmp_path / "resumed"), epochs=2, processes=2, resume=True, **run_settings))
    assert [r["epoch"] for r in resumed["history"]] == [1, 2]
    same_records(straight["history"], resumed["history"])
    for rank_folder in ("", "rank-1"):
        a = load_file(str(tmp_path / "two" / "checkpoint" / rank_folder / "state.safetensors"))
        b = load_file(str(tmp_path / "resumed" / "checkpoint" / rank_folder / "state.safetensors"))
        assert a.keys() == b.keys()
        for key in a:
            assert torch.equal(a[key], b[key]), (rank_folder, key)


def test_a_run_over_processes_says_what_went_wrong_in_one_line(run_settings, tmp_path):
    with pytest.raises(SamesenseError, match="triplet"):  # refused before any process starts
        train(TrainConfig.of(out=str(tmp_path / "t"), processes=2, loss="triplet", **run_settings))
    missing = {**run_settings, "train": [str(tmp_path / "nowhere.tsv")]}
    with pytest.raises(SamesenseError, match="nowhere.tsv") as err:
        train(TrainConfig.of(out=str(tmp_path / "m"), processes=2, **missing))
    assert "\n" not in str(err.value) and "Traceback" not in str(err.value)
    with pytest.raises(SamesenseError, match="data, on_epoch or teacher"):
        train(TrainConfig.of(out=str(tmp_path / "c"), processes=2, **run_settings), on_epoch=lambda r: None)


def test_bfloat16_head_products_train_like_float32_in_one_process_and_over_two(run_settings, tmp_path):
    """--head-precision bfloat16 on a sampled head, alone and sharded: the same training to the
    precision of the products (the losses of each epoch within a few percent)."""
    sampled = dict(run_settings, sample_rate=0.5, epochs=2)
    exact = train(TrainConfig.of(out=str(tmp_path / "exact"), **sampled))
    low = train(TrainConfig.of(out=str(tmp_path / "low"), head_precision="bfloat16", **sampled))
    split = train(TrainConfig.of(out=str(tmp_path / "split"), head_precision="bfloat16", processes=2, **sampled))
    for a, b in zip(exact["history"], low["history"]):
        assert b["loss"] == pytest.approx(a["loss"], rel=5e-2)
    assert split["history"][1]["loss"] < split["history"][0]["loss"]
    assert all(math.isfinite(r["loss"]) for r in split["history"])
