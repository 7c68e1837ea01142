"""TrainConfig: sections, flat and nested forms, old flat run.json files, and checks naming the field."""

import json
from dataclasses import fields

import pytest

from samesense.errors import SamesenseError
from samesense.train import TrainConfig
from samesense.train.checkpoint import read_checkpoint_meta, saved_config
from samesense.train.config import SECTIONS

# run.json as samesense wrote it before sections: asdict() of the flat TrainConfig
OLD_FLAT_RUN_JSON = {
    "train": ["data/train.tsv"], "out": "runs/x", "val": "data/val.tsv", "val_fraction": 0.1, "watch": [],
    "format": "auto", "positive_at": None, "normalize": True, "tokenizer": "char", "max_len": 32, "min_count": 5,
    "encoder": "gru", "embed_dim": 128, "hidden_dim": 96, "num_layers": 1, "bidirectional": False, "dropout": 0.2,
    "pooling": "last", "loss": "aam-softmax", "scale": None, "margin": 0.4, "per_group": None,
    "hard_negatives": None, "center_loss": 0.0, "orthogonal": 0.0, "spectra": True, "batch_size": 100,
    "epochs": 3, "lr": 0.001, "lr_schedule": "constant", "seed": 0, "threads": None, "device": "cpu",
    "eval_batch_size": 512, "checkpoint_every": 0, "show_progress": None}


def test_flat_keywords_land_in_their_sections():
    cfg = TrainConfig.of(train=["a.tsv"], out="runs/a", loss="triplet", epochs=4, hidden_dim=64, pooling="mean",
                         resume=True, val_fraction=0.2)
    assert cfg.data.train == ["a.tsv"] and cfg.data.val_fraction == 0.2
    assert cfg.model.hidden_dim == 64 and cfg.model.pooling == "mean"
    assert cfg.loss.loss == "triplet" and cfg.optim.epochs == 4
    assert cfg.run.out == "runs/a" and cfg.run.resume is True and cfg.run.overwrite is False
    assert cfg == TrainConfig.from_dict({"train": ["a.tsv"], "out": "runs/a", "loss": "triplet", "epochs": 4,
                                         "hidden_dim": 64, "pooling": "mean", "resume": True, "val_fraction": 0.2})
    assert cfg.model.encoder_config() == {"type": "gru", "embed_dim": 128, "hidden_dim": 64, "num_layers": 1,
                                          "bidirectional": False, "dropout": 0.2}  # pooling is no encoder setting
    assert cfg.model.tokenizer_config() == {"type": "char", "max_len": 32, "min_count": 5, "normalize": True}


def test_every_field_name_is_unique_across_sections():
    names = [f.name for section in SECTIONS.values() for f in fields(section)]
    assert len(names) == len(set(names))  # so a flat name always has one home


def test_nested_dict_round_trips():
    cfg = TrainConfig.of(train=["a.tsv"], out="runs/a", lr=5e-3, margin=0.2, projection=32, watch=["w.tsv"])
    nested = cfg.to_dict()
    assert set(nested) == set(SECTIONS) and nested["optim"]["lr"] == 5e-3 and nested["model"]["projection"] == 32
    assert TrainConfig.from_dict(nested) == cfg
    assert TrainConfig.from_dict(json.loads(json.dumps(nested))) == cfg  # as run.json stores it
    # sections and flat names may be mixed
    mixed = TrainConfig.from_dict({"optim": {"lr": 2e-3, "epochs": 7}, "loss": "softmax", "out": "o"})
    assert (mixed.optim.lr, mixed.optim.epochs, mixed.loss.loss, mixed.run.out) == (2e-3, 7, "softmax", "o")


