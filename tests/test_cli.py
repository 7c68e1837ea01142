import json
import os
import subprocess
import sys
from dataclasses import fields

import pytest
from fake_encoders import register_words_baseline

import samesense
from samesense import train as training
from samesense.bench.protocols import PROTOCOLS
from samesense.cli import build_parser, main
from samesense.cli.options import given_values
from samesense.faq.choices import FORMATS, INDEX_KINDS, ON_ERROR, LimitValues
from samesense.train.config import SECTIONS, TrainConfig


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


def braces(*names: str) -> str:
    return "{" + ",".join(names) + "}"


# what a command's --help must show, read from the light modules that the heavy ones re-export
HELP_SHOWS = {
    ("bench",): [", ".join(PROTOCOLS)],
    ("faq", "import"): [braces("auto", *FORMATS), braces(*ON_ERROR), braces("auto", *INDEX_KINDS)],
    ("faq", "export"): [braces("auto", *FORMATS)],
    ("serve",): [f"(default: {LimitValues.max_body_bytes})", f"(default: {LimitValues.max_question_chars})",
                 f"(default: {LimitValues.max_answer_chars})"],
}


@pytest.mark.parametrize("command", [[], ["eval"], ["similar"], ["bench"], ["demo"], ["distil"], ["faq"], ["faq", "import"],
                                     ["faq", "export"], ["ask"], ["calibrate"], ["serve"]])
def test_help_imports_nothing_heavy(command):
    code = ("import sys, samesense.cli as c\n"
            "try:\n"
            f"    c.main({command + ['--help']!r})\n"
            "except SystemExit:\n"
            "    pass\n"
            "heavy = {'torch', 'numpy', 'fastapi', 'faiss', 'matplotlib'} & set(sys.modules)\n"
            "assert not heavy, heavy\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"})  # no help line wrapped inside a list
    assert proc.returncode == 0, proc.stderr
    assert "usage: samesense" in proc.stdout
    for shown in HELP_SHOWS.get(tuple(command), []):
        assert shown in proc.stdout, shown


def test_the_choices_shown_are_the_ones_used():
    """The light modules' names are the very objects the heavy modules check values against."""
    from samesense.bench import tasks
    from samesense.faq import guard, importer, index

    assert tasks.PROTOCOLS is PROTOCOLS and importer.FORMATS is FORMATS and importer.ON_ERROR is ON_ERROR
    assert index.KINDS is INDEX_KINDS and issubclass(guard.Limits, LimitValues)


@pytest.mark.parametrize("argv, shows", [(["--version"], "samesense "), (["--version", "train"], "samesense "),
                                         (["--help", "train", "--out", "r"], "usage: samesense [-h]"),
                                         (["-h", "serve"], "usage: samesense [-h]")])
