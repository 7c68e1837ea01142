"""A static model loaded and run with numpy alone (runtime/static_model.py): the torch model's
vectors, with or without torch importable (a subprocess whose imports of torch fail), checked as
model.load checks a folder, and its table exported as int8."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

import samesense
from samesense.cli import main
from samesense.encoders import Pooling, StaticEncoder
from samesense.errors import SamesenseError
from samesense.model import SentenceModel
from samesense.model import load as load_torch
from samesense.runtime.static_model import StaticModel
from samesense.runtime.teacher_tokenizer import TeacherTokenizer
from samesense.tokenize import JiebaTokenizer, WordTokenizer

from runtime.test_teacher_tokenizer import SENTENCES as ENGLISH
from runtime.test_teacher_tokenizer import bert_file

SENTENCES = ENGLISH + ["我想查询银行卡的余额", "银行卡丢了怎么办", "信用卡还款 by card"]

SRC = Path(samesense.__file__).resolve().parent.parent
WITHOUT_TORCH = textwrap.dedent("""
    import sys
    class NoTorch:
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ImportError("torch is not importable here")
    sys.meta_path.insert(0, NoTorch())
    import json, numpy as np, samesense
    model = samesense.load(sys.argv[1])
    np.save(sys.argv[2], model.encode(json.loads(sys.argv[3])))
    print(type(model).__name__, model.fingerprint, "torch" in sys.modules)
""")


def static_model(tokenizer, dim: int = 8) -> SentenceModel:
    torch.manual_seed(0)
    encoder = StaticEncoder(tokenizer.num_ids, dim)
    with torch.no_grad():
        encoder.token_weight.uniform_(0.2, 1.5)
    return SentenceModel(tokenizer, [encoder, Pooling("mean")], {"made_by": "a test"})


@pytest.fixture(params=["teacher", "word", "jieba"])
def saved(request, tmp_path):
    if request.param == "teacher":
        tokenizer = TeacherTokenizer(file=bert_file(tmp_path), max_len=16)
    else:
        kind = WordTokenizer if request.param == "word" else JiebaTokenizer
        tokenizer = kind(min_count=1, unknown_buckets=5).fit(SENTENCES)
    model = static_model(tokenizer)
    model.save(tmp_path / "model")
    return model, tmp_path / "model"


def test_numpy_gives_the_torch_models_vectors_and_fingerprint(saved):
    model, folder = saved
    loaded = samesense.load(folder)
    assert isinstance(loaded, StaticModel) and loaded.dim == model.dim and loaded.info == {"made_by": "a test"}
    assert loaded.fingerprint == load_torch(folder).fingerprint and loaded.spec == str(folder.resolve())
    assert np.allclose(loaded.encode(SENTENCES), model.encode(SENTENCES), atol=1e-6)
    assert np.allclose(loaded.encode(SENTENCES, batch_size=1), loaded.encode(SENTENCES), atol=1e-7)
    assert np.allclose(loaded.encode("how do i reset my pin"), model.encode("how do i reset my pin"), atol=1e-6)
    assert loaded.encode([]).shape == (0, model.dim)
    assert loaded.unknown_fraction(SENTENCES) == model.unknown_fraction(SENTENCES)


def test_loads_and_encodes_the_same_with_torch_not_importable(saved, tmp_path):
    model, folder = saved
    done = subprocess.run([sys.executable, "-c", WITHOUT_TORCH, str(folder), str(tmp_path / "v.npy"),
                           json.dumps(SENTENCES)], capture_output=True, text=True, env={"PYTHONPATH": str(SRC)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["StaticModel", samesense.load(folder).fingerprint, "False"]
    assert np.allclose(np.load(tmp_path / "v.npy"), model.encode(SENTENCES), atol=1e-6)


def test_any_other_model_still_loads_with_torch(tmp_path):
    model = static_model(WordTokenizer(min_count=1).fit(SENTENCES))
    model.stages["pooling"] = Pooling("max")  # not a mean: the numpy path does not read it
    model.save(tmp_path / "max")
    assert isinstance(samesense.load(tmp_path / "max"), SentenceModel)


def test_a_damaged_table_is_refused_naming_the_file(saved):
    _, folder = saved
    weights = folder / "encoder" / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-3] ^= 0xFF  # a flipped bit in a weight: still a valid file, other values
    weights.write_bytes(bytes(data))
    with pytest.raises(SamesenseError, match=r"encoder/weights\.safetensors: damaged model file"):
        samesense.load(folder)
    config = folder / "encoder" / "config.json"
    config.write_text(json.dumps({"type": "static", "vocab_size": 10 ** 12, "dim": 8}))
    with pytest.raises(SamesenseError, match=r"encoder/config\.json: bad settings for encoder 'static'"):
        samesense.load(folder)


def test_the_table_exports_as_int8_and_loads_without_torch(saved, tmp_path, capsys):
    model, folder = saved
    out = tmp_path / "int8"
    assert main(["export", str(folder), "--table", str(out), "--quantize", "int8"]) == 0
    assert "lowest cosine to the float32 vectors" in capsys.readouterr().out
    exported = samesense.load(out)
    assert isinstance(exported, StaticModel) and exported.fingerprint != samesense.load(folder).fingerprint
    assert (exported.encode(SENTENCES) * model.encode(SENTENCES)).sum(1).min() > 0.999
    assert main(["export", str(folder), "--table", str(out), "--quantize", "int8"]) == 2  # no --overwrite
    assert main(["export", str(folder), "--table", str(tmp_path / "again")]) == 2
    assert "--table writes an int8 table: add --quantize int8" in capsys.readouterr().err


def test_a_static_bank_answers_with_torch_not_importable(saved, tmp_path):
    _, folder = saved
    rows = tmp_path / "faq.tsv"
    rows.write_text("how do i reset my pin\tSettings, then PIN.\nbook a table for two\tCall us.\n")
    assert main(["faq", "import", str(tmp_path / "bank.sqlite"), str(rows), "--model", str(folder), "--quiet"]) == 0
    ask = WITHOUT_TORCH.split("import json")[0] + textwrap.dedent("""
        from samesense.cli import main
        code = main(["ask", sys.argv[1], "how do i reset my pin", "--json"])
        print("torch" in sys.modules)
        sys.exit(code)
    """)
    done = subprocess.run([sys.executable, "-c", ask, str(tmp_path / "bank.sqlite")], capture_output=True, text=True,
                          env={"PYTHONPATH": str(SRC)})
    assert done.returncode == 0, done.stderr
    assert "Settings, then PIN." in done.stdout and done.stdout.split()[-1] == "False"
