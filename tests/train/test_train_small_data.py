"""Training defaults on a small FAQ (30 entries, 90 questions), and the same defaults on data of the
benchmarks' size, which must resolve to the settings the figures in docs/ were measured with."""

import json
import random
import sys
from pathlib import Path

import numpy as np
import pytest

import samesense
from samesense.cli import main
from samesense.data import Groups, load_groups, split_groups
from samesense.errors import SamesenseError
from samesense.train import TrainConfig, TrainGroups, prepare_data, train
from samesense.train.data import MIN_VAL_QUERIES

COMMON_WORDS = ["how", "do", "i", "can", "my", "the", "what", "is", "a", "to"]
TINY = dict(tokenizer="word", epochs=3, embed_dim=8, hidden_dim=8, batch_size=16, spectra=False,
            show_progress=False)


def faq_records(entries: int = 30, questions: int = 3, prefix: str = "faq", seed: int = 0) -> list[tuple[str, str]]:
    """An English FAQ: each entry's questions share its two topic words (so each is seen
    `questions` times) among common words seen everywhere."""
    rng = random.Random(seed)
    records = []
    for entry in range(entries):
        topic = [f"topic{entry}x", f"topic{entry}y"]
        for _ in range(questions):
            words = rng.sample(COMMON_WORDS, 4) + topic
            rng.shuffle(words)
            records.append((f"{prefix}{entry}", " ".join(words)))
    return records


def write_tsv(path: Path, records: list[tuple[str, str]]) -> str:
    path.write_text("".join(f"{g}\t{s}\n" for g, s in records), encoding="utf-8")
    return str(path)


# ---------------------------------------------------------------------------------------------
# A small FAQ


def test_a_small_faq_keeps_its_words_with_the_min_count_chosen_for_its_size():
    faq = Groups.from_records(faq_records())
    chosen = prepare_data(TrainConfig.of(out="r", tokenizer="word"), TrainGroups(train=faq))
    assert chosen.tokenizer.min_count == 1  # under 1,000 training sentences
    topic_words = {w for s in chosen.train.sentences for w in s.split() if w.startswith("topic")}
    assert topic_words <= set(chosen.tokenizer.tokens)
    old_default = prepare_data(TrainConfig.of(out="r", tokenizer="word", min_count=5), TrainGroups(train=faq))
    assert not topic_words & set(old_default.tokenizer.tokens)  # what the issue saw: common words only


def test_held_out_groups_are_named_and_too_small_validation_keeps_the_last_epoch(tmp_path, capsys):
    faq = Groups.from_records(faq_records())
    out = tmp_path / "run"
    result = train(TrainConfig.of(out=str(out), **TINY), data=TrainGroups(train=faq))
    said = capsys.readouterr().err
    _, held = split_groups(faq, 0.1, 0)
    assert held.num_groups and held.num_groups * 3 < MIN_VAL_QUERIES
    assert f"held out of training for validation (--val-fraction 0.1): {held.num_groups} of 30 groups: " \
           + ", ".join(repr(n) for n in held.names) in said
    assert f"only {held.num_groups * 3} validation queries" in said and "the last is kept" in said
    assert "min count 1, chosen for" in said
    assert result["best_epoch"] == result["epochs"] == 3  # not the epoch 3 queries happened to favour
    assert samesense.load(out).info["best_epoch"] == 3
    assert "kept the last epoch, 3" in said


def test_validation_large_enough_still_chooses_the_best_epoch():
    many = Groups.from_records(faq_records(entries=40, questions=3, prefix="other", seed=3))
    data = prepare_data(TrainConfig.of(out="r", tokenizer="word"),
                        TrainGroups(train=Groups.from_records(faq_records()), val=many))
    assert data.val_queries == 120 >= MIN_VAL_QUERIES and data.chooses_epoch and data.val_seen == []


# ---------------------------------------------------------------------------------------------
# Validation groups that are training groups


