"""The demo: train on the bundled CLINC150 intents and answer questions about intents never seen.

    samesense demo [--out runs/demo] [--epochs 8]

A fifth of the 150 intents (chosen by seed) is held out: the model never sees them in training.
It is then scored open-set on those intents' test queries, and used the way an FAQ matcher uses
it: the held-out intents' training queries are the stored questions, and a few new queries (and
some out-of-scope ones) are answered with their nearest stored questions and scores.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from . import datasets
from .data import Groups, load_groups, read_sentences, split_groups
from .evaluate import evaluate_groups
from .files import atomic_write_bytes
from .model import load
from .train import TrainConfig, train

EXAMPLES = 4  # in-scope example questions shown; as many out-of-scope ones follow


def write_groups(path: Path, groups: Groups) -> Path:
    text = "".join(f"{groups.names[label]}\t{s}\n" for s, label in zip(groups.sentences, groups.labels))
    atomic_write_bytes(path, text.encode("utf-8"))
    return path


def run_demo(out: str = "runs/demo", epochs: int = 8, seed: int = 0, show_progress: bool | None = None) -> dict:
    out_dir = Path(out)
    data_dir = out_dir / "data"
    all_train = load_groups(datasets.path("clinc150", "groups_train.tsv.gz"))
    seen, unseen = split_groups(all_train, 0.2, seed)
    test = load_groups(datasets.path("clinc150", "groups_test.tsv.gz"))
    unseen_test = test.select_groups(np.isin(test.names, unseen.names))
    print(f"CLINC150 (bundled, CC BY 3.0): training on {seen.num_groups} intents; "
          f"{unseen.num_groups} intents held out, never seen in training.")
    train_file = write_groups(data_dir / "train_seen_intents.tsv", seen)
    test_file = write_groups(data_dir / "test_unseen_intents.tsv", unseen_test)
    faq_file = write_groups(data_dir / "faq_unseen_intents.tsv", unseen)

    cfg = TrainConfig(train=[str(train_file)], val=str(test_file), out=str(out_dir / "run"),
                      tokenizer="word", min_count=2, epochs=epochs, seed=seed, show_progress=show_progress)
    started = time.perf_counter()
    result = train(cfg, overwrite=True)
    model = load(result["model"])
    scores = evaluate_groups(model.encode, unseen_test)
    print(f"\nOpen-set ranking on the {scores['n']} test queries of the {unseen.num_groups} unseen intents "
          f"(each against all the others): top-1 {scores['top1']:.4f}  top-5 {scores['top5']:.4f}  "
          f"top-10 {scores['top10']:.4f}   [trained in {time.perf_counter() - started:.0f}s]")

    # The FAQ use: stored questions are the unseen intents' training queries.
    stored = model.encode(unseen.sentences)
    rng = np.random.default_rng(seed)
    in_scope = [unseen_test.sentences[i] for i in rng.choice(len(unseen_test), EXAMPLES, replace=False)]
    oos = read_sentences(datasets.path("clinc150", "oos_test.txt.gz"), normalize=False)
    out_of_scope = [oos[i] for i in rng.choice(len(oos), EXAMPLES, replace=False)]
    print(f"\nNearest stored questions ({len(unseen)} stored questions of the unseen intents):")
    for label, questions in (("in scope", in_scope), ("out of scope (no right answer)", out_of_scope)):
        print(f"\n-- {label}")
        for question, sims in zip(questions, model.encode(questions) @ stored.T):
            print(f"{question}")
            for i in np.argsort(-sims)[:3]:
                print(f"    {sims[i]:.3f}  {unseen.sentences[i]}   [{unseen.names[unseen.labels[i]]}]")
    print(f"\nModel: {result['model']}  (load it with samesense.load, or try: samesense similar "
          f"{result['model']} \"your question\" --against {faq_file})")
    print(f"Training curve: {out_dir / 'run' / 'curve.png'}")
    return {"open_set": scores, "train": result}
