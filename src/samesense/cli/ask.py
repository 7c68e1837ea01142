"""The question commands: `samesense ask` and `samesense calibrate`.

Both open an FAQ bank (see faq.py) and go through FaqBank's methods, never its store or index.
numpy, FAISS and torch are imported when a command runs, never for its --help.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys

from ..errors import SamesenseError
from ..faq.choices import ANSWER_BOUNDS, MIN_COVERAGE
from .bank_args import answer_setting, bank_arg, model_arg, number, threads_arg, unanswered_log_arg, use_threads
from .parsing import positive_int


# ---------------------------------------------------------------------------------------------
# samesense ask


def add_ask(p: argparse.ArgumentParser) -> None:
    p.description = ("The nearest stored question's answer when its similarity clears the bank's threshold "
                     "and no entry with another answer is as close; otherwise no answer, the reason, and "
                     "the candidates.")
    bank_arg(p)
    p.add_argument("questions", metavar="QUESTION", nargs="+", help="question(s); '-' reads one a line from standard input")
    model_arg(p)
    p.add_argument("-k", type=positive_int, default=5, help="candidates to show")
    p.add_argument("--json", action="store_true", help="print one JSON object per question")
    p.add_argument("--record", action="store_true",
                   help="record the questions given no answer (and those answered narrowly) in the bank's "
                   "unanswered-questions log, as serve does (see faq unanswered); ask is a test tool, so not "
                   "by default")
    unanswered_log_arg(p)
    threads_arg(p)
    p.set_defaults(func=run_ask)


def run_ask(args) -> int:
    from ..faq.bank import FaqBank
    from ..faq.unanswered import ask_and_record

    questions = [line.strip() for line in sys.stdin if line.strip()] if args.questions == ["-"] else args.questions
    use_threads(args.threads)
    with FaqBank.open(args.bank, args.model, read_only=True) as bank, recorder(args) as unanswered:
        bank.need_model()  # another --model: encoded in memory
        for question in questions:
            answer = ask_and_record(bank, unanswered, question, k=args.k)
            print(json.dumps(answer.to_dict(), ensure_ascii=False) if args.json else answer.to_text())
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
# samesense calibrate


def or_choose(key: str):
    """The argparse type of an answer setting calibrate may choose: `choose`, or a value within its bounds."""
    low, high = ANSWER_BOUNDS[key]

    def parse(text: str) -> float | str:
        if text == "choose":
            return text
        try:
            return answer_setting(key)(text)
        except (argparse.ArgumentTypeError, ValueError):
            raise argparse.ArgumentTypeError(f"must be choose or a number from {low:g} to {high:g}, got {text!r}") from None
    return parse


def add_calibrate(p: argparse.ArgumentParser) -> None:
    p.description = ("From labelled questions: a groups file (group<TAB>question, the group of the bank "
                     "entry that answers it) plus out-of-scope questions (one a line), or a pairs file "
                     "(question<TAB>stored question<TAB>0/1). Chooses the lowest threshold whose precision "
                     "meets the target, stores it in the bank with the precision and coverage expected, "
                     "and plots both against the threshold.")
    bank_arg(p)
    p.add_argument("--groups", metavar="FILE", help="labelled in-scope questions: group<TAB>question")
    p.add_argument("--oos", metavar="FILE", help="out-of-scope questions, one a line (with --groups)")
    p.add_argument("--pairs", metavar="FILE", help="labelled pairs: question<TAB>stored question<TAB>0/1")
    p.add_argument("--target-precision", type=number(0, 1, low_excluded=True), default=0.95,
                   help="precision the answers must reach")
    p.add_argument("--min-coverage", type=number(0, 1), default=MIN_COVERAGE, metavar="SHARE",
                   help="refuse (store nothing) a threshold answering less than this share of the in-scope "
                   "questions (or positive pairs): a bank that abstains on nearly everything is switched off, "
                   "not calibrated; one answering none is always refused")
    p.add_argument("--margin", type=or_choose("margin"), default=None, metavar="Y|choose",
                   help="the \"too close to call\" margin to use and store (0 to 1), or choose: try "
                   "0, 0.005, 0.01, 0.02, 0.03, 0.05 with the threshold and keep the margin answering most in-scope "
                   "questions right at the target precision (default: choose with --groups, the bank's with --pairs)")
    p.add_argument("--hybrid", type=or_choose("hybrid"), default=None, metavar="W|choose",
                   help="weight of BM25 in the scores to calibrate and store (0 to 1; 0 the model alone), or "
                   "choose: try 0, 0.1, ..., 1 and keep the weight answering most in-scope questions right at the "
                   "target precision (with --groups; default: the bank's weight)")
    p.add_argument("--answers", type=or_choose("answers"), default=None, metavar="A|choose",
                   help="weight of the entries' answer texts in the scores to calibrate and store (0 to 1; 0 the "
                   "stored questions alone), or choose: try 0, 0.1, ..., 0.5 and keep the weight answering most "
                   "in-scope questions right at the target precision (with --groups; default: the bank's weight)")
    p.add_argument("--suggest", choices=["choose"], default=None,
                   help="choose the \"did you mean\" level too: the lowest best score below the threshold at which "
                   "the right entry is among the choices of the questions given them at the target precision (out "
                   "of scope ones given choices count as misses); off (1) where no level reaches it; chosen again "
                   "when the bank moves to another model (default: the bank's level, as `faq set --suggest` left it)")
    p.add_argument("--plot", metavar="PNG", help="where to draw precision and coverage against the threshold "
                   "(default: BANK.calibration.png)")
    p.add_argument("--dry-run", action="store_true", help="report, but do not store the threshold")
    model_arg(p)
    p.add_argument("--json", action="store_true", help="print the calibration as JSON")
    threads_arg(p)
    p.set_defaults(func=run_calibrate)


def run_calibrate(args) -> int:
    from ..faq.bank import FaqBank
    from ..faq.calibrate import calibrate
    from ..faq.database import file_beside

    if args.oos and not args.groups:
        raise SamesenseError("--oos goes with --groups")
    plot = args.plot or str(file_beside(args.bank, ".calibration.png"))
    use_threads(args.threads)
    with FaqBank.open(args.bank, args.model, create=False, read_only=args.dry_run) as bank:
        result = calibrate(bank, args.target_precision, groups=args.groups, oos=args.oos, pairs=args.pairs,
                           margin=args.margin if args.margin is not None or not args.groups else "choose",
                           plot=plot, save=not args.dry_run, min_coverage=args.min_coverage,
                           hybrid=args.hybrid, answers=args.answers, suggest=args.suggest)
        where = bank.path
    if args.json:
        print(json.dumps(result.to_dict()))
        return 0
    print(f"threshold {result.threshold:.4f}: expected precision {result.precision:.4f}, coverage "
          f"{result.coverage:.4f} (target {result.target_precision:g}; {result.n_in_scope} in-scope, "
          f"{result.n_out_of_scope} out-of-scope)")
    if result.in_scope_accuracy is not None:
        oos = f", out-of-scope refused {result.out_of_scope_recall:.4f}" if result.out_of_scope_recall is not None else ""
        print(f"  in-scope answered correctly {result.in_scope_accuracy:.4f}{oos}")
    if result.hybrid or result.hybrid_tried:
        print(f"  hybrid weight {result.hybrid:g} (BM25 in the score){tried_text('weight', result.hybrid_tried)}")
    if result.answers or result.answers_tried:
        print(f"  answer weight {result.answers:g} (the answer text in the score)"
              f"{tried_text('weight', result.answers_tried)}")
    print(f"  margin {result.margin:g} (too close to call){tried_text('margin', result.margins_tried)}")
    if result.suggest is not None:
        print(f"  did you mean from {result.suggest:.4f}: the right entry among the choices of {result.suggest_right} "
              f"of the {result.suggest_given} questions below the threshold given them" if result.suggest_given else
              f"  did you mean off (suggest 1): at no level below the threshold is the right entry among the choices "
              f"of {result.target_precision:g} of the questions given them")
    print(f"  {'not stored (--dry-run)' if args.dry_run else f'stored in {where}'}; plot: {plot}")
    return 0


def tried_text(what: str, tried: dict[str, float | None] | None) -> str:
    """"; in-scope right by WHAT: value accuracy, ..." for the values a calibration tried ("-": the
    target not reached), or nothing when it tried one."""
    if not tried:
        return ""
    return f"; in-scope right by {what}: " + ", ".join(f"{value} {'-' if acc is None else f'{acc:.4f}'}"
                                                       for value, acc in tried.items())
