"""samesense bench --model NAME=MODEL takes what every --model takes: a samesense model or run
folder, a sentence-transformers folder (its languages given), or a baseline."""

import pytest
from fake_encoders import WordsBaseline, register_words_baseline

from samesense.bench.methods import MethodSpec, RankerMethod, VectorMethod
from samesense.cli import main


def test_a_baseline_named_by_model_is_the_baseline(monkeypatch):
    register_words_baseline(monkeypatch)
    spec = MethodSpec.parse_model("mine=words@zh")
    assert spec.kind == "baseline" and spec.source == "words"
    method = spec.load(16, None)
    assert isinstance(method, VectorMethod) and isinstance(method.encoder, WordsBaseline)
    assert method.languages == ("zh",) and method.train_seconds == "pretrained"  # @zh overrides its own
    assert MethodSpec.parse_model("words=words").load(16, None).languages == ("en",)


def test_bm25_named_by_model_ranks(monkeypatch):
    pytest.importorskip("bm25s")
    method = MethodSpec.parse_model("b=baseline:bm25").load(16, None)
    assert isinstance(method, RankerMethod) and method.languages == ("zh", "en")


def test_a_sentence_transformers_folder_must_say_its_languages(tmp_path, capsys):
    (tmp_path / "st").mkdir()
    (tmp_path / "st" / "modules.json").write_text("[]")
    assert main(["bench", "--quiet", "--model", f"st={tmp_path / 'st'}"]) == 2
    err = capsys.readouterr().err
    assert "a sentence-transformers folder does not say its languages; add @en, @zh or @zh+en" in err
    assert err.count("\n") == 1


def test_a_sentence_transformers_folder_is_compared_as_a_pretrained_vector_method(tmp_path):
    pytest.importorskip("transformers")
    pytest.importorskip("tokenizers")
    from fake_encoders import write_sentence_transformers_folder

    folder = write_sentence_transformers_folder(tmp_path / "st")
    spec = MethodSpec.parse_model(f"st={folder}@en")
    spec.check()
    method = spec.load(16, None)
    assert spec.kind == "sentence-transformers" and method.languages == ("en",)
    assert method.describe() == {"languages": ["en"], "train_seconds": "pretrained", "dim": 16,
                                 "fingerprint": method.encoder.fingerprint, "path": str(folder)}
