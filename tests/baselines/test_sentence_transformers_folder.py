"""A sentence-transformers folder on disk as a TextEncoder: read by sentence-transformers, or by
transformers alone to the same vectors, or refused in one line saying what to install. The folder is
a tiny random BERT written here (nothing pretrained); the tests skip without transformers."""

import sys

import numpy as np
import pytest

pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

from fake_encoders import write_sentence_transformers_folder  # noqa: E402

from samesense.baselines.dense import SentenceTransformerFolder  # noqa: E402
from samesense.errors import SamesenseError  # noqa: E402
from samesense.model import fingerprint  # noqa: E402
from samesense.protocols import TextEncoder  # noqa: E402

TEXTS = ["how do i reset my pin", "I forgot my PIN", "what is the weather today", "zzz 😀", "  book a table  "]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_sentence_transformers_folder(tmp_path_factory.mktemp("st") / "tiny")


@pytest.fixture
def without_sentence_transformers(monkeypatch):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # makes the import fail


def test_a_folder_fills_the_text_encoder_contract(folder):
    encoder = SentenceTransformerFolder(folder)
    assert isinstance(encoder, TextEncoder) and encoder.dim == 16
    assert encoder.fingerprint == fingerprint(folder) and encoder.spec == str(folder.resolve())
    vectors = encoder.encode(TEXTS, batch_size=2)
    assert vectors.shape == (5, 16) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(encoder.encode(TEXTS[2:3])[0], vectors[2], atol=1e-5)  # batching changes nothing
    assert encoder.encode([]).shape == (0, 16)
    assert encoder.unknown_fraction(TEXTS)[:4] == [0.0, 0.0, 0.0, 1.0]


@pytest.mark.parametrize("pooling", [
    {"word_embedding_dimension": 16, "pooling_mode_mean_tokens": True},
    {"word_embedding_dimension": 16, "pooling_mode_cls_token": True},
    {"embedding_dimension": 16, "pooling_mode": "max"},
])
def test_transformers_alone_gives_the_vectors_sentence_transformers_gives(tmp_path, monkeypatch, pooling):
    pytest.importorskip("sentence_transformers")
    folder = write_sentence_transformers_folder(tmp_path / "st", pooling=pooling, prompt="query: ")
    by_sentence_transformers = SentenceTransformerFolder(folder)
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    alone = SentenceTransformerFolder(folder)
    assert type(alone.model).__name__ == "TransformerPooling"
    assert alone.fingerprint == by_sentence_transformers.fingerprint and alone.dim == by_sentence_transformers.dim
    assert np.allclose(alone.encode(TEXTS, batch_size=2), by_sentence_transformers.encode(TEXTS), atol=1e-5)
    assert alone.unknown_fraction(TEXTS) == by_sentence_transformers.unknown_fraction(TEXTS)


def test_without_either_package_the_error_says_what_to_install(folder, monkeypatch, without_sentence_transformers):
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(SamesenseError, match="pip install sentence-transformers") as err:
        SentenceTransformerFolder(folder)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("change, message", [
    ({"modules": [{"path": "", "type": "sentence_transformers.models.Transformer"},
                  {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                  {"path": "2_Dense", "type": "sentence_transformers.models.Dense"}]}, "its Dense module needs"),
    ({"pooling": {"pooling_mode": "lasttoken"}}, "its pooling (lasttoken"),
    ({"pooling": {"pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": True}}, "its pooling (mean+max"),
])
def test_transformers_alone_refuses_what_it_cannot_run_as_sentence_transformers_would(
        tmp_path, without_sentence_transformers, change, message):
    folder = write_sentence_transformers_folder(tmp_path / "st", **change)
    with pytest.raises(SamesenseError, match="needs sentence-transformers") as err:
        SentenceTransformerFolder(folder)
    assert message in str(err.value)


def test_a_damaged_folder_is_one_line(tmp_path):
    folder = write_sentence_transformers_folder(tmp_path / "st")
    (folder / "model.safetensors").unlink()
    with pytest.raises(SamesenseError, match="cannot read the model") as err:
        SentenceTransformerFolder(folder)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("reader", ["sentence-transformers", "transformers alone"])
def test_a_folder_with_pickled_weights_only_is_refused_before_any_library_reads_it(folder, tmp_path, reader,
                                                                                  monkeypatch):
    """A pytorch_model.bin is a pickle: samesense never unpickles a model file, so a folder whose
    weights come only as one is one line, before torch's loader sees the file."""
    import shutil

    import torch
    from safetensors.torch import load_file

    if reader == "transformers alone":
        monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    elif "sentence_transformers" not in sys.modules:
        pytest.importorskip("sentence_transformers")
    pickled = shutil.copytree(folder, tmp_path / "pickled")
    torch.save(load_file(str(pickled / "model.safetensors")), pickled / "pytorch_model.bin")
    (pickled / "model.safetensors").unlink()
    with pytest.raises(SamesenseError) as err:
        SentenceTransformerFolder(pickled)
    assert str(err.value) == (f"{pickled.resolve()}: its weights are only pickles (pytorch_model.bin): samesense "
                              "reads safetensors weights, never a pickle (save the model with safetensors)")
