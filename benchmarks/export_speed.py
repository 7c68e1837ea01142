"""What exporting to ONNX buys: encode speed (sentences/s) of one model run by torch, by onnxruntime
(`samesense export --onnx`) and by onnxruntime with int8 weights (`--quantize int8`), at batch 1,
64 and 256 with 1 and 2 threads; and what it costs: open-set top-1/5/10 of each on a test file, and
how far the vectors move from torch's.

    python benchmarks/export_speed.py [--model RUN_OR_MODEL] [--epochs 3] [--test zh/lcqmc/groups_test.tsv]
    python benchmarks/export_speed.py --quick      # a smoke run: tiny model, small data, docs left alone

Without --model it trains samesense's default encoder on the Chinese training union of
../shared/data/README.md for --epochs epochs (validated on lcqmc dev; a killed run resumes). Speed
is timed on the first --speed-sentences sentences of the test file (tokenization included, median
of 3 runs after a warm-up, as benchmarks/common.py's throughput); accuracy on the whole file.
Writes its section of docs/benchmarks.md, docs/results/export_speed.json and
docs/img/export_speed.png (not with --quick).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, ZH_TRAIN, ZH_VAL, data_path, machine, table, throughput, write_section  # noqa: E402

import samesense  # noqa: E402
from samesense.data import read_groups  # noqa: E402
from samesense.evaluate import evaluate_groups  # noqa: E402
from samesense.runtime.export import export_onnx  # noqa: E402
from samesense.files import atomic_save_png, atomic_write_json  # noqa: E402
from samesense.model import resolve_model_dir  # noqa: E402
from samesense.train import TrainConfig, train  # noqa: E402

RESULTS_JSON = REPO / "docs" / "results" / "export_speed.json"
PLOT = REPO / "docs" / "img" / "export_speed.png"
RUNTIMES = {"torch": "torch", "onnx": "onnxruntime", "int8": "onnxruntime, int8 weights"}
BATCHES, THREADS = (1, 64, 256), (1, 2)
QUICK = {"train_lines": 3000, "val_lines": 600, "test_lines": 400, "speed_sentences": 100,
         "model": {"embed_dim": 32, "hidden_dim": 32, "batch_size": 64}}


def head_file(source: str, lines: int, folder: Path) -> str:
    """The first `lines` lines of a data file, as a file of its own (for --quick)."""
    target = folder / f"{Path(source).parent.name}_{Path(source).name}"
    with open(source, encoding="utf-8") as f:
        target.write_text("".join(line for _, line in zip(range(lines), f)), encoding="utf-8")
    return str(target)


def trained_model(args: argparse.Namespace, work: Path) -> Path:
    """--model, or samesense's default encoder trained here on the Chinese union (--quick: a
    small one on the first lines of two files)."""
    if args.model:
        return resolve_model_dir(args.model)
    train_files, val, settings = [data_path(p) for p in ZH_TRAIN], data_path(ZH_VAL), {}
    if args.quick:
        train_files = [head_file(train_files[1], QUICK["train_lines"], work)]
        val, settings = head_file(val, QUICK["val_lines"], work), QUICK["model"]
    cfg = TrainConfig.of(encoder="gru", train=train_files, val=val, out=str(Path(args.out) / "run"), epochs=args.epochs,
                         seed=0, show_progress=False, resume=not args.quick, overwrite=args.quick, **settings)
    return Path(train(cfg)["model"])


def describe_model(source: Path) -> str:
    """The model's folder (within the repository when it is there) and its training size."""
    where = source.resolve().relative_to(REPO) if source.resolve().is_relative_to(REPO) else source
    return f"{where} ({samesense.load(source).info.get('train_sentences', '?')} training sentences)"


def exported_models(source: Path, out: Path) -> dict[str, dict]:
    """The float and int8 exports of `source`, with what each export checked."""
    return {"onnx": export_onnx(source, out / "onnx", overwrite=True),
            "int8": export_onnx(source, out / "onnx-int8", quantization="int8", overwrite=True)}


def load_at(paths: dict[str, Path], threads: int) -> dict:
    """Each runtime's model, loaded with torch set to `threads` (an exported model's session takes
    torch's setting when it is loaded)."""
    torch.set_num_threads(threads)
    return {name: samesense.load(path) for name, path in paths.items()}


def speeds(models: dict, sentences: list[str]) -> dict[str, dict[str, float]]:
    return {name: {f"batch {b}": throughput(lambda: model.encode(sentences, batch_size=b), len(sentences))
                   for b in BATCHES} for name, model in models.items()}


