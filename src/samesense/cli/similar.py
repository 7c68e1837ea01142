"""samesense similar: the sentences of a file nearest to each given text."""

from __future__ import annotations

import argparse
import sys

from ..errors import SamesenseError
from .parsing import positive_int, text


def add_similar(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Encode every sentence of --against and print the k nearest to each TEXT by cosine "
        "similarity. TEXT '-' reads one text a line from standard input.")
    parser.add_argument("model", metavar="MODEL", help="model folder (or a run folder with model/ inside)")
    parser.add_argument("texts", metavar="TEXT", type=text, nargs="+", help="query text(s); '-' for standard input")
    parser.add_argument("--against", required=True, metavar="FILE",
                        help="candidates: a groups file (group_id<TAB>sentence) or one sentence a line")
    parser.add_argument("-k", type=positive_int, default=5, help="how many nearest sentences to show")
    parser.add_argument("--batch-size", type=positive_int, default=512, help="sentences a batch when encoding")
    parser.add_argument("--json", action="store_true", help="print one JSON object per query")
    parser.set_defaults(func=run_similar)


def read_candidates(path: str) -> tuple[list[str], list[str] | None]:
    """Sentences of a groups file with their group ids, or of a one-sentence-a-line file."""
    from ..data import read_groups, read_lines, read_sentences

    first = next(read_lines(path), (0, ""))[1]
    if "\t" in first:
        groups = read_groups(path, normalize=False)
        return groups.sentences, [groups.names[label] for label in groups.labels]
    return read_sentences(path, normalize=False), None


def read_stdin_texts() -> list[str]:
    """The non-blank lines of standard input, refused at the first one that is not UTF-8 (as a
    TEXT argument would be)."""
    from ..data import DataError

    texts = []
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as err:
            raise DataError("<stdin>", number, f"invalid UTF-8 (byte {err.start} of the line)") from None
        if line.strip():
            texts.append(line)
    return texts


def run_similar(args: argparse.Namespace) -> int:
    from ..evaluate import top_k
    from ..files import json_text
    from ..model import load

    texts = read_stdin_texts() if args.texts == ["-"] else args.texts
    if not texts:
        raise SamesenseError("no text on standard input")
    model = load(args.model)
    sentences, group_ids = read_candidates(args.against)
    if not sentences:
        raise SamesenseError(f"{args.against}: no sentences")
    candidates = model.encode(sentences, batch_size=args.batch_size)
    nearest, scores = top_k(model.encode(texts, batch_size=args.batch_size), candidates, args.k)
    for query, rows, sims in zip(texts, nearest, scores):
        matches = [{"sentence": sentences[i], "score": round(float(sim), 4),
                    **({"group": group_ids[i]} if group_ids else {})} for i, sim in zip(rows, sims)]
        if args.json:
            print(json_text({"query": query, "matches": matches}, ensure_ascii=False))
            continue
        print(query)
        for rank, m in enumerate(matches, 1):
            group = f"  [{m['group']}]" if "group" in m else ""
            print(f"  {rank}. {m['score']:.3f}  {m['sentence']}{group}")
    return 0
