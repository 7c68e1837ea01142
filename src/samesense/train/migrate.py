"""Run folders written by earlier versions: how their run.json and checkpoints are read so that a run
resumes as it was trained. Everything that exists only for old runs is here, and nothing else.

- A setting added after run.json files were first written is absent from theirs: it takes the
  value that reproduces what such a run did (ADDED_LATER), not today's default.
- A setting whose None means "the default" is written out when a run starts (RESOLVED_AT_START);
  a run.json holding null predates that, and is read as such a run was trained (as_saved_before).
- A run whose class centres learn at the encoder's rate keeps one optimizer group, in the order
  runs were checkpointed in before the centres had a rate of their own (one_group_as_before).
"""

from __future__ import annotations

from dataclasses import fields

# settings added after run.json files were first written, with the value that reproduces what a run
# whose run.json predates them did (so that it resumes as it was trained)
ADDED_LATER = {"unknown_buckets": 0, "val_same_groups": True, "sample_rate": 1.0, "processes": 1,
               "pretrained": None, "centre_init": None, "head_lr": None, "warmup_steps": 0, "freeze_layers": 0,
               "accumulate": 1, "slices": 4, "slice_levels": 2, "glyphs": False, "glyph_size": 16, "glyph_pretrain": 0,
               "glyph_scope": "all", "head_precision": "float32",
               "centres_optimizer": "adam", "init_from": None,
               "start_from": None}

# settings whose None means "chosen from the data": a resumed run that leaves one unset keeps the
# value its run.json holds (runs from before the choice saved min_count 5, the old default)
CHOSEN_FROM_DATA = ("min_count",)

# settings whose None means "the default", resolved into run.json when a run starts: a resumed run that
# leaves one unset keeps its run.json's value, and a run.json holding null predates the resolving
# (as_saved_before: head_lr, the centres then at the encoder's rate; lr, then 5e-5 fine-tuning and 1e-3 for
# every encoder from scratch, before the static default's 1e-2; tokenizer, "char" whatever the encoder)
RESOLVED_AT_START = ("head_lr", "lr", "tokenizer")


def added_later(section: type, given: dict) -> dict:
    """For a section (a dataclass of TrainConfig) written in full by an older samesense (every field
    but some of ADDED_LATER, as run.json holds it), the values that keep its run as it was; {} for
    anything else, such as a caller's partial section, which gets the defaults."""
    missing = {f.name for f in fields(section)} - set(given)
    return {name: ADDED_LATER[name] for name in missing} if missing and missing <= ADDED_LATER.keys() else {}


def started(cfg):
    """The config a new run saves (a TrainConfig): RESOLVED_AT_START's defaults written out, so that
    a later change of default leaves the run as it was trained."""
    unset = {"head_lr": cfg.optim.head_lr is None, "lr": cfg.optim.lr is None,
             "tokenizer": cfg.model.tokenizer is None and not cfg.model.start_from}  # --start-from: the saved model's
    default = {"head_lr": cfg.head_lr, "lr": cfg.base_lr, "tokenizer": lambda: cfg.model.tokenizer_kind}
    return cfg.replace(**{name: default[name]() for name in RESOLVED_AT_START if unset[name]})


def as_saved_before(cfg):
    """A run.json's config as the run was trained, where it predates RESOLVED_AT_START (null there):
    the encoder at 5e-5 fine-tuning, else 1e-3; an encoder trained from scratch had its centres at
    the encoder's rate (fine-tuning's default, head_lr(), has not changed); the tokenizer "char"."""
    if cfg.optim.lr is None:
        cfg = cfg.replace(lr=5e-5 if cfg.model.fine_tuned else 1e-3)
    if cfg.model.tokenizer is None and not cfg.model.start_from:  # --start-from: the saved model's, unnamed
        cfg = cfg.replace(tokenizer="char")
    if cfg.optim.head_lr is not None or cfg.model.fine_tuned:
        return cfg
    return cfg.replace(head_lr=cfg.base_lr())



def one_group_as_before(modules: list, lr: float) -> list[dict]:
    """The optimizer's one group when the centres learn at the encoder's rate: every trainable
    parameter of `modules` (the model, a dense head, the loss, the terms, in that order, as
    checkpoints from before the centres' own rate list them), so such checkpoints still load."""
    params = [p for module in modules if module is not None for p in module.parameters() if p.requires_grad]
    return [{"params": params, "lr": lr, "base_lr": lr}]
