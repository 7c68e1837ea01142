"""A model folder may come from anywhere: what it holds besides JSON and safetensors is refused in
one line before anything is read (issue 36, model folders): a link (to /dev/zero, or a file or
folder outside the model), a file larger than a model file may be, a component path with a NUL
character, a manifest made by a newer samesense."""

import json
import os
import shutil
from pathlib import Path

import pytest
import torch

import samesense
from samesense.components import MAX_JSON_BYTES
from samesense.errors import SamesenseError
from samesense.model import SentenceModel
from samesense.tokenize import CharTokenizer


@pytest.fixture
def folder(tmp_path) -> Path:
    torch.manual_seed(0)
    tokenizer = CharTokenizer(min_count=1, max_len=16).fit(["hello world", "你好"])
    return SentenceModel.build(tokenizer, {"type": "gru", "embed_dim": 8, "hidden_dim": 8}).save(tmp_path / "model")


def refused(folder: Path) -> str:
    with pytest.raises(SamesenseError) as err:
        samesense.load(folder)
    message = str(err.value)
    assert "\n" not in message
    return message


def test_a_vocabulary_linked_to_dev_zero_is_refused_before_it_is_read(folder):
    (folder / "tokenizer" / "vocab.json").unlink()
    (folder / "tokenizer" / "vocab.json").symlink_to("/dev/zero")
    assert "vocab.json: a link" in refused(folder)


def test_a_component_folder_or_file_linked_outside_the_model_is_refused(folder, tmp_path):
    outside = shutil.copytree(folder / "encoder", tmp_path / "elsewhere")
    shutil.rmtree(folder / "encoder")
    (folder / "encoder").symlink_to(outside, target_is_directory=True)
    assert "encoder: a link" in refused(folder)
    (folder / "encoder").unlink()
    (folder / "encoder").mkdir()
    (folder / "encoder" / "config.json").write_bytes((outside / "config.json").read_bytes())
    (folder / "encoder" / "weights.safetensors").symlink_to(outside / "weights.safetensors")
    assert "weights.safetensors: a link" in refused(folder)


def test_a_file_that_is_not_a_plain_file_is_refused(folder):
    os.mkfifo(folder / "pooling" / "extra")  # a reader would wait on it for ever
    assert "not a plain file" in refused(folder)


def test_a_file_larger_than_a_model_file_may_be_is_refused_before_it_is_read(folder):
    with open(folder / "tokenizer" / "vocab.json", "r+b") as fh:
        fh.truncate(MAX_JSON_BYTES + 1)  # sparse: no disk, and it is never read
    assert f"more than a model's JSON file may hold ({MAX_JSON_BYTES} bytes)" in refused(folder)


def test_a_component_path_with_a_nul_character_is_refused(folder):
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["components"][1]["path"] = "enc\u0000oder"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert "components[1].path must name a folder inside the model folder" in refused(folder)


@pytest.mark.parametrize("version, message", [(99, "made by a newer samesense (format_version 99; this one "
                                                    "reads up to 2): upgrade samesense to load it"),
                                              ("2", "damaged manifest (format_version must be an integer)")])
def test_a_manifest_from_a_newer_samesense_is_refused(folder, version, message):
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["format_version"] = version
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert refused(folder) == f"{folder / 'manifest.json'}: {message}"


def test_a_model_folder_named_through_a_link_still_loads(folder, tmp_path):
    """The links refused are inside a model folder; the name a user gives may be a link to one."""
    (tmp_path / "current").symlink_to(folder, target_is_directory=True)
    assert samesense.load(tmp_path / "current").encode("hello").shape == (8,)


def test_a_weights_file_longer_than_its_header_declares_is_refused(folder):
    with open(folder / "encoder" / "weights.safetensors", "ab") as fh:
        fh.write(b"\0" * 1000)
    assert "weights.safetensors: cannot load weights" in refused(folder)


def test_a_flipped_bit_in_the_weights_is_refused_not_read_into_other_vectors(folder):
    weights = folder / "encoder" / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-3] ^= 0x10  # inside the last tensor: a valid file, other weights
    weights.write_bytes(bytes(data))
    assert refused(folder) == f"{weights}: damaged model file: not as saved (its sha256 differs from the manifest's)"


def test_a_manifest_whose_record_of_the_files_is_damaged_is_refused(folder):
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"] = ["tokenizer/vocab.json"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert "damaged manifest (files must map each file to its sha256)" in refused(folder)
