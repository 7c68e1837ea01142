"""TrainConfig: every setting of a training run, in sections, each field with its help text.

The command line is derived from these dataclasses (samesense/cli/options.py): a section is a
group of flags in `train --help`, a field is a flag, and its metadata says the rest (help, flag
name, choices, bounds). So a new setting is one field here, and nothing else to keep in step.

A run stores its config as nested JSON in run.json; `TrainConfig.from_dict` also reads the flat
form of run folders written before sections.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, Callable

from ..bounds import INT64_MAX, shown
from ..errors import SamesenseError


def setting(default: Any = MISSING, help: str = "", *, flag: str | None = None,
            choices: Callable[[], list[str]] | None = None, at_least: float | None = None,
            at_most: float | None = None, between: tuple[float, float] | None = None, metavar: str | None = None,
            cli: bool = True, factory: Callable | None = None) -> Any:
    """A config field with what the command line needs to know about it. `choices` is a function
    so that the registries it reads (losses, encoders) are imported only when asked."""
    meta = {"help": help, "flag": flag, "choices": choices, "at_least": at_least, "at_most": at_most,
            "between": between,
            "metavar": metavar, "cli": cli}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def _losses() -> list[str]:
    from ..losses import LOSSES

    return list(LOSSES)


def _tokenizers() -> list[str]:
    from ..tokenize import TOKENIZERS

    return sorted(TOKENIZERS)


def _glyph_scopes() -> list[str]:
    from ..tokenize import GLYPH_SCOPES

    return list(GLYPH_SCOPES)


def _head_precisions() -> list[str]:
    from ..heads import PRECISIONS

    return list(PRECISIONS)


def _encoders() -> list[str]:
    from ..encoders import ENCODERS

    return sorted(ENCODERS)


def _poolings() -> list[str]:
    from ..encoders import POOLINGS

    return list(POOLINGS)


# Absolute ceilings on sizes, far above any useful model: a config asking for more (a typo, a damaged
# model file) is refused before anything is allocated. The model loader holds saved models to the
# same bounds (components.py reads them from ModelConfig).
MAX_DIM = 65_536  # embedding, hidden and projection sizes
MAX_LAYERS = 64
MAX_TOKENS = 65_536  # tokens kept per sentence
MAX_UNKNOWN_BUCKETS = 1_000_000
# Ceilings on the other integers, so that a typo is one line naming the flag, never an overflow
# inside torch or numpy (torch.set_num_threads takes a C int, torch.manual_seed 64 bits).
MAX_BATCH = 1_000_000  # sentences a batch (training and encoding), sentences of a group a batch
MAX_EPOCHS = 1_000_000
MAX_THREADS = 1024

# min_count when none is given, by the number of training sentences (after validation is held out):
# ((at least this many sentences, min count), ...). From 10,000 on, the article's 5, which the
# figures in docs/ were measured with (the Chinese training union: 70k sentences, ~2,700 characters
# kept). Below, most words of a small set are seen once or twice: an FAQ of 90 questions kept 17
# words at 5; so 2 from 1,000 sentences (rare typos stay unknown) and 1 under that (every word).
AUTO_MIN_COUNT = ((10_000, 5), (1_000, 2), (0, 1))

LR_SCHEDULES = {
    "constant": lambda progress: 1.0,
    "cosine": lambda progress: 0.5 * (1.0 + math.cos(math.pi * progress)),
    "linear": lambda progress: 1.0 - progress,
}


@dataclass
class DataConfig:
    """data"""

    train: list[str] = setting(help="training files: group_id<TAB>sentence, or s1<TAB>s2<TAB>label pairs "
                               "(pairs become groups); several files are concatenated (group ids are global)",
                               factory=list, metavar="FILE")
    val: str | None = setting(None, "validation groups file of groups not in training (see --val-same-groups); "
                              "without it, --val-fraction of the training groups is held out", metavar="FILE")
    # False: a --val file of training groups is refused (scores on them would read as scores on
    # unseen groups) from the command line and from Python alike, unless this says it is meant.
    val_same_groups: bool = setting(False, "the --val groups are training groups on purpose (the same "
                                           "intents, other sentences): validate on them and report them as seen "
                                           "groups (without it, a --val file sharing group ids with training, or "
                                           "mostly training sentences, is refused)")
    val_fraction: float = setting(0.1, "share of training groups held out for validation when --val is "
                                  "not given (chosen by a hash of the group id and --seed; never trained on, and "
                                  "named when the run starts)", between=(0.0, 1.0))
    watch: list[str] = setting(help="more groups files to score open-set after each epoch; their top-1 is "
                               "logged, never used to choose the best model", factory=list, metavar="FILE")
    format: str = setting("auto", "format of the training files; auto looks at the first line",
                          choices=lambda: ["auto", "groups", "pairs"])
    positive_at: float | None = setting(None, "for pair files with similarity scores: pairs scoring at "
                                        "least this are paraphrases (0/1 labels need nothing)", metavar="SCORE")
    hard_negatives: str | None = setting(None, "group_id<TAB>sentence lines judged NOT equivalent to that "
                                         "group; each batch adds one per group (contrastive, triplet, pair)",
                                         metavar="FILE")


@dataclass
class ModelConfig:
    """model: tokenizer, encoder, pooling"""

    tokenizer: str = setting("char", "char: one token a character (Chinese); word: words and punctuation, "
                             "CJK characters one by one (spaced languages)", choices=_tokenizers)
    max_len: int = setting(32, "tokens kept per sentence", at_least=1, at_most=MAX_TOKENS)
    min_count: int | None = setting(None, "a token seen fewer times in training is unknown: it shares one "
                                    "embedding with the other unknown tokens (or those of its hash bucket: "
                                    "--unknown-buckets); default: chosen from the training sentences, 5 from "
                                    "10,000 on, 2 from 1,000, else 1", at_least=1, at_most=INT64_MAX, metavar="N")
    # 4,096 chosen on dev files (benchmarks/unknown_buckets.py: lcqmc dev and qqp dev against 0, 1,024 and
    # 16,384): every count beat one <unk>; 16,384 was +0.005 better on mean dev top-1 but trained English
    # 30% slower (dense Adam over every row) with four times the rows. 0 keeps the single <unk> of the
    # models and figures from before 2026-12-06 (ADDED_LATER: how their run.json files resume).
    unknown_buckets: int = setting(4096, "hash tokens not in the vocabulary into this many learned embedding rows "
                                   "(fastText-style), so that two sentences of unknown words differ; "
                                   "0: one <unk> for all of them", at_least=0,
                                   at_most=MAX_UNKNOWN_BUCKETS, metavar="N")
    normalize: bool = setting(True, "full-width to half-width, lower case, one space (--no-normalize: "
                              "keep text as it is)")
    encoder: str = setting("gru", "encoder architecture: gru (trained from scratch, fast), srnn (a sliced GRU, Yu & "
                           "Liu 2018: --slices, --slice-levels) or transformer (a pretrained one fine-tuned: "
                           "--pretrained)", choices=_encoders)
    pretrained: str | None = setting(None, "the pretrained transformer to fine-tune (--encoder transformer): a folder in "
                                     "the Hugging Face layout (config.json, tokenizer files, model.safetensors), or "
                                     "minilm (all-MiniLM-L6-v2, English) or mpnet (all-mpnet-base-v2, English, slower and more "
                                     "accurate; README says how to install it); its own tokenizer replaces --tokenizer",
                                     metavar="DIR_OR_NAME")
    embed_dim: int = setting(128, "token embedding size", at_least=1, at_most=MAX_DIM)
    hidden_dim: int = setting(128, "GRU units (the sentence vector's size; doubled if bidirectional)", at_least=1,
                              at_most=MAX_DIM)
    num_layers: int = setting(1, "stacked GRU layers", flag="layers", at_least=1, at_most=MAX_LAYERS)
    bidirectional: bool = setting(False, "read the sentence both ways")
    slices: int = setting(4, "srnn: cut the sentence into this many parts, each part again, --slice-levels times",
                          at_least=2, at_most=1024, metavar="N")
    slice_levels: int = setting(2, "srnn: how many times the sentence is cut (slices**levels minimal "
                                "subsequences, at most --max-len)", at_least=1, at_most=8, metavar="K")
    glyphs: bool = setting(False, "Chinese characters also read by the shape of their glyph (Su & Lee 2017): a small "
                           "CNN over each character's bitmap, added to its embedding, so a character too rare for "
                           "the vocabulary still has a vector of its own")
    glyph_scope: str = setting("all", "--glyphs: whose glyphs are read: all Chinese characters (Su & Lee's way; "
                               "the better on lcqmc dev here, benchmarks/glyphs.py) or only rare ones (outside the "
                               "vocabulary)", choices=_glyph_scopes)
    glyph_size: int = setting(16, "--glyphs: bitmap side in pixels (a multiple of 4)", at_least=8, at_most=64, metavar="PX")
    glyph_pretrain: int = setting(0, "--glyphs: first train the glyph CNN this many epochs as a convolutional "
                                  "autoencoder over every glyph of the font (0: trained with the encoder only)",
                                  at_least=0, at_most=1000, metavar="EPOCHS")
    dropout: float = setting(0.2, "dropout on token embeddings while training (0 in the article); groups "
                             "unseen in training rank better with it", at_least=0.0, at_most=1.0)
    pooling: str | None = setting(None, "sentence vector: the max of the encoder's outputs over the sentence, its "
                                  "final state (last, the article's choice), their mean, or the first token's "
                                  "output (cls); default max for the GRU (it ranks better in docs/benchmarks.md), "
                                  "mean for a transformer", choices=_poolings)
    projection: int | None = setting(None, "add a linear map of the sentence vector to this size", at_least=1,
                                     at_most=MAX_DIM, metavar="DIM")

    def min_count_for(self, train_sentences: int) -> int:
        """min_count as given, or chosen from the number of training sentences (AUTO_MIN_COUNT)."""
        if self.min_count is not None:
            return self.min_count
        return next(count for at_least, count in AUTO_MIN_COUNT if train_sentences >= at_least)

    @property
    def fine_tuned(self) -> bool:
        """A pretrained transformer fine-tuned, not an encoder trained from scratch."""
        return self.encoder == "transformer"

    def pooling_mode(self) -> str:
        return self.pooling or {"transformer": "mean", "srnn": "last"}.get(self.encoder, "max")

    def check_encoder(self) -> None:
        if self.encoder == "srnn" and (self.bidirectional or self.num_layers > 1):
            raise SamesenseError("the srnn encoder is one direction, one GRU a level: leave out --bidirectional "
                                 "and --layers")
        if self.encoder == "srnn" and self.slices ** self.slice_levels > self.max_len:
            raise SamesenseError(f"--slices {self.slices} --slice-levels {self.slice_levels} make "
                                 f"{self.slices ** self.slice_levels} minimal subsequences, more than --max-len "
                                 f"{self.max_len} tokens")
        if self.glyphs and self.fine_tuned:
            raise SamesenseError("--glyphs is for the encoders trained from scratch (gru, srnn); a pretrained "
                                 "transformer reads its own vocabulary")
        if self.glyphs and self.glyph_size % 4:
            raise SamesenseError(f"--glyph-size must be a multiple of 4 (two 2x2 poolings), got {self.glyph_size}")
        if self.glyph_pretrain and not self.glyphs:
            raise SamesenseError("--glyph-pretrain pretrains the glyph CNN: add --glyphs")
        self.check_pretrained()

    def check_pretrained(self) -> None:
        if self.fine_tuned and not self.pretrained:
            raise SamesenseError("--encoder transformer fine-tunes a pretrained model: give --pretrained DIR or minilm")
        if self.pretrained and not self.fine_tuned:
            raise SamesenseError(f"--pretrained is for --encoder transformer, not {self.encoder}")

    def tokenizer_config(self, train_sentences: int) -> dict:
        if self.fine_tuned:  # the pretrained model's own vocabulary: nothing to fit or count
            return {"type": "pretrained", "source": self.pretrained, "max_len": self.max_len,
                    "normalize": self.normalize}
        return {"type": self.tokenizer, "max_len": self.max_len, "min_count": self.min_count_for(train_sentences),
                "normalize": self.normalize, "unknown_buckets": self.unknown_buckets,
                **({"glyphs": True, "glyph_scope": self.glyph_scope} if self.glyphs else {})}

    def encoder_config(self) -> dict:
        if self.fine_tuned:
            return {"type": "transformer", "source": self.pretrained}
        glyphs = {"glyph_size": self.glyph_size} if self.glyphs else {}
        if self.encoder == "srnn":
            return {"type": "srnn", "max_len": self.max_len, "embed_dim": self.embed_dim, "hidden_dim": self.hidden_dim,
                    "slices": self.slices, "slice_levels": self.slice_levels, "dropout": self.dropout, **glyphs}
        return {"type": self.encoder, "embed_dim": self.embed_dim, "hidden_dim": self.hidden_dim,
                "num_layers": self.num_layers, "bidirectional": self.bidirectional, "dropout": self.dropout, **glyphs}


@dataclass
class LossConfig:
    """loss"""

    loss: str = setting("am-softmax", "margin softmax over all groups: softmax (no margin), am-softmax "
                        "(cos - m), aam-softmax (cos(theta + m), ArcFace), a-softmax (cos(m*theta), "
                        "SphereFace, annealed), simpler-a-softmax (min(cos, cos(4*theta)), the article's); "
                        "or over batches of groups: contrastive (in-batch InfoNCE, symmetric), triplet "
                        "(batch-hard), pair (siamese pair classification)", choices=_losses)
    scale: float | None = setting(None, "logit scale s (default: the loss's: 30 for the margin family, 20 "
                                  "for contrastive)")
    margin: float | None = setting(None, "margin m (default: the loss's: 0.35 am-softmax, 0.5 aam-softmax, "
                                   "4 a-softmax and simpler-a-softmax, 0.3 triplet)")
    per_group: int | None = setting(None, "sentences of each group in a batch, for contrastive, triplet and "
                                    "pair (default: 2, 4 for triplet)", at_least=2, at_most=MAX_BATCH,
                                    metavar="K")
    center_loss: float = setting(0.0, "add center loss with this weight (0: off)", at_least=0.0, metavar="WEIGHT")
    orthogonal: float = setting(0.0, "add BigGAN's off-diagonal orthogonal penalty on the class centres "
                                "with this beta (0: off)", at_least=0.0, metavar="BETA")
    centre_init: str | None = setting(None, "class centres to start from: random, or each group's mean vector by the "
                                      "untrained encoder (means); default: means for a pretrained transformer, whose "
                                      "vectors already say much, random otherwise",
                                      choices=lambda: ["random", "means"])
    sample_rate: float = setting(1.0, "share of the class centres each step scores (Partial FC): the batch's own "
                                 "groups plus a uniform sample of the others; below 1 the untouched centres cost "
                                 "nothing (sparse updates): for hundreds of thousands to millions of groups, e.g. "
                                 "0.1; 1: every centre", at_least=1e-6, at_most=1.0, metavar="R")
    head_precision: str = setting("float32", "number type of the products of the sentence vectors and the class "
                                  "centres: bfloat16 takes them several times faster on CPUs with AMX or "
                                  "AVX512-BF16 (Partial FC's half-precision logits), at about 3 significant digits "
                                  "a cosine; the centres and their optimizer stay float32",
                                  choices=_head_precisions)


@dataclass
class DistilConfig:
    """distillation: a slower teacher's geometry taught to the student, beside the margin loss"""

    teacher: str | None = setting(None, "an encoder to learn from: e5-small, minilm, a samesense model folder or a "
                                  "sentence-transformers folder (a fine-tuned one too); its vectors of every training "
                                  "and --unlabeled sentence are computed once and kept on disk (--teacher-cache); the "
                                  "saved model is the student alone", metavar="MODEL")
    distil_weight: float = setting(1.0, "weight of the distillation term beside the margin loss", at_least=0.0,
                                   metavar="W")
    distil_objective: str = setting("cosine", "cosine: the student's vector through a learned map pulled towards the "
                                    "teacher's; similarity: the batch's similarity matrix made like the teacher's",
                                    choices=lambda: ["cosine", "similarity"])
    unlabeled: list[str] = setting(help="plain text files, one sentence a line, in no group: they take the "
                                   "distillation term alone (needs --teacher and a loss over all groups)",
                                   factory=list, metavar="FILE")
    unlabeled_per_batch: int | None = setting(None, "unlabeled sentences added to each batch (default: as many "
                                              "as the batch size)", at_least=1, at_most=MAX_BATCH, metavar="N")
    teacher_cache: str | None = setting(None, "folder keeping teacher vectors between runs, shared by runs "
                                        "(default: the run folder)", metavar="DIR")


