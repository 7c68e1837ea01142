"""Generated groups for tests: each group is a random 'meaning' (a short string of content
characters); its sentences carry that string with filler characters around it and an occasional
typo. A model that learns to read the content and ignore the rest ranks unseen groups well."""

from __future__ import annotations

import random
from pathlib import Path

CONTENT = "abcdefghijklmnopqrstuvwxyz"
FILLER = "0123456789"


def make_sentence(key: str, rng: random.Random) -> str:
    chars = list(key)
    if rng.random() < 0.3:  # a typo: drop one content character
        del chars[rng.randrange(len(chars))]
    before = "".join(rng.choice(FILLER) for _ in range(rng.randint(0, 3)))
    after = "".join(rng.choice(FILLER) for _ in range(rng.randint(0, 3)))
    return before + "".join(chars) + after


def make_groups(num_groups: int, per_group: int, seed: int = 0, prefix: str = "g",
                key_len: int = 5) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    keys: set[str] = set()
    while len(keys) < num_groups:
        keys.add("".join(rng.choice(CONTENT) for _ in range(key_len)))
    return [(f"{prefix}{i}", make_sentence(key, rng))
            for i, key in enumerate(sorted(keys)) for _ in range(per_group)]


def write_groups(path: Path, records: list[tuple[str, str]]) -> Path:
    path.write_text("".join(f"{g}\t{s}\n" for g, s in records), encoding="utf-8")
    return path


def write_train_and_test(folder: Path, train_groups: int = 300, test_groups: int = 60,
                         per_group: int = 5) -> tuple[Path, Path]:
    """Disjoint training and held-out groups (different seeds and id prefixes)."""
    records = make_groups(train_groups + test_groups, per_group, seed=1)
    cut = train_groups * per_group
    train = [(g, s) for g, s in records[:cut]]
    test = [("t" + g, s) for g, s in records[cut:]]
    return write_groups(folder / "train.tsv", train), write_groups(folder / "test.tsv", test)
