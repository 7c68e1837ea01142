"""The core benchmark: the article's setting on the Chinese training union.

Trains the encoder of the article (characters, maxlen 32, min count 5, 128-d embedding, 128-unit
GRU, Adam, batch 100) with the three losses of the article's table (normalised softmax, AM-Softmax,
and its simpler A-Softmax) on the Chinese training union of
../shared/data/README.md, validating on lcqmc dev, in two settings: the article's (the GRU's final
state, no dropout) and samesense's default (the max of the GRU's outputs, dropout 0.2 on the
embeddings while training). Scores every model open-set
(top-1/5/10) on lcqmc test, bq test, afqmc dev and stsb_zh test, beside BM25 (jieba words)
measured in the same run; reports train time and encode throughput on lcqmc test sentences.

    python benchmarks/core_zh.py [--epochs 15] [--out benchmarks/out/core_zh]

Runs resume: a killed benchmark started again picks each training up from its last checkpoint.
Writes its section of docs/benchmarks.md, docs/results/core_zh.json and docs/img/core_zh.png.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ARTICLE_TOP1, REPO, ZH_TESTS, ZH_TRAIN, ZH_VAL, bm25_open_set, data_path, machine, table, throughput, write_section  # noqa: E402

import samesense  # noqa: E402
from samesense.data import read_groups  # noqa: E402
from samesense.evaluate import evaluate_groups  # noqa: E402
from samesense.files import atomic_write_json  # noqa: E402
from samesense.train import TrainConfig, train  # noqa: E402

LOSS_LABELS = {"softmax": "normalised softmax (s=30)", "am-softmax": "AM-Softmax (s=30, m=0.35)",
               "simpler-a-softmax": "simpler A-Softmax (s=30, min(cos t, cos 4t))"}
RESULTS_JSON = REPO / "docs" / "results" / "core_zh.json"
SETTINGS = {  # name: (label, TrainConfig fields)
    "article": ("final state, no dropout (article)", {"pooling": "last", "dropout": 0.0}),
    "default": ("max-pooled, dropout 0.2 (default)", {"pooling": "max", "dropout": 0.2}),
}


def label(loss: str, setting: str) -> str:
    return f"{LOSS_LABELS.get(loss, loss)}, {SETTINGS[setting][0]}"


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = list(results["open_set"])
    tests = list(ZH_TESTS)
    colours = {method: f"C{i}" for i, method in enumerate(methods)}  # one colour a method in both panels
    fig, (ax_bar, ax_curve) = plt.subplots(1, 2, figsize=(12, 4.2 + 0.25 * len(methods)))
    width = 0.8 / len(methods)
    for i, method in enumerate(methods):
        ax_bar.bar(np.arange(len(tests)) + i * width, [results["open_set"][method][t]["top1"] for t in tests],
                   width, label=method, color=colours[method])
    ax_bar.set_xticks(np.arange(len(tests)) + width * (len(methods) - 1) / 2, tests)
    ax_bar.set(ylabel="open-set top-1", title="open-set top-1 on unseen groups")
    for method, run in results["training"].items():
        history = run["history"]
        ax_curve.plot([r["epoch"] for r in history], [r["val_top1"] for r in history], marker="o",
                      color=colours[method])
    ax_curve.set(xlabel="epoch", ylabel="lcqmc dev top-1", title="validation during training")
    for ax in (ax_bar, ax_curve):
        ax.grid(alpha=0.3)
    # one legend for both panels, under them, so it hides no bar or curve
    fig.legend(*ax_bar.get_legend_handles_labels(), loc="lower center", ncol=2, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.06 * len(methods) / 2 + 0.02, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def ranking(results: dict) -> list[str]:
    """One line per encoder setting: the losses by mean open-set top-1 over the test files, the
    leader's margin, and the article's own order for reference."""
    lines = []
    for setting, (setting_label, _) in SETTINGS.items():
        means = {loss: float(np.mean([s["top1"] for s in results["open_set"][label(loss, setting)].values()]))
                 for loss in LOSS_LABELS if label(loss, setting) in results["open_set"]}
        if len(means) < 2:
            continue
        order = sorted(means, key=means.get, reverse=True)
        lines.append(f"- {setting_label}: " + " > ".join(f"{loss} {means[loss]:.4f}" for loss in order)
                     + f" (mean top-1 over the {len(ZH_TESTS)} files); {order[0]} leads {order[1]} by "
                     f"{means[order[0]] - means[order[1]]:+.4f}.")
    article = sorted(ARTICLE_TOP1, key=ARTICLE_TOP1.get, reverse=True)
    lines.append("- The article's own order (its 90,000-group data, top-1): "
                 + " > ".join(f"{loss} {ARTICLE_TOP1[loss]:.4f}" for loss in article) + ".")
    return lines


def render(results: dict) -> str:
    """The docs section, from the results alone (so --from-json can rewrite it)."""
    epochs = results["epochs"]
    command = results["command"]
    header = ["method"] + [f"{t} top-1/5/10" for t in ZH_TESTS]
    rows = [[method] + [f"{s[t]['top1']:.4f} / {s[t]['top5']:.4f} / {s[t]['top10']:.4f}" for t in ZH_TESTS]
            for method, s in results["open_set"].items()]
    train_rows = [[method, r["best_epoch"], f"{r['train_seconds']:.0f}",
                   f"{r['sentences_per_second']:.0f}", f"{max(h['val_top1'] for h in r['history']):.4f}"]
                  for method, r in results["training"].items()]
    speed_rows = [[encoder] + [f"{v:.0f}" for v in speeds.values()]
                  for encoder, speeds in results["encode_sentences_per_second"].items()]
    queries = next(iter(results["open_set"].values()))
    ranked = "\n".join(ranking(results))
    note = f" {results['note']}" if results.get("note") else ""
    return f"""## Core: the article's setting on the Chinese training union