def test_validation_on_training_groups_is_refused_unless_meant(tmp_path, capsys):
    train_file = write_tsv(tmp_path / "faq.tsv", faq_records())
    other_questions = write_tsv(tmp_path / "val.tsv", faq_records(questions=2, seed=1))  # same ids
    renamed = write_tsv(tmp_path / "renamed.tsv", [(f"copy-{g}", s) for g, s in faq_records()])
    argv = ["train", "--train", train_file, "--tokenizer", "word", "--epochs", "1", "--embed-dim", "8",
            "--hidden-dim", "8", "--no-spectra", "--quiet"]
    for val, why in ((other_questions, "'faq0', 'faq1', 'faq2' and 27 more"),
                     (renamed, "'copy-faq0', 'copy-faq1', 'copy-faq2' and 27 more")):
        assert main(argv + ["--val", val, "--out", str(tmp_path / "refused")]) == 2
        err = capsys.readouterr().err
        assert err == (f"samesense: error: {val}: 30 of 30 validation groups are training groups (the same group "
                       f"id, or mostly training sentences: {why}); validation is meant to score groups the model "
                       "never saw: give a file of other groups, or --val-same-groups to validate on the training "
                       "intents on purpose\n")
        assert not (tmp_path / "refused").exists()
    assert main(argv + ["--val", other_questions, "--out", str(tmp_path / "meant"), "--val-same-groups"]) == 0
    assert "validating on 60 sentences in 30 groups seen in training" in capsys.readouterr().err
    # Python refuses them alike; a script that means them says so (the benchmarks that validate on
    # the dev queries of their training intents)
    with pytest.raises(SamesenseError, match="30 of 30 validation groups are training groups"):
        train(TrainConfig.of(train=[train_file], val=other_questions, out=str(tmp_path / "script"), **TINY))
    train(TrainConfig.of(train=[train_file], val=other_questions, out=str(tmp_path / "script"), **TINY,
                         val_same_groups=True))
    assert "in 30 groups seen in training" in capsys.readouterr().err


def test_a_few_shared_sentences_make_no_validation_group_seen():
    train_groups = Groups.from_records(faq_records())
    val = faq_records(entries=20, questions=3, prefix="new", seed=5)
    val[0] = ("new0", train_groups.sentences[0])  # one of 60: data sets of one domain share a few
    data = prepare_data(TrainConfig.of(out="r", tokenizer="word"),
                        TrainGroups(train=train_groups, val=Groups.from_records(val)))
    assert data.val_seen == []
    some = faq_records(entries=3, questions=2, seed=1) + faq_records(entries=20, questions=3, prefix="new", seed=5)
    data = prepare_data(TrainConfig.of(out="r", tokenizer="word", val_same_groups=True),  # three training intents
                        TrainGroups(train=train_groups, val=Groups.from_records(some)))
    assert data.val_seen == ["faq0", "faq1", "faq2"]
    with pytest.raises(SamesenseError, match="3 of 23 validation groups are training groups"):
        prepare_data(TrainConfig.of(out="r", tokenizer="word"), data)  # reused data too


# ---------------------------------------------------------------------------------------------
# Data of the benchmarks' size: the settings the figures in docs/ were measured with


