"""Exported ONNX models (samesense export --onnx): the GRU's mask-based path, vectors equal to
torch's, padding invariance kept, dynamic axes, loading as any model, int8, and the refusals."""

import json
import os
import subprocess
import sys
from importlib.util import find_spec

import numpy as np
import pytest
import torch

import samesense
from samesense.cli import main
from samesense.encoders import POOLINGS, GRUEncoder
from samesense.errors import SamesenseError
from samesense.model import SentenceModel
from samesense.tokenize import CharTokenizer

needs_onnx = pytest.mark.skipif(find_spec("onnx") is None or find_spec("onnxruntime") is None,
                                reason="onnx and onnxruntime not installed: pip install 'samesense[export]'")

TEXTS = ["hello", "how are you today", "你好", "", "zzz unknown ###", "a much longer sentence than the others"]


def tiny_model(pooling="max", bidirectional=False, layers=1, projection=None, seed=0):
    torch.manual_seed(seed)
    tok = CharTokenizer(min_count=1, max_len=16).fit(["hello world", "how are you", "你好世界"])
    return SentenceModel.build(tok, {"type": "gru", "embed_dim": 8, "hidden_dim": 12, "num_layers": layers,
                                     "bidirectional": bidirectional}, pooling=pooling, projection=projection)


def export(model, tmp_path, name="onnx", **options):
    from samesense.runtime.export import export_onnx

    source = model.save(tmp_path / f"{name}-source")
    report = export_onnx(source, tmp_path / name, **options)
    return samesense.load(tmp_path / name), report


def batch(lengths, width, vocab=50, seed=0):
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.tensor(lengths)
    mask = torch.arange(width)[None, :] < lengths[:, None]
    ids = torch.randint(2, vocab, (len(lengths), width), generator=generator) * mask
    return {"input_ids": ids, "lengths": lengths, "attention_mask": mask}


# ---------------------------------------------------------------------------------------------
# The GRU's mask-based path (torch alone)

@pytest.mark.parametrize("bidirectional, layers", [(False, 1), (True, 1), (False, 2), (True, 2), (True, 3)])
def test_the_padded_path_gives_the_packed_outputs(bidirectional, layers):
    torch.manual_seed(0)
    encoder = GRUEncoder(50, embed_dim=8, hidden_dim=6, num_layers=layers, bidirectional=bidirectional).eval()
    features = batch([7, 3, 1, 5], width=11)  # 4 columns wider than the longest sentence
    with torch.no_grad():
        packed, padded = encoder(dict(features)), encoder.forward_padded(dict(features))
    assert torch.allclose(padded["final_state"], packed["final_state"], atol=1e-6)
    assert torch.allclose(padded["token_embeddings"][:, :7], packed["token_embeddings"], atol=1e-6)
    assert (padded["token_embeddings"][:, 7:] == 0).all()  # nothing past a sentence's end


@pytest.mark.parametrize("bidirectional", [False, True])
def test_the_padded_path_does_not_depend_on_the_padding(bidirectional):
    torch.manual_seed(0)
    encoder = GRUEncoder(50, embed_dim=8, hidden_dim=6, num_layers=2, bidirectional=bidirectional).eval()
    narrow, wide = batch([7, 3, 1], width=7), batch([7, 3, 1], width=20)
    wide["input_ids"][:, :7] = narrow["input_ids"]
    wide["input_ids"][1, 3:] = 9  # padding need not even be the pad id: the mask and lengths decide
    with torch.no_grad():
        a, b = encoder.forward_padded(dict(narrow)), encoder.forward_padded(dict(wide))
    assert torch.allclose(a["final_state"], b["final_state"], atol=1e-6)
    assert torch.allclose(a["token_embeddings"], b["token_embeddings"][:, :7], atol=1e-6)


# ---------------------------------------------------------------------------------------------
# The exported graph against torch

SETTINGS = [(pooling, bidirectional, layers) for pooling in POOLINGS
            for bidirectional, layers in [(False, 1), (True, 2)]]


@needs_onnx
@pytest.mark.parametrize("pooling, bidirectional, layers", SETTINGS)
def test_exported_vectors_equal_torch_within_1e_5(tmp_path, pooling, bidirectional, layers):
    model = tiny_model(pooling, bidirectional, layers, projection=5 if bidirectional else None)
    exported, report = export(model, tmp_path)
    difference = float(np.abs(exported.encode(TEXTS, batch_size=4) - model.encode(TEXTS, batch_size=4)).max())
    assert difference <= 1e-5 and report["max_abs_difference_from_torch"] <= 1e-5
    assert exported.dim == model.dim


