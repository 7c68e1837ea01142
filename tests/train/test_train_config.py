"""TrainConfig: sections, flat and nested forms, old flat run.json files, and checks naming the field."""

import argparse
import json
from dataclasses import fields

import numpy as np
import pytest

from samesense.cli import main
from samesense.cli.options import add_flag, add_sections
from samesense.data import Groups
from samesense.errors import SamesenseError
from samesense.tokenize import bucket_of
from samesense.train import TrainConfig, TrainGroups, plan_run, prepare_data
from samesense.train.checkpoint import read_checkpoint_meta, saved_config
from samesense.bounds import setting_problem
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
    # the default encoder: a static table of words (jieba's for Chinese), Adam at 1e-2 from random rows
    assert cfg.model.encoder_config() == {"type": "static", "dim": 128, "dropout": 0.2}  # pooling: no encoder setting
    assert cfg.model.tokenizer_kind == "jieba" and cfg.base_lr() == 1e-2
    gru = cfg.replace(encoder="gru")
    assert gru.model.encoder_config() == {"type": "gru", "embed_dim": 128, "hidden_dim": 64, "num_layers": 1,
                                          "bidirectional": False, "dropout": 0.2}
    assert gru.model.tokenizer_kind == "char" and gru.base_lr() == 1e-3
    assert cfg.replace(init_from="minilm").base_lr() == 1e-3  # a teacher's start: the English figures' rate
    assert gru.model.tokenizer_config(70_000) == {"type": "char", "max_len": 32, "min_count": 5, "normalize": True,
                                                  "unknown_buckets": 4096}


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
    ({"tokenizer": "bpe"}, "tokenizer must be one of char, jieba, teacher, word, got 'bpe'"),
    ({"encoder": "lstm"}, "encoder must be one of gru, srnn, static, transformer, got 'lstm'"),
    ({"lr_schedule": "step"}, "lr_schedule must be one of constant, cosine, linear"),
    ({"format": "csv"}, "format must be one of auto, groups, pairs"),
    ({"hidden_dim": 10**9}, "hidden_dim must be at most 65536, got 1000000000"),
    ({"embed_dim": 65537}, "embed_dim must be at most 65536, got 65537"),
    ({"projection": 10**6}, "projection must be at most 65536"),
    ({"num_layers": 1000}, "num_layers must be at most 64, got 1000"),
    ({"max_len": 10**6}, "max_len must be at most 65536"),
    ({"unknown_buckets": -1}, "unknown_buckets must be at least 0, got -1"),
    ({"unknown_buckets": 10**7}, "unknown_buckets must be at most 1000000, got 10000000"),
    ({"seed": -1}, "seed must be at least 0, got -1"),
    ({"seed": 2**64}, f"seed must be at most {2**63 - 1}, got {2**64}"),  # in full, not 9.22337e+18
    ({"threads": 2**31}, "threads must be at most 1024, got 2147483648"),
    ({"epochs": 10**12}, "epochs must be at most 1000000"),
    ({"unknown_buckets": 8.0}, "unknown_buckets must be an integer, got 8.0"),
    ({"dropout": float("nan")}, "dropout must be a finite number, got nan"),
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


def test_unknown_buckets_is_a_model_setting_with_a_flag():
    cfg = TrainConfig.of(out="runs/a", unknown_buckets=64)
    assert TrainConfig.of(out="o").model.unknown_buckets == 4096  # the default, chosen on dev (unknown_buckets.py)
    assert cfg.model.tokenizer_config(100)["unknown_buckets"] == 64 and TrainConfig.from_dict(cfg.to_dict()) == cfg
    parser = argparse.ArgumentParser()
    add_sections(parser, SECTIONS)
    assert parser.parse_args(["--unknown-buckets", "0"]).unknown_buckets == 0


def test_a_run_json_from_before_unknown_buckets_keeps_the_single_unk():
    saved = TrainConfig.of(train=["a.tsv"], out="runs/a").to_dict()
    del saved["model"]["unknown_buckets"]  # run.json as written before the setting
    assert TrainConfig.from_dict(saved).model.unknown_buckets == 0  # so its checkpoint resumes as trained
    assert TrainConfig.from_dict({"model": {"hidden_dim": 8}}).model.unknown_buckets == 4096  # a caller's partial section: the default
    assert TrainConfig.from_dict({**saved, "unknown_buckets": 32}).model.unknown_buckets == 32  # said outright
    assert TrainConfig.from_dict(OLD_FLAT_RUN_JSON).model.unknown_buckets == 4096  # flat: cannot resume anyway, so the default


def test_a_run_reads_rare_training_tokens_as_their_buckets():
    groups = Groups(sentences=["reset my pin", "reset the pin", "card lost", "card stolen zq"],
                    labels=np.array([0, 0, 1, 1]), names=["pin", "card"])
    cfg = TrainConfig.of(out="runs/a", tokenizer="word", min_count=2, unknown_buckets=16, val_same_groups=True)
    data = prepare_data(cfg, TrainGroups(train=groups, val=groups))
    tok = data.tokenizer
    assert tok.unknown_buckets == 16 and set(tok.tokens[2:]) == {"reset", "pin", "card"}
    rare = data.token_ids[3][1:]  # stolen, zq: seen once, so each is read as its bucket
    assert rare.tolist() == [len(tok.tokens) + bucket_of(word, 16) for word in ("stolen", "zq")]


