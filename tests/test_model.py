import json
import pickle

import numpy as np
import pytest
import torch

import samesense
from samesense.errors import SamesenseError
from samesense.model import SentenceModel
from samesense.tokenize import CharTokenizer


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
    with pytest.raises(SamesenseError, match="list of sentences"):
        model.encode("one string")


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

