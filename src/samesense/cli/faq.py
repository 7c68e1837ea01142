"""The FAQ commands: `samesense faq import|export|list|add|rm|info|set|unanswered`, `ask`, `calibrate`, `serve`.

A bank remembers the model it was built with, so only the commands that create vectors need
`--model`, and only the first time. The FAQ modules (numpy, FAISS, FastAPI) are imported when a
command runs, never for its --help: the choices and limits the flags show come from
samesense.faq.choices, which imports none of them. Commands go through FaqBank's methods, never
its store or index.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import time
from datetime import datetime

from ..encoder_spec import spec_help
from ..errors import SamesenseError
from ..faq.choices import (ANSWER_BOUNDS, ANSWER_DEFAULTS, FORMATS, INDEX_KINDS, MIN_COVERAGE, MIN_TOKEN_CHARS,
                           ON_ERROR, LimitValues)
from ..faq.choices import (FALLBACK_TEXT, LOG_FORMATS, LOG_LEVELS, UNANSWERED_ORDERS, UNANSWERED_OUTCOMES,
                           UNANSWERED_ROWS)
from .options import given_values
from .parsing import HelpFormatter, add_progress_flags, bounded, non_negative_int, positive_int, text

FILE_FORMATS = ("auto", *FORMATS)  # auto: by the file's extension


def _bank_arg(p, create: bool = False) -> None:
    p.add_argument("bank", metavar="BANK", help="FAQ bank file (SQLite)" + ("; created if missing" if create else ""))


def _model_arg(p, required: bool = False) -> None:
    p.add_argument("--model", metavar="MODEL", required=required,
                   help=f"what encodes the questions (default: the one the bank remembers): "
                   f"{spec_help(need_vectors=True)}; a writable open (import, add, calibrate, serve with a "
                   "token) remembers it and re-encodes the bank for a new model; ask, calibrate --dry-run and "
                   "a read-only serve encode the questions in memory and leave the file alone")


def number(low: float, high: float, low_excluded: bool = False):
    """An argparse type: a float from `low` (or above it, with `low_excluded`) to `high`; nan and
    inf are refused (they pass no comparison, and a bank must not store them)."""
    def read(text: str) -> float:
        value = float(text)
        if not (low < value if low_excluded else low <= value) or not value <= high:
            raise argparse.ArgumentTypeError(f"must be {'above' if low_excluded else 'from'} {low:g} "
                                             f"{'and at most' if low_excluded else 'to'} {high:g}, got {text}")
        return value

    read.__name__ = "float"  # argparse's message for unreadable text: "invalid float value: 'x'"
    return read


def answer_setting(key: str):
    """The argparse type of an answer setting (threshold, margin, max_unknown): its bounds."""
    return number(*ANSWER_BOUNDS[key])


# ---------------------------------------------------------------------------------------------
# samesense faq ...


def add_faq(parser: argparse.ArgumentParser) -> None:
    parser.description = ("An FAQ bank is one SQLite file of question/answer entries (with paraphrases, "
                          "tags and groups) and their vectors.")
    cmds = parser.add_subparsers(dest="faq_command", metavar="ACTION", required=True, help="what to do")

    p = cmds.add_parser("import", help="add the rows of a TSV, CSV or JSONL file", formatter_class=HelpFormatter,
                        description="Rows: question, answer[, group]. Rows sharing a group become one "
                        "entry (first question the entry's, the others paraphrases). A group (or a "
                        "question without group) already in the bank gets the new questions and the "
                        "file's answer. The import is one transaction: all of it or nothing.")
    _bank_arg(p, create=True)
    p.add_argument("file", metavar="FILE", help="tsv, csv or jsonl file (.gz too)")
    _model_arg(p)
    p.add_argument("--format", choices=FILE_FORMATS, default="auto", help="file format; auto: by extension")
    p.add_argument("--on-error", choices=ON_ERROR, default="reject",
                   help="a malformed row: reject the import (nothing written), or skip the row and report it")
    p.add_argument("--index", choices=("auto", *INDEX_KINDS), default=None,
                   help="vector index: exact flat, approximate HNSW, or auto (HNSW above --hnsw-above "
                   "questions); remembered by the bank")
    p.add_argument("--hnsw-above", type=positive_int, default=None, metavar="N",
                   help="with --index auto, the bank size (question vectors) from which HNSW is used")
    add_progress_flags(p)
    p.set_defaults(func=run_import)

    p = cmds.add_parser("export", help="write the bank's entries to a TSV, CSV or JSONL file",
                        formatter_class=HelpFormatter, description="The file imports back into the same entries.")
    _bank_arg(p)
    p.add_argument("file", metavar="FILE", help="output file, or - for standard output")
    p.add_argument("--format", choices=FILE_FORMATS, default="auto",
                   help="file format; auto: by extension (tsv for standard output)")
    p.set_defaults(func=run_export)

    p = cmds.add_parser("list", help="print entries", formatter_class=HelpFormatter)
    _bank_arg(p)
    p.add_argument("--contains", type=text, metavar="TEXT",
                   help="only entries whose question, paraphrase or answer holds TEXT")
    p.add_argument("--offset", type=non_negative_int, default=0, help="entries to skip")
    p.add_argument("--limit", type=positive_int, default=50, help="entries to print")
    p.add_argument("--json", action="store_true", help="one JSON object a line")
    p.set_defaults(func=run_list)

    p = cmds.add_parser("add", help="add one entry", formatter_class=HelpFormatter)
    _bank_arg(p, create=True)
    p.add_argument("--question", type=text, required=True, help="the entry's question")
    p.add_argument("--answer", type=text, required=True, help="its answer")
    p.add_argument("--paraphrase", type=text, action="append", default=[], metavar="TEXT",
                   help="another way to ask the same question (repeat for more)")
    p.add_argument("--tag", type=text, action="append", default=[], help="a tag (repeat for more)")
    p.add_argument("--group", type=text, help="a unique name for the entry (imports with this group join it)")
    _model_arg(p)
    p.add_argument("--json", action="store_true", help="print the new entry as JSON")
    p.set_defaults(func=run_add)

    p = cmds.add_parser("rm", help="delete entries by id", formatter_class=HelpFormatter)
    _bank_arg(p)
    p.add_argument("ids", metavar="ID", type=non_negative_int, nargs="+", help="entry ids (see faq list)")
    p.set_defaults(func=run_rm)

    p = cmds.add_parser("info", help="counts, model, index and threshold settings", formatter_class=HelpFormatter)
    _bank_arg(p)
    p.set_defaults(func=run_info)

    add_unanswered(cmds)

    defaults = ANSWER_DEFAULTS
    p = cmds.add_parser("set", help="set the threshold, margin or unknown-token limit by hand",
                        formatter_class=HelpFormatter,
                        description="Setting the threshold or the margin forgets the calibration (it measured "
                        "other values); `samesense calibrate` chooses the threshold from labelled questions.")
    _bank_arg(p)
    p.add_argument("--threshold", type=answer_setting("threshold"), metavar="X",
                   help="cosine the best match must reach to be the answer, -1 to 1 "
                   f"(new bank: {defaults['threshold']})")
    p.add_argument("--margin", type=answer_setting("margin"), metavar="Y",
                   help="entries with different answers scoring within Y of the best: no answer, \"did you mean\" "
                   f"instead; 0 to 1 (new bank: {defaults['margin']})")
    p.add_argument("--max-unknown", type=answer_setting("max_unknown"), metavar="Z",
                   help="a question with a larger share of tokens the model does not know is not answered (one "
                   f"with none known never is); 0 to 1 (new bank: {defaults['max_unknown']})")
    p.add_argument("--reset", action="store_true",
                   help="put threshold, margin and max-unknown back to a new bank's, and forget the calibration")
    p.set_defaults(func=run_set)


def open_without_model(path: str):
    """The bank, for commands that only read or delete entries: no model to load, no index to build."""
    from ..faq.bank import FaqBank

    return FaqBank.open_without_model(path)


def run_import(args) -> int:
    from ..faq import FaqBank, ImportReport
    from ..faq.importer import read_rows

    rows, skipped = read_rows(args.file, args.format, args.on_error)
    for message in skipped:
        print(f"samesense: warning: skipped {message}", file=sys.stderr)
    if not rows:  # nothing to add is a wrong file, not a success
        raise SamesenseError(f"{args.file}: no rows to import"
                             f"{f' (all {len(skipped)} malformed, skipped)' if skipped else ''}")
    created = not os.path.exists(args.bank)
    try:
        with FaqBank.open(args.bank, args.model, show_progress=args.show_progress) as bank:
            bank.need_model()
            settings = {k: v for k, v in (("index", args.index), ("hnsw_above", args.hnsw_above)) if v is not None}
            if settings:
                bank.set_settings(**settings)
            report = bank.import_rows(rows, ImportReport(skipped=skipped))
            for warning in report.warnings:
                print(f"samesense: warning: {args.file}: {warning}", file=sys.stderr)
            print(f"{args.file}: {report.rows} rows -> {report.entries_added} entries added, "
                  f"{report.entries_updated} updated, {report.questions_added} questions added"
                  f"{f', {len(skipped)} malformed rows skipped' if skipped else ''} in {report.seconds:.1f}s; "
                  f"{args.bank} holds {bank.count()[0]} entries ({bank.index_kind} index)")
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

    with FaqBank.open(args.bank, args.model) as bank:
        started = time.time()
        entry = bank.add(args.question, args.answer, args.paraphrase, args.tag, args.group)
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
    given = {key: getattr(args, key) for key in ANSWER_DEFAULTS if getattr(args, key) is not None}
    if args.reset and given:
        raise SamesenseError("--reset puts every answer setting back: give it alone")
    if not args.reset and not given:
        raise SamesenseError("nothing to set: give --threshold, --margin or --max-unknown (or --reset)")
    values = dict(ANSWER_DEFAULTS) if args.reset else given
    forget = args.reset or not given.keys().isdisjoint({"threshold", "margin"})
    with open_without_model(args.bank) as bank:
        calibration = bank.settings.get("calibration")
        bank.set_settings(**values, **({"calibration": None} if forget else {}))
        settings = bank.settings
    shown = ", ".join(f"{key} {settings[key]:g}" for key in ANSWER_DEFAULTS)
    forgotten = ""
    if forget and calibration:
        forgotten = f"; calibration forgotten (it chose threshold {calibration['threshold']:g})"
    print(f"{args.bank}: {shown}{forgotten}")
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


def _unanswered_log_arg(p) -> None:
    p.add_argument("--unanswered-log", metavar="FILE",
                   help="the unanswered-questions log (default: BANK.unanswered, beside the bank)")


def add_unanswered(cmds) -> None:
    p = cmds.add_parser("unanswered", help="the questions given no answer, most asked first: what to add next",
                        formatter_class=HelpFormatter,
                        description="Questions that serve (or ask --record) gave no answer, from the bank's "
                        "unanswered-questions log: questions that differ only in case, punctuation or spacing "
                        "as one, with how often and when they were asked, why there was no answer, and the "
                        "entries they came nearest to. Over HTTP: GET /unanswered, with the token.")
    _bank_arg(p)
    p.add_argument("--since", type=since_time, metavar="WHEN",
                   help="only questions asked since WHEN: a date or time (2024-05-01, 2024-05-01T09:30) or a "
                   "span back from now (90m, 12h, 7d, 2w)")
    p.add_argument("--outcome", choices=(*UNANSWERED_OUTCOMES, "all"), default="abstained",
                   help="abstained: given no answer; narrow: answered, but nearly not; all: both")
    p.add_argument("--order", choices=UNANSWERED_ORDERS, default="count",
                   help="count: most asked first; newest: most recently asked first")
    p.add_argument("--offset", type=non_negative_int, default=0, help="questions to skip")
    p.add_argument("--limit", type=positive_int, default=20, help="questions to print")
    p.add_argument("--json", action="store_true", help="one JSON object a line")
    _unanswered_log_arg(p)
    p.set_defaults(func=run_unanswered)


def run_unanswered(args) -> int:
    from ..data import plural
    from ..faq.unanswered import UnansweredLog

    with UnansweredLog(args.unanswered_log or UnansweredLog.path_for(args.bank), create=False) as log:
        total, asks = log.count(args.since, args.outcome)
        found = log.questions(args.since, args.outcome, args.order, args.offset, args.limit)
    if args.json:
        for question in found:
            print(json.dumps(question.to_dict(), ensure_ascii=False))
        return 0
    since = time.strftime(" since %Y-%m-%d %H:%M", time.localtime(args.since)) if args.since else ""
    first = "most recently asked" if args.order == "newest" else "most asked"
    print(f"{plural(total, 'distinct question')} ({args.outcome}), asked {plural(asks, 'time')}{since}; {first} first:")
    for question in found:
        print(question.to_text())
    return 0


@contextlib.contextmanager
def recorder(args):
    """The unanswered-questions log `ask --record` writes to, or None without --record."""
    if not args.record:
        yield None
        return
    from ..faq.unanswered import UnansweredLog

    with UnansweredLog(args.unanswered_log or UnansweredLog.path_for(args.bank)) as log:
        yield log


# ---------------------------------------------------------------------------------------------
# samesense ask


def add_ask(p: argparse.ArgumentParser) -> None:
    p.description = ("The nearest stored question's answer when its similarity clears the bank's threshold "
                     "and no entry with another answer is as close; otherwise no answer, the reason, and "
                     "the candidates.")
    _bank_arg(p)
    p.add_argument("questions", metavar="QUESTION", nargs="+", help="question(s); '-' reads one a line from standard input")
    _model_arg(p)
    p.add_argument("-k", type=positive_int, default=5, help="candidates to show")
    p.add_argument("--json", action="store_true", help="print one JSON object per question")
    p.add_argument("--record", action="store_true",
                   help="record the questions given no answer (and those answered narrowly) in the bank's "
                   "unanswered-questions log, as serve does (see faq unanswered); ask is a test tool, so not "
                   "by default")
    _unanswered_log_arg(p)
    p.set_defaults(func=run_ask)


def run_ask(args) -> int:
    from ..faq.bank import FaqBank

    questions = [line.strip() for line in sys.stdin if line.strip()] if args.questions == ["-"] else args.questions
    with FaqBank.open(args.bank, args.model, read_only=True) as bank, recorder(args) as unanswered:
        bank.need_model()  # another --model: encoded in memory
        for question in questions:
            answer = bank.ask(question, k=args.k)
            if unanswered is not None:
                unanswered.record(answer, margin=float(bank.settings["margin"]))
            print(json.dumps(answer.to_dict(), ensure_ascii=False) if args.json else answer.to_text())
    return 0


# ---------------------------------------------------------------------------------------------
# samesense calibrate


def add_calibrate(p: argparse.ArgumentParser) -> None:
    p.description = ("From labelled questions: a groups file (group<TAB>question, the group of the bank "
                     "entry that answers it) plus out-of-scope questions (one a line), or a pairs file "
                     "(question<TAB>stored question<TAB>0/1). Chooses the lowest threshold whose precision "
                     "meets the target, stores it in the bank with the precision and coverage expected, "
                     "and plots both against the threshold.")
    _bank_arg(p)
    p.add_argument("--groups", metavar="FILE", help="labelled in-scope questions: group<TAB>question")
    p.add_argument("--oos", metavar="FILE", help="out-of-scope questions, one a line (with --groups)")
    p.add_argument("--pairs", metavar="FILE", help="labelled pairs: question<TAB>stored question<TAB>0/1")
    p.add_argument("--target-precision", type=number(0, 1, low_excluded=True), default=0.95,
                   help="precision the answers must reach")
    p.add_argument("--min-coverage", type=number(0, 1), default=MIN_COVERAGE, metavar="SHARE",
                   help="refuse (store nothing) a threshold answering less than this share of the in-scope "
                   "questions (or positive pairs): a bank that abstains on nearly everything is switched off, "
                   "not calibrated; one answering none is always refused")
    p.add_argument("--margin", type=answer_setting("margin"), default=None,
                   help="did-you-mean margin to use and store (default: the bank's)")
    p.add_argument("--plot", metavar="PNG", help="where to draw precision and coverage against the threshold "
                   "(default: BANK.calibration.png)")
    p.add_argument("--dry-run", action="store_true", help="report, but do not store the threshold")
    _model_arg(p)
    p.add_argument("--json", action="store_true", help="print the calibration as JSON")
    p.set_defaults(func=run_calibrate)


def run_calibrate(args) -> int:
    from ..faq.bank import FaqBank
    from ..faq.calibrate import calibrate

    if args.oos and not args.groups:
        raise SamesenseError("--oos goes with --groups")
    plot = args.plot or f"{args.bank}.calibration.png"
    with FaqBank.open(args.bank, args.model, create=False, read_only=args.dry_run) as bank:
        result = calibrate(bank, args.target_precision, groups=args.groups, oos=args.oos, pairs=args.pairs,
                           margin=args.margin, plot=plot, save=not args.dry_run, min_coverage=args.min_coverage)
    if args.json:
        print(json.dumps(result.to_dict()))
        return 0
    print(f"threshold {result.threshold:.4f}: expected precision {result.precision:.4f}, coverage "
          f"{result.coverage:.4f} (target {result.target_precision:g}; {result.n_in_scope} in-scope, "
          f"{result.n_out_of_scope} out-of-scope)")
    if result.in_scope_accuracy is not None:
        oos = f", out-of-scope refused {result.out_of_scope_recall:.4f}" if result.out_of_scope_recall is not None else ""
        print(f"  in-scope answered correctly {result.in_scope_accuracy:.4f}{oos}")
    print(f"  {'not stored (--dry-run)' if args.dry_run else f'stored in {args.bank}'}; plot: {plot}")
    return 0


# ---------------------------------------------------------------------------------------------
# samesense serve


TOKEN_ENV = "SAMESENSE_TOKEN"


def add_serve(p: argparse.ArgumentParser) -> None:
    p.description = ("POST /ask, GET/POST/PUT/DELETE /faq, GET /unanswered, /healthz, /metrics, the web page at "
                     f"/ and OpenAPI docs at /docs. Writes need a bearer token of at least {MIN_TOKEN_CHARS} "
                     f"characters: from ${TOKEN_ENV} or --token-file; without one the server only starts with "
                     "--read-only.")
    _bank_arg(p)
    _model_arg(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=bounded(int, at_least=0, at_most=65535), default=8000, help="port to listen on")
    p.add_argument("--token-file", metavar="FILE",
                   help=f"file holding the bearer token for writes and GET /unanswered (else ${TOKEN_ENV})")
    p.add_argument("--read-only", action="store_true",
                   help="refuse all writes (no token needed; one given still opens GET /unanswered)")
    limits = LimitValues()  # the server's defaults (guard.py's Limits, without FastAPI)
    p.add_argument("--max-body-bytes", type=positive_int, default=limits.max_body_bytes, metavar="N",
                   help="largest request body, in bytes")
    p.add_argument("--max-question-chars", type=positive_int, default=limits.max_question_chars, metavar="N",
                   help="longest question (and stored question)")
    p.add_argument("--max-answer-chars", type=positive_int, default=limits.max_answer_chars, metavar="N",
                   help="longest answer")
    p.add_argument("--threads", type=positive_int, default=1,
                   help="torch threads for encoding (one query is small: more threads only contend)")
    p.add_argument("--timeout", type=bounded(float, at_least=1), default=10.0, metavar="SECONDS",
                   help="a connection must deliver each whole request within SECONDS of opening or of its last "
                   "answer, else it is closed: idle and slow clients do not hold connections")
    p.add_argument("--max-connections", type=positive_int, default=100, metavar="N",
                   help="connections (or requests) at once; beyond N, requests are answered 503")
    p.add_argument("--allowed-host", dest="allowed_hosts", action="append", metavar="HOST",
                   help="a Host header to answer (repeatable; *.example.com for subdomains, * for any); "
                   "others get 400 (default: the --host address, localhost, 127.0.0.1 and [::1])")
    p.add_argument("--fallback-text", type=text, default=FALLBACK_TEXT, metavar="TEXT",
                   help="what the web page shows under \"No confident answer\"")
    _unanswered_log_arg(p)
    p.add_argument("--no-unanswered-log", action="store_true",
                   help="record nothing (by default questions given no answer, and those answered narrowly, "
                   "are recorded in the unanswered-questions log, by a read-only server too: see faq unanswered)")
    p.add_argument("--unanswered-rows", type=positive_int, default=UNANSWERED_ROWS, metavar="N",
                   help="rows the unanswered-questions log keeps; beyond N the oldest are dropped")
    p.add_argument("--log-level", choices=LOG_LEVELS, default="info",
                   help="the least serious log records written (info: the start and a line a request)")
    p.add_argument("--log-format", choices=LOG_FORMATS, default="text", help="text lines, or one JSON object a line")
    p.add_argument("--log-file", metavar="FILE",
                   help="append the logs to FILE (reopened when logrotate moves it) instead of writing them to stderr")
    p.set_defaults(func=run_serve)


def read_token(token_file: str | None) -> str | None:
    if token_file:
        try:
            with open(token_file, encoding="utf-8") as f:
                token = f.read().strip()
        except OSError as err:
            raise SamesenseError(f"{token_file}: cannot read the token ({err.strerror})") from None
        if not token:
            raise SamesenseError(f"{token_file}: empty token")
        return token
    return os.environ.get(TOKEN_ENV, "").strip() or None


def run_serve(args) -> int:
    from ..faq.serve import Limits, serve

    token = read_token(args.token_file)
    if token is None and not args.read_only:
        raise SamesenseError(f"no token for writes: set ${TOKEN_ENV} or pass --token-file FILE "
                             "(or --read-only to serve without writes)")
    limits = Limits(**given_values(args, Limits))
    serve(args.bank, args.model, host=args.host, port=args.port, token=token, limits=limits, threads=args.threads,
          timeout=args.timeout, max_connections=args.max_connections, allowed_hosts=args.allowed_hosts,
          read_only=args.read_only, fallback_text=args.fallback_text, record_unanswered=not args.no_unanswered_log,
          unanswered_log=args.unanswered_log, unanswered_rows=args.unanswered_rows, log_level=args.log_level,
          log_format=args.log_format, log_file=args.log_file)
    return 0
