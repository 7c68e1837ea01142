import json
import subprocess
import sys

import pytest

from samesense.cli import build_parser, main
from samesense.data import read_groups


def nested_parsers(parser, prefix=""):
    for action in parser._actions:
        if action.choices and hasattr(action, "_name_parser_map"):
            for name, child in action.choices.items():
                yield from nested_parsers(child, f"{prefix} {name}".strip())
    yield prefix, parser


def test_every_faq_flag_has_help():
    for name, parser in nested_parsers(build_parser()):
        if name.split(" ")[0] not in ("faq", "ask", "calibrate", "serve"):
            continue
        for action in parser._actions:
            if action.dest != "help":
                assert action.help, f"samesense {name}: {action.option_strings or action.dest} has no help"


@pytest.fixture
def faq_files(synthetic_files, tmp_path):
    """An FAQ file from the held-out synthetic groups (first 4 sentences stored, the 5th asked)."""
    groups = read_groups(synthetic_files[1], normalize=False)
    stored, asked = [], []
    for label, name in enumerate(groups.names):
        sentences = [s for s, g in zip(groups.sentences, groups.labels) if g == label]
        stored += [f"{s}\tanswer {name}\t{name}" for s in sentences[:4]]
        asked.append((name, sentences[4]))
    faq = tmp_path / "faq.tsv"
    faq.write_text("question\tanswer\tgroup\n" + "\n".join(stored) + "\n")
    held = tmp_path / "held.tsv"
    held.write_text("".join(f"{g}\t{s}\n" for g, s in asked))
    oos = tmp_path / "oos.txt"
    oos.write_text("".join(f"{k}{k}{k}\n" for k in ["qq", "zz", "xy", "mn", "uv", "kk", "jj", "hh"]))
    return faq, held, oos, asked