@dataclass
class OptimConfig:
    """optimisation"""

    batch_size: int = setting(100, "sentences a step", at_least=1, at_most=MAX_BATCH)
    epochs: int = setting(10, "passes over the training data (with --resume: the new total)", at_least=1,
                          at_most=MAX_EPOCHS)
    lr: float | None = setting(None, "Adam learning rate of the encoder (default 1e-3; 5e-5 for a pretrained "
                               "transformer)", at_least=1e-12)
    # Adam moves every centre about lr a coordinate a step whatever its gradient's size, and a centre is
    # a positive in few steps: at the encoder's 1e-3 the centres lagged it. Chosen on lcqmc dev (the
    # Chinese union, 2 epochs, top-1: 1e-3 0.598, 1e-2 0.681, 3e-2 0.729, 1e-1 0.675; scale_accuracy.py
    # --epochs 2 --rates 1.0 --bfloat16-rates --head-lrs ... --out ...); 5 epochs in docs/benchmarks.md. Runs
    # from before 2026-12-06 (run.json: null) keep the encoder's rate.
    head_lr: float | None = setting(None, "learning rate of the class centres (default 3e-2 for an encoder trained "
                                    "from scratch; 1e-3 for a pretrained transformer, whose centres are new while its "
                                    "body is not)", at_least=1e-12)
    # rowwise chosen on lcqmc dev (Chinese union, --sample-rate 0.1, centres at 3e-2, 5 epochs, top-1: adam
    # 0.6966, Adam's first moment with a per-row second moment 0.7206, rowwise 0.7486, 0.7493 in the docs'
    # rerun; scale_accuracy.py --centres-optimizers); runs from before 2026-12-06 (run.json without it)
    # resume with adam.
    centres_optimizer: str = setting("rowwise", "optimizer of sampled class centres (--sample-rate below 1): "
                                     "rowwise (one step size a centre, from the mean of its squared gradient; no "
                                     "momentum: a centre is drawn in few steps) or adam (SparseAdam's rule)",
                                     choices=lambda: ["rowwise", "adam"])
    warmup_steps: int = setting(0, "raise the learning rates linearly from 0 over this many steps first",
                                at_least=0, at_most=INT64_MAX, metavar="STEPS")
    freeze_layers: int = setting(0, "keep a pretrained transformer's embeddings (1) and lowest layers (2, 3, ...) "
                                 "as they are", at_least=0, at_most=MAX_LAYERS, metavar="N")
    accumulate: int = setting(1, "split each batch into this many parts, one forward and backward each, "
                              "gradients summed: the step of the whole batch in less memory (losses over all "
                              "groups)", at_least=1, at_most=MAX_BATCH, metavar="N")
    lr_schedule: str = setting("constant", "keep the rate, or decay it to zero over all epochs",
                               choices=lambda: list(LR_SCHEDULES))
    seed: int = setting(0, "seed for initialisation, order and held-out groups", at_least=0, at_most=INT64_MAX)


