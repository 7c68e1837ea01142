"""The data of a run: groups read (or given) once, tokenized once.

`TrainGroups` is what a caller may hand to `train()` instead of file names (the demo, a search
that trains many models on the same split). `prepare_data` turns it into `TrainData`: the
tokenizer fitted on the training sentences, every training row's token ids, and the rows of the
hard negatives. A `TrainData` can itself be given to `train()` again: when the tokenizer settings
are the same, nothing is read or tokenized a second time.

What validation can say is worked out here too: the groups held out of training (named, so that
none is left out silently), the validation groups that are training groups (refused unless the
config says they are meant: `val_same_groups`), and whether validation has queries enough to
choose an epoch on (MIN_VAL_QUERIES).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data import (Groups, groups_error, has_partner, load_groups, plural, read_groups, read_sentences,
                    require_rankable, require_training_groups, split_groups)
from ..errors import SamesenseError
from ..tokenize import TokenIds, Tokenizer, make_tokenizer
from .config import TrainConfig


@dataclass
class TrainGroups:
    train: Groups
    val: Groups | None = None  # None: hold out cfg.data.val_fraction of the training groups
    hard_negatives: Groups | None = None  # sentences judged NOT equivalent to the named group
    watched: dict[str, Groups] = field(default_factory=dict)  # scored each epoch, logged only
    unlabeled: list[str] = field(default_factory=list)  # in no group: taught by the teacher alone

    @classmethod
    def read(cls, cfg: TrainConfig) -> "TrainGroups":
        d, normalize = cfg.data, cfg.model.normalize
        return cls(train=load_groups(d.train, d.format, normalize, d.positive_at),
                   val=load_groups(d.val, "auto", normalize, d.positive_at) if d.val else None,
                   hard_negatives=read_groups(d.hard_negatives, normalize) if d.hard_negatives else None,
                   watched={f"{Path(p).parent.name}/{Path(p).stem}": load_groups(p, "auto", normalize, d.positive_at)
                            for p in d.watch},
                   unlabeled=[s for p in cfg.distil.unlabeled for s in read_sentences(p, normalize)])


# Validation with fewer scorable queries than this cannot choose an epoch: one query moves top-1 by
# more than 2 points, more than epochs of a run usually differ by. A run on such validation trains
# every epoch and keeps the last (an FAQ of 30 entries held out 3 sentences and chose epoch 1).
# Every benchmark validates on a thousand queries or more.
MIN_VAL_QUERIES = 50


@dataclass
class TrainData:
    train: Groups
    val: Groups
    tokenizer: Tokenizer
    token_ids: TokenIds  # training sentences, then hard negatives, then unlabeled sentences
    row_labels: np.ndarray  # a group label per row; hard negatives get -1, -2, ... (no group)
    hard_negatives: dict[int, np.ndarray] = field(default_factory=dict)  # group -> its rows
    watched: dict[str, Groups] = field(default_factory=dict)
    source: TrainGroups | None = None  # what it was made from, to tokenize again differently
    held_out: list[str] = field(default_factory=list)  # groups held out of training for validation
    val_seen: list[str] = field(default_factory=list)  # validation groups that are training groups
    row_texts: list[str] = field(default_factory=list)  # the text of every row (what a teacher encodes)
    unlabeled_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # rows in no group

    @property
    def val_queries(self) -> int:
        """Validation sentences that open-set ranking scores (those with another of their group)."""
        return int(has_partner(self.val.labels).sum())

    @property
    def chooses_epoch(self) -> bool:
        """Whether validation has queries enough to choose the best epoch on (else: the last)."""
        return self.val_queries >= MIN_VAL_QUERIES

    def summary(self) -> dict:
        summary = {"train_sentences": len(self.train), "train_groups": self.train.num_groups,
                   "val_sentences": len(self.val), "val_groups": self.val.num_groups,
                   "hard_negatives": len(self.token_ids) - len(self.train) - len(self.unlabeled_rows),
                   "skipped_empty": self.train.skipped_empty + (self.val.skipped_empty if self.val is not self.train else 0)}
        if len(self.unlabeled_rows):  # only then: a run from before unlabeled data resumes as it was
            summary["unlabeled_sentences"] = len(self.unlabeled_rows)
        return summary


def prepare_data(cfg: TrainConfig, given: TrainGroups | TrainData | None = None,
                 tokens: list[str] | None = None) -> TrainData:
    """Read (unless given), split, check validation against training, fit the tokenizer (unless
    `tokens`, a checkpoint's vocabulary, are given) and tokenize."""
    if isinstance(given, TrainData):
        if given.tokenizer.config() | {"type": given.tokenizer.type} == cfg.model.tokenizer_config(
                len(given.train)) and (tokens is None or tokens == given.tokenizer.tokens):
            check_seen(cfg, given.val, given.val_seen)
            return given
        given = given.source
    if given is None:
        cfg.check_files()
        given = TrainGroups.read(cfg)
    train_groups, val, held_out = split_validation(cfg, given)
    val_seen = seen_in_training(val, train_groups) if given.val is not None else []
    check_seen(cfg, val, val_seen)
    for watched in given.watched.values():
        require_rankable(watched, "of the watched file")
    # an unlabeled sentence of a training group is taught by its group already, and one of a
    # validation group is never trained on (it would be seen before it is scored); once each
    in_groups = set(train_groups.sentences) | set(val.sentences)
    unlabeled = [s for s in dict.fromkeys(given.unlabeled) if s not in in_groups]
    if tokens is None:  # a saved model's vocabulary, to go on from (--start-from), else fitted below
        tokens = cfg.model.encoder_class().train_vocabulary(cfg.model)
    tokenizer = make_tokenizer(cfg.model.tokenizer_config(len(train_groups)), tokens)
    if tokens is None:  # unlabeled text widens the vocabulary: the teacher teaches its words too
        tokenizer.fit(train_groups.sentences + unlabeled)
    token_ids = tokenizer.tokenize_compact(train_groups.sentences, cfg.run.show_progress)
    row_texts = list(train_groups.sentences)
    row_labels, hard_negatives, negative_ids = add_hard_negatives(given.hard_negatives, train_groups, tokenizer,
                                                                  row_texts)
    unlabeled_rows = np.arange(len(row_texts), len(row_texts) + len(unlabeled), dtype=np.int64)
    token_ids = TokenIds.concatenate([token_ids, TokenIds.of(negative_ids), tokenizer.tokenize_compact(unlabeled)])
    row_texts += unlabeled
    row_labels = np.concatenate([row_labels, np.full(len(unlabeled_rows), -1, np.int64)])  # in no group
    return TrainData(train_groups, val, tokenizer, token_ids, row_labels, hard_negatives, given.watched, given,
                     held_out, val_seen, row_texts, unlabeled_rows)


def split_validation(cfg: TrainConfig, given: TrainGroups) -> tuple[Groups, Groups, list[str]]:
    """(training groups, validation groups, names of the groups held out of training): the
    validation file's groups, or --val-fraction of the training groups held out."""
    require_training_groups(given.train, held_out=given.val is None)
    if given.val is not None:
        require_rankable(given.val, "of the validation file")
        return given.train, given.val, []
    train_groups, val = split_groups(given.train, cfg.data.val_fraction, cfg.optim.seed)
    require_rankable(val, "held out for validation", " (give --val FILE, or more sentences a group)")
    if train_groups.num_groups < 2:
        raise SamesenseError(f"training needs at least 2 groups: {train_groups.num_groups} left after "
                             f"holding out {val.num_groups} of {given.train.num_groups} for validation")
    return train_groups, val, list(val.names)


def seen_in_training(val: Groups, train: Groups) -> list[str]:
    """The validation groups that are training groups: those whose id names a training group, and,
    when at least half the validation sentences are training sentences (the training file again,
    under other ids), those with half their sentences in training. A few sentences shared by two
    data sets are usual (the Chinese benchmark's lcqmc dev shares 1% with its training union) and
    make no group seen."""
    names = set(train.names)
    seen = np.array([name in names for name in val.names], dtype=bool)
    sentences = set(train.sentences)
    in_training = np.array([s in sentences for s in val.sentences], dtype=bool)
    if in_training.mean() >= 0.5:
        share = np.bincount(val.labels, weights=in_training, minlength=val.num_groups) / val.group_sizes()
        seen |= share >= 0.5
    return [name for name, is_seen in zip(val.names, seen) if is_seen]


def check_seen(cfg: TrainConfig, val: Groups, val_seen: list[str]) -> None:
    """Refuse validation groups that are training groups when the config says they must not be
    (val_same_groups False, the default): scores on them would read as scores on
    groups never seen."""
    if val_seen and not cfg.data.val_same_groups:
        raise groups_error(val, f"{len(val_seen)} of {plural(val.num_groups, 'validation group')} are training "
                           f"groups (the same group id, or mostly training sentences: {examples(val_seen)}); "
                           "validation is meant to score groups the model never saw: give a file of other groups, "
                           "or --val-same-groups to validate on the training intents on purpose")


def examples(names: list[str], shown: int = 3) -> str:
    """A few names, quoted, and how many more: 'a', 'b', 'c' and 27 more."""
    quoted = ", ".join(repr(name) for name in names[:shown])
    return quoted + (f" and {len(names) - shown} more" if len(names) > shown else "")


def add_hard_negatives(negatives: Groups | None, train_groups: Groups, tokenizer: Tokenizer,
                       row_texts: list[str]) -> tuple[np.ndarray, dict[int, np.ndarray], list[list[int]]]:
    """Append the hard negatives' texts to `row_texts`; return every row's label (a hard
    negative's is -1, -2, ...: in no group), each group's hard-negative rows, and their token ids."""
    row_labels = [int(label) for label in train_groups.labels]
    rows: dict[int, list[int]] = {}
    token_ids: list[list[int]] = []
    if negatives is not None:
        index = {name: label for label, name in enumerate(train_groups.names)}
        for sentence, label in zip(negatives.sentences, negatives.labels):
            group = index.get(negatives.names[label])
            if group is None:  # a group held out for validation, or not in training at all
                continue
            rows.setdefault(group, []).append(len(row_texts))
            row_labels.append(len(train_groups) - len(row_texts) - 1)  # -1, -2, ...: in no group
            token_ids.append(tokenizer.encode(sentence))
            row_texts.append(sentence)
    return np.asarray(row_labels, dtype=np.int64), {g: np.asarray(r) for g, r in rows.items()}, token_ids
