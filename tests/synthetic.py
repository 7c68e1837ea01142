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


def make_keys(num_groups: int, rng: random.Random, key_len: int = 5) -> list[str]:
    keys: set[str] = set()
    while len(keys) < num_groups:
        keys.add("".join(rng.choice(CONTENT) for _ in range(key_len)))
    return sorted(keys)


def make_groups(num_groups: int, per_group: int, seed: int = 0, prefix: str = "g",
                key_len: int = 5, sentence_seed: int | str | None = None) -> list[tuple[str, str]]:
    """Groups of sentences around random keys; with `sentence_seed`, the same keys (from `seed`)
    get other sentences, as the splits of an intent data set do."""
    rng = random.Random(seed)
    keys = make_keys(num_groups, rng, key_len)
    if sentence_seed is not None:
        rng = random.Random(sentence_seed)
    return [(f"{prefix}{i}", make_sentence(key, rng)) for i, key in enumerate(keys) for _ in range(per_group)]


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


# ---------------------------------------------------------------------------------------------
# A fake benchmark data root: every file the benchmark protocols read, with the same folder and
# file names as ../shared/data, filled with tiny generated data (Chinese characters under zh/).

CONTENT_ZH = "银行信用卡办理账户密码手机天气电影音乐学校医院火车飞机"
SCORED = ("stsb", "sick", "stsb_zh")  # pair files with 0-5 scores, not 0/1 labels


def _zh(records: list[tuple[str, str]]) -> list[tuple[str, str]]:
    table = str.maketrans(CONTENT, CONTENT_ZH[: len(CONTENT)])
    return [(g, s.translate(table)) for g, s in records]


def _pairs(records: list[tuple[str, str]], scored: bool, rng: random.Random) -> list[tuple[str, str, str]]:
    """Same-group pairs (label 1, or a score of 4-5) and pairs across groups (0, or 0-2)."""
    by_group: dict[str, list[str]] = {}
    for g, s in records:
        by_group.setdefault(g, []).append(s)
    groups = list(by_group)
    out = []
    for i, g in enumerate(groups):
        a, b = by_group[g][:2]
        other = by_group[groups[(i + 1) % len(groups)]][0]
        out.append((a, b, f"{rng.uniform(4, 5):.2f}" if scored else "1"))
        out.append((a, other, f"{rng.uniform(0, 2):.2f}" if scored else "0"))
    return out


def write_data_root(root: Path, files: list[str], groups: int = 16, per_group: int = 4) -> Path:
    """Write each of `files` (paths relative to root, as the benchmark tasks name them).

    Intent files of one data set share their intents, with different sentences per split;
    out-of-scope queries are groups of their own."""
    rng = random.Random(0)
    for seed, rel in enumerate(sorted(files)):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        prefix = f"{path.parent.name}:"
        if path.parent.name in ("clinc150", "banking77"):  # the same intents in every split
            records = make_groups(groups, per_group, seed=99, prefix=prefix, sentence_seed=rel)
        else:
            records = make_groups(groups, per_group, seed=seed, prefix=prefix)
        if rel.startswith("zh/"):
            records = _zh(records)
        if path.name.startswith("oos_"):
            oos = make_groups(groups // 2, 1, seed=500 + seed, key_len=7)
            path.write_text("".join(s + "\n" for _, s in oos), encoding="utf-8")
        elif path.name.startswith("pairs_"):
            rows = _pairs(records, path.parent.name in SCORED, rng)
            path.write_text("".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
        else:
            write_groups(path, records)
    return root
