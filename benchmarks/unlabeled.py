"""The unlabeled text a teacher can teach from: every distinct sentence of the training splits of
../shared/data (groups, pairs, hard negatives and out-of-scope training files; the label-0 pairs
hold many sentences that are in no group), never a dev or test file. One sentence a line, as
`samesense train --unlabeled` reads it.

    python benchmarks/unlabeled.py [--out benchmarks/out/unlabeled]   # writes zh.txt and en.txt

The files stay out of the repository (benchmarks/out/ is ignored): the Chinese sets and qqp are
research-only data.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA  # noqa: E402

from samesense.data import normalize_text  # noqa: E402

TRAINING = {
    "zh": ["zh/diac2019/groups_train.tsv", "zh/diac2019/hardneg_train.tsv", "zh/bq/groups_train.tsv",
           "zh/bq/pairs_train.tsv", "zh/afqmc/groups_train.tsv", "zh/afqmc/pairs_train.tsv",
           "zh/stsb_zh/groups_train.tsv", "zh/stsb_zh/pairs_train.tsv", "zh/simclue/groups_train1w.tsv",
           "zh/simclue/pairs_train1w.tsv", "zh/chinese_sts/groups_train.tsv", "zh/chinese_sts/pairs_train.tsv"],
    "en": ["en/qqp/groups_train.tsv", "en/qqp/pairs_train.tsv", "en/clinc150/groups_train.tsv",
           "en/clinc150/oos_train.txt", "en/banking77/groups_train.tsv", "en/mrpc/groups_train.tsv",
           "en/mrpc/pairs_train.tsv", "en/stsb/pairs_train.tsv", "en/sick/pairs_train.tsv"],
}


def sentences_of(path: Path) -> list[str]:
    """The sentences of a groups (id, sentence), pairs (s1, s2, label) or plain file."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        texts = fields[:2] if len(fields) == 3 else fields[-1:]
        out += [t for t in texts if t.strip()]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="benchmarks/out/unlabeled", help="folder for zh.txt and en.txt")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for language, files in TRAINING.items():
        seen: dict[str, None] = {}
        for name in files:
            for sentence in sentences_of(DATA / name):
                seen.setdefault(normalize_text(sentence), None)  # the form training reads
        seen.pop("", None)
        (out / f"{language}.txt").write_text("".join(s + "\n" for s in seen), encoding="utf-8")
        print(f"{language}: {len(seen)} distinct sentences from {len(files)} training files -> {out / language}.txt")


if __name__ == "__main__":
    main()
