"""The data of a run: groups read (or given) once, tokenized once.

`TrainGroups` is what a caller may hand to `train()` instead of file names (the demo, a search
that trains many models on the same split). `prepare_data` turns it into `TrainData`: the
tokenizer fitted on the training sentences, every training row's token ids, and the rows of the
hard negatives. A `TrainData` can itself be given to `train()` again: when the tokenizer settings
are the same, nothing is read or tokenized a second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data import (Groups, load_groups, read_groups, require_rankable, require_training_groups,
                    split_groups)
from ..errors import SamesenseError
from ..tokenize import Tokenizer, make_tokenizer
from .config import TrainConfig


@dataclass
class TrainGroups:
    train: Groups
    val: Groups | None = None  # None: hold out cfg.data.val_fraction of the training groups
    hard_negatives: Groups | None = None  # sentences judged NOT equivalent to the named group
    watched: dict[str, Groups] = field(default_factory=dict)  # scored each epoch, logged only

    @classmethod
    def read(cls, cfg: TrainConfig) -> "TrainGroups":
        d, normalize = cfg.data, cfg.model.normalize
        return cls(train=load_groups(d.train, d.format, normalize, d.positive_at),
                   val=load_groups(d.val, "auto", normalize, d.positive_at) if d.val else None,
                   hard_negatives=read_groups(d.hard_negatives, normalize) if d.hard_negatives else None,
                   watched={f"{Path(p).parent.name}/{Path(p).stem}": load_groups(p, "auto", normalize, d.positive_at)
                            for p in d.watch})


@dataclass
class TrainData:
    train: Groups
    val: Groups
    tokenizer: Tokenizer
    token_ids: list[list[int]]  # training sentences, then hard negatives
    row_labels: np.ndarray  # a group label per row; hard negatives get -1, -2, ... (no group)
    hard_negatives: dict[int, np.ndarray] = field(default_factory=dict)  # group -> its rows
    watched: dict[str, Groups] = field(default_factory=dict)
    source: TrainGroups | None = None  # what it was made from, to tokenize again differently

    def summary(self) -> dict:
        return {"train_sentences": len(self.train), "train_groups": self.train.num_groups,
                "val_sentences": len(self.val), "val_groups": self.val.num_groups,
                "hard_negatives": len(self.token_ids) - len(self.train),
                "skipped_empty": self.train.skipped_empty + (self.val.skipped_empty if self.val is not self.train else 0)}


def prepare_data(cfg: TrainConfig, given: TrainGroups | TrainData | None = None,
                 tokens: list[str] | None = None) -> TrainData:
    """Read (unless given), split, fit the tokenizer (unless `tokens`, a checkpoint's vocabulary,
    are given) and tokenize."""
    if isinstance(given, TrainData):
        if given.tokenizer.config() | {"type": given.tokenizer.type} == cfg.model.tokenizer_config() and (
                tokens is None or tokens == given.tokenizer.tokens):
            return given
        given = given.source
    if given is None:
        cfg.check_files()
        given = TrainGroups.read(cfg)
    require_training_groups(given.train, held_out=given.val is None)
    if given.val is not None:
        train_groups, val = given.train, given.val
        require_rankable(val, "of the validation file")
    else:
        train_groups, val = split_groups(given.train, cfg.data.val_fraction, cfg.optim.seed)
        require_rankable(val, "held out for validation", " (give --val FILE, or more sentences a group)")
    if train_groups.num_groups < 2:
        raise SamesenseError(f"training needs at least 2 groups: {train_groups.num_groups} left after "
                             f"holding out {val.num_groups} of {given.train.num_groups} for validation")
    for watched in given.watched.values():
        require_rankable(watched, "of the watched file")
    tokenizer = make_tokenizer(cfg.model.tokenizer_config(), tokens)
    if tokens is None:
        tokenizer.fit(train_groups.sentences)
    token_ids = tokenizer.tokenize(train_groups.sentences)
    row_labels = [int(label) for label in train_groups.labels]
    hard_negatives: dict[int, list[int]] = {}
    if given.hard_negatives is not None:
        index = {name: label for label, name in enumerate(train_groups.names)}
        negatives = given.hard_negatives
        for sentence, label in zip(negatives.sentences, negatives.labels):
            group = index.get(negatives.names[label])
            if group is None:  # a group held out for validation, or not in training at all
                continue
            hard_negatives.setdefault(group, []).append(len(token_ids))
            row_labels.append(len(train_groups) - len(token_ids) - 1)  # -1, -2, ...: in no group
            token_ids.append(tokenizer.encode(sentence))
    return TrainData(train_groups, val, tokenizer, token_ids, np.asarray(row_labels, dtype=np.int64),
                     {g: np.asarray(rows) for g, rows in hard_negatives.items()}, given.watched, given)
