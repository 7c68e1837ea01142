import gzip
import json

import pytest

from samesense.cli import main
from samesense.errors import DataError, SamesenseError
from samesense.faq import FaqBank
from samesense.faq.importer import export_file, read_rows


def write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_tsv_with_header_groups_and_gz(tmp_path):
    path = write(tmp_path / "faq.tsv.gz", gzip.compress(
        "question\tanswer\tgroup\nreset pin\tA\tpin\nforgot pin\tA\tpin\nopening hours\tB\n".encode()))
    rows, skipped = read_rows(path)
    assert [(r.question, r.answer, r.group, r.line) for r in rows] == [
        ("reset pin", "A", "pin", 2), ("forgot pin", "A", "pin", 3), ("opening hours", "B", None, 4)]
    assert skipped == []


def test_csv_quoting_and_multiline_answers(tmp_path):
    path = write(tmp_path / "faq.csv", b'question,answer\n"hours, please","Mon-Fri\n9 to 5"\nreset pin,A\n')
    rows, _ = read_rows(path)
    assert rows[0].question == "hours, please" and rows[0].answer == "Mon-Fri\n9 to 5"
    assert rows[1].line == 4


def test_jsonl_with_paraphrases_and_tags(tmp_path):
    lines = [{"question": "reset pin", "answer": "A", "paraphrases": ["forgot pin"], "tags": ["card"], "group": 7},
             {"question": "hours", "answer": "B"}]
    path = write(tmp_path / "faq.jsonl", "\n".join(json.dumps(x) for x in lines).encode())
    rows, _ = read_rows(path)
    assert rows[0].paraphrases == ["forgot pin"] and rows[0].tags == ["card"] and rows[0].group == "7"


@pytest.mark.parametrize("name, data, line, message", [
    ("a.tsv", b"q1\ta1\nonly one field\nq3\ta3\n", 2, "found 1 fields"),
    ("a.tsv", b"q1\ta1\n\ta2\n", 2, "empty question"),
    ("a.tsv", b"q1\ta1\nq2\t \n", 2, "empty answer"),
    ("a.tsv", b"q1\ta1\nq\xff2\ta2\n", 2, "not valid UTF-8"),
    ("a.tsv", b"q1\ta1\tg\nq2\ta2\tg\n", 2, "group 'g' has another answer on line 1"),
    ("a.jsonl", b'{"question": "q", "answer": "a"}\n{"question": "q2", \n', 2, "bad JSON"),
    ("a.jsonl", b'{"question": "q", "answer": "a"}\n["q", "a"]\n', 2, "expected a JSON object"),
    ("a.jsonl", b'{"question": "q", "anwser": "a"}\n', 1, "unknown field(s) 'anwser'"),
    ("a.jsonl", b'{"question": 5, "answer": "a"}\n', 1, "question must be text"),
    ("a.csv", b'q1,a1\nq2,a2,g,extra\n', 2, "found 4 fields"),
    # one question, one entry: a question another row's entry holds (issue 36: ask said "too close to
    # call 1.000 vs 1.000" for ever after)
    ("a.tsv", b"q1\ta1\tg\nq2\ta1\tg\nq2\ta2\n", 3, "question 'q2' is already on line 2, in another entry"),
    ("a.jsonl", b'{"question": "q1", "answer": "a1", "paraphrases": ["q2"]}\n{"question": "q2", "answer": "a2"}\n',
     2, "question 'q2' is already on line 1, in another entry"),
    ("a.tsv", b"q1\ta1\nq1\ta1\tg\n", 2, "question 'q1' is already on line 1, in another entry"),
])
def test_malformed_rows_name_file_and_line(tmp_path, name, data, line, message):
    path = write(tmp_path / name, data)
    with pytest.raises(DataError) as err:
        read_rows(path)
    assert err.value.line == line and message in err.value.message
    assert str(err.value).startswith(f"{path}:{line}: ")
    rows, skipped = read_rows(path, on_error="skip")
    assert len(skipped) == 1 and skipped[0].startswith(f"{path}:{line}: ")
    assert all(r.line != line for r in rows)


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_rows(tmp_path / "none.tsv")
    with pytest.raises(Exception, match="cannot tell the format"):
        read_rows(write(tmp_path / "faq.xlsx", b"x"))


@pytest.mark.parametrize("ext", ["tsv", "csv", "jsonl"])
def test_export_imports_back_into_the_same_entries(tmp_path, bank, model, ext):
    bank.add("tabs\tand\nbreaks", "an answer\nover two lines", tags=["t"], group="g")
    path = tmp_path / f"out.{ext}"
    export_file(bank.store.list_entries(), path)
    rows, skipped = read_rows(path)
    assert not skipped
    with FaqBank.open(tmp_path / "copy.faq", model) as copy:
        copy.import_rows(rows)
        mine = [(e.question, e.paraphrases) for e in bank.store.list_entries()]
        theirs = [(e.question, e.paraphrases) for e in copy.store.list_entries()]
        assert [" ".join(q.split()) for q, _ in mine] == [q for q, _ in theirs]
        assert [p for _, p in mine] == [p for _, p in theirs]
        if ext != "tsv":  # a TSV cell cannot hold a line break
            assert [e.answer for e in copy.store.list_entries()] == [e.answer for e in bank.store.list_entries()]


