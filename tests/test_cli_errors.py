"""Every input a user can get wrong ends as one line on stderr, "samesense: error: ...", and exit
status 2: never a traceback. Run in-process through samesense.cli.main, so each case is quick."""

import errno
import gzip
import os
import re
import subprocess
import sys

import pytest

from samesense import train as training
from samesense.cli import main


@pytest.fixture(scope="module")
def model(synthetic_files, tmp_path_factory):
    """A model trained for one epoch: the commands only need one that loads."""
    out = tmp_path_factory.mktemp("model") / "run"
    train_file, test_file = synthetic_files
    cfg = training.TrainConfig.of(train=[str(train_file)], val=str(test_file), out=str(out), epochs=1, min_count=1,
                                  embed_dim=8, hidden_dim=8, show_progress=False, spectra=False)
    training.train(cfg)
    return out / "model"


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    """Files that no command can read, by what is wrong with them."""
    folder = tmp_path_factory.mktemp("bad")
    packed = gzip.compress("".join(f"g{i % 50}\tsentence {i}\n" for i in range(5000)).encode())
    files = {"empty": b"", "not_gzip.gz": b"a\tone\na\ttwo\n", "truncated.gz": packed[: len(packed) // 2],
             "damaged.gz": packed[:200] + b"\xff" * 64 + packed[264:], "singles": b"a\tone\nb\ttwo\nc\tthree\n",
             "one_group": b"a\tone\na\ttwo\n", "bad_utf8": b"a\tok\nb\t\xff\xfe\n"}
    paths = {}
    for name, content in files.items():
        paths[name] = folder / (name if name.endswith(".gz") else f"{name}.tsv")
        paths[name].write_bytes(content)
    paths["folder"] = folder
    return paths


def one_line_error(argv, capsys) -> str:
    """The command's message, after checking it is one line, exit status 2, no traceback."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit_:  # argparse refuses a value by exiting
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("samesense: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err.removeprefix("samesense: error: ").rstrip("\n")


# the message for each bad file, a pattern after the file's name (a line number where there is one)
FILE_ERRORS = {
    "empty": r": no (sentences|pairs)$",
    "not_gzip.gz": r": not gzip-compressed, though its name ends in \.gz$",
    "truncated.gz": r":\d+: the compressed data ends early \(a truncated \.gz file\?\)$",
    "damaged.gz": r":\d+: damaged gzip data \(.+\)$",
    "bad_utf8": r":2: invalid UTF-8 \(byte 2 of the line\)$",
    "folder": r": not a file$",
}


def assert_names_file(message: str, kind: str, path) -> None:
    assert re.match(re.escape(str(path)) + FILE_ERRORS[kind], message), message


@pytest.mark.parametrize("kind", list(FILE_ERRORS))
def test_train_on_an_unreadable_file_is_one_line_naming_it(kind, bad, tmp_path, capsys):
    message = one_line_error(["train", "--train", bad[kind], "--out", tmp_path / "run"], capsys)
    assert_names_file(message, kind, bad[kind])
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("kind", list(FILE_ERRORS))
def test_train_on_an_unreadable_validation_file_is_one_line_naming_it(kind, bad, synthetic_files, tmp_path, capsys):
    argv = ["train", "--train", synthetic_files[0], "--val", bad[kind], "--out", tmp_path / "run"]
    assert_names_file(one_line_error(argv, capsys), kind, bad[kind])


@pytest.mark.parametrize("kind", list(FILE_ERRORS))
def test_eval_on_an_unreadable_file_is_one_line_naming_it(kind, bad, model, capsys):
    assert_names_file(one_line_error(["eval", model, bad[kind]], capsys), kind, bad[kind])


@pytest.mark.parametrize("kind", ["empty", "not_gzip.gz", "folder"])  # the others fail on their first line: no pair
def test_eval_with_an_unreadable_dev_file_is_one_line_naming_it(kind, bad, model, tmp_path, capsys):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("abcde\tabcde1\t1\nabcde\tvwxyz\t0\n")
    message = one_line_error(["eval", model, pairs, "--dev", bad[kind]], capsys)
    assert_names_file(message, kind, bad[kind])


@pytest.mark.parametrize("kind", list(FILE_ERRORS))
def test_similar_against_an_unreadable_file_is_one_line_naming_it(kind, bad, model, capsys):
    assert_names_file(one_line_error(["similar", model, "abcde", "--against", bad[kind]], capsys), kind, bad[kind])


def test_eval_on_groups_of_one_sentence_is_refused(bad, model, capsys):
    assert one_line_error(["eval", model, bad["singles"]], capsys) == \
        f"{bad['singles']}: no group of the file has two sentences: nothing to rank"


def test_training_on_one_group_counts_one_group(bad, tmp_path, capsys):
    assert one_line_error(["train", "--train", bad["one_group"], "--out", tmp_path / "run"], capsys) == \
        f"{bad['one_group']}: found 1 group: training needs at least 2, plus 1 to hold out for validation " \
        "(or give --val FILE)"


def test_bench_on_an_unreadable_benchmark_file_is_one_line_naming_it(bad, model, tmp_path, capsys):
    from samesense.bench.tasks import TASKS

    data = tmp_path / "data"
    for task in TASKS:
        if task.protocol == "open-set":
            (data / task.groups).parent.mkdir(parents=True, exist_ok=True)
            (data / task.groups).write_bytes(bad["bad_utf8"].read_bytes())
    message = one_line_error(["bench", "--model", f"m={model}", "--protocols", "open-set", "--data", data, "--quiet"],
                             capsys)
    assert message.startswith(str(data)) and message.endswith(":2: invalid UTF-8 (byte 2 of the line)")


@pytest.mark.parametrize("argv, message", [
    (["faq", "add", "BANK", "--question", "q", "--answer", "a", "--group", "caf\udce9"],
     "argument --group: not valid UTF-8"),
    (["faq", "add", "BANK", "--question", "\udcff", "--answer", "a"], "argument --question: not valid UTF-8"),
    (["faq", "add", "BANK", "--question", "q", "--answer", "a", "--paraphrase", "\udcff"],
     "argument --paraphrase: not valid UTF-8"),
    (["faq", "add", "BANK", "--question", "q", "--answer", "a", "--tag", "\udcff"], "argument --tag: not valid UTF-8"),
    (["faq", "list", "BANK", "--contains", "\udcff"], "argument --contains: not valid UTF-8"),
    (["similar", "MODEL", "\udcff", "--against", "x.tsv"], "argument TEXT: not valid UTF-8"),
    (["bench", "--note", "\udcff"], "argument --note: not valid UTF-8"),
    (["faq", "rm", "BANK", str(2**64)], f"argument ID: must be at most {2**63 - 1}, got {2**64}"),
    (["faq", "rm", "BANK", "-1"], "argument ID: must be at least 0, got -1"),
    (["faq", "list", "BANK", "--offset", str(2**64)], f"argument --offset: must be at most {2**63 - 1}, got {2**64}"),
    (["faq", "list", "BANK", "--limit", str(2**63)], f"argument --limit: must be at most {2**63 - 1}"),
    (["demo", "--seed", str(2**64)], f"argument --seed: must be at most {2**63 - 1}"),
    (["serve", "BANK", "--port", "65536"], "argument --port: must be at most 65535, got 65536"),
])
def test_arguments_that_are_not_utf8_or_beyond_64_bits_are_refused_naming_the_option(argv, message, tmp_path, capsys):
    argv = [str(tmp_path / "b.faq") if a == "BANK" else str(tmp_path) if a == "MODEL" else a for a in argv]
    assert one_line_error(argv, capsys).startswith(message)
    assert not (tmp_path / "b.faq").exists()


def test_argv_bytes_that_are_not_utf8_are_refused_in_a_real_process(tmp_path):
    """Python turns such bytes into lone surrogates (surrogateescape): the path the tests above take."""
    proc = subprocess.run([sys.executable.encode(), b"-m", b"samesense.cli", b"faq", b"list",
                           str(tmp_path / "b.faq").encode(), b"--contains", b"\xff"], capture_output=True)
    assert proc.returncode == 2 and b"Traceback" not in proc.stderr
    assert proc.stderr == b"samesense: error: argument --contains: not valid UTF-8 (see samesense faq list --help)\n"


def test_eval_json_is_json_with_null_for_an_undefined_metric(model, tmp_path, capsys):
    import json

    pairs = tmp_path / "positives.tsv"
    pairs.write_text("abcde\tabcde1\t1\nvwxyz\tvwxyz2\t1\n")  # one class: ROC AUC is undefined
    assert main(["eval", str(model), str(pairs), "--json"]) == 0
    out = capsys.readouterr().out

    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    metrics = json.loads(out, parse_constant=refuse)
    assert metrics["auc"] is None and metrics["n"] == 2


def test_an_os_error_about_a_file_is_one_line_naming_it(monkeypatch, tmp_path, capsys):
    def denied(cfg):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(tmp_path / "run"))

    monkeypatch.setattr(training, "train", denied)
    assert one_line_error(["train", "--train", "a.tsv", "--out", tmp_path / "run"], capsys) == \
        f"{tmp_path / 'run'}: Permission denied"


def test_an_os_error_about_no_file_keeps_its_traceback(monkeypatch, tmp_path):
    """An OSError naming no file is not the user's to fix: a bug must not hide behind one line."""
    def broken(cfg):
        raise OSError(errno.EIO, "bad things")

    monkeypatch.setattr(training, "train", broken)
    with pytest.raises(OSError, match="bad things"):
        main(["train", "--train", "a.tsv", "--out", str(tmp_path / "run")])


def test_similar_refuses_standard_input_that_is_not_utf8(model, bad, monkeypatch, capsys):
    import io

    class Stdin:
        buffer = io.BytesIO(b"abcde\n\xffvwxyz\n")

    monkeypatch.setattr(sys, "stdin", Stdin())
    assert one_line_error(["similar", model, "-", "--against", bad["singles"]], capsys) == \
        "<stdin>:2: invalid UTF-8 (byte 0 of the line)"


@pytest.mark.parametrize("file, content, message", [
    ("run.json", '{"data": {\n  "train": [}', r"run.json:2: damaged run file \(Expecting value\)$"),
    ("run.json", '{"data": {"bogus": 1}}', r"run.json: unknown setting data.bogus$"),
    ("run.json", "[1, 2]", r"run.json: damaged run file \(not a JSON object\)$"),
    ("checkpoint/state.json", "{", r"checkpoint/state.json:1: damaged run file \(Expecting property name"),
])
def test_a_damaged_run_file_is_one_line_naming_it(file, content, message, synthetic_files, tmp_path, capsys):
    run = tmp_path / "run"
    (run / "checkpoint").mkdir(parents=True)
    (run / "run.json").write_text('{"data": {"train": ["%s"]}}' % synthetic_files[0])
    (run / file).write_text(content)
    error = one_line_error(["train", "--out", run, "--resume"], capsys)
    assert re.match(re.escape(str(run)) + "/" + message, error), error


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN", "Infinity"])
@pytest.mark.parametrize("argv, flag", [
    (["serve", "BANK", "--timeout=V"], "--timeout"),  # bounded below only: nan and inf passed the bound
    (["train", "--train", "x.tsv", "--out", "RUN", "--scale=V"], "--scale"),  # unbounded
    (["train", "--train", "x.tsv", "--out", "RUN", "--lr=V"], "--lr"),
    (["train", "--train", "x.tsv", "--out", "RUN", "--center-loss=V"], "--center-loss"),
    (["faq", "set", "BANK", "--threshold=V"], "--threshold"),
    (["calibrate", "BANK", "--target-precision=V"], "--target-precision"),
])
def test_every_float_flag_refuses_nan_and_infinity_naming_it(argv, flag, value, tmp_path, capsys):
    """`serve --timeout nan` started and dropped every connection at once; `inf` held a silent client
    for ever. One rule for every number flag of every command (cli/parsing.py's bounded)."""
    argv = [str(tmp_path / "b.faq") if a == "BANK" else str(tmp_path / "run") if a == "RUN" else
            a.replace("=V", f"={value}") for a in argv]  # --flag=-inf: argparse takes -inf alone for an option
    message = one_line_error(argv, capsys)
    assert message.startswith(f"argument {flag}: ") and value in message, message
    assert not (tmp_path / "b.faq").exists() and not (tmp_path / "run").exists()


@pytest.mark.parametrize("content, message", [
    (b"\xff\xfe-not-utf8-token-0123456789", "not valid UTF-8 (byte 0)"),
    (b"  \n", "empty token"),
    (b"x" * 5000, "larger than 4096 bytes: not a token"),
    ("caf\u00e9-token-0123456789".encode(), "the token must be visible ASCII characters (an HTTP header carries it "
     "as they are); character 4 is not"),
])
def test_a_token_file_that_is_not_utf8_or_empty_is_one_line_naming_it(content, message, tmp_path, capsys):
    token_file = tmp_path / "token"
    token_file.write_bytes(content)
    error = one_line_error(["serve", tmp_path / "b.faq", "--token-file", token_file], capsys)
    assert error == f"{token_file}: {message}", error
    assert not (tmp_path / "b.faq").exists()


def test_a_token_file_that_is_a_folder_is_one_line_naming_it(tmp_path, capsys):
    error = one_line_error(["serve", tmp_path / "b.faq", "--token-file", tmp_path], capsys)
    assert error.startswith(f"{tmp_path}: cannot read the token ("), error


def test_serve_counts_are_checked_against_the_machine(tmp_path, capsys, monkeypatch):
    """--threads past the CPUs this process may use, --max-connections past its open-file limit: one
    line naming the flag and the machine's number, before anything is opened."""
    import resource

    from samesense.cli import parsing

    cpus = parsing.usable_cpus()
    message = one_line_error(["serve", tmp_path / "b.faq", "--threads", cpus + 1], capsys)
    assert message == (f"argument --threads: must be at most {cpus} (the CPUs this process may use), got {cpus + 1} "
                       "(see samesense serve --help)")
    monkeypatch.setattr(resource, "getrlimit", lambda which: (1024, 4096))
    message = one_line_error(["serve", tmp_path / "b.faq", "--max-connections", 961], capsys)
    assert message == ("argument --max-connections: must be at most 960 (the open-file limit (ulimit -n) less 64 the "
                       "server holds besides), got 961 (see samesense serve --help)")
    assert not (tmp_path / "b.faq").exists()