def chinese_groups(groups: int, sentences: int, seed: int, prefix: str) -> Groups:
    """Groups of 2 to 4 sentences of 6 to 16 characters, drawn Zipf-like from 6,000 CJK
    characters, so that many are seen fewer than 5 times (as in the Chinese training union)."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, 6001) ** 1.3
    sizes = np.full(groups, 2) + (rng.random(groups) < (sentences / groups - 2) / 1.5) * rng.integers(1, 3, groups)
    lengths = rng.integers(6, 17, sizes.sum())
    text = "".join(chr(0x4E00 + i) for i in rng.choice(6000, lengths.sum(), p=weights / weights.sum()))
    ends = np.cumsum(lengths)
    ids = np.repeat([f"{prefix}{g}" for g in range(groups)], sizes)
    return Groups.from_records([(g, text[end - n:end]) for g, end, n in zip(ids, ends, lengths)])


@pytest.fixture(scope="module")
def benchmark_size():
    """The Chinese core benchmark's shape: a training union of ~70k sentences in 25k groups, and a
    validation file of other groups (lcqmc dev: 7.5k sentences in 3.2k groups)."""
    return chinese_groups(25_000, 70_000, 0, "zh:"), chinese_groups(3_200, 7_500, 1, "lcqmc:")


def test_benchmark_size_data_resolves_to_todays_settings(benchmark_size):
    train_groups, val = benchmark_size
    assert len(train_groups) > 60_000 and train_groups.num_groups == 25_000
    given = TrainGroups(train=train_groups, val=val)
    as_benchmarks_run = prepare_data(TrainConfig.of(out="r"), given)  # core_zh.py and run.py: no min_count
    as_before = prepare_data(TrainConfig.of(out="r", min_count=5), given)  # the old default, said outright
    assert as_benchmarks_run.tokenizer.config() == as_before.tokenizer.config() == {
        "max_len": 32, "min_count": 5, "normalize": True, "unknown_buckets": 4096}
    assert as_benchmarks_run.tokenizer.tokens == as_before.tokenizer.tokens
    assert len(as_before.tokenizer) < len(set("".join(train_groups.sentences)))  # rare characters left out
    assert as_benchmarks_run.token_ids == as_before.token_ids
    assert np.array_equal(as_benchmarks_run.row_labels, as_before.row_labels)
    assert as_benchmarks_run.summary() == as_before.summary()  # what a checkpoint compares on resume
    assert as_benchmarks_run.val_seen == [] and as_benchmarks_run.held_out == []
    assert as_benchmarks_run.chooses_epoch  # the best epoch by validation top-1, as before
    # held out instead of a validation file: the same split as before, named, and large enough
    held = prepare_data(TrainConfig.of(out="r"), TrainGroups(train=train_groups))
    before_train, before_val = split_groups(train_groups, 0.1, 0)
    assert held.train.names == before_train.names and held.val.names == before_val.names == held.held_out
    assert held.tokenizer.min_count == 5 and held.chooses_epoch


REAL_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.mark.skipif(not (REAL_DATA / "zh").is_dir(), reason="no benchmark data beside the repository")
def test_the_real_benchmark_trainings_resolve_as_before():
    """benchmarks/run.py and core_zh.py: the Chinese union validated on lcqmc dev (unseen groups,
    min count 5); the English intent sets validated on their dev queries (the same intents: seen,
    which run.py says with val_same_groups)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from common import ZH_TRAIN, ZH_VAL  # the files the benchmarks train and validate on

    zh = TrainGroups(train=load_groups([str(REAL_DATA / p) for p in ZH_TRAIN]), val=load_groups(REAL_DATA / ZH_VAL))
    data = prepare_data(TrainConfig.of(out="r"), zh)
    assert data.tokenizer.min_count == 5 and data.val_seen == [] and data.chooses_epoch
    for name, intents in (("clinc150", 150), ("banking77", 77), ("qqp", 0)):
        en = TrainGroups(train=load_groups(REAL_DATA / "en" / name / "groups_train.tsv"),
                         val=load_groups(REAL_DATA / "en" / name / "groups_dev.tsv"))
        data = prepare_data(TrainConfig.of(out="r", tokenizer="word", min_count=2, val_same_groups=True), en)
        assert len(data.val_seen) == intents and data.chooses_epoch, name


def test_a_run_saved_with_the_old_default_resumes_with_min_count_unset(synthetic_files, tmp_path):
    """Benchmarks resume their runs (resume=True) without giving min_count: a run.json from before
    the choice holds 5 and no val_same_groups; the resumed run keeps 5."""
    train_file, test_file = synthetic_files
    out = tmp_path / "run"
    common = dict(train=[str(train_file)], val=str(test_file), out=str(out), embed_dim=8, hidden_dim=8,
                  batch_size=32, show_progress=False, spectra=False)
    train(TrainConfig.of(epochs=1, min_count=5, **common))
    saved = json.loads((out / "run.json").read_text())
    del saved["data"]["val_same_groups"]  # as written before the setting
    (out / "run.json").write_text(json.dumps(saved))
    resumed = train(TrainConfig.of(epochs=2, resume=True, **common))
    assert resumed["epochs"] == 2 and samesense.load(out).tokenizer.min_count == 5
    assert json.loads((out / "run.json").read_text())["model"]["min_count"] == 5