@needs_onnx
@pytest.mark.parametrize("pooling, bidirectional, layers", SETTINGS)
def test_an_exported_model_encodes_a_sentence_the_same_alone_or_beside_longer_ones(tmp_path, pooling,
                                                                                     bidirectional, layers):
    exported, _ = export(tiny_model(pooling, bidirectional, layers), tmp_path)
    short = "how"
    alone = exported.encode([short])[0]
    beside_longer = exported.encode(["a much longer sentence than that", short, "mid length"], batch_size=3)[1]
    assert np.allclose(alone, beside_longer, atol=1e-6)
    # and through the graph with padding columns past every sentence, not only the batch's longest
    input_ids = np.zeros((2, 16), dtype=np.int64)
    input_ids[0, :3] = exported.tokenize([short])[0]
    input_ids[1] = 5
    wide = exported.graph.run(input_ids, np.array([3, 16]))
    assert np.allclose(alone, wide[0], atol=1e-6)


@needs_onnx
def test_the_graph_takes_any_batch_and_length(tmp_path):
    from samesense.runtime.onnx import padded

    model = tiny_model("mean", bidirectional=True, layers=2)
    exported, _ = export(model, tmp_path)  # traced on a batch of 2, 3 tokens wide
    shapes = {node.name: node.shape for node in exported.graph.session.get_inputs()}
    assert shapes == {"input_ids": ["batch", "tokens"], "lengths": ["batch"]}
    rng = np.random.default_rng(0)
    for rows in (1, 7, 300):
        ids = [rng.integers(1, model.tokenizer.num_ids, size=rng.integers(1, 17)).tolist() for _ in range(rows)]
        with torch.inference_mode():
            expected = model(model.features(ids)).numpy()
        got = exported.graph.run(*padded(ids))
        assert got.shape == (rows, model.dim) and np.abs(got - expected).max() <= 1e-5


# ---------------------------------------------------------------------------------------------
# An exported folder is a model folder

@needs_onnx
def test_an_exported_folder_loads_as_any_model(tmp_path):
    model = tiny_model(projection=6)
    model.info = {"note": "trained on nothing"}
    exported, report = export(model, tmp_path)
    path = tmp_path / "onnx"
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["format"] == "samesense-model" and manifest["dim"] == 6 and manifest["normalized"] is True
    assert manifest["components"] == [{"role": "tokenizer", "type": "char", "path": "tokenizer"},
                                      {"role": "encoder", "type": "onnx", "path": "encoder"}]
    assert json.loads((path / "encoder" / "config.json").read_text()) == {
        "type": "onnx", "dim": 6, "vocab_size": model.tokenizer.num_ids, "quantization": "none"}
    vocabulary = "tokenizer/vocab.json"
    assert (path / vocabulary).read_bytes() == (tmp_path / "onnx-source" / vocabulary).read_bytes()
    assert manifest["info"]["note"] == "trained on nothing"
    assert manifest["info"]["exported"]["from_fingerprint"] == samesense.load(tmp_path / "onnx-source").fingerprint
    # what the FAQ bank, eval, similar, bench and serve use
    assert isinstance(exported, samesense.TextEncoder) and exported.dim == 6
    assert len(exported.fingerprint) == 64 and exported.fingerprint != model.fingerprint
    assert samesense.load(path).fingerprint == exported.fingerprint
    assert exported.unknown_fraction(TEXTS) == model.unknown_fraction(TEXTS)
    assert exported.unknown_fraction("zzz") == model.unknown_fraction(["zzz"])[0]
    assert np.allclose(exported.encode("hello"), model.encode(["hello"])[0], atol=1e-5)
    assert exported.encode([]).shape == (0, 6) and exported.encode([]).dtype == np.float32
    assert np.allclose(np.linalg.norm(exported.encode(TEXTS), axis=1), 1.0, atol=1e-5)
    with pytest.raises(SamesenseError, match="batch_size must be at least 1"):
        exported.encode(TEXTS, batch_size=0)
    with pytest.raises(SamesenseError, match="runs on the CPU"):
        samesense.load(path, device="cuda")