INT_SETTINGS = [f for section in SECTIONS.values() for f in fields(section) if f.type in ("int", "int | None")]


@pytest.mark.parametrize("f", INT_SETTINGS, ids=lambda f: f.name)
def test_every_int_setting_has_a_ceiling_checked_by_config_and_flag(f):
    """No integer reaches torch or numpy unbounded (torch.manual_seed overflows past 64 bits,
    torch.set_num_threads past a C int): the config and the flag both refuse it, naming it."""
    ceiling = f.metadata.get("at_most")
    assert ceiling is not None and ceiling <= 2**63 - 1
    assert setting_problem(f.name, ceiling, f.type, f.metadata) is None
    too_big = setting_problem(f.name, ceiling + 1, f.type, f.metadata)
    assert too_big == f"{f.name} must be at most {ceiling}, got {ceiling + 1}"
    parser = argparse.ArgumentParser()
    add_flag(parser, f)
    flag = "--" + (f.metadata.get("flag") or f.name).replace("_", "-")
    with pytest.raises(SystemExit):
        parser.parse_args([flag, str(ceiling + 1)])


@pytest.mark.parametrize("argv, message", [
    (["--seed", str(2**64)], f"argument --seed: must be at most {2**63 - 1}, got {2**64}"),
    (["--seed", "-1"], "argument --seed: must be at least 0, got -1"),
    (["--threads", str(2**31)], "argument --threads: must be at most 1024"),
    (["--epochs", str(2**64)], "argument --epochs: must be at most 1000000"),
    (["--batch-size", str(2**63)], "argument --batch-size: must be at most 1000000"),
])
def test_train_number_flags_past_their_ceiling_are_one_line(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["train", "--train", "a.tsv", "--out", str(tmp_path / "run")] + argv)
    err = capsys.readouterr().err.strip()
    assert exit.value.code == 2 and err.startswith("samesense: error: ")
    assert message in err and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("sentences, chosen", [(0, 1), (90, 1), (999, 1), (1_000, 2), (9_999, 2), (10_000, 5),
                                               (70_000, 5)])
def test_min_count_is_chosen_from_the_training_size_unless_given(sentences, chosen):
    assert TrainConfig.of(out="o").model.min_count_for(sentences) == chosen
    assert TrainConfig.of(out="o", min_count=3).model.min_count_for(sentences) == 3  # given: kept as it is
    assert TrainConfig.of(out="o").model.tokenizer_config(sentences)["min_count"] == chosen


def test_min_count_and_val_same_groups_flags():
    parser = argparse.ArgumentParser()
    add_sections(parser, SECTIONS)
    assert parser.parse_args(["--min-count", "2", "--val-same-groups"]).__dict__ == {"min_count": 2,
                                                                                  "val_same_groups": True}
    assert parser.parse_args([]).__dict__ == {}  # not given: chosen from the data; the command line's default
    help_text = parser.format_help()
    assert "chosen from the training sentences, 5 from 10,000 on, 2 from 1,000, else 1" in " ".join(help_text.split())


def test_sampled_and_split_centres_are_refused_where_they_cannot_work():
    base = dict(train=["x"], out="y")
    plan_run(TrainConfig.of(**base, sample_rate=0.1, processes=2))
    with pytest.raises(SamesenseError, match=r"--sample-rate\): only with a loss over all groups .* not triplet"):
        plan_run(TrainConfig.of(**base, sample_rate=0.1, loss="triplet"))
    with pytest.raises(SamesenseError, match="not with --center-loss or --orthogonal"):
        plan_run(TrainConfig.of(**base, processes=2, orthogonal=1e-4))
    with pytest.raises(SamesenseError, match="distillation runs in one process"):
        plan_run(TrainConfig.of(**base, processes=2, teacher="e5-small"))
    for bad in (0.0, 1.5):
        with pytest.raises(SamesenseError, match="sample_rate must be"):
            TrainConfig.of(**base, sample_rate=bad).check()
    # a run.json from before these settings resumes as it was trained: every centre, one process
    old = TrainConfig.of(**base).to_dict()
    del old["loss"]["sample_rate"], old["run"]["processes"]
    again = TrainConfig.from_dict(old)
    assert again.loss.sample_rate == 1.0 and again.run.processes == 1


def test_defaults_are_written_at_start_and_an_older_run_json_reads_as_it_was_trained():
    from samesense.train.migrate import as_saved_before, started

    cfg = TrainConfig.of(train=["x"], out="y")  # the static default: words, 1e-2
    assert (started(cfg).model.tokenizer, started(cfg).optim.lr) == ("jieba", 1e-2)
    assert started(cfg.replace(encoder="gru")).model.tokenizer == "char"
    # a run.json from before lr and tokenizer were written out: the rates and tokenizer of then
    old = as_saved_before(cfg)
    assert (old.model.tokenizer, old.optim.lr, old.optim.head_lr) == ("char", 1e-3, 1e-3)
    assert as_saved_before(cfg.replace(lr=1e-2, tokenizer="jieba")).optim.lr == 1e-2
