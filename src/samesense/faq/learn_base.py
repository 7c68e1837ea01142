"""What `faq learn` fine-tunes and on what, and its options (LearnOptions, light: the command's --help
shows its defaults): the pretrained transformer behind the bank's model, the
entries split into questions to train on and paraphrases held back, and the training settings.

Each learn fine-tunes the pretrained model again (not the last learned one) on all the bank holds
now: a learned model's encoder names its pretrained source, so the second learn starts where the
first did, with the questions assigned since. No drift from learn to learn, and the same settings
reproduce a model.
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


@dataclass
class LearnOptions:
    epochs: int = 8
    holdout: float = 0.2  # share of the paraphrases held back to compare the models on
    batch_size: int = 32
    # the transformer's rate, above the training machinery's 5e-5: eight epochs of a few hundred
    # questions are a few dozen steps. A check by hand (one learn of the newcomer FAQ's stored
    # questions, MiniLM, the last epoch kept; not a benchmark): test right 21 of 32 at 5e-5, 23 at
    # 1e-4, 22 at 2e-4. benchmarks/faq_loop.py --lr measures the loop at another rate.
    lr: float | None = 1e-4
    loss: str = "am-softmax"
    freeze_layers: int = 1  # the embeddings stay as pretrained: a few hundred questions touch few of their rows
    seed: int = 0
    threads: int | None = None
    target_precision: float | None = None  # default: the bank's calibrated target, else DEFAULT_TARGET_PRECISION
    keep: int = 2  # models kept to roll back to
    show_progress: bool | None = None


def base_settings(model) -> dict:
    """The model section of the training settings that fine-tunes what `model` came from; a model
    that is no fine-tuned pretrained transformer is refused in one line."""
    spec = getattr(model, "spec", None) or ""
    if spec.startswith(BASELINE_PREFIX) and spec[len(BASELINE_PREFIX):] in PRETRAINED_OF_BASELINE:
        return {"encoder": "transformer", "pretrained": PRETRAINED_OF_BASELINE[spec[len(BASELINE_PREFIX):]],
                "normalize": False, "max_len": MAX_LEN, "pooling": "mean"}
    stages = getattr(model, "stages", None)
    if stages is not None and "encoder" in stages:
        encoder, tokenizer = stages["encoder"], model.tokenizer
        if getattr(encoder, "type", None) == "transformer":
            base = {"encoder": "transformer", "pretrained": encoder.source, "normalize": tokenizer.normalize,
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
    raise SamesenseError(f"faq learn fine-tunes a pretrained transformer (minilm, e5-small, a sentence-transformers "
                         f"folder or a samesense model fine-tuned from one); this bank's model is {kind}")


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
    """The run's settings: the base model, the learn options, one process, no files of its own."""
    return TrainConfig.of(out=str(out), **base, epochs=options.epochs, batch_size=options.batch_size,
                          lr=options.lr, loss=options.loss, freeze_layers=options.freeze_layers, seed=options.seed,
                          threads=options.threads, val_same_groups=True, spectra=False,
                          show_progress=options.show_progress, overwrite=True)
