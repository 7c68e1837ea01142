"""The FAQ commands that change one entry, and those that work through the unanswered-questions log:
`samesense faq edit|paraphrase|assign|dismiss` (faq.py registers them with `add_faq_edits`).

    samesense faq edit support.faq 3 --answer "..." --add-paraphrase "..." --remove-paraphrase "..."
    samesense faq paraphrase support.faq 3 "how do i change my pin"
    samesense faq unanswered support.faq               # the open questions, with their nearest entries
    samesense faq assign support.faq "how do i change my pin" 3
    samesense faq dismiss support.faq "asdf"

A change that adds no question (an answer, a group, a paraphrase removed) loads no model. Each goes
through FaqBank.update (entry_change.py says what a change may be) and faq/log_fixes.py.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

from ..errors import SamesenseError
from .bank_args import bank_arg, model_arg, threads_arg, unanswered_log_arg, use_threads
from .parsing import HelpFormatter, positive_int, text


def add_faq_edits(cmds) -> None:
    p = cmds.add_parser("edit", help="change one entry: question, answer, group, tags, a paraphrase added or removed",
                        formatter_class=HelpFormatter,
                        description="Fields not given stay as they are; --add-paraphrase and --remove-paraphrase "
                        "keep the entry's other paraphrases. One question, one entry: a question another entry "
                        "holds is refused (change that entry instead).")
    bank_arg(p)
    p.add_argument("id", metavar="ID", type=positive_int, help="the entry's id (see faq list)")
    p.add_argument("--question", type=text, help="the entry's new question (its old one is dropped)")
    p.add_argument("--answer", type=text, help="the entry's new answer")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--group", type=text, help="the entry's new group name (unique)")
    group.add_argument("--no-group", action="store_true", help="take the entry's group away")
    p.add_argument("--tag", type=text, action="append", default=None,
                   help="the entry's tags, replacing its own (repeat for more)")
    p.add_argument("--add-paraphrase", type=text, action="append", default=[], metavar="TEXT",
                   help="another way to ask the entry's question (repeat for more)")
    p.add_argument("--remove-paraphrase", type=text, action="append", default=[], metavar="TEXT",
                   help="a paraphrase to remove, as the entry holds it (repeat for more)")
    edit_flags(p)

    p = cmds.add_parser("paraphrase", help="add a paraphrase to an entry", formatter_class=HelpFormatter,
                        description="faq edit ID --add-paraphrase TEXT, shorter.")
    bank_arg(p)
    p.add_argument("id", metavar="ID", type=positive_int, help="the entry's id (see faq list)")
    p.add_argument("paraphrase", metavar="TEXT", type=text, help="another way to ask the entry's question")
    edit_flags(p)

    p = cmds.add_parser("assign", help="make a question of the unanswered log a paraphrase of an entry",
                        formatter_class=HelpFormatter,
                        description="The question becomes a paraphrase of entry ID and leaves the open list of "
                        "faq unanswered (it stays in the log, as assigned). faq unanswered shows each question's "
                        "nearest entries: the likely IDs.")
    logged_question_args(p)
    p.add_argument("id", metavar="ID", type=positive_int, help="the entry that answers it")
    edit_flags(p)

    p = cmds.add_parser("dismiss", help="take a question off the unanswered list: it needs no entry",
                        formatter_class=HelpFormatter,
                        description="The question leaves the open list of faq unanswered and stays in the log, "
                        "as dismissed (faq unanswered --status dismissed lists them). Asked again later, it is "
                        "open again.")
    logged_question_args(p)
    p.set_defaults(func=run_dismiss)


def logged_question_args(p) -> None:
    """The bank, a question of its unanswered-questions log, and the log."""
    bank_arg(p)
    p.add_argument("question", metavar="QUESTION", type=text, help="the question, as faq unanswered lists it")
    unanswered_log_arg(p)


def edit_flags(p) -> None:
    model_arg(p)
    threads_arg(p)
    p.add_argument("--json", action="store_true", help="print the entry as JSON")
    p.set_defaults(func=run_edit)


def open_for(args, adds_questions: bool):
    """The bank: with its model when the change adds a question (it must be encoded), else without."""
    from ..faq.bank import FaqBank

    if adds_questions or args.model:
        return FaqBank.open(args.bank, args.model, create=False)
    return FaqBank.open_without_model(args.bank)


def run_edit(args) -> int:
    from ..faq.entry_change import KEEP
    from ..faq.log_fixes import assign

    command = args.faq_command
    use_threads(args.threads)
    if command == "edit":
        change = {"question": args.question, "answer": args.answer, "tags": args.tag,
                  "group": None if args.no_group else args.group if args.group is not None else KEEP,
                  "add_paraphrases": args.add_paraphrase, "remove_paraphrases": args.remove_paraphrase}
        if change["group"] == KEEP and all(value in (None, []) for key, value in change.items() if key != "group"):
            raise SamesenseError("nothing to change: give --question, --answer, --group, --no-group, --tag, "
                                 "--add-paraphrase or --remove-paraphrase")
        adds = bool(args.question or args.add_paraphrase)
    else:
        adds = True
    with open_for(args, adds) as bank:
        report_notices(bank)
        if command == "edit":
            entry = bank.update(args.id, **change)
        elif command == "paraphrase":
            entry = bank.update(args.id, add_paraphrases=[args.paraphrase])
        else:
            with unanswered_log(args) as log:  # None when nothing was ever logged
                entry, marked = assign(bank, log, args.question, args.id)
            if not marked:
                print(f"samesense: warning: {args.question!r} is not an open question of the unanswered log; "
                      f"it was added to entry {entry.id} all the same", file=sys.stderr)
    if args.json:
        print(json.dumps(entry.to_dict(), ensure_ascii=False))
    else:
        group = f" [{entry.group}]" if entry.group else ""
        print(f"entry {entry.id}{group}: {entry.question}  (+{len(entry.paraphrases)} paraphrases)\n\t-> {entry.answer}")
    return 0


@contextlib.contextmanager
def unanswered_log(args, must_exist: bool = False):
    """The unanswered-questions log the command names (default: the bank's, beside it); None when
    there is none yet (nothing was ever logged: no file is made for nothing), or with `must_exist`
    a one-line error."""
    from ..faq.database import is_postgres
    from ..faq.unanswered import UnansweredLog

    where = args.unanswered_log or UnansweredLog.path_for(args.bank)
    shared = is_postgres(where)  # tables in a PostgreSQL bank's database: made on first use, no file left behind
    if not (shared or must_exist or Path(where).exists()):
        yield None
        return
    with UnansweredLog(where, create=shared and not must_exist) as log:
        yield log


def run_dismiss(args) -> int:
    from ..faq.log_fixes import dismiss

    with unanswered_log(args, must_exist=True) as log:
        marked = dismiss(log, args.question)
    print(f"dismissed {args.question!r} (asked {marked} time{'s' if marked != 1 else ''})")
    return 0


def report_notices(bank) -> None:
    """What opening the bank did that the user must know (its settings reset for a new model), on stderr."""
    for notice in bank.notices:
        print(f"samesense: warning: {notice}", file=sys.stderr)


def stored_calibration(path: str) -> dict | None:
    """The calibration a bank holds before a command opens it (with another model, it is forgotten),
    None for none or no bank yet; read without loading a model."""
    from ..faq.bank import FaqBank
    from ..faq.database import is_postgres

    if not (is_postgres(path) or Path(path).is_file()):
        return None
    try:
        with FaqBank.open_without_model(path) as bank:
            return bank.settings.get("calibration")
    except SamesenseError:
        return None  # no bank yet (a database without its tables), or none at all: the command says which


def recalibrate_for_new_model(bank, previous: dict | None) -> None:
    """A bank just moved to another model (its settings reset: bank.notices) that was calibrated is
    calibrated again for the new model on the same labelled files, when they are still there; either
    way a warning says which it was (reset, or recalibrated to what)."""
    from ..faq.calibrate import recalibrate
    from ..faq.database import file_beside

    if not bank.notices or not previous:
        report_notices(bank)
        return
    try:
        result = recalibrate(bank, previous, plot=str(file_beside(bank.path, ".calibration.png")))
    except SamesenseError as err:
        report_notices(bank)
        print(f"samesense: warning: {bank.path}: not recalibrated for the new model: {err}", file=sys.stderr)
        return
    print(f"samesense: warning: {bank.path}: moved to model {bank.settings['model_fingerprint']}: recalibrated on "
          f"{', '.join(previous['files'])} for precision {result.target_precision:g}: threshold {result.threshold:.4f}, "
          f"margin {result.margin:g} (expected precision {result.precision:.4f}, coverage {result.coverage:.4f}); "
          f"the old model's were threshold {previous['threshold']:g}, margin {previous['margin']:g}", file=sys.stderr)
