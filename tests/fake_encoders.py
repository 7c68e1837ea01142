"""Encoders for tests of what --model names, none of them pretrained:

  WordsBaseline                a baseline registered under a made-up name (register_words_baseline),
                               so the baseline path runs without the baselines' packages
  write_sentence_transformers_folder   a tiny, random BERT saved as sentence-transformers saves one
                               (needs transformers and tokenizers, which the test skips without)
  write_pretrained_folder      a tiny, random BERT in the Hugging Face layout, reading characters, as
                               --pretrained reads one (both made by write_bert)
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np

WORDS = "how do i reset my pin forgot what is the weather today book a table for two".split()


class WordsBaseline:
    """Words hashed into buckets, L2-normalised: exact and fast, so a test knows the nearest."""

    name = "words"
    languages = ("en",)
    dim = 64
    fingerprint = hashlib.sha256(b"words-baseline-1").hexdigest()
    loads = 0  # how many were made (a reopened bank makes one)

    def __init__(self, threads: int | None = None):
        type(self).loads += 1

    def encode(self, texts, batch_size: int = 256, show_progress=False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
            out[row, 0] += 1e-3  # never a zero row
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def unknown_fraction(self, texts) -> list[float]:
        return [0.0] * len(texts)


def register_words_baseline(monkeypatch, name: str = "words") -> str:
    """WordsBaseline as the baseline `name`, for this test only."""
    from samesense.baselines import BASELINES

    monkeypatch.setitem(BASELINES, name, (__name__, "WordsBaseline"))
    return name


def write_sentence_transformers_folder(path: Path, pooling: dict | None = None, modules: list | None = None,
                                       prompt: str | None = None) -> Path:
    """A 1-layer, 16-d BERT with a WordPiece vocabulary of WORDS, then pooling (mean unless
    `pooling` says) and normalisation, laid out as sentence-transformers saves a model."""
    write_bert(path, WORDS)
    modules = modules or [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]
    (path / "modules.json").write_text(json.dumps(modules))
    (path / "1_Pooling").mkdir(exist_ok=True)
    (path / "1_Pooling" / "config.json").write_text(json.dumps(
        pooling or {"word_embedding_dimension": 16, "pooling_mode_mean_tokens": True}))
    (path / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 32, "do_lower_case": False}))
    if prompt is not None:
        (path / "config_sentence_transformers.json").write_text(json.dumps(
            {"prompts": {"query": prompt}, "default_prompt_name": "query"}))
    return path


def write_pretrained_folder(path: Path, alphabet: str = "abcdefghijklmnopqrstuvwxyz0123456789", layers: int = 2,
                            dropout: float = 0.0) -> Path:
    """A tiny random BERT in the Hugging Face layout (config.json, tokenizer files, model.safetensors),
    as --pretrained reads one: 16-d, `layers` layers, a WordPiece vocabulary of single characters (and
    their ## continuations), so any word of `alphabet` is read character by character. Dropout 0 by
    default, so that equal runs are equal whatever the order of their steps."""
    return write_bert(path, [*alphabet, *(f"##{c}" for c in alphabet)], layers, dropout)


def write_bert(path: Path, words: list[str], layers: int = 1, dropout: float = 0.1) -> Path:
    """A random 16-d BERT with a WordPiece vocabulary of `words`, in the Hugging Face layout."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    path.mkdir(parents=True, exist_ok=True)
    vocab = {token: i for i, token in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *words])}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]",
                                                             special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                            sep_token="[SEP]", model_max_length=64).save_pretrained(path)
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=layers, num_attention_heads=2,
                         intermediate_size=32, max_position_embeddings=64, hidden_dropout_prob=dropout,
                         attention_probs_dropout_prob=dropout)).save_pretrained(path)
    return path
