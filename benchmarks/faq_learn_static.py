"""How `faq learn` fine-tunes a static bank's model: its rate and epochs (learn_base.KIND_DEFAULTS)
chosen here on the newcomer FAQ's dev questions, never its test questions.

Per language, the static student of faq_loop_static.py in a bank of the newcomer FAQ (32 entries, 2
stored paraphrases each); the table fine-tuned as `faq learn` does (train --start-from, the margin
loss, train's other defaults) on every stored question (one group an entry), at each rate and number
of epochs; then the bank on each model is calibrated on dev (the first held-out paraphrase of each
entry + 12 out-of-scope questions) at precision TARGET, threshold and margin chosen together
(faq_loop.py's calibration). Printed: in-scope dev questions answered right at that precision, and
those whose nearest entry is right, against the student before learning, measured in the same run.

    python benchmarks/faq_learn_static.py [--lrs 3e-3 1e-2 3e-2 1e-1] [--epochs 8 16 32] [--threads 1]

Writes its section faq_learn_static of docs/benchmarks.md and docs/results/faq_learn_static.json
(unless --no-doc; --from-json FILE writes the section from a run's JSON). The choice is written by
hand into learn_base.py's KIND_DEFAULTS and docs/faq.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, machine, table, write_section  # noqa: E402
from faq_loop import TARGET, newcomer  # noqa: E402
from faq_loop_static import static_student  # noqa: E402
from faq_newcomer import write_lines, write_tsv  # noqa: E402

from samesense.faq import FaqBank  # noqa: E402
from samesense.faq.calibrate import calibrate  # noqa: E402
from samesense.faq.learn import train_on_entries  # noqa: E402
from samesense.faq.learn_base import LearnOptions  # noqa: E402
from samesense.errors import SamesenseError  # noqa: E402
from samesense.files import atomic_write_json  # noqa: E402


def dev_right(spec: str, faq: dict, files: dict, path: Path) -> dict:
    """In-scope dev questions answered right at TARGET precision by a bank of the FAQ on `spec`, and
    those whose nearest entry is right (top1: answered at any threshold)."""
    if path.exists():
        path.unlink()
    with FaqBank.open(path, spec, show_progress=False) as bank:
        for group, question, answer, paraphrases in faq["entries"]:
            bank.add(question, answer, paraphrases=paraphrases, group=group)
        group_of = {e.id: e.group for e in bank.list_entries()}
        top1 = sum(bool(c) and group_of[c[0].entry_id] == group for group, q in faq["dev"]
                   for c in [bank.ask(q).candidates])
        try:
            result = calibrate(bank, TARGET, groups=files["dev"], oos=files["oos_dev"], margin="choose", save=False,
                               min_coverage=0.0)
        except SamesenseError:  # no threshold reaches TARGET: it answers nothing right at it
            return {"right": 0, "of": len(faq["dev"]), "top1": top1}
    return {"right": round(result.precision * result.coverage * result.n_in_scope), "of": result.n_in_scope,
            "top1": top1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lrs", nargs="+", type=float, default=[3e-3, 1e-2, 3e-2, 1e-1])
    parser.add_argument("--epochs", nargs="+", type=int, default=[8, 16, 32])
    parser.add_argument("--languages", nargs="+", default=["en", "zh"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "faq_learn_static"))
    parser.add_argument("--no-doc", action="store_true", help="print only: write nothing under docs/")
    parser.add_argument("--from-json", metavar="FILE", help="write the section from a run's JSON instead of running")
    args = parser.parse_args()
    if args.from_json:
        write_docs(json.loads(Path(args.from_json).read_text(encoding="utf-8")), args.no_doc)
        return
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    started, results = time.perf_counter(), []
    for lang in args.languages:
        faq, spec = newcomer(lang), static_student(lang, args.threads)
        files = {"dev": write_tsv(out / f"dev_{lang}.tsv", faq["dev"]),
                 "oos_dev": write_lines(out / f"oos_dev_{lang}.txt", faq["oos_dev"])}
        trained = [(group, q) for group, question, _, paraphrases in faq["entries"] for q in (question, *paraphrases)]
        base = {"encoder": "static", "start_from": spec, "pooling": "mean"}
        before = dev_right(spec, faq, files, out / "bank.faq")
        results.append({"language": lang, "lr": None, "epochs": 0, **before})
        print(lang, "before learning", before, flush=True)
        for lr in args.lrs:
            for epochs in args.epochs:
                work = out / "work"
                shutil.rmtree(work, ignore_errors=True)
                work.mkdir()
                options = LearnOptions(epochs=epochs, lr=lr, threads=args.threads, show_progress=False)
                summary = train_on_entries(base, trained, options, work)
                scored = dev_right(summary["model"], faq, files, out / "bank.faq")
                results.append({"language": lang, "lr": lr, "epochs": epochs, **scored,
                                "train_seconds": round(summary["train_seconds"], 1)})
                print(lang, f"lr {lr:g} epochs {epochs}", scored, flush=True)
    doc = {"machine": machine(), "seconds": round(time.perf_counter() - started, 1), "target_precision": TARGET,
           "results": results}
    if args.no_doc:
        atomic_write_json(out / "faq_learn_static.json", doc)
    write_docs(doc, args.no_doc)


def write_docs(doc: dict, no_doc: bool) -> None:
    rows = [[r["language"], "before learning" if r["lr"] is None else f"{r['lr']:g}", str(r["epochs"]),
             f"{r['right']} of {r['of']}", f"{r['top1']} of {r['of']}"] for r in doc["results"]]
    markdown = f"""## Static learn's rate and epochs (faq learn on a static bank)

`python benchmarks/faq_learn_static.py` ({doc['machine']}; {doc['seconds']:.0f} s). The static students of
the static FAQ loop above (MiniLM distilled for English, e5-small with jieba words for Chinese) fine-tuned as
`faq learn` fine-tunes them (train --start-from: the table and token weights from the student's own,
am-softmax, batches of 32, dropout 0.2) on the newcomer FAQ's stored questions (32 entries, 3 each), then
calibrated on its dev questions (32 paraphrases + 12 out of scope) at precision {doc['target_precision']:g},
threshold and margin chosen together. Dev right: in-scope dev questions answered right at that
precision; nearest entry right: whose best entry is right (at any threshold). The test questions play
no part. "before learning": the student as distilled, in the same run.

{table(["language", "rate", "epochs", f"dev right at precision {doc['target_precision']:g}", "nearest entry right"], rows)}
"""
    if not no_doc:
        atomic_write_json(REPO / "docs" / "results" / "faq_learn_static.json", doc)
        write_section("faq_learn_static", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
