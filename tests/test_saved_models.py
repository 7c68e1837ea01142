"""Model folders saved by earlier versions of samesense still load, to the same vectors.

tests/fixtures/models holds one folder of each kind a user may have on disk (a char GRU, a word GRU
with hashed unknown buckets and a projection, a sliced GRU, a GRU with glyphs, a fine-tuned
transformer, an ONNX export, and the format from before components), each saved by the version
named in expected.json, with that version's vectors of a few probe sentences. A change to the
model layer that alters what an old folder means fails here."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import samesense

FIXTURES = Path(__file__).parent / "fixtures" / "models"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
NEEDS = {"transformer": "transformers", "gru-char-onnx": "onnxruntime"}


@pytest.mark.parametrize("name", sorted(EXPECTED["vectors"]))
def test_a_folder_saved_by_an_earlier_version_loads_to_the_same_vectors(name, tmp_path):
    if name in NEEDS:
        pytest.importorskip(NEEDS[name])
    folder = shutil.copytree(FIXTURES / name, tmp_path / name)  # loading may tidy a folder: never the fixture
    expected = EXPECTED["vectors"][name]
    model = samesense.load(folder)
    assert model.fingerprint == expected["fingerprint"]  # loading read the files as they are, changing none
    assert np.allclose(model.encode(EXPECTED["probes"]), np.array(expected["vectors"], dtype=np.float32), atol=1e-5)
    assert np.allclose(model.unknown_fraction(EXPECTED["probes"]), expected["unknown_fraction"], atol=1e-6)
