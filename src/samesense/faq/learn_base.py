"""What `faq learn` fine-tunes and on what, and its options (LearnOptions, light: the command's --help
shows its defaults): the transformer behind the bank's model, or the bank's static model
itself; the entries split into questions to train on and paraphrases held back; the training settings.

Each learn fine-tunes the same base again (not the last learned model) on all the bank holds now: a
learned transformer's encoder names its source (the pretrained transformer, or the samesense model
fine-tuned elsewhere that the bank was given: train --pretrained MODEL goes on from it), and a learned
static model's info names the static model it started from (train --start-from: its folder and
fingerprint), so the second learn starts where the first did, with the questions assigned since. No
drift from learn to learn, and the same settings reproduce a model.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ..baselines import BASELINE_PREFIX
from ..errors import SamesenseError
from ..train.config import TrainConfig

# baselines with a pretrained transformer the training machinery fine-tunes (encoders/transformer.py)
PRETRAINED_OF_BASELINE = {"minilm": "minilm", "e5-small": "e5-small"}
MAX_LEN = 64  # tokens a question (e5's "query: " prefix included); FAQ questions are short
DEFAULT_TARGET_PRECISION = 0.95  # what a bank never calibrated is compared at (calibrate's default)


# epochs, rate and frozen layers by the kind of model fine-tuned, where LearnOptions leaves them None.
# transformer: the rate above the training machinery's 5e-5, as eight epochs of a few hundred questions
# are a few dozen steps (a check by hand: one learn of the newcomer FAQ's stored questions, MiniLM, the
# last epoch kept, not a benchmark: test right 21 of 32 at 5e-5, 23 at 1e-4, 22 at 2e-4); the
# embeddings frozen, as a few hundred questions touch few of their rows.
# static: chosen on the newcomer FAQ's dev questions, never its test ones (benchmarks/faq_learn_static.py:
# rates 3e-3 to 1e-1, 8 to 32 epochs): in-scope dev questions answered right at precision 0.9 went
# from 1 (English) and 0 (Chinese) of 32 before learning to 3 and 2 at 3e-2, at any of the epochs (at
# most 2 in either elsewhere); higher rates ranked the nearest entry worse (19 of 32 before, 16 and 14 at
# 3e-2, 10 and 11 at 1e-1). The fewest epochs of the best: 8. A table has no layers to freeze.
KIND_DEFAULTS = {"transformer": {"epochs": 8, "lr": 1e-4, "freeze_layers": 1},
                 "static": {"epochs": 8, "lr": 3e-2, "freeze_layers": 0}}


@dataclass
class LearnOptions:
    epochs: int | None = None  # None: the model kind's (KIND_DEFAULTS)
    holdout: float = 0.2  # share of the paraphrases held back to compare the models on
    batch_size: int = 32
    lr: float | None = None  # None: the model kind's; benchmarks/faq_loop.py --lr measures the loop at another
    loss: str = "am-softmax"
    freeze_layers: int | None = None  # transformer: keep the embeddings (1) and lowest layers as pretrained
    seed: int = 0
    threads: int | None = None
    target_precision: float | None = None  # default: the bank's calibrated target, else DEFAULT_TARGET_PRECISION
    keep: int = 2  # models kept to roll back to
    show_progress: bool | None = None


def base_settings(model, learned_dir: Path) -> dict:
    """The model section of the training settings that fine-tunes what `model` came from (learned
    models being in `learned_dir`); a model that is neither a static model nor a pretrained
    transformer (fine-tuned or not) is refused in one line."""
    spec = getattr(model, "spec", None) or ""
    if spec and is_static_folder(spec):
        return {"encoder": "static", "start_from": static_base(spec, learned_dir), "pooling": "mean"}
    if spec.startswith(BASELINE_PREFIX) and spec[len(BASELINE_PREFIX):] in PRETRAINED_OF_BASELINE:
        return {"encoder": "transformer", "pretrained": PRETRAINED_OF_BASELINE[spec[len(BASELINE_PREFIX):]],
                "normalize": False, "max_len": MAX_LEN, "pooling": "mean"}
    stages = getattr(model, "stages", None)
    if stages is not None and "encoder" in stages:
        encoder, tokenizer = stages["encoder"], model.tokenizer
        if getattr(encoder, "type", None) == "transformer":
            base = {"encoder": "transformer", "pretrained": transformer_base(spec, encoder.source, stages, learned_dir),
                    "normalize": tokenizer.normalize,
                    "max_len": tokenizer.max_len, "pooling": stages["pooling"].mode}
            if "projection" in stages:
                base["projection"] = model.dim
            return base
        kind = f"a samesense {getattr(encoder, 'type', '?')} model"
    elif spec and os.path.isfile(os.path.join(spec, "config.json")):  # a sentence-transformers folder
        return {"encoder": "transformer", "pretrained": spec, "normalize": False, "max_len": MAX_LEN,
                "pooling": "mean"}
    else:
        kind = f"model {spec or getattr(model, 'fingerprint', '?')}"
    raise SamesenseError(f"faq learn fine-tunes a static model or a pretrained transformer (minilm, e5-small, a "
                         f"sentence-transformers folder or a samesense model fine-tuned from one); this bank's model "
                         f"is {kind}")


def transformer_base(folder: str, source: str, stages, learned_dir: Path) -> str:
    """What a learn fine-tunes for a samesense transformer model: the model itself when it was fine-tuned
    elsewhere (e.g. e5-small on a Chinese union: starting again from the pretrained one would drop that
    training), or, for one an earlier learn made (in `learned_dir`), what that learn fine-tuned (its encoder's
    source). A model with a projection after the transformer: its pretrained source (going on from it would
    drop the projection)."""
    learned = bool(folder) and Path(folder).resolve().parent == learned_dir.resolve()
    if not learned:
        return folder if folder and "projection" not in stages else source
    from ..encoders.pretrained_files import NAMES, samesense_folder
    from ..runtime.folder import fingerprint

    back = "put it back, or `faq rollback` to it and learn from the model used then"
    if source not in NAMES and not Path(source).is_dir():
        raise SamesenseError(f"{source}: the model this bank's model was learned from is gone: {back}")
    recorded = stages["encoder"].source_fingerprint  # a samesense model's, when learned from one
    there = samesense_folder(source) if recorded else None
    if recorded and (there is None or fingerprint(there) != recorded):
        raise SamesenseError(f"{source}: not the model this bank's model was learned from (its files changed since, "
                             f"fingerprint {recorded[:12]}): {back}")
    return source


def is_static_folder(spec: str) -> bool:
    """A samesense folder of a static model (a tokenizer, a static table, mean pooling)."""
    from ..runtime.folder import MANIFEST
    from ..runtime.saved_static import static_parts

    return static_parts(Path(spec) / MANIFEST) is not None


def static_base(folder: str, learned_dir: Path) -> str:
    """The static model a learn starts from: the bank's own, or, when it is one an earlier learn made
    (in `learned_dir`), the one that learn started from, as long as its files are the same."""
    from ..runtime.saved_static import SavedStatic

    if Path(folder).resolve().parent != learned_dir.resolve():
        return folder
    info = SavedStatic(Path(folder)).info
    base, fingerprint = info.get("started_from"), info.get("started_from_fingerprint")
    if not base:
        raise SamesenseError(f"{folder}: a learned model that names no model it started from (started_from)")
    if not Path(base).is_dir() or SavedStatic(Path(base)).fingerprint != fingerprint:
        raise SamesenseError(f"{base}: the static model this bank's model was learned from is gone or its files "
                             "changed: put it back, or `faq rollback` to it and learn from the model used then")
    return base


def base_name(base: dict) -> str:
    """What a learn fine-tunes, in words: the pretrained transformer, or the static model's folder."""
    return base.get("pretrained") or base.get("start_from") or base["encoder"]