@needs_onnx
def test_eval_similar_and_the_faq_bank_take_an_exported_model_unchanged(trained_run, synthetic_files, tmp_path,
                                                                       capsys):
    from samesense.faq import FaqBank

    run, _ = trained_run
    assert main(["export", str(run), "--onnx", str(tmp_path / "onnx")]) == 0
    assert "largest |torch - onnx|" in capsys.readouterr().out
    scores = []
    for model in (run, tmp_path / "onnx"):
        assert main(["eval", str(model), str(synthetic_files[1]), "--json"]) == 0
        scores.append(json.loads(capsys.readouterr().out))
    assert scores[0] == scores[1]
    against = tmp_path / "faq.tsv"
    against.write_text("one\tabcde\ntwo\tvwxyz\nthree\tmnopq\n")
    assert main(["similar", str(tmp_path / "onnx"), "77vwxyz1", "--against", str(against), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["matches"][0]["group"] == "two"
    bank = FaqBank.open(tmp_path / "bank.faq", tmp_path / "onnx")
    try:
        bank.add("abcde", "the first answer")
        bank.add("vwxyz", "the second answer")
        assert bank.search(["12vwxyz3"])[0][0].answer == "the second answer"
    finally:
        bank.close()


# ---------------------------------------------------------------------------------------------
# int8

@needs_onnx
def test_int8_export_keeps_vectors_close_and_says_so(tmp_path):
    model = tiny_model(projection=12)
    exported, report = export(model, tmp_path, quantization="int8")
    assert exported.graph.quantization == "int8" and report["quantization"] == "int8"
    assert json.loads((tmp_path / "onnx" / "manifest.json").read_text())["info"]["exported"]["quantization"] == "int8"
    import onnx

    ops = {node.op_type for node in onnx.load_from_string(exported.graph.graph).graph.node}
    assert "DequantizeLinear" in ops or "DynamicQuantizeLinear" in ops  # weights stored as int8
    float_vectors, int8_vectors = model.encode(TEXTS), exported.encode(TEXTS)
    assert 0 < report["max_abs_difference_from_torch"] < 0.1
    assert (np.sum(float_vectors * int8_vectors, axis=1) > 0.99).all()  # cosine to torch's own vector


# ---------------------------------------------------------------------------------------------
# Refusals, damaged folders, a missing package

@needs_onnx
def test_export_refuses_to_overwrite_what_it_should_not(tmp_path):
    from samesense.runtime.export import export_onnx

    source = tiny_model().save(tmp_path / "m")
    with pytest.raises(SamesenseError, match="apart from"):
        export_onnx(source, source / "onnx")
    with pytest.raises(SamesenseError, match="apart from"):
        export_onnx(source, tmp_path)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")
    with pytest.raises(SamesenseError, match="not a model folder"):
        export_onnx(source, tmp_path / "notes", overwrite=True)
    assert (tmp_path / "notes" / "keep.txt").read_text() == "mine"
    export_onnx(source, tmp_path / "onnx")
    with pytest.raises(SamesenseError, match="--overwrite"):
        export_onnx(source, tmp_path / "onnx")
    export_onnx(source, tmp_path / "onnx", overwrite=True)
    with pytest.raises(SamesenseError, match="already an exported ONNX model"):
        export_onnx(tmp_path / "onnx", tmp_path / "again")


@needs_onnx
def test_a_damaged_exported_folder_is_one_line(tmp_path):
    _, _ = export(tiny_model(), tmp_path)
    path = tmp_path / "onnx"
    config = path / "encoder" / "config.json"
    settings = json.loads(config.read_text())
    config.write_text(json.dumps({**settings, "dim": 7}))
    with pytest.raises(SamesenseError, match="not a samesense graph of dim 7"):
        samesense.load(path)
    config.write_text(json.dumps({**settings, "vocab_size": 3}))
    with pytest.raises(SamesenseError, match="vocab_size is 3, but the tokenizer gives"):
        samesense.load(path)
    config.write_text(json.dumps(settings))
    manifest = json.loads((path / "manifest.json").read_text())
    (path / "pooling").mkdir()
    (path / "pooling" / "config.json").write_text('{"type": "pooling", "mode": "max"}')
    pooling = {"role": "pooling", "type": "pooling", "path": "pooling"}
    (path / "manifest.json").write_text(json.dumps({**manifest, "components": manifest["components"] + [pooling]}))
    with pytest.raises(SamesenseError, match="must be the only one"):
        samesense.load(path)
    (path / "manifest.json").write_text(json.dumps(manifest))
    (path / "encoder" / "model.onnx").write_bytes(b"not a graph")
    with pytest.raises(SamesenseError, match="cannot load the graph") as err:
        samesense.load(path)
    assert "\n" not in str(err.value)
    (path / "encoder" / "model.onnx").unlink()
    with pytest.raises(SamesenseError, match="model.onnx missing"):
        samesense.load(path)


def test_without_onnx_export_and_loading_say_how_to_install(tmp_path, monkeypatch, capsys):
    from samesense.runtime.onnx import OnnxGraph

    source = tiny_model().save(tmp_path / "m")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime raises ImportError
    assert main(["export", str(source), "--onnx", str(tmp_path / "onnx")]) == 2
    assert "pip install 'samesense[export]'" in capsys.readouterr().err
    assert not (tmp_path / "onnx").exists()
    with pytest.raises(SamesenseError, match=r"needs onnxruntime: pip install 'samesense\[export\]'"):
        OnnxGraph(dim=4, vocab_size=10).open()


def test_export_help_imports_nothing_heavy():
    code = ("import sys, samesense.cli as c\n"
            "try:\n"
            "    c.main(['export', '--help'])\n"
            "except SystemExit:\n"
            "    pass\n"
            "heavy = {'torch', 'numpy', 'onnx', 'onnxruntime'} & set(sys.modules)\n"
            "assert not heavy, heavy\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ)
    assert proc.returncode == 0, proc.stderr
    assert "--quantize {int8}" in proc.stdout