def test_jsonl_nested_too_deep_is_a_bad_row(tmp_path):
    path = write(tmp_path / "deep.jsonl", b'{"question": "q", "answer": "a"}\n' + b"[" * 200_000 + b"\n"
                 + b'{"question": "q3", "answer": "a3"}\n')
    with pytest.raises(DataError, match="deep.jsonl:2: bad JSON \\(nested too deep\\)"):
        read_rows(path)
    rows, skipped = read_rows(path, on_error="skip")
    assert [r.line for r in rows] == [1, 3] and skipped[0].startswith(f"{path}:2: bad JSON")


@pytest.mark.parametrize("data", [
    gzip.compress(b"q\ta\n" * 1000)[:-30],  # cut short
    b"q\ta\nnot gzip at all\n",  # named .gz, but plain text
    gzip.compress(b"q\ta\n" * 1000)[:20] + b"\xff" * 40,  # a gzip header, then damaged data
])
def test_a_gz_file_that_cannot_be_read_is_a_clean_error(tmp_path, data):
    path = write(tmp_path / "faq.tsv.gz", data)
    for on_error in ("reject", "skip"):
        with pytest.raises(DataError, match=f"^{path}: cannot read"):
            read_rows(path, on_error=on_error)


@pytest.mark.parametrize("name, data, message", [
    ("empty.tsv", b"", "no rows to import"),
    ("header.csv", b"question,answer\n", "no rows to import"),
    ("blank.jsonl", b"\n  \n", "no rows to import"),
    ("bad.tsv", b"one field\nanother\n", "no rows to import (all 2 malformed, skipped)"),
])
def test_an_import_with_no_rows_fails_and_leaves_no_bank(tmp_path, capsys, name, data, message):
    path, bank = write(tmp_path / name, data), tmp_path / "new.faq"
    assert main(["faq", "import", str(bank), str(path), "--on-error", "skip", "--quiet"]) == 2
    assert f"{path}: {message}" in capsys.readouterr().err
    assert not bank.exists()


def test_a_failed_import_leaves_no_new_bank_file_and_keeps_an_old_one(tmp_path, capsys, model):
    path = write(tmp_path / "faq.tsv", b"reset pin\tA\n")
    bank = tmp_path / "new.faq"
    assert main(["faq", "import", str(bank), str(path), "--quiet"]) == 2  # no model to encode with
    assert "no model yet" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faq.tsv"]
    with FaqBank.open(bank, model) as old:
        old.add("opening hours", "B")
    assert main(["faq", "import", str(bank), str(path), "--quiet"]) == 2  # a fake model is not remembered
    with FaqBank.open(bank, model) as old:
        assert old.count() == (1, 1)


def test_only_an_empty_bank_is_removed_after_a_failed_import(tmp_path, bank):
    assert FaqBank.remove_if_empty(bank.path) is False and bank.path.exists()  # entries: kept
    not_a_bank = write(tmp_path / "notes.faq", b"my notes " * 100)
    assert FaqBank.remove_if_empty(not_a_bank) is False and not_a_bank.exists()
    FaqBank.open(tmp_path / "empty.faq").close()
    assert FaqBank.remove_if_empty(tmp_path / "empty.faq") is True
    assert not any(p.name.startswith("empty.faq") for p in tmp_path.iterdir())


@pytest.mark.parametrize("ext, data", [
    ("tsv", "i forgot my pin code\tCall us.\n"),  # entry 1's paraphrase, another answer
    ("jsonl", '{"question": "how do i reset my pin", "answer": "Call us.", "group": "pin"}\n'),  # entry 1's question
])
def test_an_import_refuses_or_skips_a_question_another_entry_holds(tmp_path, bank, ext, data):
    """faq add refuses a question another entry holds with another answer or group; an import applies
    the same rule, reporting the row by file and line: reject stops with nothing written, skip leaves
    the row out and says so. Once two entries held one question, ask said "too close to call" for ever."""
    path = write(tmp_path / f"more.{ext}", ("brand new question\tNew.\n" if ext == "tsv" else
                                            '{"question": "brand new question", "answer": "New."}\n').encode()
                 + data.encode())
    before = [e.to_dict() for e in bank.list_entries()]
    rows, _ = read_rows(path)
    with pytest.raises(SamesenseError) as err:
        bank.import_rows(rows, source=path)
    assert str(err.value).startswith(f"{path}:2: question ") and "already in entry 1" in str(err.value)
    assert [e.to_dict() for e in bank.list_entries()] == before
    report = bank.import_rows(rows, on_error="skip", source=path)
    assert len(report.skipped) == 1 and report.skipped[0].startswith(f"{path}:2: question ")
    assert (report.entries_added, report.questions_added) == (1, 1)
    assert [e.to_dict() for e in bank.list_entries()][:3] == before
    answer = bank.ask("i forgot my pin code")
    assert answer.answered and answer.entry_id == 1


def test_an_import_of_a_question_another_entry_holds_with_its_answer_adds_nothing(tmp_path, bank):
    """As faq add: the same question and answer again is that entry's already (no second entry)."""
    path = write(tmp_path / "again.tsv", b"i forgot my pin code\tSettings > Security > Reset PIN.\n")
    report = bank.import_rows(read_rows(path)[0], source=path)
    assert (report.entries_added, report.questions_added, report.skipped) == (0, 0, [])
    assert bank.count()[0] == 3 and bank.get(1).paraphrases == ["i forgot my pin code"]
