"""A model exported to ONNX (`samesense export MODEL --onnx OUT`): the same tokenizer, then one
graph, run by onnxruntime, in place of the torch stages (encoder, pooling, projection, and the L2
normalisation).

    OUT/
      manifest.json     as a torch model's: format, dim, info, and two components
      tokenizer/        the torch model's, unchanged
      encoder/          config.json (type "onnx": dim, vocab_size, quantization) + model.onnx

`samesense.load(OUT)` opens it as any model folder and gives an `OnnxModel`, with the `encode`,
`dim`, `fingerprint`, `unknown_fraction`, `tokenizer` and `info` of a SentenceModel, so the FAQ
bank, eval, similar, bench and serve take it unchanged. The graph reads `input_ids` (batch,
tokens) and `lengths` (batch,), both int64 and of any size, and gives `embeddings` (batch, dim):
unit rows, each the same whatever the padding beside it.

The graph is loaded from the file's bytes, so it cannot pull tensors from files outside its
folder, and the fingerprint (every file's bytes) names it. onnxruntime is imported only when a
graph is opened: it comes with the optional `export` extra. It runs with as many threads as torch
is set to when the model is loaded (`serve --threads`, `bench --threads` set it), so those flags
apply here too.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from ..bounds import VOCAB, WIDE_DIM
from ..components import CONFIG, Component, build, register
from ..console import progress
from ..errors import SamesenseError
from ..files import atomic_write_bytes
from ..tokenize import UNK_ID, ReadsText, Tokenizer
from .folder import MANIFEST, check_file_digests, load_parts, read_folder, read_manifest

GRAPH = "model.onnx"
INPUTS, OUTPUT = ("input_ids", "lengths"), "embeddings"
QUANTIZATIONS = ("none", "int8")
INSTALL_HINT = "pip install 'samesense[export]'"


def import_onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise SamesenseError(f"an exported ONNX model needs onnxruntime: {INSTALL_HINT}") from None
    return onnxruntime


@register
class OnnxGraph(Component):
    """Every stage after the tokenizer as one ONNX graph; `graph` holds the file's bytes."""

    role, type = "encoder", "onnx"
    bounds = {"dim": WIDE_DIM, "vocab_size": VOCAB,
              "quantization": {"choices": lambda: list(QUANTIZATIONS)}}

    def __init__(self, dim: int, vocab_size: int, quantization: str = "none"):
        if quantization not in QUANTIZATIONS:
            raise SamesenseError(f"quantization must be one of {', '.join(QUANTIZATIONS)}, got {quantization!r}")
        self.dim, self.vocab_size, self.quantization = dim, vocab_size, quantization
        self.graph = b""
        self.session = None

    def config(self) -> dict:
        return {"dim": self.dim, "vocab_size": self.vocab_size, "quantization": self.quantization}

    def save(self, folder: Path) -> None:
        super().save(folder)
        atomic_write_bytes(folder / GRAPH, self.graph)

    @classmethod
    def load(cls, folder: Path, config: dict) -> "OnnxGraph":
        component = build(cls, config, folder / CONFIG)
        try:
            component.graph = (folder / GRAPH).read_bytes()
        except FileNotFoundError:
            raise SamesenseError(f"{folder}: incomplete model folder ({GRAPH} missing)") from None
        return component.open(where=folder / GRAPH)

    def open(self, where: Path | str = GRAPH) -> "OnnxGraph":
        """Start an onnxruntime session on the graph, with torch's thread setting, once its inputs
        and output are those a samesense graph has."""
        ort = import_onnxruntime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch_threads()
        options.inter_op_num_threads = 1  # one graph, one branch at a time: no other pool to fill
        options.log_severity_level = 3  # errors only: its shape notes are not the user's concern
        try:
            self.session = ort.InferenceSession(self.graph, options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own error types for damaged graphs
            raise SamesenseError(f"{where}: cannot load the graph ({first_line(err)})") from None
        problem = signature_problem(self.session, self.dim)
        if problem:
            raise SamesenseError(f"{where}: not a samesense graph of dim {self.dim} (see {CONFIG}): {problem}")
        return self

    def run(self, input_ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Unit vectors (batch, dim), float32, of a padded batch."""
        return self.session.run([OUTPUT], {"input_ids": input_ids, "lengths": lengths})[0]


def first_line(err: Exception) -> str:
    """An error's message as one line (onnxruntime's span several)."""
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def torch_threads() -> int:
    """torch's thread setting when torch is loaded (serve --threads and bench --threads set it); when
    it is not (an exported model loads without it), OMP_NUM_THREADS, which --threads sets
    (cli/bank_args.py); else 0, onnxruntime's default."""
    torch = sys.modules.get("torch")
    if torch is not None:
        return torch.get_num_threads()
    variable = os.environ.get("OMP_NUM_THREADS", "")
    return int(variable) if variable.isdigit() else 0


def signature_problem(session, dim: int) -> str:
    """What in a session's inputs and outputs differs from a samesense graph's, in words; '' if nothing."""
    inputs = {node.name: node for node in session.get_inputs()}
    if set(inputs) != set(INPUTS):
        return f"its inputs are {sorted(inputs)}, not {list(INPUTS)}"
    if any(inputs[name].type != "tensor(int64)" for name in INPUTS):
        return "its inputs must be int64 tensors"
    outputs = {node.name: node for node in session.get_outputs()}
    if OUTPUT not in outputs:
        return f"it has no output {OUTPUT!r}"
    shape = outputs[OUTPUT].shape
    unnamed = len(shape) == 2 and not isinstance(shape[1], int)  # a name or none: exported_model's run tells
    if len(shape) != 2 or not (unnamed or shape[1] == dim) or outputs[OUTPUT].type != "tensor(float)":
        return f"its output is {outputs[OUTPUT].type} of shape {shape}, not float (batch, {dim})"
    return ""


def padded(token_ids: Sequence[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Id lists as the graph reads them: input_ids (batch, longest) padded with 0, and lengths."""
    lengths = np.array([len(ids) for ids in token_ids], dtype=np.int64)
    input_ids = np.zeros((len(token_ids), int(lengths.max())), dtype=np.int64)
    for row, ids in enumerate(token_ids):
        input_ids[row, : len(ids)] = ids
    return input_ids, lengths


class OnnxModel(ReadsText):
    """Text in, unit vectors out, from an exported graph (fills samesense.protocols.TextEncoder,
    as SentenceModel does)."""

    def __init__(self, tokenizer: Tokenizer, graph: OnnxGraph, info: dict | None = None):
        self.tokenizer, self.graph = tokenizer, graph
        self.info = dict(info or {})
        self.fingerprint = ""  # sha256 of the folder's files, set by model.load

    @property
    def components(self) -> list[Component]:
        return [self.tokenizer, self.graph]

    @property
    def dim(self) -> int:
        return self.graph.dim

    def encode(self, texts: Sequence[str] | str, batch_size: int = 256,
               show_progress: bool | None = False) -> np.ndarray:
        """Unit vectors, float32, shape (len(texts), dim), in the order of `texts`; one string
        gives one vector, shape (dim,). Batches hold sentences of about one length, as
        SentenceModel's do."""
        if isinstance(texts, str):
            return self.encode([texts], batch_size, show_progress)[0]
        if batch_size < 1:
            raise SamesenseError(f"batch_size must be at least 1, got {batch_size}")
        token_ids = self.tokenize(texts)
        order = np.argsort([-len(ids) for ids in token_ids], kind="stable")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in progress(range(0, len(order), batch_size), desc="encode", unit="batch", show=show_progress):
            rows = order[start: start + batch_size]
            out[rows] = self.graph.run(*padded([token_ids[i] for i in rows]))
        return out

    # SentenceModel's, so that code written for it (model.load) takes this model too

    def eval(self) -> "OnnxModel":
        return self

    def to(self, device: str = "cpu") -> "OnnxModel":
        if str(device) != "cpu":
            raise SamesenseError(f"an exported ONNX model runs on the CPU, not on {device!r}")
        return self


def exported_model(manifest_path: Path, parts: list[Component], info: dict | None) -> OnnxModel:
    """The model of a manifest listing a tokenizer and a graph, once one sentence has gone through
    it; a graph beside other stages is a damaged manifest (it is every stage at once)."""
    if len(parts) != 2 or not isinstance(parts[1], OnnxGraph):
        raise SamesenseError(f"{manifest_path}: damaged manifest: an onnx encoder takes the place of every stage "
                             "after the tokenizer, so it must be the only one")
    model = OnnxModel(parts[0], parts[1], info)
    try:  # the last id too: the graph's own table must hold every id the tokenizer gives
        vectors = model.graph.run(*padded([[UNK_ID], [model.tokenizer.num_ids - 1]]))
    except Exception as err:  # onnxruntime raises its own error types
        raise SamesenseError(f"{manifest_path}: the graph does not run ({type(err).__name__}: "
                             f"{first_line(err)})") from None
    if vectors.shape != (2, model.dim):
        raise SamesenseError(f"{manifest_path}: the graph gives vectors of shape {list(vectors.shape[1:])}, "
                             f"not [{model.dim}] as its {CONFIG} says")
    return model


def is_exported(manifest_path: Path) -> bool:
    """True when a manifest lists an ONNX graph (then load_exported, not torch, reads the folder)."""
    _, _, entries = read_manifest(manifest_path)
    return any(kind == OnnxGraph.type for _, kind, _ in entries)


def load_exported(folder: Path) -> OnnxModel:
    """An exported model folder (resolved, its files checked by check_model_files) as an OnnxModel,
    with numpy, onnxruntime and the tokenizer's own library alone: no torch, no transformers."""
    from . import pretrained_file, teacher_tokenizer  # noqa: F401  (register their tokenizers)

    manifest_path = folder / MANIFEST
    fingerprint, digests = read_folder(folder)
    manifest, info, entries = read_manifest(manifest_path)
    parts = load_parts(manifest_path, entries)
    graph = parts[-1]
    if isinstance(graph, OnnxGraph) and graph.vocab_size < parts[0].num_ids:
        raise SamesenseError(f"{folder / entries[-1][2] / CONFIG}: vocab_size is {graph.vocab_size}, but the "
                             f"tokenizer gives {parts[0].num_ids} ids")
    model = exported_model(manifest_path, parts, info)
    check_file_digests(folder, manifest, digests)  # last, as model.load: what the checks above cannot see
    model.fingerprint, model.spec = fingerprint, str(folder.resolve())
    return model
