"""The benchmark harness: run the protocols of the benchmark data on any list of samesense models
and baselines, in one run, and report every number.

    samesense bench --model am=runs/am --baseline bm25 --baseline e5-small \
        --json docs/results/bench.json --doc docs/benchmarks.md --section bench --plots docs/img

    harness.py    BenchConfig and run_bench: each method in turn encodes its sentences once, then
                  runs its tasks; the outputs written at the end
    protocols.py  the protocols' names (imports nothing: `samesense bench --help` lists them)
    tasks.py      the protocols and the test sets they run on
    methods.py    samesense models and baselines behind what the protocols ask of them
    report.py     markdown tables, a doc section, PNG plots, timing helpers

Names are imported on first use (PEP 562), so importing the package (as `samesense.bench.protocols`
does) loads neither numpy nor torch.
"""

from __future__ import annotations

from ..lazy import lazy_names

_LAZY = {"BenchConfig": "harness", "DEFAULT_DATA": "harness", "run_bench": "harness", "run_method": "harness",
         "select_tasks": "harness", "write_outputs": "harness", "MethodSpec": "methods", "PROTOCOLS": "protocols"}

__all__ = list(_LAZY)


__getattr__ = lazy_names(__name__, _LAZY)
