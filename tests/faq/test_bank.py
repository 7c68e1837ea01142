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
        again = bank.import_rows(changed + [FaqRow("pin forgotten", "A2", "pin")], on_change="replace")
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


def test_a_write_after_another_process_wrote_reads_only_the_new_question_ids(bank, model):
    """Two replicas writing in turn: each write finds the other's committed just before it. The write
    used to put its own questions in the index first and then compare every stored id with the
    index's (benchmarks.md: two replicas' writes per second half of one's); it catches up on the
    questions added since, its own among them."""
    other = FaqBank.open(bank.path, WordModel())  # a second handle, as another replica would have
    ids_read_above, read, held = [], bank.store.question_ids, int(bank.index.ids().max())
    bank.store.question_ids = lambda above=0: ids_read_above.append(above) or read(above)
    other.add("do you ship abroad", "Yes, to the EU.")
    bank.add("can i pay by card", "Yes, any card.", paraphrases=["do you take visa"])
    bank.update(1, remove_paraphrases=["i forgot my pin code"])  # nothing written by another: no catching up
    other.delete(2)  # a deletion by another: every id compared, as it must be
    bank.add("is there an app", "Yes.")
    assert ids_read_above[:1] == [held] and 0 in ids_read_above[1:]  # above what the index held; then all
    assert sorted(bank.index.ids()) == sorted(bank.store.question_ids())
    assert [bank.ask(q).answer for q in ("do you ship abroad", "do you take visa", "is there an app")] == \
        ["Yes, to the EU.", "Yes, any card.", "Yes."]
    other.close()


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


# ---------------------------------------------------------------------------------------------
# Questions the model cannot read (issue 13): never answered, no tempting candidates


def test_a_question_of_unknown_characters_abstains_with_no_candidates(bank):
    bank.set_settings(threshold=-1.0)  # any vector would clear it: only the guard can refuse
    for question in ["Привет мир", "🙂 🙃 😀", "как reset мой пин"]:  # 100%, 100%, 75% unknown
        answer = bank.ask(question)
        assert not answer.answered and answer.answer is None
        assert answer.reason.startswith("the model cannot read this question (")
        assert answer.candidates == [] and answer.did_you_mean == []
    assert bank.ask("Привет мир").reason == "the model cannot read this question (100% unknown tokens, limit 50%)"
    assert bank.ask("reset my пин").answered  # a third unknown: still read


def test_max_unknown_moves_the_limit_but_an_all_unknown_question_never_answers(bank):
    bank.set_settings(threshold=-1.0, max_unknown=0.8)
    assert bank.ask("как reset мой пин").answered  # 75% unknown, now under the limit
    bank.set_settings(max_unknown=1.0)
    assert bank.ask("Привет мир").reason.startswith("the model cannot read this question (100%")
    bank.set_settings(max_unknown=0.0)
    assert bank.ask("reset my пин").reason.startswith("the model cannot read this question (33%")


@pytest.mark.parametrize("key, value", [("max_unknown", 1.5), ("max_unknown", float("nan")), ("threshold", 2.0),
                                        ("margin", -0.1), ("threshold", "0.7"), ("margin", True)])
def test_answer_settings_out_of_bounds_are_refused(bank, key, value):
    before = bank.settings[key]
    with pytest.raises(SamesenseError, match=f"{key} must be a number from"):
        bank.set_settings(**{key: value})
    assert bank.store.settings()[key] == before


def test_import_reports_questions_the_model_cannot_read(tmp_path, model):
    rows = [FaqRow("reset my pin", "A"), FaqRow("Как сбросить пин", "B"), FaqRow("🙂 🙃", "C"),
            FaqRow("opening hours", "D", paraphrases=["часы работы"])]
    with FaqBank.open(tmp_path / "b.faq", model) as bank:
        report = bank.import_rows(rows)
        assert (report.questions_read, report.unreadable_questions) == (5, 3)
        assert report.unknown_share == pytest.approx(3 / 5)
        [warning] = report.warnings
        assert warning.startswith("the model cannot read 3 of the 5 questions (60%")
        assert "'Как сбросить пин', '🙂 🙃', 'часы работы'" in warning
        assert bank.import_rows([FaqRow("close my account", "E")]).warnings == []


# ---------------------------------------------------------------------------------------------
# Adding a question that is already there (issue 13): one entry, as an import merges


def test_adding_the_same_question_and_answer_twice_makes_one_entry(bank):
    first = bank.ask("how do i close my account").entry_id
    again = bank.add("how do i close my account", "Write to support and we close it within a day.",
                     paraphrases=["delete my account"], tags=["account"])
    assert again.id == first and again.paraphrases == ["delete my account"] and again.tags == ["account"]
    assert bank.count() == (3, 6)  # one question more, no entry more
    assert bank.add("how do i close my account", "Write to support and we close it within a day.").id == first
    assert bank.count() == (3, 6) and sorted(bank.index.ids()) == sorted(bank.store.question_ids())
    assert bank.ask("delete my account").entry_id == first


def test_a_question_held_by_an_entry_with_another_answer_or_group_is_refused(bank):
    pin = bank.ask("how do i reset my pin").entry_id
    before = bank.store.count()
    with pytest.raises(SamesenseError, match=f"question 'i forgot my pin code' already in entry {pin}: change"):
        bank.add("i forgot my pin code", "Call us.")  # a paraphrase of the pin entry
    with pytest.raises(SamesenseError, match=f"question 'how do i reset my pin' already in entry {pin}"):
        bank.add("how do i reset my pin", "Settings > Security > Reset PIN.", group="pin")  # another group
    bank.add("where is my card", "In the post.", group="card")
    with pytest.raises(SamesenseError, match=r"group 'card' already exists \(entry \d+, with another answer\)"):
        bank.add("card lost", "Call us.", group="card")
    assert bank.add("card lost", "In the post.", group="card").paraphrases == ["card lost"]  # same group, same answer
    assert bank.store.count() == (before[0] + 1, before[1] + 2)


def test_info_names_the_index_kind_when_opened_without_a_model(bank):
    with FaqBank.open_without_model(bank.path) as bare:
        info = bare.info()
    assert info["index"] == "flat (not built: opened without a model)"
    assert bank.info()["index"] == "flat" and info["max_unknown"] == 0.5
