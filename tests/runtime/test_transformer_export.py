"""Transformers exported to ONNX (samesense export MODEL --onnx OUT, runtime/transformer_export.py): a
tiny BERT made here (fake_encoders: a random 16-d BERT, a WordPiece vocabulary of single characters),
as a fine-tuned samesense folder and as a sentence-transformers folder. The exported folder gives
torch's vectors, loads and answers in an FAQ bank with torch and transformers not importable, and a
damaged one is refused in one line. No network, no packaged model."""

import json
import subprocess
import sys
import textwrap
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("transformers")
if find_spec("onnx") is None or find_spec("onnxruntime") is None:
    pytest.skip("onnx and onnxruntime not installed: pip install 'samesense[export]'", allow_module_level=True)

import samesense  # noqa: E402
from samesense.cli import main  # noqa: E402
from samesense.encoders import Pooling, Projection  # noqa: E402
from samesense.encoders.transformer import PretrainedTokenizer, TransformerEncoder  # noqa: E402
from samesense.errors import SamesenseError  # noqa: E402
from samesense.model import SentenceModel  # noqa: E402
from samesense.runtime.export import export_onnx  # noqa: E402

from fake_encoders import write_pretrained_folder, write_sentence_transformers_folder  # noqa: E402

SRC = Path(samesense.__file__).resolve().parent.parent
TEXTS = ["abcde", "12abcde3", "QWERT", "", "zz 🙂 ß", "qwert " * 20]
HEAVY = ("torch", "transformers", "sentence_transformers")
# a subprocess in which torch, transformers and sentence-transformers cannot be imported
BLOCKED = textwrap.dedent(f"""
    import sys
    class Blocked:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {HEAVY!r}:
                raise ImportError(name + " is not importable here")
    sys.meta_path.insert(0, Blocked())
""")


@pytest.fixture(scope="module")
def fine_tuned(tmp_path_factory):
    """A samesense transformer folder as `train --encoder transformer` saves one, with a projection."""
    folder = tmp_path_factory.mktemp("transformer")
    pretrained = str(write_pretrained_folder(folder / "pretrained"))
    tokenizer = PretrainedTokenizer(source=pretrained, max_len=12, normalize=True)
    model = SentenceModel(tokenizer, [TransformerEncoder(source=pretrained), Pooling("mean"), Projection(16, 8)],
                          {"note": "tiny"})
    model.save(folder / "model")
    return samesense.load(folder / "model"), folder / "model"


@pytest.fixture(scope="module")
def exported(fine_tuned, tmp_path_factory):
    out = tmp_path_factory.mktemp("exported") / "onnx"
    report = export_onnx(fine_tuned[1], out)
    return out, report


def test_the_export_gives_torch_vectors_and_the_same_tokens(fine_tuned, exported):
    model, _ = fine_tuned
    out, report = exported
    assert report["max_abs_difference_from_torch"] <= 1e-5 and report["max_abs_difference_on_texts"] <= 1e-5
    onnx = samesense.load(out)
    assert type(onnx).__name__ == "OnnxModel" and onnx.dim == 8
    assert onnx.tokenize(TEXTS) == model.tokenize(TEXTS)  # special tokens, normalisation, the cut at 12
    assert max(map(len, onnx.tokenize(TEXTS))) == 12
    assert onnx.unknown_fraction(TEXTS) == model.unknown_fraction(TEXTS)
    assert np.abs(onnx.encode(TEXTS) - model.encode(TEXTS)).max() < 1e-5
    alone, beside = onnx.encode(["abc"]), onnx.encode(["abc", "a much longer sentence"])[:1]
    assert np.abs(alone - beside).max() < 1e-6  # padding changes nothing
    manifest = json.loads((out / "manifest.json").read_text())
    assert [c["type"] for c in manifest["components"]] == ["pretrained-file", "onnx"]
    assert manifest["info"]["note"] == "tiny" and manifest["info"]["exported"]["from_fingerprint"] == model.fingerprint


def test_the_exported_folder_loads_and_answers_without_torch_or_transformers(fine_tuned, exported, tmp_path):
    model, _ = fine_tuned
    out, _ = exported
    code = BLOCKED + textwrap.dedent("""
        import json, numpy as np, samesense
        model = samesense.load(sys.argv[1])
        np.save(sys.argv[2], model.encode(json.loads(sys.argv[3])))
        print(model.graph.session.get_session_options().intra_op_num_threads,
              sorted(set(sys.modules) & {"torch", "transformers", "sentence_transformers"}))
    """)
    done = subprocess.run([sys.executable, "-c", code, str(out), str(tmp_path / "v.npy"), json.dumps(TEXTS)],
                          capture_output=True, text=True, env={"PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "[]"]  # --threads (OMP_NUM_THREADS) reaches onnxruntime without torch
    assert np.abs(np.load(tmp_path / "v.npy") - model.encode(TEXTS)).max() < 1e-5


def test_a_bank_of_the_exported_model_answers_without_torch(exported, tmp_path):
    out, _ = exported
    rows = tmp_path / "faq.tsv"
    rows.write_text("abcde\tthe first answer\nqwert\tthe second answer\nxyz\tthe third answer\n")
    assert main(["faq", "import", str(tmp_path / "bank.sqlite"), str(rows), "--model", str(out), "--quiet"]) == 0
    code = BLOCKED + textwrap.dedent("""
        from samesense.cli import main
        code = main(["ask", sys.argv[1], "QWERT", "--json", "--threads", "1"])
        print(sorted(set(sys.modules) & {"torch", "transformers", "sentence_transformers"}))
        sys.exit(code)
    """)
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "bank.sqlite")], capture_output=True,
                          text=True, env={"PYTHONPATH": str(SRC)})
    assert done.returncode == 0, done.stderr
    reply = json.loads(done.stdout.splitlines()[0])
    assert reply["answer"] == "the second answer" and done.stdout.split()[-1] == "[]"
    assert done.stderr == ""


