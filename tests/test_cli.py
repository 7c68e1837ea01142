import json
import subprocess
import sys

import pytest

from samesense.cli import build_parser, main


def test_every_command_explains_every_flag():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert {"train", "eval", "similar"} <= set(sub.choices)
    for name, command in sub.choices.items():
        for action in command._actions:
            if action.dest != "help":
                assert action.help, f"samesense {name}: {action.option_strings or action.dest} has no help"


def test_eval_json_on_groups(trained_run, synthetic_files, capsys):
    out, result = trained_run
    assert main(["eval", str(out / "model"), str(synthetic_files[1]), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert set(scores) == {"top1", "top5", "top10", "n"}
    assert scores["top1"] == pytest.approx(result["val_top1"]) and scores["n"] == 300


def test_eval_pairs_with_dev_threshold(trained_run, tmp_path, capsys):
    out, _ = trained_run
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("abcde\t12abcde\t1\nabcde\tvwxyz\t0\nqrstu\tqrstu9\t1\nqrstu\tabcde\t0\n")
    assert main(["eval", str(out), str(pairs), "--dev", str(pairs), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["threshold_from"] == "dev" and metrics["auc"] == 1.0 and metrics["accuracy"] == 1.0
    assert main(["eval", str(out), str(pairs)]) == 0
    assert "optimistic" in capsys.readouterr().out


def test_similar_finds_the_same_group(trained_run, tmp_path, capsys):
    out, _ = trained_run
    against = tmp_path / "faq.tsv"
    against.write_text("one\tabcde\ntwo\tvwxyz\nthree\tmnopq\n")
    assert main(["similar", str(out), "77vwxyz1", "--against", str(against), "-k", "2", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["query"] == "77vwxyz1" and len(answer["matches"]) == 2
    assert answer["matches"][0]["group"] == "two"
    assert answer["matches"][0]["score"] >= answer["matches"][1]["score"]
    plain = tmp_path / "plain.txt"
    plain.write_text("abcde\nvwxyz\n")
    assert main(["similar", str(out), "abcde", "--against", str(plain), "-k", "1"]) == 0
    assert "1. " in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["eval", "no/such/model", "x.tsv"], "no such model folder"),
    (["train", "--train", "missing.tsv", "--out", "OUT"], "missing.tsv: no such file"),
    (["train", "--out", "OUT"], "--train FILE is required"),
])
def test_user_errors_are_one_line_without_traceback(args, message, tmp_path):
    args = [a.replace("OUT", str(tmp_path / "run")) for a in args]
    proc = subprocess.run([sys.executable, "-m", "samesense.cli", *args], capture_output=True, text=True)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("samesense: error: ")


def test_malformed_training_file_names_the_line(tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tfine\nb\tfine too\nthis line has no tab\n")
    assert main(["train", "--train", str(bad), "--out", str(tmp_path / "r")]) == 2
    assert f"{bad}:3: no tab" in capsys.readouterr().err


def test_bad_flag_value_is_rejected(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--train", "x", "--out", "y", "--batch-size", "0"])
    assert exit_info.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err