def test_version_and_top_level_help_import_nothing_heavy(argv, shows):
    """They answer before a command's arguments are read, so no command's module is imported
    (train's flags would bring torch: seconds for a version string)."""
    code = ("import sys, samesense.cli as c\n"
            "try:\n"
            f"    c.main({argv!r})\n"
            "except SystemExit:\n"
            "    pass\n"
            "heavy = {'torch', 'numpy', 'fastapi', 'faiss', 'matplotlib'} & set(sys.modules)\n"
            "assert not heavy, heavy\n"
            "assert not any(name.startswith('samesense.cli.') and name != 'samesense.cli.parsing' "
            "for name in sys.modules), sorted(sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(shows)


def test_val_same_groups_flag_reaches_the_config(fake_training):
    runs, _ = fake_training
    assert main(["train", "--train", "a.tsv", "--val", "v.tsv", "--out", "r", "--val-same-groups"]) == 0
    assert runs[-1].data.val_same_groups is True


def test_python_m_samesense_version():
    proc = subprocess.run([sys.executable, "-m", "samesense", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == f"samesense {samesense.__version__}"


def test_train_flags_come_from_the_config():
    parser = build_parser(only=["train"])
    train = next(a for a in parser._actions if a.dest == "command").choices["train"]
    dests = {a.dest for a in train._actions}
    for section in SECTIONS.values():
        for f in fields(section):
            assert (f.name in dests) == f.metadata["cli"] or f.name == "show_progress", f.name  # --progress/--quiet
    args = parser.parse_args(["train", "--train", "a.tsv", "--out", "r", "--layers", "2", "--no-normalize", "--quiet"])
    assert given_values(args, *SECTIONS.values()) == {"train": ["a.tsv"], "out": "r", "num_layers": 2,
                                                      "normalize": False, "show_progress": False}


@pytest.fixture
def fake_training(monkeypatch):
    """samesense.train's saved_config and train replaced: what the command would run, without running it."""
    runs, saved = [], {}

    def train(cfg):
        runs.append(cfg)
        return {"model": f"{cfg.run.out}/model", "best_epoch": 1, "history": [{"epoch": 1}]}

    monkeypatch.setattr(training, "train", train)
    monkeypatch.setattr(training, "saved_config", lambda out: saved.get(out))
    return runs, saved


def test_train_runs_the_config_of_the_flags(fake_training, capsys):
    runs, _ = fake_training
    assert main(["train", "--train", "a.tsv", "--out", "r", "--lr", "0.01", "--loss", "triplet", "--json"]) == 0
    assert runs == [TrainConfig.of(train=["a.tsv"], out="r", lr=0.01, loss="triplet")]
    assert json.loads(capsys.readouterr().out) == {"model": "r/model", "best_epoch": 1}  # no history


def test_resume_changes_only_the_flags_given(fake_training):
    runs, saved = fake_training
    saved["r"] = TrainConfig.of(train=["old.tsv"], out="r", lr=0.5, epochs=3, hidden_dim=64)
    assert main(["train", "--out", "r", "--resume", "--epochs", "6", "--progress"]) == 0
    assert runs == [saved["r"].replace(epochs=6, resume=True, show_progress=True)]


def test_resume_without_a_run_needs_training_files(fake_training, capsys):
    assert main(["train", "--out", "nothing/here", "--resume"]) == 2
    assert capsys.readouterr().err == ("samesense: error: --train FILE is required: nothing/here holds no run to "
                                       "resume, so --resume starts a new one\n")
    runs, _ = fake_training
    assert main(["train", "--out", "nothing/here", "--resume", "--train", "a.tsv"]) == 0  # starts afresh
    assert runs == [TrainConfig.of(train=["a.tsv"], out="nothing/here", resume=True)]


def test_a_missing_required_flag_is_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--train", "a.tsv"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1
    assert err.startswith("samesense: error: the following arguments are required: --out")


# --- what --model names, and what similar --against reads ----------------------------------------

GROUPS = ("pin\thow do i reset my pin\npin\ti forgot my pin\n"
          "weather\twhat is the weather today\nweather\tweather today\n")


def test_eval_scores_a_baseline_by_name(tmp_path, monkeypatch, capsys):
    register_words_baseline(monkeypatch)
    groups = tmp_path / "groups.tsv"
    groups.write_text(GROUPS)
    assert main(["eval", "words", str(groups), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"top1": 1.0, "top5": 1.0, "top10": 1.0, "n": 4}


def test_eval_and_similar_rank_by_bm25_which_has_no_vectors(tmp_path, capsys):
    pytest.importorskip("bm25s")
    groups = tmp_path / "groups.tsv"
    groups.write_text(GROUPS)
    assert main(["eval", "bm25", str(groups), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["top1"] == 1.0
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("reset my pin\tforgot my pin\t1\nreset my pin\tweather today\t0\n"
                     "weather today\tthe weather\t1\nbook a table\tweather today\t0\n")
    assert main(["eval", "bm25", str(pairs), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["auc"] == 1.0
    assert main(["similar", "bm25", "pin reset", "--against", str(groups), "-k", "3", "--json"]) == 0
    matches = json.loads(capsys.readouterr().out)["matches"]
    assert len(matches) == 3 and matches[0] == {"sentence": "how do i reset my pin", "score": matches[0]["score"],
                                                "group": "pin"}
    assert matches[0]["score"] > matches[1]["score"] > 0 and matches[2]["score"] == 0.0


FAQ_ROWS = [("how do i reset my pin", "Settings > Security.", "pin"),
            ("what is the weather today", "Look outside.", "")]


def write_against(path, kind):
    """The same two FAQ entries (the first with a paraphrase) as each kind of --against file."""
    if kind == "tsv":
        path.write_text("question\tanswer\tgroup\n" + "".join(f"{q}\t{a}\t{g}\n" for q, a, g in FAQ_ROWS)
                        + "i forgot my pin\tSettings > Security.\tpin\n")
    elif kind == "tsv3":  # no header: three fields tell an FAQ file from a groups file
        path.write_text("".join(f"{q}\t{a}\t{g or 'w'}\n" for q, a, g in FAQ_ROWS)
                        + "i forgot my pin\tSettings > Security.\tpin\n")
    elif kind == "csv":
        path.write_text("".join(f'"{q}","{a}","{g}"\n' for q, a, g in FAQ_ROWS)
                        + '"i forgot my pin","Settings > Security.","pin"\n')
    elif kind == "jsonl":
        path.write_text(json.dumps({"question": FAQ_ROWS[0][0], "answer": FAQ_ROWS[0][1], "group": "pin",
                                    "paraphrases": ["i forgot my pin"]}) + "\n"
                        + json.dumps({"question": FAQ_ROWS[1][0], "answer": FAQ_ROWS[1][1]}) + "\n")
    return path


@pytest.mark.parametrize("kind, name", [("tsv", "faq.tsv"), ("tsv3", "faq"), ("csv", "faq.csv"),
                                        ("jsonl", "faq.jsonl"), ("bank", "support.faq")])
def test_similar_searches_an_faq_file_or_bank_as_faq_import_reads_it(tmp_path, monkeypatch, capsys, kind, name):
    register_words_baseline(monkeypatch)
    against = tmp_path / name
    if kind == "bank":
        assert main(["faq", "import", str(against), str(write_against(tmp_path / "f.tsv", "tsv")),
                     "--model", "words", "--quiet"]) == 0
        capsys.readouterr()
    else:
        write_against(against, kind)
    assert main(["similar", "words", "i forgot my pin", "--against", str(against), "-k", "3", "--json"]) == 0
    matches = json.loads(capsys.readouterr().out)["matches"]
    assert [m["sentence"] for m in matches][0] == "i forgot my pin"  # a paraphrase is searched too
    assert {m["sentence"] for m in matches} == {"how do i reset my pin", "i forgot my pin", "what is the weather today"}
    assert matches[0]["answer"] == "Settings > Security." and matches[0]["group"] == "pin"
    assert ("entry_id" in matches[0]) == (kind == "bank")


def test_similar_still_reads_groups_and_plain_lines(tmp_path, monkeypatch, capsys):
    register_words_baseline(monkeypatch)
    groups, lines = tmp_path / "faq.tsv", tmp_path / "lines.txt"
    groups.write_text(GROUPS)  # two fields, no header: a groups file, whatever its name
    lines.write_text("how do i reset my pin\nwhat is the weather today\n")
    assert main(["similar", "words", "weather today", "--against", str(groups), "-k", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["matches"] == [
        {"sentence": "weather today", "score": 1.0, "group": "weather"}]
    assert main(["similar", "words", "reset pin", "--against", str(lines), "-k", "1", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)["matches"][0]) == {"sentence", "score"}  # no group
    assert main(["similar", "words", "weather", "--against", str(groups), "--against-format", "lines", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["matches"][0]["sentence"] == "weather today"  # the last field


@pytest.mark.parametrize("content, args, message", [
    ("a b\tc d\t1\n", [], "looks like a pairs file (sentence<TAB>sentence<TAB>label), which similar does not "
                          "search; for an FAQ file whose groups are numbers, pass --against-format faq"),
    ("q\ta\t1\nq\tb\t1\n", ["--against-format", "faq"], ":2: group '1' has another answer on line 1"),
    ("question\tanswer\n\tno question\n", [], ":2: "),
])
def test_similar_against_errors_are_one_line(tmp_path, monkeypatch, capsys, content, args, message):
    register_words_baseline(monkeypatch)
    against = tmp_path / "against.tsv"
    against.write_text(content)
    assert main(["similar", "words", "x", "--against", str(against), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize("args, message", [
    (["eval", "baseline:word2vec", "x.tsv"], "unknown baseline 'word2vec'"),
    (["similar", "no/such/model", "x", "--against", "x.tsv"], "x.tsv: no such file"),
    (["eval", "no/such/model", "x.tsv"], "no such model folder, nor a baseline (bm25, minilm, e5-small)"),
])
def test_model_spec_errors_are_one_line(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