def held_back_split(entries, holdout: float, seed: int, bank_path) -> tuple[list[tuple[str, str]], list[tuple[int, str]]]:
    """(group, question) rows to train on (one group an entry), and (entry id, paraphrase) held back:
    `holdout` of all paraphrases, chosen by a hash of the text and `seed` (the same bank, the same
    split); never an entry's question, so every entry keeps one to train on."""
    paraphrases = [(e.id, p) for e in entries for p in e.paraphrases]
    wanted = round(holdout * len(paraphrases))
    if len(entries) < 2 or wanted < 1:
        raise SamesenseError(f"{bank_path}: {len(entries)} entries, {len(paraphrases)} paraphrases: too few to hold "
                             f"any back at --holdout {holdout:g} and compare the models (add paraphrases: assign "
                             "questions from the unanswered log, faq paraphrase; or raise --holdout)")
    order = sorted(paraphrases, key=lambda item: hashlib.sha256(f"{seed}\t{item[1]}".encode()).digest())
    held = order[:wanted]
    held_set = set(held)
    trained = [(str(e.id), q) for e in entries for q in e.questions if (e.id, q) not in held_set]
    if len(trained) - len(entries) < 1:  # every entry down to its question: nothing says what a paraphrase is
        raise SamesenseError(f"{bank_path}: holding back {wanted} of {len(paraphrases)} paraphrases leaves no entry "
                             f"a paraphrase to learn from: lower --holdout (now {holdout:g}) or add paraphrases")
    return trained, held


def training_config(base: dict, options, out: Path) -> TrainConfig:
    """The run's settings: the base model, the learn options (those left None: the model kind's), one
    process, no files of its own."""
    chosen = {**KIND_DEFAULTS[base["encoder"]],
              **{k: getattr(options, k) for k in ("epochs", "lr", "freeze_layers") if getattr(options, k) is not None}}
    if base["encoder"] == "static" and chosen["freeze_layers"]:
        raise SamesenseError("--freeze-layers: this bank's model is a static table of token vectors, which has no "
                             "layers to keep")
    return TrainConfig.of(out=str(out), **base, **chosen, batch_size=options.batch_size,
                          loss=options.loss, seed=options.seed,
                          threads=options.threads, val_same_groups=True, spectra=False,
                          show_progress=options.show_progress, overwrite=True)
