"""samesense distil: a static model made from a teacher token by token, with no training, used as
any model (a teacher made here: words hashed into buckets, tests/fake_encoders.py)."""

import json

import numpy as np
import pytest

import samesense
from samesense.cli import main
from samesense.runtime.static_model import StaticModel

from fake_encoders import WORDS, register_words_baseline


@pytest.fixture
def sentences(tmp_path):
    path = tmp_path / "faq.txt"
    path.write_text("\n".join([" ".join(WORDS[i: i + 4]) for i in range(0, len(WORDS) - 3)] * 2) + "\n")
    return path


def test_distil_writes_a_static_model_that_encodes_and_resumes_from_its_cache(sentences, tmp_path, monkeypatch,
                                                                              capsys):
    teacher = register_words_baseline(monkeypatch)
    out, cache = tmp_path / "static", tmp_path / "cache"
    assert main(["distil", teacher, "--out", str(out), "--vocab-from", str(sentences), "--dims", "8", "--tokenizer", "word",
                 "--teacher-cache", str(cache), "--quiet"]) == 0
    assert f"distilled {teacher} into {out}" in capsys.readouterr().out
    model = samesense.load(out)
    assert isinstance(model, StaticModel) and model.dim == 8 and model.info["distilled_from"] == teacher
    vectors = model.encode(["how do i reset my pin", "reset my pin", "book a table for two"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]  # shared words, nearer
    again = tmp_path / "again"  # from the cache: the same model, byte for byte
    assert main(["distil", teacher, "--out", str(again), "--vocab-from", str(sentences), "--dims", "8", "--tokenizer", "word",
                 "--teacher-cache", str(cache), "--quiet"]) == 0
    assert samesense.load(again).fingerprint == model.fingerprint
    assert main(["distil", teacher, "--out", str(out), "--vocab-from", str(sentences), "--dims", "8", "--tokenizer", "word",
                 "--teacher-cache", str(cache), "--quiet"]) == 2
    assert f"{out}: a model folder already (pass --overwrite to replace it)" in capsys.readouterr().err
    notes = tmp_path / "notes"  # a folder of something else: never replaced, even with --overwrite
    notes.mkdir()
    (notes / "todo.txt").write_text("keep me")
    assert main(["distil", teacher, "--out", str(notes), "--vocab-from", str(sentences), "--dims", "8", "--tokenizer", "word",
                 "--teacher-cache", str(cache), "--quiet", "--overwrite"]) == 2
    assert "exists and is not a model folder" in capsys.readouterr().err and (notes / "todo.txt").is_file()


def test_distil_refuses_more_dimensions_than_the_teacher_has_in_one_line(sentences, tmp_path, monkeypatch, capsys):
    teacher = register_words_baseline(monkeypatch)
    assert main(["distil", teacher, "--out", str(tmp_path / "s"), "--vocab-from", str(sentences), "--dims", "100",
                 "--tokenizer", "word", "--teacher-cache", str(tmp_path / "c"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "samesense: error: token vectors of 100 dimensions: more than the teacher's 64"


def test_distil_takes_the_teachers_own_vocabulary_by_default(tmp_path, capsys):
    pytest.importorskip("transformers")
    from fake_encoders import write_sentence_transformers_folder

    teacher = write_sentence_transformers_folder(tmp_path / "teacher")
    out = tmp_path / "static"
    assert main(["distil", str(teacher), "--out", str(out), "--dims", "8", "--teacher-cache", str(tmp_path / "c"),
                 "--quiet"]) == 0
    assert "(teacher tokenizer), 8-d" in capsys.readouterr().out
    model = samesense.load(out)
    assert isinstance(model, StaticModel) and model.tokenizer.type == "teacher"
    assert model.tokenizer.ids == json.loads((teacher / "tokenizer.json").read_text())["model"]["vocab"]
    vectors = model.encode(["how do i reset my pin", "reset my pin", "book a table for two"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert main(["distil", str(teacher), "--out", str(tmp_path / "words"), "--tokenizer", "word", "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == "samesense: error: --vocab-from: no sentences to take a vocabulary from"
