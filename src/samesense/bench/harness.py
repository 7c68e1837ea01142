"""The harness: run the chosen protocols' tasks for every method in turn, and write the outputs.

For each method: load it, encode the union of the sentences of every task in its languages once
(vector methods), run the tasks, time the whole, and let it go before the next.
"""

from __future__ import annotations

import datetime
import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..console import progress
from ..errors import SamesenseError
from ..files import atomic_write_json
from .methods import MethodSpec
from .protocols import PROTOCOLS
from .report import machine, markdown, plot, write_section
from .tasks import TASKS, Task, check_files

DEFAULT_DATA = os.environ.get("SAMESENSE_DATA", "../shared/data")


@dataclass
class BenchConfig:
    methods: list[MethodSpec]
    data: str = DEFAULT_DATA
    protocols: list[str] = field(default_factory=lambda: list(PROTOCOLS))
    tasks: list[str] | None = None  # the tasks' names to run (None: every task of the protocols)
    batch_size: int = 256
    threads: int | None = None
    title: str = "Benchmark"
    note: str = ""  # said in the report, e.g. what else ran on the machine
    json: str | None = None
    doc: str | None = None
    section: str = "bench"
    plots: str | None = None
    vectors: str | None = None  # folder keeping each encoder's vectors between runs
    show_progress: bool | None = None  # None: when stderr is a terminal
    command: str = field(default_factory=lambda: shlex.join(["samesense"] + sys.argv[1:]))


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def select_tasks(protocols: list[str], names: list[str] | None = None) -> list[Task]:
    """The tasks of `protocols`, only those named in `names` when given (a name the protocols do not
    hold is refused: a typo would otherwise run less than asked, silently)."""
    unknown = sorted(set(protocols) - set(PROTOCOLS))
    if unknown:
        raise SamesenseError(f"unknown protocol {unknown[0]!r}: choose from {', '.join(PROTOCOLS)}")
    tasks = [t for t in TASKS if t.protocol in protocols]
    if names is not None:
        missing = [n for n in names if n not in {t.name for t in tasks}]
        if missing:
            raise SamesenseError(f"--tasks: no task {missing[0]!r} in the protocols {', '.join(protocols)}; "
                                 f"choose from {', '.join(repr(t.name) for t in tasks)}")
        tasks = [t for t in tasks if t.name in names]
    return tasks


def run_bench(cfg: BenchConfig) -> dict:
    if not cfg.methods:
        raise SamesenseError("nothing to compare: give at least one --model NAME=PATH or --baseline NAME")
    names = [m.name for m in cfg.methods]
    if len(set(names)) < len(names):
        raise SamesenseError(f"two methods are called {max(names, key=names.count)!r}: give each its own NAME")
    for spec in cfg.methods:  # a wrong path stops the run now, not after the methods before it
        spec.check()
    if cfg.threads:
        import torch

        torch.set_num_threads(cfg.threads)
    root = Path(cfg.data)
    tasks = select_tasks(cfg.protocols, cfg.tasks)
    check_files(tasks, root)
    loaded: dict[Task, object] = {}  # each task's files, read once for all methods
    results: dict = {"title": cfg.title, "command": cfg.command, "machine": machine(),
                     "date": datetime.date.today().isoformat(), "cores": os.cpu_count(), "note": cfg.note,
                     "data": str(root), "load_average": {"start": os.getloadavg()[0]},
                     "tasks": {p: {t.name: {"language": t.language, "files": t.files()}
                                   for t in tasks if t.protocol == p} for p in PROTOCOLS if p in cfg.protocols},
                     "methods": {}, "results": {p: {} for p in PROTOCOLS if p in cfg.protocols}}
    for spec in cfg.methods:
        results["methods"][spec.name] = run_method(spec, tasks, loaded, root, cfg, results["results"])
    results["load_average"]["end"] = os.getloadavg()[0]
    write_outputs(cfg, results)
    return results


def run_method(spec: MethodSpec, tasks: list[Task], loaded: dict, root: Path, cfg: BenchConfig,
               scores: dict) -> dict:
    """Run one method on the tasks of its languages, adding to `scores`; what it was and took."""
    started = time.perf_counter()
    method = spec.load(cfg.batch_size, cfg.threads)
    mine = [t for t in tasks if t.language in method.languages and t.applies(method)]
    for task in mine:
        if task not in loaded:
            loaded[task] = task.load(root)
    sentences = [s for t in mine for s in t.sentences(loaded[t])]
    kept = method.load_vectors(cfg.vectors, sentences) if cfg.vectors else 0
    say(f"{method.name} ({'+'.join(method.languages)}): {len(set(sentences))} sentences, {len(mine)} tasks"
        + (f"; {kept} vectors kept from an earlier run" if kept else ""))
    if method.prepare(sentences, show_progress=cfg.show_progress) and cfg.vectors:
        method.save_vectors(cfg.vectors)
    encoded = time.perf_counter()
    for task in progress(mine, desc=method.name, unit="task", show=cfg.show_progress):
        scores[task.protocol].setdefault(task.name, {})[method.name] = task.run(method, loaded[task])
    done = time.perf_counter()
    say(f"{method.name}: done in {done - started:.0f}s")
    return {"kind": spec.kind, "source": spec.source, **method.describe(), "sentences": len(set(sentences)),
            "vectors_kept": kept, "load_and_encode_seconds": encoded - started,
            "protocol_seconds": done - encoded, "suite_seconds": done - started}


def write_outputs(cfg: BenchConfig, results: dict) -> None:
    images = {}
    if cfg.plots:
        paths = plot(results, cfg.plots, cfg.section)
        base = Path(cfg.doc).parent if cfg.doc else Path.cwd()
        images = {caption: os.path.relpath(path, base) for caption, path in paths.items()}
    text = markdown(results, images)
    if cfg.json:
        atomic_write_json(cfg.json, results)
    if cfg.doc:
        write_section(cfg.section, text, cfg.doc)
    results["markdown"] = text