def test_an_old_flat_run_json_reads_into_sections(tmp_path):
    cfg = TrainConfig.from_dict(OLD_FLAT_RUN_JSON)
    assert cfg.data.train == ["data/train.tsv"] and cfg.data.val == "data/val.tsv"
    assert (cfg.model.hidden_dim, cfg.model.pooling, cfg.model.projection) == (96, "last", None)
    assert (cfg.loss.loss, cfg.loss.margin, cfg.optim.epochs, cfg.run.out) == ("aam-softmax", 0.4, 3, "runs/x")
    flat = {k: v for section in cfg.to_dict().values() for k, v in section.items()}
    assert {k: flat[k] for k in OLD_FLAT_RUN_JSON} == OLD_FLAT_RUN_JSON  # nothing lost or changed
    cfg.check()
    # a run folder of that time: its config still reads, its checkpoint refuses to resume, clearly
    run = tmp_path / "old-run"
    (run / "checkpoint").mkdir(parents=True)
    (run / "run.json").write_text(json.dumps(OLD_FLAT_RUN_JSON))
    assert saved_config(run) == cfg
    assert saved_config(tmp_path / "no-run") is None
    (run / "checkpoint" / "state.json").write_text(json.dumps({"state": {"epoch": 1}, "param_groups": [],
                                                               "tokens": [], "data": {}}))
    with pytest.raises(SamesenseError, match="older samesense.*cannot resume"):
        read_checkpoint_meta(run)


@pytest.mark.parametrize("values, message", [
    ({"epochz": 3}, "unknown setting 'epochz'"),
    ({"optim": {"epochz": 3}}, "unknown setting optim.epochz"),
    ({"optim": {"loss": "softmax"}}, "unknown setting optim.loss"),  # a real field, in the wrong section
    ({"out": "o", "model": {"hidden_dim": 8}, "pooler": "max"}, "unknown setting 'pooler'"),
])
def test_unknown_keys_are_one_line_errors(values, message):
    with pytest.raises(SamesenseError, match=message) as err:
        TrainConfig.from_dict(values)
    assert "\n" not in str(err.value)
    with pytest.raises(SamesenseError, match="unknown setting"):
        TrainConfig.of(out="o").replace(epochz=3)


def test_replace_returns_a_copy():
    cfg = TrainConfig.of(train=["a.tsv"], out="runs/a", epochs=2)
    longer = cfg.replace(epochs=5, resume=True)
    assert (longer.optim.epochs, longer.run.resume, longer.data.train) == (5, True, ["a.tsv"])
    assert (cfg.optim.epochs, cfg.run.resume) == (2, False)


@pytest.mark.parametrize("flat, message", [
    ({"out": ""}, "no run folder given (out)"),
    ({"batch_size": 0}, "batch_size must be at least 1, got 0"),
    ({"epochs": 0}, "epochs must be at least 1, got 0"),
    ({"hidden_dim": -4}, "hidden_dim must be at least 1, got -4"),
    ({"lr": 0.0}, "lr must be at least"),
    ({"dropout": 1.5}, "dropout must be at most 1, got 1.5"),
    ({"val_fraction": 1.0}, "val_fraction must be between 0 and 1, got 1.0"),
    ({"per_group": 1}, "per_group must be at least 2, got 1"),
    ({"center_loss": -0.1}, "center_loss must be at least 0, got -0.1"),
    ({"checkpoint_every": -1}, "checkpoint_every must be at least 0, got -1"),
    ({"loss": "hinge"}, "loss must be one of softmax, am-softmax"),
    ({"pooling": "median"}, "pooling must be one of max, last, mean, cls, got 'median'"),
    ({"tokenizer": "bpe"}, "tokenizer must be one of char, word, got 'bpe'"),
    ({"encoder": "lstm"}, "encoder must be one of gru, got 'lstm'"),
    ({"lr_schedule": "step"}, "lr_schedule must be one of constant, cosine, linear"),
    ({"format": "csv"}, "format must be one of auto, groups, pairs"),
])
def test_check_names_the_field(flat, message):
    cfg = TrainConfig.of(**{"train": ["a.tsv"], "out": "runs/a", **flat})
    with pytest.raises(SamesenseError) as err:
        cfg.check()
    assert message in str(err.value) and "\n" not in str(err.value)


def test_check_accepts_the_defaults_and_files_are_checked_apart():
    TrainConfig.of(out="runs/a").check()  # data may come in memory: no file needed to check
    with pytest.raises(SamesenseError, match="no training file given"):
        TrainConfig.of(out="runs/a").check_files()
    TrainConfig.of(out="runs/a", train=["a.tsv"]).check_files()