@dataclass
class RunConfig:
    """run"""

    out: str = setting("", "run folder: checkpoint/, model/ (the best model), log.jsonl, curve.png",
                       metavar="DIR")
    resume: bool = setting(False, "continue the run in --out from its last checkpoint (starts afresh if "
                           "there is none)")
    overwrite: bool = setting(False, "start again even if --out holds a run")
    checkpoint_every: int = setting(0, "also checkpoint every STEPS batches inside an epoch (0: at epoch "
                                    "ends only)", at_least=0, at_most=INT64_MAX, metavar="STEPS")
    eval_batch_size: int = setting(512, "sentences a batch when encoding validation data", at_least=1,
                                   at_most=MAX_BATCH)
    spectra: bool = setting(True, "log the top-3 singular values of the class centres and encoder "
                            "weights each epoch (--no-spectra: do not)")
    threads: int | None = setting(None, "CPU threads (default: all cores)", at_least=1, at_most=MAX_THREADS)
    device: str = setting("cpu", "torch device, e.g. cpu or cuda")
    processes: int = setting(1, "train in this many processes (torch.distributed: gloo on CPU, nccl on GPUs): the "
                             "encoder data-parallel, the class centres split between them, one loss over all; the "
                             "CLI starts them, or run under torchrun with as many processes", at_least=1,
                             at_most=MAX_THREADS, metavar="N")
    show_progress: bool | None = setting(None, "progress bars: None only on a terminal", cli=False)

    # what a resumed run takes from the new config; everything else comes from its run.json
    # val_same_groups too: it changes what is refused, not what is trained; out too: the folder is the
    # run wherever it now lies (moved, or named relative to another directory)
    RESUMABLE = ("epochs", "show_progress", "threads", "device", "resume", "overwrite", "val_same_groups", "out")


