import sqlite3

import numpy as np
import pytest

from fakes import WordModel

from samesense.errors import SamesenseError
from samesense.faq import FaqBank, FaqRow


def test_ask_answers_from_the_nearest_question_or_paraphrase(bank):
    answer = bank.ask("i forgot my pin code")
    assert answer.answered and answer.answer == "Settings > Security > Reset PIN."
    assert answer.matched_question == "i forgot my pin code" and answer.score == pytest.approx(1.0)
    assert [c.entry_id for c in answer.candidates] == sorted({c.entry_id for c in answer.candidates},
                                                             key=[c.entry_id for c in answer.candidates].index)
    assert answer.candidates[0].entry_id == answer.entry_id
    assert all(a.score >= b.score for a, b in zip(answer.candidates, answer.candidates[1:]))


def test_below_threshold_abstains_with_candidates(bank):
    bank.set_settings(threshold=0.9)
    answer = bank.ask("pin")
    assert not answer.answered and answer.answer is None
    assert answer.reason.startswith("below threshold 0.900")
    assert answer.candidates and answer.candidates[0].answer == "Settings > Security > Reset PIN."


def test_too_close_to_call_offers_did_you_mean(bank):
    bank.add("how do i reset my password", "Use the 'forgot password' link.")
    bank.set_settings(threshold=0.3, margin=0.05)
    answer = bank.ask("how do i reset my")  # as close to the pin entry as to the password one
    assert not answer.answered and answer.reason.startswith("too close to call")
    assert {c.answer for c in answer.did_you_mean} == {"Settings > Security > Reset PIN.",
                                                       "Use the 'forgot password' link."}


def test_entries_with_the_same_answer_do_not_compete(bank):
    bank.add("how do i reset my password", "Settings > Security > Reset PIN.")
    bank.set_settings(threshold=0.3, margin=0.05)
    assert bank.ask("how do i reset my").answered


def test_empty_bank_and_empty_question(tmp_path, model):
    with FaqBank.open(tmp_path / "empty.faq", model) as empty:
        answer = empty.ask("anything")
        assert not answer.answered and answer.reason == "empty bank" and answer.candidates == []
        with pytest.raises(SamesenseError, match="question: empty"):
            empty.ask("   ")


def test_update_keeps_unchanged_questions_and_reencodes_changed_ones(bank, model):
    entry = bank.ask("when are you open").entry_id
    before = model.encoded
    updated = bank.update(entry, paraphrases=["when are you open", "are you open on sunday"],
                          answer="Every day, 9 to 5.")
    assert model.encoded - before == 1  # only the new paraphrase
    assert updated.paraphrases == ["when are you open", "are you open on sunday"]
    assert bank.ask("are you open on sunday").answer == "Every day, 9 to 5."
    bank.update(entry, question="what time do you open")
    assert bank.get(entry).question == "what time do you open"
    assert len(bank.index) == bank.store.count()[1]


def test_delete_removes_from_store_and_index(bank):
    entry = bank.ask("how do i close my account").entry_id
    assert bank.delete(entry) is True and bank.delete(entry) is False
    assert bank.get(entry) is None
    assert all(c.entry_id != entry for c in bank.ask("how do i close my account").candidates)
    assert sorted(bank.index.ids()) == sorted(bank.store.question_ids())


def test_bad_values_are_refused(bank):
    with pytest.raises(SamesenseError, match="answer: empty"):
        bank.add("a question", " ")
    with pytest.raises(SamesenseError, match="no entry 999"):
        bank.update(999, answer="x")
    bank.add("q one", "a", group="g1")
    with pytest.raises(SamesenseError, match="group 'g1' already exists"):
        bank.add("q two", "b", group="g1")


def test_import_groups_rows_and_is_idempotent(tmp_path, model):
    rows = [FaqRow("reset pin", "A", "pin"), FaqRow("forgot pin", "A", "pin"),
            FaqRow("opening hours", "B"), FaqRow("close account", "C", tags=["account"])]
    with FaqBank.open(tmp_path / "b.faq", model) as bank:
        report = bank.import_rows(rows)
        assert (report.entries_added, report.questions_added) == (3, 4)
        pin = bank.store.entry_by_group("pin")
        assert pin.question == "reset pin" and pin.paraphrases == ["forgot pin"]
        changed = [FaqRow(r.question, "A2" if r.group == "pin" else r.answer, r.group) for r in rows]
        again = bank.import_rows(changed + [FaqRow("pin forgotten", "A2", "pin")])
        assert (again.entries_added, again.entries_updated, again.questions_added) == (0, 3, 1)
        assert bank.store.entry_by_group("pin").answer == "A2"
        assert bank.store.count() == (3, 5)


