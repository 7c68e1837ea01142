import pytest

from samesense.faq import FaqBank, FaqRow, store_writes
from samesense.faq.planner import merge_rows, plan_import


def test_rows_sharing_a_group_or_question_merge_into_one_entry():
    merged = merge_rows([FaqRow("reset pin", "A", "pin", tags=["card"]), FaqRow("opening hours", "B"),
                         FaqRow("forgot pin", "A", "pin", paraphrases=["pin lost", "reset pin"], tags=["card", "help"]),
                         FaqRow("opening hours", "B")])
    assert [(r.question, r.questions, r.group, r.tags) for r in merged] == [
        ("reset pin", ["reset pin", "forgot pin", "pin lost"], "pin", ["card", "help"]),
        ("opening hours", ["opening hours"], None, [])]


def test_plan_adds_updates_and_skips_stored_questions(tmp_path, model):
    with FaqBank.open(tmp_path / "b.faq", model) as bank:
        pin = bank.add("reset pin", "A", paraphrases=["forgot pin"], tags=["card"], group="pin")
        hours = bank.add("opening hours", "B")
        bank.add("close account", "C", group="close")
        rows = [FaqRow("forgot pin", "A2", "pin", tags=["help"]), FaqRow("pin lost", "A2", "pin"),
                FaqRow("opening hours", "B"),  # no group: matched by its question
                # a grouped entry is named by its group, not its question: this row names no stored entry,
                # and its question is the "close" entry's, with another answer (issue 36: it was added as
                # a second entry of the same question, which tied with the first for ever)
                FaqRow("close account", "C2"),
                FaqRow("ship abroad", "D", "ship")]
        plans, conflicts = plan_import(merge_rows(rows), bank.store)
        assert [(p.action, p.entry_id, p.new_questions, p.present_questions) for p in plans] == [
            ("update", pin.id, ["pin lost"], ["forgot pin"]),
            ("update", hours.id, [], ["opening hours"]),
            ("add", None, ["ship abroad"], [])]
        assert [(c.row.question, c.question, c.entry_id) for c in conflicts] == [("close account", "close account", 3)]
        assert (plans[0].answer, plans[0].tags, plans[0].first_position) == ("A2", ["card", "help"], 2)
        assert bank.count() == (3, 4)  # planning alone writes nothing

        report = bank.import_rows(rows, on_error="skip", on_change="replace")  # keep: test_log_fixes.py
        assert (report.entries_added, report.entries_updated, report.questions_added, report.questions_present) \
            == (1, 2, 2, 2)
        assert report.skipped == ["question 'close account' already in entry 3: change that entry instead"]
        pin = bank.get(pin.id)
        assert (pin.question, pin.paraphrases, pin.answer, pin.tags) == ("reset pin", ["forgot pin", "pin lost"],
                                                                         "A2", ["card", "help"])
        assert bank.count() == (4, 6)
        assert sorted(bank.index.ids()) == sorted(bank.store.question_ids())


def test_an_import_that_fails_halfway_writes_nothing(bank, monkeypatch):
    before, generation = bank.count(), bank.store.generation()
    insert_questions, calls = store_writes.insert_questions, []

    def failing(conn, entry_id, texts, vectors, first_position=0):
        calls.append(entry_id)
        if len(calls) == 3:
            raise OSError("disk full")
        return insert_questions(conn, entry_id, texts, vectors, first_position)

    monkeypatch.setattr(store_writes, "insert_questions", failing)
    with pytest.raises(OSError, match="disk full"):
        bank.import_rows([FaqRow(f"new question {i}", f"answer {i}") for i in range(5)])
    assert len(calls) == 3
    assert bank.count() == before and bank.store.generation() == generation
    assert sorted(bank.index.ids()) == sorted(bank.store.question_ids())
    monkeypatch.undo()
    assert bank.import_rows([FaqRow("new question 1", "answer 1")]).entries_added == 1