# what check() accepts for each annotation (an int is a float too, as JSON and Python write them)
TYPES = {"int": int, "float": (int, float), "str": str, "bool": bool, "list[str]": list}
TYPE_NAMES = {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false",
              "list[str]": "a list of file names"}

SECTIONS = {"data": DataConfig, "model": ModelConfig, "loss": LossConfig, "distil": DistilConfig,
            "optim": OptimConfig, "run": RunConfig}

# settings added after run.json files were first written, with the value that reproduces what a run
# whose run.json predates them did (so that it resumes as it was trained)
ADDED_LATER = {"unknown_buckets": 0, "val_same_groups": True, "sample_rate": 1.0, "processes": 1,
               "pretrained": None, "centre_init": None, "head_lr": None, "warmup_steps": 0, "freeze_layers": 0,
               "accumulate": 1, "slices": 4, "slice_levels": 2, "glyphs": False, "glyph_size": 16, "glyph_pretrain": 0,
               "glyph_scope": "all", "head_precision": "float32",
               "centres_optimizer": "adam"}

# settings whose None means "chosen from the data": a resumed run that leaves one unset keeps the
# value its run.json holds (runs from before the choice saved min_count 5, the old default)
CHOSEN_FROM_DATA = ("min_count",)

# settings whose None means "the default", resolved into run.json when a run starts: a resumed run that
# leaves one unset keeps its run.json's value, and a run.json holding null predates the resolving
# (head_lr: such runs trained the centres at the encoder's rate, TrainConfig.as_saved_before)
RESOLVED_AT_START = ("head_lr",)