def test_import_list_ask_add_rm_export(trained_run, faq_files, tmp_path, capsys):
    model = trained_run[0] / "model"
    faq, held, oos, asked = faq_files
    bank = str(tmp_path / "bank.faq")
    assert main(["faq", "import", bank, str(faq), "--model", str(model), "--quiet"]) == 0
    assert "60 entries added" in capsys.readouterr().out
    assert main(["faq", "list", bank, "--limit", "2", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(listed) == 2 and 1 <= len(listed[0]["paraphrases"]) <= 3  # duplicates kept once

    main(["faq", "info", bank])
    info = json.loads(capsys.readouterr().out)
    assert info["entries"] == 60 and 200 < info["questions"] <= 240 and info["model_path"].endswith("model")

    group, question = asked[0]
    assert main(["ask", bank, question, "--json"]) == 0  # no --model: the bank remembers it
    answer = json.loads(capsys.readouterr().out)
    assert answer["candidates"][0]["answer"] == f"answer {group}"

    assert main(["faq", "add", bank, "--question", "zzzzz", "--answer", "sleep", "--paraphrase", "zzzz", "--json"]) == 0
    new = json.loads(capsys.readouterr().out)
    assert new["paraphrases"] == ["zzzz"]
    assert main(["faq", "rm", bank, str(new["id"])]) == 0
    assert main(["faq", "rm", bank, str(new["id"])]) == 2
    assert "no entry" in capsys.readouterr().err

    out = tmp_path / "out.jsonl"
    assert main(["faq", "export", bank, str(out)]) == 0
    assert len(out.read_text().splitlines()) == 60


def test_calibrate_stores_threshold_and_draws_the_curve(trained_run, faq_files, tmp_path, capsys):
    model = trained_run[0] / "model"
    faq, held, oos, _ = faq_files
    bank = str(tmp_path / "bank.faq")
    main(["faq", "import", bank, str(faq), "--model", str(model), "--quiet"])
    capsys.readouterr()
    plot = tmp_path / "cal.png"
    assert main(["calibrate", bank, "--groups", str(held), "--oos", str(oos), "--target-precision", "0.8",
                 "--plot", str(plot), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["precision"] >= 0.8 and 0 < result["coverage"] <= 1
    assert result["n_in_scope"] == 60 and result["n_out_of_scope"] == 8
    assert plot.read_bytes()[:4] == b"\x89PNG"
    main(["faq", "info", bank])
    info = json.loads(capsys.readouterr().out)
    assert info["threshold"] == result["threshold"] and info["calibration"]["precision"] == result["precision"]
    assert main(["calibrate", bank, "--groups", str(held), "--oos", str(oos), "--target-precision", "0.8",
                 "--plot", str(plot), "--suggest", "choose"]) == 0
    said = capsys.readouterr().out
    main(["faq", "info", bank])
    suggest = json.loads(capsys.readouterr().out)["suggest"]
    assert (f"  did you mean from {suggest:.4f}: the right entry among the choices of " in said if suggest < 1 else
            "  did you mean off (suggest 1)" in said)


@pytest.mark.parametrize("args, message", [
    (["faq", "list", "BANKDIR/none.faq"], "no such FAQ bank"),
    (["ask", "BANKDIR/none.faq", "hi"], "no such FAQ bank"),
    (["faq", "import", "BANKDIR/b.faq", "BANKDIR/missing.tsv"], "missing.tsv: no such file"),
    (["faq", "import", "BANKDIR/b.faq", "BANKDIR/bad.tsv"], "bad.tsv:2: expected question, answer"),
    (["faq", "add", "BANKDIR/b.faq", "--question", "q", "--answer", "a"], "no model yet"),
    (["serve", "BANKDIR/b.faq"], "no token for writes"),
    (["calibrate", "BANKDIR/b.faq", "--oos", "x.txt"], "--oos goes with --groups"),
])
def test_user_errors_are_one_line(args, message, tmp_path):
    (tmp_path / "bad.tsv").write_text("q\ta\nno tab here\n")
    args = [a.replace("BANKDIR", str(tmp_path)) for a in args]
    env_free = {"PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "samesense.cli", *args], capture_output=True, text=True, env=env_free)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("samesense: error: ") and message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_import_skip_reports_rows(trained_run, tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("abcde\tA\nno tab here\nvwxyz\tB\n")
    bank = str(tmp_path / "b.faq")
    assert main(["faq", "import", bank, str(bad), "--model", str(trained_run[0]), "--on-error", "skip", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert f"{bad}:2:" in captured.err and "1 malformed rows skipped" in captured.out


def test_serve_starts_with_a_token_file_and_answers(trained_run, faq_files, tmp_path):
    import socket
    import time

    import httpx

    model = trained_run[0] / "model"
    bank = tmp_path / "bank.faq"
    assert main(["faq", "import", str(bank), str(faq_files[0]), "--model", str(model), "--quiet"]) == 0
    token = tmp_path / "token"
    token.write_text("file-token-0123456789\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "samesense.cli", "serve", str(bank), "--token-file", str(token),
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url, deadline = f"http://127.0.0.1:{port}", time.time() + 120
        while True:
            try:
                health = httpx.get(url + "/healthz").json()
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.time() < deadline, proc.stdout.read()
                time.sleep(0.1)
        assert health["writable"] and health["entries"] == 60
        group, question = faq_files[3][0]
        assert httpx.post(url + "/ask", json={"question": question}).json()["candidates"][0]["answer"] == f"answer {group}"
        auth = {"Authorization": "Bearer file-token-0123456789"}
        assert httpx.post(url + "/faq", json={"question": "qqqqq", "answer": "a"}, headers=auth).status_code == 201
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_ask_refuses_a_question_that_is_not_utf8(trained_run, tmp_path):
    bank = tmp_path / "b.faq"
    assert main(["faq", "add", str(bank), "--question", "abcde", "--answer", "A", "--model", str(trained_run[0])]) == 0
    proc = subprocess.run([sys.executable.encode(), b"-m", b"samesense.cli", b"ask", str(bank).encode(), b"caf\xe9"],
                          capture_output=True)
    assert proc.returncode == 2 and b"question: not valid UTF-8" in proc.stderr and b"Traceback" not in proc.stderr


def test_export_onto_a_folder_or_under_a_file_is_one_line_naming_it(bank, tmp_path, capsys):
    """The `bank` fixture's file (three entries, fake model); export opens it without a model."""
    path = str(tmp_path / "bank.faq")
    folder = tmp_path / "out.tsv"
    folder.mkdir()
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")
    for target, message in ((folder, f"{folder}: Is a directory"), (a_file / "x.tsv", f"{a_file}: Not a directory")):
        assert main(["faq", "export", path, str(target)]) == 2
        err = capsys.readouterr().err
        assert err == f"samesense: error: {message}\n"
    assert list(folder.iterdir()) == []  # no temporary left behind
    assert main(["faq", "export", path, str(tmp_path / "fine.tsv")]) == 0


def test_rm_of_a_missing_id_does_not_claim_others_were_deleted(bank, tmp_path, capsys):
    path = str(tmp_path / "bank.faq")
    assert main(["faq", "rm", path, str(2**63 - 1)]) == 2
    assert capsys.readouterr().err == f"samesense: error: no entry {2**63 - 1}\n"
    assert main(["faq", "rm", path, "1", "999"]) == 2
    assert capsys.readouterr().err == "samesense: error: no entry 999 (the others were deleted)\n"


# ---------------------------------------------------------------------------------------------
# issue 13: unreadable questions, calibration that would switch the bank off, settings by hand

UNREADABLE = ["Как сбросить пин", "Где моя карта", "Часы работы"]  # Cyrillic: no such character in training


def test_import_warns_and_ask_refuses_questions_the_model_cannot_read(trained_run, faq_files, tmp_path, capsys):
    faq = tmp_path / "mixed.tsv"
    faq.write_text(faq_files[0].read_text() + "".join(f"{q}\tanswer {i}\n" for i, q in enumerate(UNREADABLE)))
    bank = str(tmp_path / "bank.faq")
    assert main(["faq", "import", bank, str(faq), "--model", str(trained_run[0] / "model"), "--quiet"]) == 0
    captured = capsys.readouterr()
    [warning] = captured.err.splitlines()
    assert warning.startswith(f"samesense: warning: {faq}: the model cannot read 3 of the ")
    assert "'Как сбросить пин', 'Где моя карта', 'Часы работы'" in warning and "63 entries added" in captured.out
    assert main(["ask", bank, "Где моя карта", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert not answer["answered"] and answer["candidates"] == [] and answer["did_you_mean"] == []
    assert answer["reason"] == "the model cannot read this question (100% unknown tokens, limit 50%)"


def test_calibrate_refuses_a_threshold_that_answers_too_few_and_stores_nothing(trained_run, faq_files, tmp_path,
                                                                                  capsys):
    """One labelled question the bank answers right, forty it cannot read (never answered): any
    threshold answers 1 of 41 in-scope questions (2.4%)."""
    faq, _, _, asked = faq_files
    bank = str(tmp_path / "bank.faq")
    main(["faq", "import", bank, str(faq), "--model", str(trained_run[0] / "model"), "--quiet"])
    group, stored = faq.read_text().splitlines()[1].split("\t")[2], faq.read_text().splitlines()[1].split("\t")[0]
    groups = tmp_path / "held.tsv"
    groups.write_text(f"{group}\t{stored}\n" + "".join(f"{group}\t{UNREADABLE[i % 3]} {i}\n" for i in range(40)))
    capsys.readouterr()
    plot = tmp_path / "cal.png"
    assert main(["calibrate", bank, "--groups", str(groups), "--target-precision", "0.9", "--plot", str(plot)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("samesense: error: threshold ") and err.count("\n") == 1
    assert "but answers 2.4% of the in-scope questions (--min-coverage 0.05)" in err and "not stored" in err
    main(["faq", "info", bank])
    info = json.loads(capsys.readouterr().out)
    assert (info["threshold"], info["calibration"]) == (0.6, None) and not plot.exists()
    assert main(["calibrate", bank, "--groups", str(groups), "--target-precision", "0.9", "--plot", str(plot),
                 "--min-coverage", "0.02", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["coverage"] == pytest.approx(1 / 41)


def test_add_of_the_same_question_and_answer_twice_keeps_one_entry(trained_run, tmp_path, capsys):
    bank = str(tmp_path / "b.faq")
    add = ["faq", "add", bank, "--question", "abcde", "--answer", "A", "--model", str(trained_run[0])]
    assert main(add) == 0 and capsys.readouterr().out == "added entry 1\n"
    assert main(add + ["--paraphrase", "abcdf"]) == 0
    assert capsys.readouterr().out == "entry 1 already holds this question and answer; it has what was given\n"
    assert main(["faq", "add", bank, "--question", "abcde", "--answer", "B"]) == 2
    assert capsys.readouterr().err == ("samesense: error: question 'abcde' already in entry 1: change that entry "
                                       "instead\n")
    main(["faq", "list", bank, "--json"])
    [entry] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (entry["question"], entry["paraphrases"]) == ("abcde", ["abcdf"])


def test_import_of_a_question_another_entry_holds_is_refused_or_skipped_as_add_refuses_it(trained_run, tmp_path,
                                                                                         capsys):
    """Issue 36: an import added a second entry of a question another entry held (its paraphrase,
    another answer), and ask said "too close to call 1.000 vs 1.000" for ever after."""
    bank = str(tmp_path / "b.faq")
    assert main(["faq", "add", bank, "--question", "abcde", "--answer", "A", "--paraphrase", "abcdf",
                 "--model", str(trained_run[0])]) == 0
    capsys.readouterr()
    faq = tmp_path / "more.tsv"
    faq.write_text("fghij\tC\nabcdf\tB\n")
    assert main(["faq", "import", bank, str(faq)]) == 2
    assert capsys.readouterr().err == (f"samesense: error: {faq}:2: question 'abcdf' already in entry 1: change that "
                                       "entry instead (--on-error skip leaves such rows out)\n")
    assert main(["faq", "import", bank, str(faq), "--on-error", "skip", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert err == f"samesense: warning: skipped {faq}:2: question 'abcdf' already in entry 1: change that entry instead\n"
    assert "1 entries added" in out and "1 rows skipped (questions other entries hold)" in out
    main(["faq", "list", bank, "--json"])
    entries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["question"], e["paraphrases"], e["answer"]) for e in entries] == [("abcde", ["abcdf"], "A"),
                                                                                   ("fghij", [], "C")]


def test_faq_set_sets_and_resets_the_answer_settings_by_hand(bank, tmp_path, capsys):
    """The `bank` fixture's file (fake model): set opens it without a model."""
    path = str(tmp_path / "bank.faq")
    bank.set_settings(threshold=0.7, calibration={"threshold": 0.7, "precision": 0.9})
    assert main(["faq", "set", path, "--max-unknown", "0.25"]) == 0
    assert capsys.readouterr().out == f"{path}: threshold 0.7, margin 0.02, max_unknown 0.25, hybrid 0, answers 0, suggest 1\n"
    assert bank.ask("reset my пин").reason.startswith("the model cannot read this question (33%")
    assert main(["faq", "set", path, "--threshold", "0.8", "--margin", "0.1"]) == 0
    assert capsys.readouterr().out == (f"{path}: threshold 0.8, margin 0.1, max_unknown 0.25, hybrid 0, answers 0, suggest 1; "
                                       "calibration forgotten (it chose threshold 0.7)\n")
    main(["faq", "info", path])
    info = json.loads(capsys.readouterr().out)
    assert (info["threshold"], info["margin"], info["max_unknown"], info["calibration"]) == (0.8, 0.1, 0.25, None)
    assert info["index"] == "flat (not built: opened without a model)"  # was null
    assert main(["faq", "set", path, "--reset"]) == 0
    assert capsys.readouterr().out == f"{path}: threshold 0.6, margin 0.02, max_unknown 0.5, hybrid 0, answers 0, suggest 1\n"


def test_faq_set_suggest_is_stored_shown_and_answered_by(bank, tmp_path, capsys):
    path = str(tmp_path / "bank.faq")
    question = "when are you open please"
    bank.set_settings(threshold=0.99)
    assert bank.ask(question).did_you_mean == []
    assert main(["faq", "set", path, "--suggest", "0.5"]) == 0
    assert capsys.readouterr().out.endswith(", hybrid 0, answers 0, suggest 0.5\n")
    main(["faq", "info", path])
    assert json.loads(capsys.readouterr().out)["suggest"] == 0.5
    bank.refresh()  # what the command wrote, as another process's write
    assert [c.question for c in bank.ask(question).did_you_mean] == ["when are you open"]


@pytest.mark.parametrize("args, message", [
    (["--threshold", "1.5"], "argument --threshold: must be from -1 to 1, got 1.5"),
    (["--max-unknown", "nan"], "argument --max-unknown: must be from 0 to 1, got nan"),
    (["--margin", "-0.1"], "argument --margin: must be from 0 to 1, got -0.1"),
    (["--threshold", "x"], "argument --threshold: invalid float value: 'x'"),
    (["--reset", "--margin", "0.1"], "--reset puts every answer setting back: give it alone"),
    (["--hybrid", "1.5"], "argument --hybrid: must be from 0 to 1, got 1.5"),
    (["--answers", "-1"], "argument --answers: must be from 0 to 1, got -1"),
    (["--suggest", "1.5"], "argument --suggest: must be from -1 to 1, got 1.5"),
    (["--suggest", "off"], "argument --suggest: invalid float value: 'off'"),
    ([], "nothing to set: give --threshold, --margin, --max-unknown, --hybrid, --answers or --suggest (or --reset)"),
])
def test_faq_set_refuses_bad_values_in_one_line_and_changes_nothing(bank, tmp_path, capsys, args, message):
    path = str(tmp_path / "bank.faq")
    before = bank.store.settings()
    try:
        status = main(["faq", "set", path, *args])
    except SystemExit as parse_error:  # argparse's errors exit while parsing
        status = parse_error.code
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("samesense: error: ") and message in err and err.count("\n") == 1
    assert bank.store.settings() == before
