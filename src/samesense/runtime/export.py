"""Export a model to ONNX (`samesense export MODEL --onnx OUT`): a model folder whose torch stages
(encoder, pooling, projection, L2 normalisation) are one graph run by onnxruntime, beside a tokenizer
that needs no torch (onnx.py); `samesense.load(OUT)` opens it as any model, without importing torch.
MODEL is a samesense model folder, or a transformer (minilm, mpnet, e5-small, a sentence-transformers
folder, a samesense folder fine-tuned from one), whose stages and torch-free tokenizer come from
transformer_export.py.

The graph is traced by torch's TorchScript-based exporter: it writes each GRU layer and direction
as one ONNX GRU node, and a transformer's attention as plain ops, with the batch and token axes
dynamic, in seconds. (torch's newer torch.export-based exporter gives the same vectors, but takes
some 15 s a model and needs onnxscript as well.) Packed sequences do not trace, so while exporting
the GRU runs its mask-based path, which gives the same vectors (encoders/gru.py).

Every export is checked before it is written: a batch of probe sentences (random token ids of
lengths up to the tokenizer's max_len, padded side by side) goes through the torch model and the
graph, and probe texts through the source's own tokenizer and encode and through the exported
folder's (the ids must be the same). The float graph must agree within TOLERANCE; an int8 one
(`--quantize int8`: onnxruntime dynamic quantization of the embedding table and the matrix products
(a projection's, a transformer's); the GRU's own op stays float) is reported with how far it moved.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import __version__
from ..errors import SamesenseError

from ..model import SentenceModel, check_model_out, load, resolve_model_dir, save_model_folder
from ..tokenize import UNK_ID
from .onnx import INPUTS, INSTALL_HINT, OUTPUT, OnnxGraph, OnnxModel, padded
from .transformer_export import TransformerSource, is_transformer, transformer_source

OPSET = 17
TOLERANCE = 1e-5  # the float graph against torch, per vector component (unit vectors)
PROBE_SENTENCES = 64
PROBE_LONGEST = 128  # tokens: the probes past it are one sentence of max_len


def require_export_packages() -> None:
    try:
        import onnx  # noqa: F401  (quantization reads and writes graphs with it)
        import onnxruntime  # noqa: F401
    except ImportError as err:
        raise SamesenseError(f"samesense export needs onnx and onnxruntime ({err.name} is missing): "
                             f"{INSTALL_HINT}") from None


class GraphFunction(nn.Module):
    """A SentenceModel as a function of the graph's inputs, for tracing: features made of
    (input_ids, lengths) as the tokenizer's collate makes them, then the model's stages."""

    def __init__(self, model: SentenceModel):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = torch.arange(input_ids.shape[1])[None, :] < lengths[:, None]
        return self.model({"input_ids": input_ids, "lengths": lengths, "attention_mask": mask})


def traced_graph(model: SentenceModel) -> bytes:
    """The model's stages as ONNX bytes, with dynamic batch and token axes."""
    example = model.features([[UNK_ID, UNK_ID, UNK_ID], [UNK_ID]])  # two lengths: nothing fixed to one
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "lengths": {0: "batch"}, OUTPUT: {0: "batch"}}
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        # the exporter warns that it is the older one, and that a GRU with no initial state may not
        # take another batch size: this one is given its zero state at the batch's size
        warnings.simplefilter("ignore")
        path = Path(tmp) / "model.onnx"
        torch.onnx.export(GraphFunction(model).eval(), (example["input_ids"], example["lengths"]), str(path),
                          dynamo=False, input_names=list(INPUTS), output_names=[OUTPUT], dynamic_axes=axes,
                          opset_version=OPSET)
        return with_output_dim(path.read_bytes(), model.dim)


def with_output_dim(graph: bytes, dim: int) -> bytes:
    """The graph with its output declared (batch, dim): the exporter cannot always work the size
    out (the final state's, gathered at each sentence's end), and the loader checks it."""
    import onnx

    proto = onnx.load_from_string(graph)
    proto.graph.output[0].type.tensor_type.shape.dim[1].dim_value = dim
    return proto.SerializeToString()


def int8_graph(graph: bytes, per_channel: bool = False) -> bytes:
    """The graph with its weights stored as int8 where onnxruntime's dynamic quantization reaches
    (the embedding table's Gather, the projection's and a transformer's MatMuls), dequantized as it
    runs; per_channel: one scale per output channel, not one per tensor."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "float.onnx", Path(tmp) / "int8.onnx"
        source.write_bytes(graph)
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # its advice to pre-process shapes is for image models
        try:
            # 7-bit weights: x86 CPUs without VNNI (AVX2 only) multiply u8 x s8 with a 16-bit
            # intermediate that saturates at full range (measured: vectors off by 0.39 on an AVX2
            # EPYC); an exported file may run on any such CPU, wherever it was made.
            quantize_dynamic(source, target, weight_type=QuantType.QInt8, reduce_range=True, per_channel=per_channel)
        finally:
            root.setLevel(level)
        return target.read_bytes()


def probe_ids(model: SentenceModel, count: int = PROBE_SENTENCES) -> list[list[int]]:
    """Token id lists of every length up to max_len (past PROBE_LONGEST, one: a transformer's 512
    tokens, 64 times, would take minutes), any id the tokenizer gives (the last one and the unknown
    one among them), the same on every run."""
    rng = np.random.default_rng(0)
    tokenizer = model.tokenizer
    ids = [[UNK_ID], [tokenizer.num_ids - 1] * tokenizer.max_len]
    while len(ids) < count:
        length = int(rng.integers(1, min(tokenizer.max_len, PROBE_LONGEST) + 1))
        ids.append(rng.integers(1, tokenizer.num_ids, size=length).tolist())
    return ids


def probe_texts(max_len: int) -> list[str]:
    """Sentences of every kind (empty, one letter, capitals, accents, Chinese, emoji) and one longer
    than max_len tokens, read by the source's own tokenizer and by the exported one."""
    from .static_model import PROBES

    return [*PROBES, "Hello 🙂 WORLD", " ".join(["the quick brown fox jumps"] * max_len)]