def vector_drift(models: dict, sentences: list[str]) -> dict[str, dict[str, float]]:
    """How far each runtime's vectors are from torch's: largest |difference| and mean cosine."""
    reference = models["torch"].encode(sentences)
    drift = {}
    for name in ("onnx", "int8"):
        vectors = models[name].encode(sentences)
        drift[name] = {"max_abs_difference": float(np.abs(vectors - reference).max()),
                       "mean_cosine": float(np.mean(np.sum(vectors * reference, axis=1)))}
    return drift


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(THREADS), figsize=(5.5 * len(THREADS), 4), sharey=True)
    width = 0.8 / len(RUNTIMES)
    for ax, threads in zip(np.atleast_1d(axes), THREADS):
        by_runtime = results["speed"][f"{threads} thread(s)"]
        for i, name in enumerate(RUNTIMES):
            ax.bar(np.arange(len(BATCHES)) + i * width, [by_runtime[name][f"batch {b}"] for b in BATCHES], width,
                   label=RUNTIMES[name], color=f"C{i}")
        ax.set_xticks(np.arange(len(BATCHES)) + width * (len(RUNTIMES) - 1) / 2, [f"batch {b}" for b in BATCHES])
        ax.set(title=f"{threads} thread(s)", ylabel="sentences/s")
        ax.grid(alpha=0.3, axis="y")
    np.atleast_1d(axes)[0].legend(fontsize=9)
    fig.suptitle(f"encode speed on {results['test']['name']} sentences")
    fig.tight_layout()
    atomic_save_png(fig, path)


def render(results: dict) -> str:
    """The docs section, from the results alone (so --from-json can rewrite it)."""
    speed_rows = [[f"{RUNTIMES[name]}, {threads}"] + [f"{by_runtime[name][f'batch {b}']:.0f}" for b in BATCHES]
                  for threads, by_runtime in results["speed"].items() for name in RUNTIMES]
    accuracy_rows = [[RUNTIMES[name], f"{s['top1']:.4f} / {s['top5']:.4f} / {s['top10']:.4f}",
                      f"{results['drift'][name]['max_abs_difference']:.1e}" if name in results["drift"] else "—",
                      f"{results['drift'][name]['mean_cosine']:.6f}" if name in results["drift"] else "—",
                      f"{results['size_bytes'][name] / 1e6:.2f}"]
                     for name, s in results["open_set"].items()]
    test = results["test"]
    return f"""## Export: torch vs onnxruntime vs int8

`{results['command']}` on {results['machine']}. The model: {results['model']}. Exported with
`samesense export MODEL --onnx OUT` (and `--quantize int8`); `samesense.load(OUT)` runs it with
onnxruntime, with the threads torch is set to.

Encode speed in sentences/s on the first {test['speed_sentences']} sentences of {test['name']}
(tokenization included, median of 3 runs after a warm-up):

{table(["runtime, threads"] + [f"batch {b}" for b in BATCHES], speed_rows)}

Open-set ranking on {test['name']} ({test['queries']} queries), and how far each runtime's vectors are
from torch's over the file's {test['sentences']} sentences:

{table(["runtime", "top-1 / top-5 / top-10", "largest abs difference", "mean cosine to torch", "model folder MB"],
       accuracy_rows)}

int8 is onnxruntime's dynamic quantization: it reaches the embedding table (and a projection, if
any); the GRU op it leaves in float, so it saves space more than time.

![encode speed by runtime, batch size and threads](img/export_speed.png)
"""


def write_docs(results: dict) -> None:
    plot(results, PLOT)
    write_section("export_speed", render(results))


def command_line(args: argparse.Namespace) -> str:
    return "python benchmarks/export_speed.py" + (f" --model {args.model}" if args.model else
                                                  f" --epochs {args.epochs}") + f" --test {args.test}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="a model or run folder to export (default: train one here)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs when training the model here")
    parser.add_argument("--test", default="zh/lcqmc/groups_test.tsv", help="groups file, relative to the data folder")
    parser.add_argument("--speed-sentences", type=int, default=5000, help="sentences timed at each batch size")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "export_speed"), help="work folder")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: a small model on the first lines of the data, 1 epoch; docs left alone")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/")
    parser.add_argument("--from-json", action="store_true",
                        help="measure nothing: rewrite the docs section and plot from docs/results/export_speed.json")
    args = parser.parse_args()
    if args.from_json:
        return write_docs(json.loads(RESULTS_JSON.read_text()))
    if args.quick:
        args.epochs, args.speed_sentences = 1, QUICK["speed_sentences"]
        args.out = str(Path(args.out) / "quick")

    print(f"machine: {machine()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        test_file = data_path(args.test)
        if args.quick:
            test_file = head_file(test_file, QUICK["test_lines"], Path(tmp))
        groups = read_groups(test_file)
        source = trained_model(args, Path(tmp))
    paths = {"torch": source, **{name: Path(report["path"]) for name, report in
                                 exported_models(source, Path(args.out)).items()}}
    sentences = groups.sentences[: args.speed_sentences]
    results: dict = {"machine": machine(), "command": command_line(args) + (" --quick" if args.quick else ""),
                     "model": describe_model(source),
                     "test": {"name": args.test, "sentences": len(groups.sentences),
                              "speed_sentences": len(sentences)},
                     "size_bytes": {name: sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
                                    for name, path in paths.items()},
                     "speed": {}}
    for threads in THREADS:
        models = load_at(paths, threads)
        results["speed"][f"{threads} thread(s)"] = speeds(models, sentences)
        print(f"{threads} thread(s): {json.dumps(results['speed'][f'{threads} thread(s)'])}", flush=True)
    results["open_set"] = {name: evaluate_groups(model.encode, groups) for name, model in models.items()}
    results["test"]["queries"] = next(iter(results["open_set"].values()))["n"]
    results["drift"] = vector_drift(models, groups.sentences)
    print(render(results))
    if not (args.quick or args.no_doc):
        atomic_write_json(RESULTS_JSON, results)
        write_docs(results)


if __name__ == "__main__":
    main()