def setting_problem(name: str, value: Any, annotation: str, meta: Any) -> str | None:
    """What is wrong with a setting's value ("hidden_dim must be at least 1, got 0"), or None.
    `annotation` is the field's type as written ("int", "float | None"); `meta` holds its bounds
    and choices as setting() records them. TrainConfig.check and the model loader (components.py,
    for saved models' config.json) both hold values to it."""
    expected = annotation.removesuffix(" | None")
    if value is None and annotation.endswith("| None"):
        return None
    if not isinstance(value, TYPES[expected]) or (expected != "bool" and isinstance(value, bool)):
        return f"{name} must be {TYPE_NAMES[expected]}, got {value!r}"
    if isinstance(value, (bool, list)):
        return None
    if isinstance(value, float) and not math.isfinite(value):  # JSON NaN passes every bound below
        return f"{name} must be a finite number, got {value}"
    if meta.get("choices") and value not in meta["choices"]():
        return f"{name} must be one of {', '.join(meta['choices']())}, got {value!r}"
    if meta.get("at_least") is not None and value < meta["at_least"]:
        return f"{name} must be at least {shown(meta['at_least'])}, got {value}"
    if meta.get("at_most") is not None and value > meta["at_most"]:
        return f"{name} must be at most {shown(meta['at_most'])}, got {value}"
    low_high = meta.get("between")
    if low_high and not low_high[0] < value < low_high[1]:
        return f"{name} must be between {shown(low_high[0])} and {shown(low_high[1])}, got {value}"
    return None


