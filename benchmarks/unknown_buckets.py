"""Choosing the default of --unknown-buckets on dev files: one shared <unk> (0) against hashed buckets.

    python benchmarks/unknown_buckets.py [--buckets 0 1024 4096 16384] [--epochs N] [--threads 1]

Chinese: the default model (char GRU, AM-Softmax) on the Chinese training union, validated on lcqmc
dev (the choice is made there), 5 epochs; English: word tokens (min count 2, as run.py's English
models) on qqp train, validated on qqp dev, 10 epochs. Same budget for every bucket count (--epochs
sets it for both), the best epoch by dev top-1 kept. Beside the dev figure, what the setting is for (issue 14): sentences made only of tokens
outside the vocabulary must not all get one vector. The probe builds such sentences from tokens the
training files never have (characters of CJK Extension A for Chinese; random letter strings for
English) and counts pairs of equal length whose cosine is 0.999 or more. The test files' top-1 is
printed too, for information only: the choice is made on dev. Writes the
`unknown_buckets` section of docs/benchmarks.md and docs/results/unknown_buckets.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, ZH_TESTS, ZH_TRAIN, ZH_VAL, data_path, machine, run_folder, table, write_section  # noqa: E402

import samesense  # noqa: E402
from samesense.data import read_groups  # noqa: E402
from samesense.evaluate import nearest_neighbours, ranking_scores  # noqa: E402
from samesense.files import atomic_write_json  # noqa: E402
from samesense.train import TrainConfig, train  # noqa: E402

LANGUAGES = {
    "zh": {"train": ZH_TRAIN, "val": ZH_VAL, "tests": ZH_TESTS, "settings": {}, "epochs": 5},
    "en": {"train": ["en/qqp/groups_train.tsv"], "val": "en/qqp/groups_dev.tsv",
           "tests": {"qqp test": "en/qqp/groups_test.tsv"},
           "settings": {"tokenizer": "word", "min_count": 2, "val_same_groups": False}, "epochs": 10},
}
PROBE_PAIRS = 2000
RESULTS_JSON = REPO / "docs" / "results" / "unknown_buckets.json"


def unreadable_sentences(language: str, count: int, seed: int = 0) -> list[str]:
    """Sentences made only of tokens no training file has: 4 to 12 characters of CJK Extension A
    (U+3400..U+4DBF: rare characters, outside every vocabulary here), or 3 to 8 random
    letter strings of 6 to 10 letters."""
    rng = random.Random(seed)
    if language == "zh":
        return ["".join(chr(rng.randrange(0x3400, 0x4DC0)) for _ in range(rng.randrange(4, 13))) for _ in range(count)]
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [" ".join("".join(rng.choice(letters) for _ in range(rng.randrange(6, 11)))
                     for _ in range(rng.randrange(3, 9))) for _ in range(count)]


def collapse(model, language: str) -> dict:
    """Among pairs of unreadable sentences of equal token count, the share whose cosine is >= 0.999,
    and the mean cosine: 1.0 and 1.0 when every unknown token is one vector (issue 14's 'score 1.0')."""
    sentences = unreadable_sentences(language, 2 * PROBE_PAIRS)
    lengths = [len(model.tokenizer.tokens_of(s)) for s in sentences]
    by_length: dict[int, list[int]] = {}
    for i, n in enumerate(lengths):
        by_length.setdefault(n, []).append(i)
    pairs = [(a, b) for group in by_length.values() for a, b in zip(group[::2], group[1::2])]
    vectors = model.encode(sentences)
    cosines = np.array([float(vectors[a] @ vectors[b]) for a, b in pairs])
    return {"pairs": len(pairs), "share_at_0.999": float((cosines >= 0.999).mean()), "mean_cosine": float(cosines.mean()),
            "unknown_fraction": float(np.mean(model.unknown_fraction(sentences)))}


def run(language: str, buckets: int, epochs: int | None, threads: int, runs: str) -> dict:
    lang = LANGUAGES[language]
    epochs = epochs or lang["epochs"]
    out = run_folder(runs, f"{language} buckets {buckets}")
    started = time.perf_counter()
    result = train(TrainConfig.of(encoder="gru", train=[data_path(p) for p in lang["train"]],
                                  val=data_path(lang["val"]),
                                  epochs=epochs, threads=threads, out=out, resume=True, show_progress=False,
                                  spectra=False, unknown_buckets=buckets, **lang["settings"]))
    model = samesense.load(result["model"])
    tests = {}
    for name, path in lang["tests"].items():
        groups = read_groups(data_path(path), normalize=False)
        tests[name] = ranking_scores(nearest_neighbours(model.encode(groups.sentences), 10), groups.labels)
    row = {"dev_top1": result["val_top1"], "best_epoch": result["best_epoch"], "epochs": epochs,
           "train_seconds": round(result["train_seconds"]), "vocabulary": len(model.tokenizer.tokens),
           "tests": tests, "collapse": collapse(model, language)}
    print(f"{language} buckets {buckets}: dev top-1 {row['dev_top1']:.4f} (epoch {row['best_epoch']}), "
          + ", ".join(f"{t} {s['top1']:.4f}" for t, s in tests.items())
          + f"; unreadable pairs at cosine >= 0.999: {row['collapse']['share_at_0.999']:.3f} "
          f"({time.perf_counter() - started:.0f} s)", flush=True)
    return row


def markdown(report: dict) -> str:
    lines = ["## Unknown tokens: one `<unk>` or hashed buckets (the default of --unknown-buckets)", "",
             f"`{report['command']}` on {report['machine']}, {report['date']}. Every row trained in this run, the same "
             f"budget in a language (the epochs column, the best by dev top-1 kept, {report['threads']} thread(s)); the "
             "default is chosen on the dev column. Unreadable pairs: two sentences of equal length made only of tokens "
             "no training file has (CJK Extension A characters; random letter strings), "
             f"up to {PROBE_PAIRS} pairs: the share whose cosine is 0.999 or more, and the mean cosine. Test top-1 for "
             "information, not for choosing.", ""]
    for language, rows in report["results"].items():
        tests = list(next(iter(rows.values()))["tests"])
        lines += [table(["language", "buckets", "epochs", "vocabulary", "train s", "dev top-1 (best epoch)"] + [f"{t} top-1" for t in tests] +
                        ["unreadable pairs >= 0.999", "their mean cosine"],
                        [[language, buckets, r["epochs"], r["vocabulary"], r["train_seconds"],
                          f"{r['dev_top1']:.4f} ({r['best_epoch']})"] +
                         [f"{r['tests'][t]['top1']:.4f}" for t in tests] +
                         [f"{r['collapse']['share_at_0.999']:.3f}", f"{r['collapse']['mean_cosine']:.3f}"]
                         for buckets, r in rows.items()]), ""]
    best = {language: max(rows, key=lambda b: rows[b]["dev_top1"]) for language, rows in report["results"].items()}
    lines.append("Best dev top-1: " + ", ".join(f"{language} at {b} buckets" for language, b in best.items()) + ".")
    if len(report["results"]) > 1:
        counts = [b for b in next(iter(report["results"].values())) if all(b in rows for rows in report["results"].values())]
        lines.append("Mean dev top-1 over the languages: " + ", ".join(
            f"{b} buckets {np.mean([rows[b]['dev_top1'] for rows in report['results'].values()]):.4f}" for b in counts) + ".")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--languages", nargs="+", default=["en", "zh"], choices=list(LANGUAGES))
    parser.add_argument("--buckets", type=int, nargs="+", default=[0, 1024, 4096, 16384])
    parser.add_argument("--epochs", type=int, help="epochs of every training (default: 5 in Chinese, 10 in English)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", default="benchmarks/out/unknown_buckets")
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--from-json", action="store_true", help="write the doc section from the last run's JSON")
    args = parser.parse_args()
    if args.from_json:
        write_section("unknown_buckets", markdown(json.loads(RESULTS_JSON.read_text())))
        return
    results = {language: {str(b): run(language, b, args.epochs, args.threads, args.runs) for b in args.buckets}
               for language in args.languages}
    report = {"command": " ".join(["python benchmarks/unknown_buckets.py", *sys.argv[1:]]), "machine": machine(),
              "date": time.strftime("%Y-%m-%d"), "threads": args.threads,
              "results": results}
    if not args.no_doc:
        atomic_write_json(RESULTS_JSON, report)
        write_section("unknown_buckets", markdown(report))


if __name__ == "__main__":
    main()