`{command}` on {results['machine']};
training used {results['train_threads']} thread(s).{note}
Training: groups_train of diac2019, bq, afqmc, stsb_zh, simclue train1w and chinese_sts
({results['train_data']['train_sentences']} sentences in {results['train_data']['train_groups']} groups); characters,
maxlen 32, min count 5, 128-d embedding, 128-unit GRU, Adam lr 1e-3, batch 100, {epochs} epochs, the
best epoch by lcqmc dev top-1 kept. Open-set
ranking: every sentence of a test file against all others of that file (itself excluded); test
groups never seen in training. BM25 was measured in the same run.

{table(header, rows)}

Queries per test file (sentences with another of their group in the file): {", ".join(f"{t} {s['n']}" for t, s in queries.items())}.

The losses of the article's table, ranked:

{ranked}

{table(["model", "best epoch", "train seconds", "train sentences/s", "best lcqmc dev top-1"], train_rows)}

Encode throughput in sentences/s on the lcqmc test sentences ({results['encode_threads']}
threads, tokenization included, median of 3 runs; `encode`'s default batch size is 256):

{table(["encoder", "batch 64", "batch 256", "batch 1024"], speed_rows)}

![open-set top-1 and validation curves](img/core_zh.png)
"""


def write_docs(results: dict) -> None:
    plot(results, REPO / "docs" / "img" / "core_zh.png")
    write_section("core_zh", render(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=15, help="training epochs for each loss")
    parser.add_argument("--losses", nargs="+", default=list(LOSS_LABELS), help="losses to train")
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS),
                        help="encoder settings to train: the article's, and samesense's default")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "core_zh"), help="run folders")
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--threads", type=int, default=None, help="torch threads for training (default: all cores)")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/")
    parser.add_argument("--from-json", action="store_true",
                        help="train and measure nothing: rewrite the docs section and plot from docs/results/core_zh.json")
    parser.add_argument("--note", help="a sentence for the docs on how the run went (e.g. what else ran beside it); "
                        "with --from-json it is added to the stored results")
    args = parser.parse_args()
    if args.from_json:  # nothing trained or measured
        results = json.loads(RESULTS_JSON.read_text())
        if args.note is not None:
            results["note"] = args.note
            atomic_write_json(RESULTS_JSON, results)
        return write_docs(results)
    encode_threads = torch.get_num_threads()

    print(f"machine: {machine()}", flush=True)
    tests = {name: read_groups(data_path(rel)) for name, rel in ZH_TESTS.items()}
    results: dict = {"machine": machine(), "epochs": args.epochs, "open_set": {}, "training": {}, "note": args.note}

    # BM25, measured here on the same files
    started = time.perf_counter()
    bm25 = bm25_open_set(tests, "zh")
    print(f"BM25 done in {time.perf_counter() - started:.0f}s: "
          + ", ".join(f"{t} {s['top1']:.4f}" for t, s in bm25.items()), flush=True)
    results["open_set"]["BM25 (jieba words)"] = bm25

    sentences = tests["lcqmc test"].sentences
    results["encode_sentences_per_second"] = {}
    for setting in args.settings:
        for loss in args.losses:
            cfg = TrainConfig.of(encoder="gru", train=[data_path(p) for p in ZH_TRAIN], val=data_path(ZH_VAL),
                                 out=str(Path(args.out) / f"{loss}-{setting}"), loss=loss, **SETTINGS[setting][1],
                                 epochs=args.epochs, seed=args.seed, show_progress=False, threads=args.threads,
                                 resume=True)
            summary = train(cfg)
            torch.set_num_threads(encode_threads)
            model = samesense.load(summary["model"])
            scores = {name: evaluate_groups(model.encode, groups) for name, groups in tests.items()}
            results["open_set"][label(loss, setting)] = scores
            results["training"][label(loss, setting)] = {
                k: summary[k] for k in ("best_epoch", "train_seconds", "sentences_per_second", "history")}
            results["train_data"] = {k: model.info[k] for k in ("train_sentences", "train_groups")}
            print(f"{label(loss, setting)}: " + ", ".join(f"{t} {s['top1']:.4f}" for t, s in scores.items()),
                  flush=True)
        # encode throughput (the loss does not change the encoder's cost; the readout may)
        speed = {f"batch {b}": throughput(lambda: model.encode(sentences, batch_size=b), len(sentences))
                 for b in (64, 256, 1024)}
        results["encode_sentences_per_second"][SETTINGS[setting][0]] = speed
        print(f"encode throughput, {setting} setting (sentences/s): "
              + ", ".join(f"{k} {v:.0f}" for k, v in speed.items()), flush=True)
    results["encode_threads"] = encode_threads
    results["train_threads"] = args.threads or encode_threads
    results["command"] = f"python benchmarks/core_zh.py --epochs {args.epochs}" + (
        f" --threads {args.threads}" if args.threads else "")
    print(render(results))
    if not args.no_doc:
        atomic_write_json(RESULTS_JSON, results)
        write_docs(results)


if __name__ == "__main__":
    main()