def text_difference(model, exported: OnnxModel) -> tuple[float, float]:
    """The largest |source - exported| over the vectors of the probe texts, and their lowest cosine,
    once the exported tokenizer gives the source's ids for each of them (else the export is refused)."""
    texts = probe_texts(model.tokenizer.max_len)
    source_ids = model.source_ids(texts) if isinstance(model, TransformerSource) else model.tokenize(texts)
    for text, expected, got in zip(texts, source_ids, exported.tokenize(texts)):
        if list(expected) != list(got):
            raise SamesenseError(f"the exported tokenizer reads {text[:40]!r} as ids {got[:8]}..., the source as "
                                 f"{list(expected)[:8]}...: it cannot stand in for the source's")
    vectors = model.source_vectors(texts) if isinstance(model, TransformerSource) else model.encode(texts)
    got = exported.encode(texts)
    return float(np.abs(got - vectors).max()), float((got * vectors).sum(axis=1).min())


def difference_from_torch(model: SentenceModel, graph: OnnxGraph, token_ids: list[list[int]]) -> float:
    """The largest |torch - graph| over the vectors of one padded batch of token_ids."""
    with torch.inference_mode():
        expected = model(model.features(token_ids)).numpy()
    return float(np.abs(graph.run(*padded(token_ids)) - expected).max())


def check_out(source: Path, out: Path, overwrite: bool) -> None:
    """OUT never the model exported, nor a folder of it (then as any model folder written: check_model_out)."""
    source, target = source.resolve(), out.resolve()
    if target == source or target in source.parents or source in target.parents:
        raise SamesenseError(f"{out}: the exported model must go to a folder apart from {source}")
    check_model_out(out, overwrite)


def export_onnx(source: str | Path, out: str | Path, quantization: str = "none", overwrite: bool = False) -> dict:
    """Write the model `source` names (a model or run folder; a transformer: runtime/transformer_export.py)
    as an exported model folder `out`; returns what was checked: the largest |torch - graph| over the
    probe ids and over the probe texts (end to end, against the source's own encode), the graph's size,
    where it went."""
    require_export_packages()
    out = Path(out)
    if is_transformer(source):
        check_model_out(out, overwrite)  # before minutes of loading
        model = transformer_source(source)
        check_out(model.path, out, overwrite)
        vocab_size = model.vocab_size
    else:
        source_dir = resolve_model_dir(source)
        check_out(source_dir, out, overwrite)
        model = load(source_dir)
        if isinstance(model, OnnxModel):
            raise SamesenseError(f"{source_dir}: already an exported ONNX model")
        if getattr(model.tokenizer, "glyphs", False):
            raise SamesenseError(f"{source_dir}: a model with glyphs (--glyphs) does not export to ONNX yet: the "
                                 "graph reads token ids alone, and glyph ids would have to be a second input")
        vocab_size = getattr(model.encoder, "vocab_size", model.tokenizer.num_ids)
    graph = OnnxGraph(model.dim, vocab_size, quantization)
    graph.graph = traced_graph(model)
    if quantization == "int8":
        # a transformer's dozens of products with one scale per tensor moved MiniLM's vectors to a
        # cosine of 0.89 on average with torch's (300 banking77 questions, lowest 0.75); one scale per
        # output channel to 0.99 (lowest 0.98). A GRU model's one or two tensors keep the setting
        # docs/benchmarks.md measured (export_speed)
        graph.graph = int8_graph(graph.graph, per_channel=isinstance(model, TransformerSource))
    graph.open()
    difference = difference_from_torch(model, graph, probe_ids(model))
    exported_model = OnnxModel(model.tokenizer, graph, model.info)
    on_texts, cosine = text_difference(model, exported_model)
    if quantization == "none" and not max(difference, on_texts) <= TOLERANCE:  # not <=: NaN fails too
        raise RuntimeError(f"the exported graph's vectors differ from torch's by {max(difference, on_texts):.2e}: "
                           "a bug in the export, not in the model")
    exported = {"from_fingerprint": model.fingerprint, "format": "onnx", "opset": OPSET,
                "quantization": quantization, "max_abs_difference_from_torch": difference,
                "max_abs_difference_on_texts": on_texts, "lowest_cosine_on_texts": cosine,
                "probe_sentences": PROBE_SENTENCES,
                "samesense_version": __version__}
    exported_model.info = {**model.info, "exported": exported}
    save_model_folder(out, exported_model.components, exported_model.dim, exported_model.info)
    return {"path": str(out), "graph_bytes": len(graph.graph), **exported}
