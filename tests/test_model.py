import json
import pickle

import numpy as np
import pytest
import torch

import samesense
from samesense.errors import SamesenseError
from samesense.model import SentenceModel
from samesense.tokenize import CharTokenizer, WordTokenizer


def small_model(seed=0):
    torch.manual_seed(seed)
    tok = CharTokenizer(min_count=1, max_len=16).fit(["hello world", "how are you", "你好世界"])
    return SentenceModel.build(tok, {"type": "gru", "embed_dim": 8, "hidden_dim": 12})


TEXTS = ["hello", "how are you today", "你好", "", "zzz unknown ###"]


def test_encode_gives_unit_float32_in_input_order():
    model = small_model()
    vectors = model.encode(TEXTS, batch_size=2)
    assert vectors.dtype == np.float32 and vectors.shape == (5, 12)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    for i, text in enumerate(TEXTS):  # sorting by length must not reorder the output
        assert np.allclose(vectors[i], model.encode([text])[0], atol=1e-6)
    assert model.encode([]).shape == (0, 12)


def test_encode_of_one_string_gives_one_vector_as_sentence_transformers_does():
    model = small_model()
    vector = model.encode("how are you today")
    assert vector.shape == (12,) and vector.dtype == np.float32
    assert np.allclose(vector, model.encode(["how are you today"])[0], atol=1e-6)
    assert model.encode(["how are you today"]).shape == (1, 12)  # a list stays a matrix


def test_save_load_round_trip_without_pickle(tmp_path, monkeypatch):
    model = small_model()
    model.info = {"note": "trained on nothing"}
    path = model.save(tmp_path / "m")
    assert sorted(p.name for p in path.iterdir()) == ["encoder", "manifest.json", "pooling", "tokenizer"]
    manifest = json.loads((path / "manifest.json").read_text())
    assert [c["role"] for c in manifest["components"]] == ["tokenizer", "encoder", "pooling"]
    assert json.loads((path / "tokenizer" / "config.json").read_text())["type"] == "char"
    assert json.loads((path / "encoder" / "config.json").read_text())["hidden_dim"] == 12
    assert json.loads((path / "pooling" / "config.json").read_text()) == {"type": "pooling", "mode": "max"}
    assert manifest["dim"] == 12 and manifest["info"] == {"note": "trained on nothing"}

    def refuse(*args, **kwargs):
        raise AssertionError("loading a model must not unpickle anything")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    loaded = samesense.load(path)
    assert np.array_equal(loaded.encode(TEXTS), model.encode(TEXTS))
    assert loaded.fingerprint == model.fingerprint and len(loaded.fingerprint) == 64
    assert loaded.info == {"note": "trained on nothing"}


def test_fingerprint_changes_with_weights(tmp_path):
    a = small_model(0).save(tmp_path / "a")
    b = small_model(1).save(tmp_path / "b")
    assert samesense.load(a).fingerprint != samesense.load(b).fingerprint


def test_save_replaces_an_existing_model(tmp_path):
    small_model(0).save(tmp_path / "m")
    second = small_model(1)
    second.save(tmp_path / "m")
    assert np.array_equal(samesense.load(tmp_path / "m").encode(TEXTS), second.encode(TEXTS))
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temporaries left behind


def test_load_errors_are_clear(tmp_path):
    with pytest.raises(SamesenseError, match="no such model folder"):
        samesense.load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SamesenseError, match="not a samesense model folder"):
        samesense.load(tmp_path / "empty")
    path = small_model().save(tmp_path / "m")
    (path / "encoder" / "weights.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(SamesenseError, match="cannot load weights"):
        samesense.load(path)
    (path / "encoder" / "weights.safetensors").unlink()
    with pytest.raises(SamesenseError, match="weights.safetensors missing"):
        samesense.load(path)
    (path / "tokenizer" / "vocab.json").unlink()
    with pytest.raises(SamesenseError, match="vocab.json missing"):
        samesense.load(path)
    (path / "manifest.json").write_text("{not json")
    with pytest.raises(SamesenseError, match="damaged model file"):
        samesense.load(path)



# ---------------------------------------------------------------------------------------------
# Unknown words (issue 14): sentences of words the model never saw must not all look alike.

UNREADABLE = ["asdf qwer zxcv", "Привет мир ок", "🙂 🙃 😀"]  # three unknown tokens each


def word_model(unknown_buckets, seed=0):
    torch.manual_seed(seed)
    tok = WordTokenizer(min_count=1, unknown_buckets=unknown_buckets).fit(
        ["how do i reset my pin", "i forgot my password", "where is my card"])
    return SentenceModel.build(tok, {"type": "gru", "embed_dim": 16, "hidden_dim": 32})


def test_different_unknown_sentences_of_one_length_do_not_score_one(tmp_path):
    old = word_model(unknown_buckets=0).encode(UNREADABLE)
    assert np.allclose(old @ old.T, 1.0, atol=1e-6)  # the old behaviour: one <unk>, only the length counts
    model = word_model(unknown_buckets=64)
    vectors = model.encode(UNREADABLE)
    cosines = (vectors @ vectors.T)[np.triu_indices(3, 1)]
    assert (cosines < 0.9).all(), cosines
    loaded = samesense.load(model.save(tmp_path / "m"))  # the buckets are part of the saved model
    assert loaded.tokenizer.unknown_buckets == 64 and np.array_equal(loaded.encode(UNREADABLE), vectors)


@pytest.mark.parametrize("buckets", [64, None], ids=["64 buckets", "default"])
def test_a_model_trained_with_buckets_does_not_score_unknown_sentences_one(synthetic_files, tmp_path, buckets):
    from samesense.train import TrainConfig, train

    train_file, test_file = synthetic_files
    cfg = TrainConfig.of(train=[str(train_file)], val=str(test_file), out=str(tmp_path / "run"), epochs=2,
                         embed_dim=16, hidden_dim=32, batch_size=32, show_progress=False,
                         **({"unknown_buckets": buckets} if buckets else {}))
    model = samesense.load(train(cfg)["model"])
    assert model.tokenizer.unknown_buckets == (buckets or TrainConfig.of(out="x").model.unknown_buckets) > 0
    vectors = model.encode(UNREADABLE)
    assert ((vectors @ vectors.T)[np.triu_indices(3, 1)] < 0.99).all()


def test_unknown_fraction_tells_how_much_of_a_text_the_model_cannot_read():
    model = word_model(unknown_buckets=64)
    assert model.unknown_fraction(["reset my pin", "reset my asdf", *UNREADABLE, ""]) == [
        0.0, pytest.approx(1 / 3), 1.0, 1.0, 1.0, 1.0]
    assert word_model(unknown_buckets=0).unknown_fraction(["reset my asdf"]) == [pytest.approx(1 / 3)]
    assert model.unknown_fraction("reset my asdf") == pytest.approx(1 / 3)  # one string, one share, as encode
