"""Reporting a benchmark run: markdown tables, a section of docs/benchmarks.md, PNG plots, and the
small timing and machine helpers that every benchmark script shares.

A section of a doc lives between `<!-- BEGIN name -->` and `<!-- END name -->`, so each script (or
`samesense bench --section name`) rewrites its own numbers and leaves the others alone.
"""

from __future__ import annotations

import math
import os
import platform
import re
import statistics
import time
from pathlib import Path

import numpy as np

from ..files import atomic_save_png, atomic_write_bytes

DASH = "—"


def machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, torch threads: {torch.get_num_threads()}"


def throughput(fn, n_items: int, repeats: int = 3) -> float:
    """Items per second: the median of `repeats` timed runs after one warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return n_items / statistics.median(times)


def write_section(name: str, markdown: str, doc: str | os.PathLike) -> None:
    doc = Path(doc)
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n{markdown.strip()}\n{end}"
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    atomic_write_bytes(doc, text.encode("utf-8"))


def table(header: list[str], rows: list[list]) -> str:
    def cell(v):
        return f"{v:.4f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The tables of a run (`results` as run_bench returns it)


def _cells(results: dict, protocol: str, fmt) -> tuple[list[str], list[list]]:
    """Tasks of a protocol as columns, methods as rows; a method that did not run a task gets a dash."""
    by_task = results["results"].get(protocol, {})
    tasks = list(by_task)
    rows = [[method] + [fmt(by_task[t][method]) if method in by_task[t] else DASH for t in tasks]
            for method in results["methods"]]
    return tasks, rows


def _f(value) -> str:
    return DASH if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4f}"


def _seconds(value) -> str:
    if value is None:
        return DASH
    return f"{value:.0f} s" if isinstance(value, (int, float)) else str(value)


def _kept(results: dict) -> str:
    kept = {m: info for m, info in results["methods"].items() if info.get("vectors_kept")}
    if not kept:
        return ""
    return ("; vectors kept from an earlier run (--vectors), so not encoded in this suite time: "
            + ", ".join(f"{m} {info['vectors_kept']} of {info['sentences']}" for m, info in kept.items()))


def markdown(results: dict, images: dict[str, str] | None = None) -> str:
    """The run as markdown: one table per protocol, then speed and cost, then the plots."""
    out = [f"## {results['title']}", "",
           f"`{results['command']}` on {results['machine']}, {results['date']}. "
           f"Load average (1 min) at start {results['load_average']['start']:.2f}, at end "
           f"{results['load_average']['end']:.2f} on {results['cores']} cores"
           + (f"; {results['note']}" if results.get("note") else "") + "."]
    protocols = results["results"]
    if protocols.get("open-set"):
        tasks, rows = _cells(results, "open-set", lambda r: f"{r['top1']:.4f} / {r['top5']:.4f} / {r['top10']:.4f}")
        out += ["", "### Open-set ranking: top-1 / top-5 / top-10", "",
                "Every sentence of the file ranked against all the others (itself excluded); a hit at k "
                "when one of its k nearest shares its group.", "", table(["method"] + tasks, rows)]
    if protocols.get("pairs"):
        tasks, rows = _cells(results, "pairs", lambda r: _f(r["spearman"]))
        out += ["", "### Pair scoring", "", "Spearman of the similarity against the label:", "",
                table(["method"] + tasks, rows)]
        binary = {t: r for t, r in protocols["pairs"].items() if any("auc" in m for m in r.values())}
        if binary:
            cols = [f"{t} AUC / acc / F1" for t in binary]
            rows = [[m] + [f"{r[m]['auc']:.4f} / {r[m]['accuracy']:.4f} / {r[m]['f1']:.4f}" if m in r else DASH
                           for r in binary.values()] for m in results["methods"]]
            sources = "; ".join(f"{t}: {next(iter(r.values()))['threshold_from']}" for t, r in binary.items())
            out += ["", "0/1 sets: ROC AUC, and accuracy / F1 at a threshold chosen on a dev split "
                    f"(thresholds from {sources}).", "", table(["method"] + cols, rows)]
    if protocols.get("intent"):
        intent = protocols["intent"]
        header, rows = ["method"], []
        names = {"accuracy": "in-scope acc", "oos_recall": "oos recall", "accuracy_no_abstention": "acc without refusals",
                 "dev_accuracy": "dev in-scope acc"}

        def keys(by_method: dict) -> list[str]:  # the columns a task has: refusals, a dev score (newer runs)
            if not any("oos_recall" in r for r in by_method.values()):
                return ["accuracy"]
            return [k for k in names if any(k in r for r in by_method.values())]

        for task, by_method in intent.items():
            header += [f"{task} {names[k]}" if len(keys(by_method)) > 1 else f"{task} acc" for k in keys(by_method)]
        for method in results["methods"]:
            row = [method]
            for task, by_method in intent.items():
                r = by_method.get(method)
                row += [_f(r[k]) if r and k in r else DASH for k in keys(by_method)]
            rows.append(row)
        out += ["", "### Intent matching", "",
                "Each test query takes the intent of its nearest training example (columns \"centroids\": of the "
                "nearest intent centroid, the mean of the intent's training vectors; vector methods only). "
                "clinc150: a query whose best similarity is under a threshold is refused; the threshold "
                "maximises accuracy over dev + oos_dev queries (right intent, or refusal of an out-of-scope "
                "query; its dev in-scope accuracy is the column to choose a rule by); in-scope accuracy counts "
                "refusals of in-scope queries as errors. banking77: official train (train_full) to test, "
                "no refusals.", "", table(header, rows)]
    speed = protocols.get("speed", {})
    header = ["method", "languages"] + [f"{t} (sentences/s)" for t in speed] + ["train time", "suite time"]
    rows = [[m, "+".join(info["languages"])]
            + [f"{speed[t][m]['sentences_per_second']:.0f}" if m in speed[t] else DASH for t in speed]
            + [_seconds(info["train_seconds"]), _seconds(info["suite_seconds"])]
            for m, info in results["methods"].items()]
    sizes = ", ".join(f"{t}: first {next(iter(r.values()))['n']} sentences of {results['tasks']['speed'][t]['files'][0]}"
                      for t, r in speed.items())
    out += ["", "### Speed and cost", "",
            ("Speed: sentences per second to encode (BM25: to tokenize and index), median of 3 runs, "
             f"the same sentences for every method ({sizes}). " if speed else "")
            + "Suite time: the whole run of the method here (encoding every sentence once, then all its "
            "protocols)" + _kept(results) + ".", "", table(header, rows)]
    for caption, path in (images or {}).items():
        out += ["", f"![{caption}]({path})"]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# Plots
#
# A run compares many methods (16 in docs/benchmarks.md) on many tasks (9 pair sets): bars of every
# method beside each other for every task made a figure 5,000 px wide, in repeated colours, under a
# legend. So each task is a panel of its own (PANEL_COLUMNS a row) with a bar for each method that
# ran it, every method keeps one colour in every panel, and one legend names them, outside the panels.

DPI = 100  # what atomic_save_png writes: inches * DPI = pixels
MAX_WIDTH = 16.0  # inches: 1,600 px, about what a page shows
PANEL_COLUMNS = 3
PANEL_SIZE = (4.0, 2.6)  # inches a task's panel
LEGEND_FONT = 8  # points
LEGEND_ROW = 0.19  # inches a legend entry takes at that size


def series_colours(count: int) -> list:
    """`count` colours, each distinct: tab10 up to 10; tab20 up to 20, its ten strong shades first
    (so the first ten series stay as distinct as tab10's) and its ten light ones after; beyond,
    evenly spaced along turbo."""
    import matplotlib

    if count <= 10:
        return [matplotlib.colormaps["tab10"](i) for i in range(count)]
    if count <= 20:
        tab20 = matplotlib.colormaps["tab20"]
        return [tab20(2 * i) for i in range(10)] + [tab20(2 * i + 1) for i in range(count - 10)]
    return [matplotlib.colormaps["turbo"](x) for x in np.linspace(0.03, 0.97, count)]


def _metric_series(results: dict, protocol: str, key: str) -> tuple[list[str], dict[str, list[float]]]:
    by_task = results["results"].get(protocol, {})
    tasks = [t for t, r in by_task.items() if any(key in m for m in r.values())]
    series = {m: [by_task[t].get(m, {}).get(key, np.nan) for t in tasks] for m in results["methods"]}
    return tasks, series


def _legend_width(labels: list[str]) -> float:
    """Inches a one-column legend of these labels takes at LEGEND_FONT (about half an em a character)."""
    return 0.8 + 0.5 * LEGEND_FONT / 72 * max((len(label) for label in labels), default=0)


def _bar_panels(plt, tasks: list[str], series: dict[str, list[float]], ylabel: str, title: str):
    """One panel per task, a bar for each method that ran it (in the legend's order, one colour a
    method in every panel), and one legend of the methods at the right, outside the panels."""
    from matplotlib.patches import Patch

    series = {method: values for method, values in series.items() if not np.isnan(values).all()}
    columns = min(len(tasks), PANEL_COLUMNS)
    rows = math.ceil(len(tasks) / columns)
    legend_width = _legend_width(list(series))
    width = min(MAX_WIDTH, columns * PANEL_SIZE[0] + legend_width)
    height = max(rows * PANEL_SIZE[1], LEGEND_ROW * len(series)) + 0.7  # the legend fits beside the panels
    fig, axes = plt.subplots(rows, columns, figsize=(width, height), squeeze=False, sharey=True,
                             layout="constrained")
    colours = series_colours(len(series))
    for index, (ax, task) in enumerate(zip(axes.flat, tasks)):
        ran = [(values[index], colour) for values, colour in zip(series.values(), colours)
               if not np.isnan(values[index])]
        ax.bar(np.arange(len(ran)), [value for value, _ in ran], 0.8, color=[colour for _, colour in ran])
        ax.set_xticks([])
        ax.set_title(task, fontsize=10)
        ax.grid(alpha=0.3, axis="y")
    for ax in list(axes.flat)[len(tasks):]:
        ax.remove()
    fig.supylabel(ylabel)
    fig.suptitle(title)
    handles = [Patch(color=colour, label=method) for method, colour in zip(series, colours)]
    fig.legend(handles=handles, loc="outside right upper", fontsize=LEGEND_FONT, frameon=False)
    return fig


def _speed_panels(plt, results: dict, speed: dict, open_set: dict):
    """Speed against mean open-set top-1, a panel per language; each method in its bar colour."""
    methods = list(results["methods"])
    colours = dict(zip(methods, series_colours(len(methods))))
    fig, axes = plt.subplots(1, len(speed), figsize=(min(MAX_WIDTH, 5.5 * len(speed)), 4), squeeze=False,
                             layout="constrained")
    for ax, (task, by_method) in zip(axes[0], speed.items()):
        language = results["tasks"]["speed"][task]["language"]
        same_language = [t for t in open_set if results["tasks"]["open-set"][t]["language"] == language]
        for method, r in by_method.items():
            top1 = [open_set[t][method]["top1"] for t in same_language if method in open_set[t]]
            if top1:
                ax.scatter(r["sentences_per_second"], np.mean(top1), s=40, color=colours[method])
                ax.annotate(method, (r["sentences_per_second"], np.mean(top1)), fontsize=7,
                            xytext=(4, 3), textcoords="offset points")
        ax.set_xscale("log")
        ax.set(xlabel="sentences/s (log scale)", ylabel=f"mean open-set top-1 ({language})",
               title=f"speed vs accuracy, {language}")
        ax.grid(alpha=0.3)
    return fig


def figures(results: dict, prefix: str) -> dict[str, tuple]:
    """The run's figures, by caption: (matplotlib figure, file name). Bars per protocol, and speed
    against accuracy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = {}
    bars = [("open-set", "top1", "open-set top-1", "open-set top-1 on unseen groups"),
            ("pairs", "spearman", "Spearman", "pair scoring: Spearman"),
            ("intent", "accuracy", "accuracy", "intent matching: (in-scope) accuracy")]
    for protocol, key, ylabel, caption in bars:
        tasks, series = _metric_series(results, protocol, key)
        if tasks:
            made[caption] = (_bar_panels(plt, tasks, series, ylabel, caption), f"{prefix}_{protocol}.png")
    speed, open_set = results["results"].get("speed", {}), results["results"].get("open-set", {})
    if speed and open_set:
        made["speed against open-set top-1"] = (_speed_panels(plt, results, speed, open_set),
                                                f"{prefix}_speed.png")
    return made


def plot(results: dict, folder: str | os.PathLike, prefix: str) -> dict[str, Path]:
    """PNG files in `folder`, by caption (see figures)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return {caption: atomic_save_png(fig, folder / name, dpi=DPI)
            for caption, (fig, name) in figures(results, prefix).items()}
