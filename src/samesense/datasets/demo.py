"""The demo: train on the bundled CLINC150 intents and answer questions about intents never seen.

    samesense demo [--out runs/demo] [--epochs 20]

A fifth of the 150 intents (chosen by seed) is held out: the model never sees them in training.
The best epoch is chosen on those intents' dev queries; the model is then scored open-set on their
test queries, which played no part in choosing it. Then it is used the way an FAQ matcher uses
it: the held-out intents' training queries go into a SQLite FAQ bank (one entry per intent, its
name as the answer), the answer threshold is calibrated on their dev queries plus CLINC150's
out-of-scope dev queries, and a few new queries (and some out-of-scope ones) are answered, or
given "no confident answer", with their candidates and scores.

The split is handed to training in memory; only the calibration file is written (calibrate reads
files).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .. import datasets
from ..data import Groups, load_groups, read_sentences, split_groups
from ..evaluate import evaluate_groups
from ..faq import FaqBank, FaqRow
from ..faq.calibrate import calibrate
from ..files import atomic_write_bytes
from ..model import load
from ..train import TrainConfig, TrainGroups, train

EXAMPLES = 4  # in-scope example questions shown; as many out-of-scope ones follow
TARGET_PRECISION = 0.9


def write_groups(path: Path, groups: Groups) -> Path:
    text = "".join(f"{groups.names[label]}\t{s}\n" for s, label in zip(groups.sentences, groups.labels))
    atomic_write_bytes(path, text.encode("utf-8"))
    return path


def run_demo(out: str = "runs/demo", epochs: int = 20, seed: int = 0, show_progress: bool | None = None) -> dict:
    out_dir = Path(out)
    data_dir = out_dir / "data"
    all_train = load_groups(datasets.path("clinc150", "groups_train.tsv.gz"))
    seen, unseen = split_groups(all_train, 0.2, seed)
    dev = load_groups(datasets.path("clinc150", "groups_dev.tsv.gz"))
    unseen_dev = dev.select_groups(np.isin(dev.names, unseen.names))  # chooses the model, calibrates
    test = load_groups(datasets.path("clinc150", "groups_test.tsv.gz"))
    unseen_test = test.select_groups(np.isin(test.names, unseen.names))  # scored once, at the end
    print(f"CLINC150 (bundled, CC BY 3.0): training on {seen.num_groups} intents; "
          f"{unseen.num_groups} intents held out, never seen in training.")

    cfg = TrainConfig.of(out=str(out_dir / "run"), tokenizer="word", min_count=2, epochs=epochs, seed=seed,
                         show_progress=show_progress, overwrite=True)
    started = time.perf_counter()
    result = train(cfg, data=TrainGroups(train=seen, val=unseen_dev))
    seconds = time.perf_counter() - started
    model = load(result["model"])
    scores = evaluate_groups(model.encode, unseen_test)
    print(f"\nModel chosen on dev: epoch {result['best_epoch']} of {result['epochs']} had the best open-set top-1 "
          f"({result['val_top1']:.4f}) on the {result['val_n']} dev queries of the {unseen.num_groups} unseen "
          f"intents   [trained in {seconds:.0f}s]")
    print(f"Open-set ranking on the {scores['n']} TEST queries of the unseen intents (never used to choose "
          f"the model; each against all the others): top-1 {scores['top1']:.4f}  top-5 {scores['top5']:.4f}  "
          f"top-10 {scores['top10']:.4f}")

    # The FAQ use: the unseen intents' training queries are the stored questions.
    dev_file = write_groups(data_dir / "dev_unseen_intents.tsv", unseen_dev)
    bank_path = out_dir / "faq.sqlite"
    for stale in out_dir.glob("faq.sqlite*"):  # a fresh bank each run
        stale.unlink()
    with FaqBank.open(bank_path, result["model"]) as bank:
        bank.import_rows([FaqRow(s, f"(the answer for intent '{unseen.names[label]}')", unseen.names[label])
                          for s, label in zip(unseen.sentences, unseen.labels)])
        oos_dev = datasets.path("clinc150", "oos_dev.txt.gz")
        calibration = calibrate(bank, TARGET_PRECISION, groups=str(dev_file), oos=str(oos_dev),
                                plot=out_dir / "calibration.png")
        print(f"\nFAQ bank {bank_path}: {unseen.num_groups} entries (one per unseen intent), {len(unseen)} "
              f"stored questions. Threshold {calibration.threshold:.3f}, calibrated on their dev queries + "
              f"{calibration.n_out_of_scope} out-of-scope ones for precision {TARGET_PRECISION}: expected "
              f"precision {calibration.precision:.3f}, coverage {calibration.coverage:.3f} "
              f"(plot: {out_dir / 'calibration.png'})")
        rng = np.random.default_rng(seed)
        in_scope = [unseen_test.sentences[i] for i in rng.choice(len(unseen_test), EXAMPLES, replace=False)]
        oos = read_sentences(datasets.path("clinc150", "oos_test.txt.gz"), normalize=False)
        out_of_scope = [oos[i] for i in rng.choice(len(oos), EXAMPLES, replace=False)]
        for label, questions in (("in scope", in_scope), ("out of scope (no right answer)", out_of_scope)):
            print(f"\n-- {label}")
            for question in questions:
                print(bank.ask(question, k=3).to_text())
    print(f"\nModel: {result['model']}. Ask the bank: samesense ask {bank_path} \"your question\"; "
          f"serve it: samesense serve {bank_path} --read-only")
    print(f"Training curve: {out_dir / 'run' / 'curve.png'}")
    return {"open_set": scores, "train": result, "calibration": calibration.to_dict()}
