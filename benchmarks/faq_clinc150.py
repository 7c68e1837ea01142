"""The FAQ matcher on CLINC150, the way the CLINC paper scores intent classifiers with abstention.

Trains the word-level GRU + AM-Softmax encoder on the 150 intents' training queries (bundled data),
puts the same training queries in an FAQ bank (one entry per intent, the intent as the answer),
calibrates the answer threshold on the dev queries + out-of-scope dev queries for a few target
precisions, and reports on test: in-scope accuracy (answered with the right intent, out of all
in-scope test queries; "no confident answer" and "did you mean" count as wrong) and out-of-scope
recall (out-of-scope test queries given no answer), beside the CLINC paper's BERT with a threshold
(Larson et al., EMNLP 2019: 96.2 in-scope accuracy, 52.3 out-of-scope recall).

    python benchmarks/faq_clinc150.py [--epochs 10] [--out benchmarks/out/faq_clinc150]

Writes its section of docs/benchmarks.md, docs/results/faq_clinc150.json and
docs/img/faq_clinc150_calibration.png.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, machine, table, write_section  # noqa: E402

from samesense import datasets  # noqa: E402
from samesense.data import read_groups  # noqa: E402
from samesense.faq import FaqBank, FaqRow  # noqa: E402
from samesense.faq.calibrate import TargetUnreachable, calibrate  # noqa: E402
from samesense.faq.outcomes import group_outcomes  # noqa: E402
from samesense.files import atomic_write_json  # noqa: E402
from samesense.train import TrainConfig, train  # noqa: E402

TARGETS = (0.85, 0.90, 0.95, 0.98)
MAIN_TARGET = 0.95
BERT = {"in_scope_accuracy": 0.962, "out_of_scope_recall": 0.523}


def scores_at(outcomes, threshold: float) -> dict:
    answered = outcomes.decidable & (outcomes.scores >= threshold)
    in_scope = outcomes.in_scope
    return {"in_scope_accuracy": float((answered & outcomes.correct)[in_scope].mean()),
            "out_of_scope_recall": float((~answered)[~in_scope].mean()),
            "precision": float((answered & outcomes.correct).sum() / max(answered.sum(), 1))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10, help="training epochs")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "faq_clinc150"), help="work folder")
    args = parser.parse_args()
    out = Path(args.out)
    files = {name: str(datasets.path("clinc150", name)) for name in
             ("groups_train.tsv.gz", "groups_dev.tsv.gz", "groups_test.tsv.gz", "oos_dev.txt.gz", "oos_test.txt.gz")}

    run = train(TrainConfig.of(encoder="gru", train=[files["groups_train.tsv.gz"]], val=files["groups_dev.tsv.gz"],
                               out=str(out / "run"), tokenizer="word", min_count=2, epochs=args.epochs,
                               val_same_groups=True,  # the FAQ's own intents: dev questions of them
                               show_progress=False, resume=True))
    train_seconds = run["train_seconds"]  # from the run's own record, so a resumed rerun reports the same

    bank_path = out / "clinc150.faq"
    for stale in out.glob("clinc150.faq*"):
        stale.unlink()
    train_groups = read_groups(files["groups_train.tsv.gz"], normalize=False)
    with FaqBank.open(bank_path, run["model"]) as bank:
        report = bank.import_rows([FaqRow(s, train_groups.names[g], train_groups.names[g])
                                   for s, g in zip(train_groups.sentences, train_groups.labels)])
        test = group_outcomes(bank, files["groups_test.tsv.gz"], files["oos_test.txt.gz"], bank.policy.margin)
        nearest = float(test.correct[test.in_scope].mean())  # no threshold, no did-you-mean
        rows, results = [], {}
        for target in TARGETS:
            method = f"samesense GRU + AM-Softmax, target precision {target:g}"
            try:
                cal = calibrate(bank, target, groups=files["groups_dev.tsv.gz"], oos=files["oos_dev.txt.gz"],
                                plot=REPO / "docs" / "img" / "faq_clinc150_calibration.png" if target == MAIN_TARGET
                                else None, save=target == MAIN_TARGET)
            except TargetUnreachable as unreachable:  # a target above the model's best precision on dev
                if target == MAIN_TARGET:
                    raise
                rows.append([method, "-", f"no threshold reaches precision {target:.3f} on this data "
                             f"(best {unreachable.best_precision:.3f} at "
                             f"{unreachable.best_threshold:.3f})", "-", "-", "-"])
                continue
            on_test = scores_at(test, cal.threshold)
            results[str(target)] = {"calibration": cal.to_dict(), "test": on_test}
            rows.append([method, f"{cal.threshold:.3f}",
                         f"{cal.precision:.3f} / {cal.coverage:.3f}", f"{100 * on_test['in_scope_accuracy']:.1f}",
                         f"{100 * on_test['out_of_scope_recall']:.1f}", f"{on_test['precision']:.3f}"])
    rows.append(["BERT with a threshold (Larson et al. 2019, their table)", "-", "-",
                 f"{100 * BERT['in_scope_accuracy']:.1f}", f"{100 * BERT['out_of_scope_recall']:.1f}", "-"])

    summary = {"machine": machine(), "epochs": args.epochs, "best_epoch": run["best_epoch"],
               "train_seconds": round(train_seconds, 1), "model": run["model"],
               "bank": {"entries": report.entries_added, "questions": report.questions_added},
               "nearest_entry_accuracy_no_threshold": nearest, "margin": results[str(MAIN_TARGET)]["calibration"]["margin"],
               "targets": results, "bert": BERT}
    atomic_write_json(REPO / "docs" / "results" / "faq_clinc150.json", summary)
    markdown = f"""## FAQ matcher on CLINC150 (answer or abstain)

`python benchmarks/faq_clinc150.py` ({machine()}). The encoder (word tokens, GRU 128, AM-Softmax,
{args.epochs} epochs, best epoch {run['best_epoch']} by dev top-1, {train_seconds:.0f} s of training) is
trained on CLINC150's training queries; the FAQ bank holds the same {report.questions_added} training
queries as {report.entries_added} entries (one per intent, the intent as the answer). The threshold is
calibrated on the 3,000 dev queries + 100 out-of-scope dev queries (`samesense calibrate`, lowest threshold
whose precision meets the target; did-you-mean margin {summary['margin']}), then applied to the 4,500 test
queries and 1,000 out-of-scope test queries. In-scope accuracy counts "no confident answer" and "did you
mean" as wrong; out-of-scope recall is the share of out-of-scope queries given no answer. Without a
threshold, the nearest entry is the right intent for {100 * nearest:.1f}% of the in-scope test queries.
Out-of-scope queries are 3% of the calibration set but 18% of the test set, so the precision measured on
test falls short of the one expected from dev: choose the target with the share of out-of-scope questions
your users ask in mind.

{table(["method", "threshold", "dev precision / coverage (expected)", "test in-scope accuracy %",
        "test out-of-scope recall %", "test precision"], rows)}

![precision and coverage against the threshold](img/faq_clinc150_calibration.png)
"""
    write_section("faq_clinc150", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