def test_a_sentence_transformers_folder_exports_with_its_own_pipeline(tmp_path, capsys):
    from samesense.baselines.dense import SentenceTransformerFolder

    folder = write_sentence_transformers_folder(tmp_path / "st")
    assert main(["export", str(folder), "--onnx", str(tmp_path / "onnx")]) == 0
    assert "over the probe texts" in capsys.readouterr().out
    source, onnx = SentenceTransformerFolder(folder), samesense.load(tmp_path / "onnx")
    texts = ["hello world", "the quick brown fox", ""]
    assert np.abs(onnx.encode(texts) - source.encode(texts)).max() < 1e-5
    assert json.loads((tmp_path / "onnx" / "tokenizer" / "config.json").read_text())["max_len"] == 32


def test_a_prefix_in_the_tokenizer_file_comes_along(tmp_path):
    """e5-small's "query: " lives in its tokenizer's normalizer: the exported tokenizer keeps it."""
    from tokenizers import normalizers

    pretrained = write_pretrained_folder(tmp_path / "pretrained")
    tokenizer = PretrainedTokenizer(source=str(pretrained), max_len=16, normalize=False)
    backend = tokenizer.hf.backend_tokenizer
    backend.normalizer = normalizers.Sequence([backend.normalizer, normalizers.Prepend("query: ")])
    model = SentenceModel(tokenizer, [TransformerEncoder(source=str(pretrained)), Pooling("mean")])
    model.save(tmp_path / "model")
    export_onnx(tmp_path / "model", tmp_path / "onnx")
    onnx = samesense.load(tmp_path / "onnx")
    assert onnx.tokenizer.tokens_of("abc")[:5] == ["q", "##u", "##e", "##r", "##y"]
    assert onnx.tokenize(TEXTS) == samesense.load(tmp_path / "model").tokenize(TEXTS)


def test_int8_moves_the_vectors_a_little_and_says_so(fine_tuned, tmp_path):
    model, folder = fine_tuned
    report = export_onnx(folder, tmp_path / "int8", quantization="int8")
    onnx = samesense.load(tmp_path / "int8")
    assert onnx.graph.quantization == "int8" and 0 < report["max_abs_difference_from_torch"] < 0.2
    assert (np.sum(onnx.encode(TEXTS) * model.encode(TEXTS), axis=1) > 0.98).all()


def test_a_damaged_export_is_refused_in_one_line(exported, tmp_path, capsys):
    import shutil

    out = tmp_path / "onnx"
    shutil.copytree(exported[0], out)
    tokenizer_file = out / "tokenizer" / "tokenizer.json"
    saved = tokenizer_file.read_bytes()
    tokenizer_file.unlink()
    with pytest.raises(SamesenseError, match=r"tokenizer: incomplete model folder \(tokenizer.json missing\)"):
        samesense.load(out)
    tokenizer_file.write_text("{not json")
    with pytest.raises(SamesenseError, match="tokenizer.json") as err:
        samesense.load(out)
    assert "\n" not in str(err.value)
    tokenizer_file.write_bytes(saved)
    (out / "encoder" / "model.onnx").write_bytes(b"\x08\x07garbage")
    (tmp_path / "against.tsv").write_text("one\tabc\n")
    assert main(["similar", str(out), "abc", "--against", str(tmp_path / "against.tsv")]) == 2
    error = capsys.readouterr().err.strip()
    assert "model.onnx: cannot load the graph" in error and "\n" not in error


def test_what_has_no_network_to_export_is_refused(tmp_path, capsys):
    assert main(["export", "bm25", "--onnx", str(tmp_path / "onnx")]) == 2
    error = capsys.readouterr().err.strip()
    assert "bm25" in error and "\n" not in error and not (tmp_path / "onnx").exists()


def test_a_default_prompt_is_refused_rather_than_dropped(tmp_path, capsys):
    folder = write_sentence_transformers_folder(tmp_path / "st", prompt="query: ")
    assert main(["export", str(folder), "--onnx", str(tmp_path / "onnx")]) == 2
    assert "default prompt" in capsys.readouterr().err


def test_the_package_names_the_exporter():
    from samesense.runtime.export import export_onnx as exporter

    assert samesense.export_onnx is exporter
