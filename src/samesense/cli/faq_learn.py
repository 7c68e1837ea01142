"""`samesense faq evaluate | learn | rollback`: how well a bank answers a labelled test set, a bank
that learns from its own entries, and the way back. Registered under `samesense faq` by faq.py.

The FAQ modules (numpy, FAISS, torch) are imported when a command runs, never for its --help.
"""

from __future__ import annotations

import json

from ..errors import SamesenseError
from ..faq.learn_base import (  # light: no numpy, no torch
    DEFAULT_TARGET_PRECISION,
    KIND_DEFAULTS,
    LearnOptions,
)
from .bank_args import bank_arg, model_arg, number
from .parsing import HelpFormatter, add_progress_flags, positive_int

DEFAULTS = LearnOptions()


def add_learn_commands(cmds) -> None:
    p = cmds.add_parser("evaluate", help="score a labelled test set at the bank's stored settings",
                        formatter_class=HelpFormatter,
                        description="Asks each question as `samesense ask` does, at the bank's stored threshold, "
                        "margin and hybrid weight: right, wrong or no answer for in-scope questions "
                        "(group<TAB>question: the group of the entry that answers it, or the entry's id when it "
                        "has no group), answered or refused for out-of-scope ones (one a line); precision "
                        "(right / answered), coverage (answered / in-scope), and the entries not always answered right.")
    bank_arg(p)
    p.add_argument("test", metavar="TESTFILE", nargs="?", help="labelled questions: group<TAB>question")
    p.add_argument("--groups", metavar="FILE", help="the labelled questions (instead of TESTFILE)")
    p.add_argument("--oos", metavar="FILE", help="out-of-scope questions, one a line")
    model_arg(p)
    p.add_argument("--json", action="store_true", help="print the evaluation as JSON")
    p.set_defaults(func=run_evaluate)

    p = cmds.add_parser("learn", help="fine-tune the bank's model on its entries; switch only when it answers more",
                        formatter_class=HelpFormatter,
                        description="Fine-tunes the bank's model on the bank's entries: the pretrained transformer "
                        "behind it (minilm, e5-small, a sentence-transformers folder, or a samesense model fine-tuned "
                        "elsewhere, which it goes on from; a model an earlier learn made: what that learn started "
                        "from), or a static model's own table and token weights (a model an earlier learn "
                        "made: the static model it started from), one group an entry (question and paraphrases, assigned questions included), with "
                        "the margin losses. A share of the paraphrases is held back: both models answer them (from "
                        "a copy of the bank without them) at the bank's target precision, and the bank switches to "
                        "the new model only when it answers more of them right: the questions re-encoded, the "
                        "threshold calibrated again, in one transaction. The model is kept in BANK.models/N; "
                        "`faq rollback` goes back.")
    bank_arg(p)
    p.add_argument("--epochs", type=positive_int, default=DEFAULTS.epochs,
                   help="passes over the bank's questions (default: " + by_kind("epochs") + ")")
    p.add_argument("--holdout", type=number(0, 1, low_excluded=True), default=DEFAULTS.holdout, metavar="SHARE",
                   help="share of the paraphrases held back to compare the models on (below 1)")
    p.add_argument("--batch-size", type=positive_int, default=DEFAULTS.batch_size, help="questions a step")
    p.add_argument("--lr", type=number(0, 1, low_excluded=True), default=DEFAULTS.lr,
                   help="learning rate of the model (default: " + by_kind("lr") + ")")
    p.add_argument("--loss", default=DEFAULTS.loss, help="the margin loss (see `samesense train --help`)")
    p.add_argument("--freeze-layers", type=int, default=DEFAULTS.freeze_layers, metavar="N",
                   help="a transformer's embeddings (1) and lowest layers (2, 3, ...) kept as pretrained; 0 trains all "
                   f"(default {KIND_DEFAULTS['transformer']['freeze_layers']}; a static model has no layers)")
    p.add_argument("--seed", type=int, default=DEFAULTS.seed, help="seed of the training and of the paraphrases held back")
    p.add_argument("--threads", type=positive_int, default=None, help="CPU threads (default: all cores)")
    p.add_argument("--target-precision", type=number(0, 1, low_excluded=True), default=None,
                   help="precision the two models are compared at (default: the bank's calibrated target, else "
                   f"{DEFAULT_TARGET_PRECISION})")
    p.add_argument("--keep", type=positive_int, default=DEFAULTS.keep, metavar="N",
                   help="models kept to roll back to (older learned models are deleted)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    add_progress_flags(p)
    p.set_defaults(func=run_learn)

    p = cmds.add_parser("rollback", help="go back to the model the last `faq learn` replaced",
                        formatter_class=HelpFormatter,
                        description="The bank's questions re-encoded with the model it used before the last switch, "
                        "and that model's threshold, margin, hybrid weight and calibration restored, in one transaction.")
    bank_arg(p)
    p.add_argument("--json", action="store_true", help="print what was restored as JSON")
    add_progress_flags(p)
    p.set_defaults(func=run_rollback)


def by_kind(option: str) -> str:
    return ", ".join(f"{kind} {defaults[option]:g}" for kind, defaults in KIND_DEFAULTS.items())


def run_evaluate(args) -> int:
    from ..faq.bank import FaqBank
    from ..faq.evaluate_bank import evaluate_bank

    if (args.test is None) == (args.groups is None):
        raise SamesenseError("give the labelled questions once: TESTFILE or --groups FILE")
    with FaqBank.open(args.bank, args.model, create=False, read_only=True) as bank:
        evaluation = evaluate_bank(bank, args.test or args.groups, args.oos)
    print(json.dumps(evaluation.to_dict(), ensure_ascii=False) if args.json else evaluation.to_text())
    return 0


def run_learn(args) -> int:
    from ..faq.learn import learn

    report = learn(args.bank, LearnOptions(
        epochs=args.epochs, holdout=args.holdout, batch_size=args.batch_size, lr=args.lr, loss=args.loss,
        freeze_layers=args.freeze_layers, seed=args.seed, threads=args.threads,
        target_precision=args.target_precision, keep=args.keep, show_progress=args.show_progress))
    print(json.dumps(report.summary(), ensure_ascii=False) if args.json else report.to_text())
    return 0


def run_rollback(args) -> int:
    from ..faq.learn_models import rollback

    restored = rollback(args.bank, show_progress=args.show_progress)
    if args.json:
        print(json.dumps(restored, ensure_ascii=False))
    else:
        print(f"{args.bank}: back on {restored['spec']} (threshold {restored.get('threshold')}, margin "
              f"{restored.get('margin')})")
    return 0
