"""samesense similar: the sentences of a file (or FAQ bank) nearest to each given text."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..encoder_spec import spec_help
from .bank_args import threads_arg, use_threads
from ..errors import SamesenseError
from .hybrid_args import add_hybrid_flags, maybe_hybrid
from .parsing import positive_int, text

AGAINST_FORMATS = ("auto", "groups", "lines", "faq", "bank")
SQLITE_HEADER = b"SQLite format 3\0"  # the first bytes of every SQLite file: an FAQ bank
FAQ_HEADERS = (["question", "answer"], ["question", "answer", "group"])  # an FAQ TSV's optional first line
FAQ_SUFFIXES = (".csv", ".jsonl", ".json", ".ndjson")  # FAQ files in formats a groups file never has


def add_similar(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Encode every sentence of --against and print the k nearest to each TEXT by cosine "
        "similarity (by BM25 score for bm25). TEXT '-' reads one text a line from standard input.")
    parser.add_argument("model", metavar="MODEL", help=f"what ranks the sentences: {spec_help()}")
    parser.add_argument("texts", metavar="TEXT", type=text, nargs="+", help="query text(s); '-' for standard input")
    parser.add_argument("--against", required=True, metavar="FILE",
                        help="candidates: a groups file (group_id<TAB>sentence), one sentence a line, an FAQ "
                        "file as `faq import` reads it (TSV with 3 fields or a question<TAB>answer header, "
                        "CSV, JSONL; its questions and paraphrases) or an FAQ bank (its stored questions)")
    parser.add_argument("--against-format", choices=AGAINST_FORMATS, default="auto",
                        help="what --against is; auto: a bank by its SQLite header, an FAQ file by its .csv or "
                        ".jsonl extension, or its header or 3 fields on the first line; else a groups file "
                        "when the first line has a tab, else one sentence a line")
    parser.add_argument("-k", type=positive_int, default=5, help="how many nearest sentences to show")
    parser.add_argument("--batch-size", type=positive_int, default=512, help="sentences a batch when encoding")
    parser.add_argument("--json", action="store_true", help="print one JSON object per query")
    add_hybrid_flags(parser)
    threads_arg(parser)
    parser.set_defaults(func=run_similar)


@dataclass
class Candidates:
    """The sentences to search, and what each one is shown with (its group, answer, entry id)."""

    sentences: list[str] = field(default_factory=list)
    about: list[dict] = field(default_factory=list)

    def add(self, sentence: str, **about) -> None:
        self.sentences.append(sentence)
        self.about.append({k: v for k, v in about.items() if v is not None})


def against_format(path: str, fmt: str = "auto") -> str:
    """What --against holds: bank, faq, groups or lines."""
    if fmt != "auto":
        return fmt
    file = Path(path)
    if file.is_file():
        with open(file, "rb") as fh:
            if fh.read(len(SQLITE_HEADER)) == SQLITE_HEADER:
                return "bank"
    if faq_suffix(path):
        return "faq"
    from ..data import read_lines, sniff_format

    first = next(read_lines(path), (0, ""))[1]
    fields = first.split("\t")
    if [f.strip().lower() for f in fields] in FAQ_HEADERS:
        return "faq"
    if len(fields) == 3:
        if sniff_format(path) == "pairs":  # a number last: a label, or an FAQ's numbered groups
            raise SamesenseError(f"{path}: looks like a pairs file (sentence<TAB>sentence<TAB>label), which "
                                 "similar does not search; for an FAQ file whose groups are numbers, pass "
                                 "--against-format faq")
        return "faq"
    return "groups" if len(fields) > 1 else "lines"


def faq_suffix(path: str) -> bool:
    """Whether the name says CSV or JSONL (.gz aside); other FAQ files are TSV."""
    suffixes = [s.lower() for s in Path(path).suffixes if s.lower() != ".gz"]
    return bool(suffixes) and suffixes[-1] in FAQ_SUFFIXES


def read_candidates(path: str, fmt: str = "auto") -> Candidates:
    """The sentences of --against, each with what it is shown with."""
    return {"bank": bank_candidates, "faq": faq_candidates, "groups": groups_candidates,
            "lines": lines_candidates}[against_format(path, fmt)](path)


def bank_candidates(path: str) -> Candidates:
    from ..faq.bank import FaqBank

    found = Candidates()
    with FaqBank.open_without_model(path) as bank:  # the texts only: no model, no index
        for entry in bank.list_entries():
            for question in entry.questions:
                found.add(question, group=entry.group, answer=entry.answer, entry_id=entry.id)
    return found


def faq_candidates(path: str) -> Candidates:
    from ..faq.importer import read_rows

    found = Candidates()
    rows, _ = read_rows(path, "auto" if faq_suffix(path) else "tsv")  # rejects a malformed row, naming it
    for row in rows:
        for question in (row.question, *row.paraphrases):
            found.add(question, group=row.group, answer=row.answer)
    return found


def groups_candidates(path: str) -> Candidates:
    from ..data import read_groups

    groups = read_groups(path, normalize=False)
    found = Candidates()
    for sentence, label in zip(groups.sentences, groups.labels):
        found.add(sentence, group=groups.names[label])
    return found


def lines_candidates(path: str) -> Candidates:
    from ..data import read_sentences

    found = Candidates()
    for sentence in read_sentences(path, normalize=False):
        found.add(sentence)
    return found


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


def nearest(encoder, texts: list[str], sentences: list[str], k: int, batch_size: int):
    """(indices, scores) of each text's k nearest sentences: by cosine, or by the encoder's own
    scoring when it has no vectors (bm25)."""
    if not hasattr(encoder, "encode"):
        return encoder.top_k(texts, sentences, k)
    from ..evaluate import top_k

    candidates = encoder.encode(sentences, batch_size=batch_size)
    return top_k(encoder.encode(texts, batch_size=batch_size), candidates, k)


def run_similar(args: argparse.Namespace) -> int:
    from ..encoder_spec import resolve_encoder
    from ..files import json_text

    use_threads(args.threads)
    texts = read_stdin_texts() if args.texts == ["-"] else args.texts
    if not texts:
        raise SamesenseError("no text on standard input")
    candidates = read_candidates(args.against, args.against_format)
    if not candidates.sentences:
        raise SamesenseError(f"{args.against}: no sentences")
    encoder = maybe_hybrid(resolve_encoder(args.model, threads=args.threads), args)
    rows_of, scores_of = nearest(encoder, texts, candidates.sentences, args.k, args.batch_size)
    for query, rows, sims in zip(texts, rows_of, scores_of):
        matches = [{"sentence": candidates.sentences[i], "score": round(float(sim), 4), **candidates.about[i]}
                   for i, sim in zip(rows, sims)]
        if args.json:
            print(json_text({"query": query, "matches": matches}, ensure_ascii=False))
            continue
        print(query)
        for rank, m in enumerate(matches, 1):
            group = f"  [{m['group']}]" if "group" in m else ""
            print(f"  {rank}. {m['score']:.3f}  {m['sentence']}{group}")
    return 0