def test_reopen_builds_the_same_index_and_new_model_reencodes(tmp_path, model):
    path = tmp_path / "b.faq"
    with FaqBank.open(path, model) as bank:
        bank.add("reset pin", "A")
        bank.add("opening hours", "B")
    with FaqBank.open(path, model) as bank:
        assert bank.ask("reset pin").answer == "A"
    other = WordModel(fingerprint="fake-model-2")
    with FaqBank.open(path, other) as bank:
        assert other.encoded >= 2 and bank.settings["model_fingerprint"] == "fake-model-2"
        ids, vectors = bank.store.vectors()
        assert np.allclose(vectors, other.encode(bank.store.question_texts()[1]))
        assert bank.ask("opening hours").answer == "B"


def test_writes_by_another_process_are_seen(tmp_path, model):
    path = tmp_path / "b.faq"
    reader = FaqBank.open(path, model)
    writer = FaqBank.open(path, WordModel())  # a second handle, as another process would have
    writer.add("reset pin", "A")
    assert reader.ask("reset pin").answer == "A"
    writer.delete(writer.ask("reset pin").entry_id)
    assert reader.ask("reset pin").reason == "empty bank"
    reader.close()
    writer.close()


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_open_repairs_an_index_that_missed_writes(tmp_path, model, kind):
    path = tmp_path / "b.faq"
    with FaqBank.open(path, model) as bank:
        bank.set_settings(index=kind)
        bank.import_rows([FaqRow(f"question number {i}", f"answer {i}") for i in range(50)])
    # a crash after these commits but before the index was saved: change the store behind its back
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("DELETE FROM entries WHERE id <= 10")
    conn.commit()
    conn.close()
    with FaqBank.open(path, model) as bank:
        bank.add("a new question", "new answer")
        assert bank.index.kind == kind
        assert sorted(bank.index.ids()) == sorted(bank.store.question_ids())
        assert bank.ask("question number 3").answer != "answer 3"
        assert bank.ask("question number 30").answer == "answer 30"


def test_hnsw_deletes_are_tombstoned_and_rebuilt(tmp_path, model):
    with FaqBank.open(tmp_path / "b.faq", model) as bank:
        bank.set_settings(index="hnsw")
        bank.import_rows([FaqRow(f"question number {i}", f"answer {i}") for i in range(40)])
        assert bank.index.kind == "hnsw"
        bank.delete(bank.ask("question number 5").entry_id)
        assert bank.index.tombstones and len(bank.index) == 39
        assert all(c.answer != "answer 5" for c in bank.ask("question number 5", k=40).candidates)
        for entry in bank.store.list_entries()[5:20]:
            bank.delete(entry.id)
        assert len(bank.index.tombstones) <= 0.25 * bank.index.index.ntotal  # rebuilt on the way
        assert sorted(bank.index.ids()) == sorted(bank.store.question_ids())


def test_auto_index_switches_to_hnsw_above_the_size(tmp_path, model):
    with FaqBank.open(tmp_path / "b.faq", model) as bank:
        bank.set_settings(hnsw_above=20)
        bank.import_rows([FaqRow(f"question number {i}", f"answer {i}") for i in range(10)])
        assert bank.index.kind == "flat"
        bank.import_rows([FaqRow(f"question number {i}", f"answer {i}") for i in range(10, 30)])
        assert bank.index.kind == "hnsw" and bank.index_path.exists()
        assert bank.ask("question number 25").answer == "answer 25"


def test_a_file_that_is_not_a_bank_is_refused(tmp_path, model):
    (tmp_path / "notes.txt").write_text("not a database, just text " * 100)
    with pytest.raises(SamesenseError, match="not an FAQ bank"):
        FaqBank.open(tmp_path / "notes.txt", model)
    with pytest.raises(SamesenseError, match="no such FAQ bank"):
        FaqBank.open(tmp_path / "missing.faq", model, create=False)


def test_opening_a_bank_writes_nothing(tmp_path, model):
    path = tmp_path / "b.faq"
    with FaqBank.open(path, model) as bank:
        bank.add("reset pin", "A")
        generation = bank.store.generation()
    with FaqBank.open(path, model) as bank:
        assert bank.store.generation() == generation