def added_later(section: str, given: dict) -> dict:
    """For a section written in full by an older samesense (every field but some of ADDED_LATER, as
    run.json holds it), the values that keep its run as it was; {} for anything else, such as a
    caller's partial section, which gets the defaults."""
    missing = {f.name for f in fields(SECTIONS[section])} - set(given)
    return {name: ADDED_LATER[name] for name in missing} if missing and missing <= ADDED_LATER.keys() else {}


@dataclass
class TrainConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    distil: DistilConfig = field(default_factory=DistilConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    run: RunConfig = field(default_factory=RunConfig)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """From nested sections ({"optim": {"lr": ...}}), flat fields ({"lr": ...}), or both.
        Unknown keys are an error naming the key. A section of a run.json from before a setting
        existed gets the value that keeps that run as it was (ADDED_LATER)."""
        sections: dict[str, dict] = {name: {} for name in SECTIONS}
        owner = {f.name: name for name, section in SECTIONS.items() for f in fields(section)}
        for key, value in values.items():
            if key in SECTIONS and isinstance(value, dict):
                sections[key] = {**added_later(key, value), **sections[key]}
                for inner, inner_value in value.items():
                    if owner.get(inner) != key:
                        raise SamesenseError(f"unknown setting {key}.{inner}")
                    sections[key][inner] = inner_value
            elif key in owner:
                sections[owner[key]][key] = value
            else:
                raise SamesenseError(f"unknown setting {key!r}")
        return cls(**{name: SECTIONS[name](**sections[name]) for name in SECTIONS})

    @classmethod
    def of(cls, **flat) -> "TrainConfig":
        """TrainConfig.of(train=[...], out="runs/x", loss="triplet"): flat keywords, for scripts."""
        return cls.from_dict(flat)

    def to_dict(self) -> dict:
        return asdict(self)

    def replace(self, **flat) -> "TrainConfig":
        """A copy with some fields changed (flat names), e.g. for a search trial."""
        return TrainConfig.from_dict({**self.to_dict(), **flat})

    def check(self) -> None:
        """Every field against its bounds and choices; the message names the setting."""
        if not self.run.out:
            raise SamesenseError("no run folder given (out)")
        for name, section in SECTIONS.items():
            values = getattr(self, name)
            for f in fields(section):
                problem = setting_problem(f.name, getattr(values, f.name), f.type, f.metadata)
                if problem:
                    raise SamesenseError(problem)
        self.model.check_encoder()
        if self.optim.freeze_layers and not self.model.fine_tuned:
            raise SamesenseError("--freeze-layers keeps a pretrained transformer's lower layers: give --encoder "
                                 "transformer")

    def check_distillation(self, batching: str, teacher_given: bool = False) -> None:
        """What distillation needs of the rest (`batching`: the loss's; `teacher_given`: a teacher
        comes from the caller, not from the `teacher` setting)."""
        if self.distil.unlabeled and not (self.distil.teacher or teacher_given):
            raise SamesenseError("unlabeled sentences are learned from a teacher alone: give --teacher")
        if self.distil.unlabeled and batching != "sentences":
            raise SamesenseError(f"unlabeled sentences go with a loss over all groups (the margin-softmax family), "
                                 f"not {self.loss.loss}, whose batches are whole groups")

    def check_scale(self, needs_head: bool) -> None:
        """What sampled and sharded class centres go with (`needs_head`: the loss scores classes)."""
        sampled, split = self.loss.sample_rate < 1.0, self.run.processes > 1
        if not (sampled or split):
            return
        what = "sampled class centres (--sample-rate)" if sampled else "a run over several processes (--processes)"
        if not needs_head:
            raise SamesenseError(f"{what}: only with a loss over all groups (the margin-softmax family), "
                                 f"not {self.loss.loss}")
        if self.loss.center_loss or self.loss.orthogonal:
            raise SamesenseError(f"{what}: not with --center-loss or --orthogonal, which read every centre "
                                 "each step")
        if split and (self.distil.teacher or self.distil.unlabeled):
            raise SamesenseError("distillation runs in one process: leave out --processes")

    def base_lr(self) -> float:
        if self.optim.lr is not None:
            return self.optim.lr
        return 5e-5 if self.model.fine_tuned else 1e-3

    def started(self) -> "TrainConfig":
        """The config a new run saves: RESOLVED_AT_START's defaults written out, so that a later
        change of default leaves the run as it was trained."""
        return self if self.optim.head_lr is not None else self.replace(head_lr=self.head_lr())

    def as_saved_before(self) -> "TrainConfig":
        """A run.json's config as the run was trained, where it predates RESOLVED_AT_START (null
        there): an encoder trained from scratch then had its centres at the encoder's rate (fine-tuning's
        default, head_lr(), has not changed)."""
        if self.optim.head_lr is not None or self.model.fine_tuned:
            return self
        return self.replace(head_lr=self.base_lr())

    def head_lr(self) -> float:
        if self.optim.head_lr is not None:
            return self.optim.head_lr
        return 1e-3 if self.model.fine_tuned else 3e-2

    def centre_init(self) -> str:
        return self.loss.centre_init or ("means" if self.model.fine_tuned else "random")

    def check_files(self) -> None:
        """What a run that reads its data from files needs besides check()."""
        if not self.data.train:
            raise SamesenseError("no training file given")


def learning_rate(cfg: TrainConfig, step: int, total_steps: int) -> float:
    """The share of each base rate for a global step (warm-up, then the schedule): a pure function
    of the step, so a resumed run follows it."""
    warm = min(1.0, (step + 1) / cfg.optim.warmup_steps) if cfg.optim.warmup_steps else 1.0
    return warm * LR_SCHEDULES[cfg.optim.lr_schedule](min(step / max(total_steps, 1), 1.0))
