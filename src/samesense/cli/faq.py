"""The FAQ bank commands: `samesense faq import|export|list|add|rm|info|set|unanswered` (and, from
faq_edit.py, `edit|paraphrase|assign|dismiss`).

A bank remembers the model it was built with, so only the commands that create vectors need
`--model`, and only the first time. The FAQ modules (numpy, FAISS) are imported when a command
runs, never for its --help: the choices and limits the flags show come from samesense.faq.choices,
which imports none of them. Commands go through FaqBank's methods, never its store or index.
The questions (`ask`, `calibrate`) are in ask.py, `serve` in serve.py; the arguments they share
in bank_args.py.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from datetime import datetime

from ..errors import SamesenseError
from ..faq.choices import (ANSWER_DEFAULTS, FORMATS, INDEX_KINDS, ON_CHANGE, ON_ERROR, UNANSWERED_ORDERS,
                           UNANSWERED_OUTCOMES, UNANSWERED_STATUSES)
from .bank_args import answer_setting, bank_arg, model_arg, threads_arg, unanswered_log_arg, use_threads
from .faq_edit import add_faq_edits, recalibrate_for_new_model, report_notices, stored_calibration, unanswered_log
from .faq_learn import add_learn_commands
from .faq_migrate import add_migrate
from .parsing import HelpFormatter, add_progress_flags, non_negative_int, positive_int, text

FILE_FORMATS = ("auto", *FORMATS)  # auto: by the file's extension


# ---------------------------------------------------------------------------------------------
# samesense faq ...


def add_faq(parser: argparse.ArgumentParser) -> None:
    parser.description = ("An FAQ bank is one SQLite file of question/answer entries (with paraphrases, "
                          "tags and groups) and their vectors.")
    cmds = parser.add_subparsers(dest="faq_command", metavar="ACTION", required=True, help="what to do")

    p = cmds.add_parser("import", help="add the rows of a TSV, CSV or JSONL file", formatter_class=HelpFormatter,
                        description="Rows: question, answer[, group]. Rows sharing a group become one "
                        "entry (first question the entry's, the others paraphrases). A group (or a "
                        "question without group) already in the bank gets the new questions; a different "
                        "answer in the file is reported row by row and kept or taken as --on-change says. "
                        "One question, one entry (as faq add): a row with a question another "
                        "entry holds, in the file or the bank, with another answer or group, is a bad row. "
                        "The import is one transaction: all of it or nothing.")
    bank_arg(p, create=True)
    p.add_argument("file", metavar="FILE", help="tsv, csv or jsonl file (.gz too)")
    model_arg(p)
    p.add_argument("--format", choices=FILE_FORMATS, default="auto", help="file format; auto: by extension")
    p.add_argument("--on-error", choices=ON_ERROR, default="reject",
                   help="a malformed row (or one with a question another entry holds): reject the import "
                   "(nothing written), or skip the row and report it")
    p.add_argument("--on-change", choices=ON_CHANGE, default="keep",
                   help="a row joining a stored entry (its group or question) with another answer: keep the "
                   "bank's answer and add the row's questions, replace it with the file's, or reject the import "
                   "(nothing written); each such row is reported")
    p.add_argument("--index", choices=("auto", *INDEX_KINDS), default=None,
                   help="vector index: exact flat, approximate HNSW, or auto (HNSW above --hnsw-above "
                   "questions); remembered by the bank")
    p.add_argument("--hnsw-above", type=positive_int, default=None, metavar="N",
                   help="with --index auto, the bank size (question vectors) from which HNSW is used")
    add_progress_flags(p)
    threads_arg(p)
    p.set_defaults(func=run_import)

    p = cmds.add_parser("export", help="write the bank's entries to a TSV, CSV or JSONL file",
                        formatter_class=HelpFormatter, description="The file imports back into the same entries.")
    bank_arg(p)
    p.add_argument("file", metavar="FILE", help="output file, or - for standard output")
    p.add_argument("--format", choices=FILE_FORMATS, default="auto",
                   help="file format; auto: by extension (tsv for standard output)")
    p.set_defaults(func=run_export)

    p = cmds.add_parser("list", help="print entries", formatter_class=HelpFormatter)
    bank_arg(p)
    p.add_argument("--contains", type=text, metavar="TEXT",
                   help="only entries whose question, paraphrase or answer holds TEXT")
    p.add_argument("--offset", type=non_negative_int, default=0, help="entries to skip")
    p.add_argument("--limit", type=positive_int, default=50, help="entries to print")
    p.add_argument("--json", action="store_true", help="one JSON object a line")
    p.set_defaults(func=run_list)

    p = cmds.add_parser("add", help="add one entry", formatter_class=HelpFormatter)
    bank_arg(p, create=True)
    p.add_argument("--question", type=text, required=True, help="the entry's question")
    p.add_argument("--answer", type=text, required=True, help="its answer")
    p.add_argument("--paraphrase", type=text, action="append", default=[], metavar="TEXT",
                   help="another way to ask the same question (repeat for more)")
    p.add_argument("--tag", type=text, action="append", default=[], help="a tag (repeat for more)")
    p.add_argument("--group", type=text, help="a unique name for the entry (imports with this group join it)")
    model_arg(p)
    unanswered_log_arg(p)
    threads_arg(p)
    p.add_argument("--json", action="store_true", help="print the new entry as JSON")
    p.set_defaults(func=run_add)

    p = cmds.add_parser("rm", help="delete entries by id", formatter_class=HelpFormatter)
    bank_arg(p)
    p.add_argument("ids", metavar="ID", type=non_negative_int, nargs="+", help="entry ids (see faq list)")
    p.set_defaults(func=run_rm)

    p = cmds.add_parser("info", help="counts, model, index and threshold settings", formatter_class=HelpFormatter)
    bank_arg(p)
    p.set_defaults(func=run_info)

    add_unanswered(cmds)
    add_migrate(cmds)
    add_faq_edits(cmds)
    add_learn_commands(cmds)  # evaluate, learn, rollback: faq_learn.py

    defaults = ANSWER_DEFAULTS
    p = cmds.add_parser("set", help="set the threshold, margin, unknown-token limit, weights or suggest level by hand",
                        formatter_class=HelpFormatter,
                        description="Setting the threshold, the margin or a weight forgets the calibration "
                        "(it measured other values); `samesense calibrate` chooses the threshold from labelled questions.")
    bank_arg(p)
    p.add_argument("--threshold", type=answer_setting("threshold"), metavar="X",
                   help="cosine the best match must reach to be the answer, -1 to 1 "
                   f"(new bank: {defaults['threshold']})")
    p.add_argument("--margin", type=answer_setting("margin"), metavar="Y",
                   help="entries with different answers scoring within Y of the best: no answer, \"did you mean\" "
                   f"instead; 0 to 1 (new bank: {defaults['margin']})")
    p.add_argument("--max-unknown", type=answer_setting("max_unknown"), metavar="Z",
                   help="a question with a larger share of tokens the model does not know is not answered (one "
                   f"with none known never is); 0 to 1 (new bank: {defaults['max_unknown']})")
    p.add_argument("--hybrid", type=answer_setting("hybrid"), metavar="W",
                   help="weight of BM25 in the score: (1 - W) * cosine + W * BM25 over the question's own BM25 "
                   "score (jieba words for Chinese); 0 to 1, 0 the model alone (new bank: "
                   f"{defaults['hybrid']}); `samesense calibrate --hybrid` chooses it")
    p.add_argument("--answers", type=answer_setting("answers"), metavar="A",
                   help="weight of the entry's answer text in its score: (1 - A) * its best stored question's score "
                   "+ A * cosine(question, answer); 0 to 1, 0 the stored questions alone (new bank: "
                   f"{defaults['answers']}); `samesense calibrate --answers choose` chooses it")
    p.add_argument("--suggest", type=answer_setting("suggest"), metavar="S",
                   help="a question below the threshold whose best score is at least S still gets up to 3 "
                   "\"did you mean\" questions (those scoring S or more, one per answer); -1 to 1, "
                   f"{defaults['suggest']:g} off (new bank: {defaults['suggest']:g}); `samesense calibrate --suggest "
                   "choose` chooses it")
    p.add_argument("--reset", action="store_true",
                   help="put every answer setting back to a new bank's, and forget the calibration")
    p.set_defaults(func=run_set)


def open_without_model(path: str):
    """The bank, for commands that only read or delete entries: no model to load, no index to build."""
    from ..faq.bank import FaqBank

    return FaqBank.open_without_model(path)


def run_import(args) -> int:
    from ..faq import FaqBank, ImportReport
    from ..faq.importer import read_rows, swapped_columns

    use_threads(args.threads)
    rows, skipped = read_rows(args.file, args.format, args.on_error)
    for message in skipped:
        print(f"samesense: warning: skipped {message}", file=sys.stderr)
    swapped = swapped_columns(rows)
    if swapped:
        print(f"samesense: warning: {args.file}: {swapped}", file=sys.stderr)
    if not rows:  # nothing to add is a wrong file, not a success
        raise SamesenseError(f"{args.file}: no rows to import"
                             f"{f' (all {len(skipped)} malformed, skipped)' if skipped else ''}")
    created = not os.path.exists(args.bank)
    calibration = stored_calibration(args.bank)
    try:
        with FaqBank.open(args.bank, args.model, show_progress=args.show_progress) as bank:
            bank.need_model()
            settings = {k: v for k, v in (("index", args.index), ("hnsw_above", args.hnsw_above)) if v is not None}
            if settings:
                bank.set_settings(**settings)
            report = bank.import_rows(rows, ImportReport(skipped=list(skipped)), args.on_error, args.file,
                                      args.on_change)
            held = len(report.skipped) - len(skipped)  # rows whose questions other entries hold
            for message in report.skipped[len(skipped):]:
                print(f"samesense: warning: skipped {message}", file=sys.stderr)
            for warning in report.answers_changed + report.warnings:
                print(f"samesense: warning: {args.file}: {warning}", file=sys.stderr)
            print(f"{args.file}: {report.rows} rows -> {report.entries_added} entries added, "
                  f"{report.entries_updated} updated ({len(report.answers_changed)} with another answer), "
                  f"{report.questions_added} questions added"
                  f"{f', {len(skipped)} malformed rows skipped' if skipped else ''}"
                  f"{f', {held} rows skipped (questions other entries hold)' if held else ''}"
                  f" in {report.seconds:.1f}s; "
                  f"{bank.path} holds {bank.count()[0]} entries ({bank.index_kind} index)")
            recalibrate_for_new_model(bank, calibration)  # after the import: the labels may name its entries
    except BaseException:
        if created:  # a failed import leaves no empty bank behind
            FaqBank.remove_if_empty(args.bank)
        raise
    return 0


def run_export(args) -> int:
    from ..faq.importer import export_file, export_text, file_format

    with open_without_model(args.bank) as bank:
        entries = bank.list_entries()
    if args.file == "-":
        sys.stdout.write(export_text(entries, "tsv" if args.format == "auto" else file_format("-", args.format)))
    else:
        export_file(entries, args.file, args.format)
        print(f"{args.file}: {len(entries)} entries")
    return 0


def run_list(args) -> int:
    with open_without_model(args.bank) as bank:
        entries = bank.list_entries(args.offset, args.limit, args.contains)
    for e in entries:
        if args.json:
            print(json.dumps(e.to_dict(), ensure_ascii=False))
        else:
            extra = f"  (+{len(e.paraphrases)} paraphrases)" if e.paraphrases else ""
            group = f"  [{e.group}]" if e.group else ""
            print(f"{e.id}\t{e.question}{extra}{group}\n\t-> {e.answer}")
    return 0


def run_add(args) -> int:
    from ..faq.bank import FaqBank

    from ..faq.log_fixes import add_entry

    use_threads(args.threads)
    with FaqBank.open(args.bank, args.model) as bank, unanswered_log(args) as log:
        report_notices(bank)
        started = time.time()
        # a question of the unanswered log leaves its open list, as added
        entry, _ = add_entry(bank, log, args.question, args.answer, args.paraphrase, args.tag, args.group)
    if args.json:
        print(json.dumps(entry.to_dict(), ensure_ascii=False))
    elif entry.created >= started:
        print(f"added entry {entry.id}")
    else:  # the same question and answer again: the entry that holds them (see FaqBank.add)
        print(f"entry {entry.id} already holds this question and answer; it has what was given")
    return 0


def run_rm(args) -> int:
    with open_without_model(args.bank) as bank:
        missing = [i for i in args.ids if not bank.delete(i)]
    if missing:
        others = " (the others were deleted)" if len(missing) < len(args.ids) else ""
        raise SamesenseError(f"no entr{'y' if len(missing) == 1 else 'ies'} {', '.join(map(str, missing))}{others}")
    print(f"deleted {len(args.ids)} entr{'y' if len(args.ids) == 1 else 'ies'}")
    return 0


def run_info(args) -> int:
    with open_without_model(args.bank) as bank:
        print(json.dumps(bank.info(), indent=2, ensure_ascii=False))
    return 0


def run_set(args) -> int:
    """Answer settings by hand, through FaqBank.set_settings (bounds checked there too)."""
    from ..faq.policy import CALIBRATED_SETTINGS, AnswerPolicy

    given = {key: getattr(args, key) for key in ANSWER_DEFAULTS if getattr(args, key) is not None}
    if args.reset and given:
        raise SamesenseError("--reset puts every answer setting back: give it alone")
    if not args.reset and not given:
        raise SamesenseError("nothing to set: give --threshold, --margin, --max-unknown, --hybrid, --answers or "
                             "--suggest (or --reset)")
    values = AnswerPolicy().as_settings() if args.reset else given
    forget = args.reset or not given.keys().isdisjoint(CALIBRATED_SETTINGS)
    with open_without_model(args.bank) as bank:
        calibration = bank.settings.get("calibration")
        bank.set_settings(**values, **({"calibration": None} if forget else {}))
        policy, where = bank.policy, bank.path
    shown = ", ".join(f"{key} {value:g}" for key, value in policy.as_settings().items())
    forgotten = ""
    if forget and calibration:
        forgotten = f"; calibration forgotten (it chose threshold {calibration['threshold']:g})"
    print(f"{where}: {shown}{forgotten}")
    return 0


# ---------------------------------------------------------------------------------------------
# samesense faq unanswered (the log serve and ask --record write: samesense.faq.unanswered)


SPAN_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def since_time(value: str) -> float:
    """An argparse type: seconds since the epoch, from a date or time (ISO 8601; local time unless
    it names its zone) or from a span back from now (90m, 12h, 7d, 2w)."""
    span = re.fullmatch(r"(\d{1,9})([mhdw])", value.strip())
    if span:
        return time.time() - int(span[1]) * SPAN_SECONDS[span[2]]
    try:
        return datetime.fromisoformat(value.strip()).timestamp()
    except (ValueError, OverflowError, OSError):
        raise argparse.ArgumentTypeError(f"{value!r} is not a date, a time or a span (2024-05-01, "
                                         "2024-05-01T09:30, 12h, 7d)") from None


def add_unanswered(cmds) -> None:
    p = cmds.add_parser("unanswered", help="the questions given no answer, most asked first: what to add next",
                        formatter_class=HelpFormatter,
                        description="Questions that serve (or ask --record) gave no answer, from the bank's "
                        "unanswered-questions log: questions that differ only in case, punctuation or spacing "
                        "as one, with how often and when they were asked, why there was no answer, and the "
                        "entries they came nearest to. Over HTTP: GET /unanswered, with the token.")
    bank_arg(p)
    p.add_argument("--since", type=since_time, metavar="WHEN",
                   help="only questions asked since WHEN: a date or time (2024-05-01, 2024-05-01T09:30) or a "
                   "span back from now (90m, 12h, 7d, 2w)")
    p.add_argument("--outcome", choices=(*UNANSWERED_OUTCOMES, "all"), default="abstained",
                   help="abstained: given no answer; narrow: answered, but nearly not; all: both")
    p.add_argument("--order", choices=UNANSWERED_ORDERS, default="count",
                   help="count: most asked first; newest: most recently asked first")
    p.add_argument("--offset", type=non_negative_int, default=0, help="questions to skip")
    p.add_argument("--status", choices=(*UNANSWERED_STATUSES, "all"), default="open",
                   help="open: not handled yet; assigned (to an entry, faq assign), added (as an entry), dismissed "
                   "(faq dismiss); all")
    p.add_argument("--limit", type=positive_int, default=20, help="questions to print")
    p.add_argument("--json", action="store_true", help="one JSON object a line")
    unanswered_log_arg(p)
    p.set_defaults(func=run_unanswered)


def run_unanswered(args) -> int:
    from ..data import plural
    from ..faq.unanswered import UnansweredLog

    with UnansweredLog(args.unanswered_log or UnansweredLog.path_for(args.bank), create=False) as log:
        total, asks = log.count(args.since, args.outcome, args.status)
        found = log.questions(args.since, args.outcome, args.order, args.offset, args.limit, args.status)
    if args.json:
        for question in found:
            print(json.dumps(question.to_dict(), ensure_ascii=False))
        return 0
    since = time.strftime(" since %Y-%m-%d %H:%M", time.localtime(args.since)) if args.since else ""
    first = "most recently asked" if args.order == "newest" else "most asked"
    print(f"{plural(total, 'distinct question')} ({args.outcome}, {args.status}), asked {plural(asks, 'time')}"
          f"{since}; {first} first:")
    for question in found:
        print(question.to_text())
    return 0
