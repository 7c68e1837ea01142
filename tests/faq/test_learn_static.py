"""`samesense faq learn` on a bank whose model is a static one (a table of token vectors, their weighted
mean), built by the test from random rows: the table fine-tuned from the bank model's own rows and
weights (train --start-from), the switch when the new model answers more held-back paraphrases, the
refusal when it does not, the way back, and a second learn starting from the same base."""

import json

import numpy as np
import pytest
import torch
from test_learn import FILLER, KEYS, answers, filler_bank, make_bank, settings

from samesense.cli import main
from samesense.errors import SamesenseError
from samesense.faq.learn import LearnOptions, learn
from samesense.faq.learn_models import LEARN_HISTORY, models_dir
from samesense.runtime.saved_static import SavedStatic
from samesense.runtime.static_model import load

# a random table of 16-d rows learns six groups of a few words in a few dozen steps
FAST = {"epochs": 20, "lr": 5e-2, "holdout": 0.5, "batch_size": 16, "threads": 1, "show_progress": False}


def write_static_model(folder, seed=0):
    """A static model of the test's words (word tokens), random rows and weights near 1."""
    from samesense.encoders import Pooling, StaticEncoder
    from samesense.model import SentenceModel
    from samesense.tokenize import make_tokenizer

    words = [*KEYS, *" ".join(FILLER).split(), "please", "what", "weather"]
    tokenizer = make_tokenizer({"type": "word", "max_len": 16, "min_count": 1, "unknown_buckets": 0}).fit(words)
    generator = torch.Generator().manual_seed(seed)
    encoder = StaticEncoder(tokenizer.num_ids, 16)
    encoder.start_from(torch.randn(tokenizer.num_ids, 16, generator=generator),
                       1 + 0.1 * torch.rand(tokenizer.num_ids, generator=generator))
    SentenceModel(tokenizer, [encoder, Pooling("mean")], {"made_by": "test"}).save(folder)
    return str(folder)


@pytest.fixture(scope="module")
def static_model(tmp_path_factory):
    return write_static_model(tmp_path_factory.mktemp("static") / "model")


def repeated_key_bank(path, model):
    """Each entry's questions are its key word said one to five times: a static model gives them all
    the key's vector, so the model before learning answers every held-back paraphrase already."""
    return make_bank(path, model, lambda i, key: [" ".join([key] * n) for n in range(1, 6)])


def table(folder):
    return SavedStatic(folder).table_parts()


def test_learn_fine_tunes_the_static_table_switches_and_rollback_restores(static_model, tmp_path, capsys):
    bank = filler_bank(tmp_path / "bank.faq", static_model)
    before, before_settings = answers(bank), settings(bank)
    report = learn(bank, LearnOptions(**FAST))
    assert report.switched, report.to_text()
    assert report.new["counts"]["right"] > report.current["counts"]["right"]
    assert report.base == {"encoder": "static", "start_from": static_model, "pooling": "mean"}
    learned = settings(bank)["model_path"]
    assert learned == str(models_dir(bank) / "1") == report.model
    saved = SavedStatic(learned)
    assert saved.info["started_from"] == static_model
    assert saved.info["started_from_fingerprint"] == SavedStatic(static_model).fingerprint
    # the base's tokenizer kept, its table moved: trained from its rows, not from new ones
    assert saved.tokenizer.tokens == SavedStatic(static_model).tokenizer.tokens
    (rows, weights), (base_rows, base_weights) = table(learned), table(static_model)
    assert rows.shape == base_rows.shape and not np.allclose(rows, base_rows)
    untouched = SavedStatic(static_model).tokenizer.ids["weather"]  # in no question of the bank
    assert np.allclose(rows[untouched], base_rows[untouched]) and np.isclose(weights[untouched], base_weights[untouched])
    assert answers(bank) != before

    assert main(["faq", "rollback", str(bank), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["spec"] == static_model
    restored = settings(bank)
    assert restored["model_path"] == static_model and restored[LEARN_HISTORY] == []
    for key in ("model_fingerprint", "threshold", "margin"):
        assert restored[key] == before_settings[key], key
    assert answers(bank) == before


def test_a_second_learn_starts_from_the_base_not_from_the_last_learned_model(static_model, tmp_path):
    bank = filler_bank(tmp_path / "bank.faq", static_model)
    assert learn(bank, LearnOptions(**FAST)).switched
    first = settings(bank)["model_path"]
    report = learn(bank, LearnOptions(**FAST))  # the same entries: the same start, the same training
    assert report.base["start_from"] == static_model != first
    assert not report.switched  # the same model again answers no more than the first learn's
    assert report.new["counts"] == report.current["counts"]


def test_learn_keeps_the_static_model_when_the_new_one_answers_no_more(static_model, tmp_path, capsys):
    bank = repeated_key_bank(tmp_path / "bank.faq", static_model)
    before, before_settings = answers(bank), settings(bank)
    assert main(["faq", "learn", str(bank), "--epochs", "20", "--lr", "5e-2", "--holdout", "0.5", "--batch-size",
                 "16", "--threads", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "not switched" in out and "not more, so the bank keeps its model" in out
    after = settings(bank)
    assert not after.pop("learn_last")["switched"]
    assert {k: v for k, v in after.items() if k != "generation"} == \
        {k: v for k, v in before_settings.items() if k != "generation"}
    assert answers(bank) == before


def test_a_learned_static_model_whose_base_changed_is_refused_in_one_line(tmp_path, capsys):
    base = write_static_model(tmp_path / "base")
    bank = filler_bank(tmp_path / "bank.faq", base)
    assert learn(bank, LearnOptions(**FAST)).switched
    write_static_model(tmp_path / "other", seed=1)
    for name in ("encoder/weights.safetensors", "manifest.json"):  # the base's files replaced by another model's
        (tmp_path / "base" / name).write_bytes((tmp_path / "other" / name).read_bytes())
    assert main(["faq", "learn", str(bank), "--threads", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "the static model this bank's model was learned from is gone or its files changed" in err
    assert "Traceback" not in err


def test_freeze_layers_on_a_static_bank_is_refused(static_model, tmp_path):
    bank = filler_bank(tmp_path / "bank.faq", static_model)
    with pytest.raises(SamesenseError, match="static table of token vectors, which has no layers"):
        learn(bank, LearnOptions(**{**FAST, "freeze_layers": 1}))
    assert load(static_model).fingerprint == settings(bank)["model_fingerprint"]
