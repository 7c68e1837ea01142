"""What --model names (samesense.encoder_spec): one grammar and one resolver for every command."""

import json

import pytest
import torch

from fake_encoders import WordsBaseline, register_words_baseline

from samesense.encoder_spec import EncoderSpec, parse_encoder_spec, resolve_encoder
from samesense.errors import SamesenseError
from samesense.model import SentenceModel
from samesense.tokenize import CharTokenizer


def save_small_model(path):
    torch.manual_seed(0)
    tokenizer = CharTokenizer(min_count=1, max_len=16).fit(["hello world", "how are you"])
    return SentenceModel.build(tokenizer, {"type": "gru", "embed_dim": 8, "hidden_dim": 12}).save(path)


def test_baselines_are_named_bare_or_with_the_prefix():
    assert parse_encoder_spec("minilm") == EncoderSpec("baseline", "minilm")
    assert parse_encoder_spec("baseline:e5-small") == EncoderSpec("baseline", "e5-small")
    assert parse_encoder_spec("bm25").text == "baseline:bm25" and not parse_encoder_spec("bm25").has_vectors


def test_a_samesense_model_is_named_by_its_folder_or_its_run(tmp_path):
    model_dir = save_small_model(tmp_path / "run" / "model")
    expected = EncoderSpec("samesense", str(model_dir.resolve()))
    assert parse_encoder_spec(model_dir) == parse_encoder_spec(tmp_path / "run") == expected
    assert parse_encoder_spec(expected.text) == expected  # what a bank stores reads back the same
    loaded = resolve_encoder(tmp_path / "run")
    assert loaded.spec == expected.text and loaded.dim == 12


@pytest.mark.parametrize("marker", ["modules.json", "config_sentence_transformers.json"])
def test_a_sentence_transformers_folder_is_told_by_its_files(tmp_path, marker):
    (tmp_path / "st").mkdir()
    (tmp_path / "st" / marker).write_text("[]")
    (tmp_path / "st" / "config.json").write_text(json.dumps({"model_type": "bert"}))  # not a legacy samesense one
    assert parse_encoder_spec(tmp_path / "st") == EncoderSpec("sentence-transformers", str((tmp_path / "st").resolve()))


def test_a_bare_baseline_name_that_is_also_a_folder_here_is_ambiguous(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "minilm").mkdir()
    with pytest.raises(SamesenseError, match="write baseline:minilm for the baseline or ./minilm for the folder"):
        parse_encoder_spec("minilm")
    assert parse_encoder_spec("baseline:minilm").kind == "baseline"
    with pytest.raises(SamesenseError, match="not a model folder"):
        parse_encoder_spec("./minilm")


@pytest.mark.parametrize("spec, message", [
    ("no/such/thing", "no/such/thing: no such model folder, nor a baseline (bm25, minilm, e5-small)"),
    ("baseline:word2vec", "unknown baseline 'word2vec': choose from bm25, minilm, e5-small"),
    (".", "not a model folder: no manifest.json (samesense) nor modules.json (sentence-transformers)"),
])
def test_what_names_nothing_is_one_line(spec, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SamesenseError) as err:
        parse_encoder_spec(spec)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_bm25_is_refused_where_vectors_are_needed_before_anything_loads(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "bm25s", None)  # loading it would fail differently
    with pytest.raises(SamesenseError, match="bm25 ranks by shared words and has no vectors, which an FAQ bank"):
        resolve_encoder("bm25", need_vectors="an FAQ bank")


def test_a_baseline_resolves_to_the_loaded_baseline_with_its_spec(monkeypatch):
    register_words_baseline(monkeypatch)
    encoder = resolve_encoder("words")
    assert isinstance(encoder, WordsBaseline) and encoder.spec == "baseline:words"
