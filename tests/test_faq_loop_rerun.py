"""benchmarks/faq_loop_rerun.py: two runs of the loop compared arm by arm, what moved said where it moved."""

import copy
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
rerun_of = pytest.importorskip("faq_loop_rerun")


def step(right, ranked, threshold, switched=None):
    learn = None if switched is None else {"switched": switched}
    return {"right": right, "wrong": 1, "none": 31 - right, "oos_answered": 0, "ranked_first": ranked,
            "threshold": threshold, **({"learn": learn} if learn else {})}


def run(machine, learn_arm):
    arm = {"faq": "newcomer", "language": "zh", "model": "e5-small", "test_in_scope": 32}
    return {"command": f"python benchmarks/faq_loop.py ({machine})", "machine": machine, "seconds": 9.0,
            "results": [{**arm, "arm": "assign only", "rounds": [step(15, 26, 0.92412), step(15, 25, 0.92413)]},
                        {**arm, "arm": "assign + learn", "rounds": learn_arm},
                        {**arm, "model": "MiniLM", "language": "en", "arm": "assign only",
                         "rounds": [step(23, 26, 0.4)]}]}


def test_arms_the_same_moved_and_a_learn_tipped_are_told_apart():
    table_run = run("intel", [step(15, 26, 0.9241), step(21, 25, 0.49, switched=True)])
    again = copy.deepcopy(run("amd", [step(15, 26, 0.9241), step(13, 25, 0.93, switched=False)]))
    again["results"][0]["rounds"][1]["threshold"] = 0.92414  # the same to 4 places: identical
    again["results"].pop()  # an arm the rerun left out is not compared
    arms = rerun_of.compare(table_run, again)
    assert [(a["arm"], a["identical"], a["counts_same"], a["learn_same"]) for a in arms] == [
        ("assign only", True, True, True), ("assign + learn", False, False, False)]
    text = rerun_of.report(table_run, again, arms)
    assert "| 15, 21 → 15, 13 | 26, 25 |" in text and "| switched → kept | differs |" in text
    assert "e5-small: 1 of 2 arms with every round's counts the same" in text
    assert "moved by at most 8 (of 32" in text and "otherwise in 1 of the 1 arms that learn" in text
    assert "Not in the rerun: MiniLM." in text
