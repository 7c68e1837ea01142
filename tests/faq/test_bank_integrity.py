"""A bank never mixes models, and ids past SQLite's integers are simply not there.

Two FaqBank objects on one file stand for two processes (each has its own SQLite connections, so
neither sees the other's state except through the file)."""

import numpy as np
import pytest

from fakes import WordModel

from samesense.errors import SamesenseError
from samesense.faq import FaqBank, FaqRow, NoSuchEntry

A, B = "fake-model-1", "fake-model-2"


def stored_state(path):
    """What the file holds: settings, and every question's text and vector bytes."""
    with FaqBank.open_without_model(path) as bank:
        rows = bank.store.reader.execute("SELECT id, entry_id, position, text, vector FROM questions ORDER BY id")
        return bank.store.settings(), rows.fetchall()


def assert_vectors_are(bank, model):
    """Every stored vector is `model`'s vector of its question."""
    ids, texts = bank.store.question_texts()
    _, vectors = bank.store.vectors(ids, model.dim)
    assert np.allclose(vectors, model.encode(texts), atol=1e-6)


@pytest.fixture
def path(tmp_path):
    """A bank of two entries whose vectors are model A's."""
    path = tmp_path / "b.faq"
    with FaqBank.open(path, WordModel(fingerprint=A)) as bank:
        bank.add("reset pin", "A", paraphrases=["forgot pin"])
        bank.add("opening hours", "B")
    return path


def test_writer_whose_model_was_replaced_refuses_writes(path):
    writer = FaqBank.open(path, WordModel(fingerprint=A))  # a server, still on model A
    entry = writer.ask("reset pin").entry_id
    other = FaqBank.open(path, WordModel(fingerprint=B))  # another process re-encodes the bank for B
    before = stored_state(path)
    for write in (lambda: writer.add("close account", "C"),
                  lambda: writer.update(entry, paraphrases=["pin lost"]),
                  lambda: writer.import_rows([FaqRow("close account", "C")]),
                  lambda: writer.set_settings(threshold=0.5)):
        with pytest.raises(SamesenseError, match=f"made by model {B} .*this process holds model {A} .*: reopen"):
            write()
    assert stored_state(path) == before
    assert_vectors_are(other, WordModel(fingerprint=B))
    assert writer.ask("reset pin").answer == "A"  # it goes on answering, with its own model
    assert writer.delete(entry) is True  # a delete stores no vector: any model may
    writer.close()
    other.close()


def test_a_write_racing_a_reencode_is_refused_inside_its_transaction(path):
    """The check is made in the write's transaction, after its vectors were encoded."""
    class SlowA(WordModel):
        def encode(self, texts, *args, **kwargs):
            vectors = super().encode(texts, *args, **kwargs)
            if texts == ["close account"]:  # the write has encoded: now the bank moves to model B
                FaqBank.open(path, WordModel(fingerprint=B)).close()
            return vectors

    with FaqBank.open(path, SlowA(fingerprint=A)) as writer:
        with pytest.raises(SamesenseError, match=f"made by model {B}"):
            writer.add("close account", "C")
    with FaqBank.open(path, WordModel(fingerprint=B)) as bank:
        assert bank.count() == (2, 3)
        assert_vectors_are(bank, WordModel(fingerprint=B))


def test_a_reencode_also_encodes_questions_added_while_it_encoded(path):
    writer = FaqBank.open(path, WordModel(fingerprint=A))

    class SlowB(WordModel):
        def encode(self, texts, *args, **kwargs):
            if len(texts) == 3:  # the bulk re-encoding: meanwhile model A's writer adds a question
                writer.add("close account", "C")
            return super().encode(texts, *args, **kwargs)

    with FaqBank.open(path, SlowB(fingerprint=B)) as bank:
        assert bank.count() == (3, 4) and bank.settings["model_fingerprint"] == B
        assert_vectors_are(bank, WordModel(fingerprint=B))  # no model-A vector under B's fingerprint
        assert bank.ask("close account").answer == "C"
    writer.close()


def test_read_only_open_with_another_model_never_rewrites_the_bank(path):
    before = stored_state(path)
    model = WordModel(fingerprint=B)
    with FaqBank.open(path, model, read_only=True) as bank:
        answer = bank.ask("forgot pin")
        assert answer.answer == "A" and answer.score == pytest.approx(1.0)  # B's vectors, in memory
        assert bank.info()["model_in_use"] == B and bank.info()["model_fingerprint"] == A
        for write in (lambda: bank.add("close account", "C"), lambda: bank.delete(1),
                      lambda: bank.update(1, answer="x"), lambda: bank.import_rows([FaqRow("q", "a")]),
                      lambda: bank.set_settings(threshold=0.1)):
            with pytest.raises(SamesenseError, match="opened read-only"):
                write()
    assert stored_state(path) == before


def test_read_only_open_of_a_missing_bank_creates_nothing(tmp_path):
    with pytest.raises(SamesenseError, match="no such FAQ bank"):
        FaqBank.open(tmp_path / "none.faq", WordModel(), read_only=True)
    assert list(tmp_path.iterdir()) == []


def test_read_only_open_writes_no_index_file(path):
    with FaqBank.open(path, WordModel(fingerprint=A)) as bank:
        bank.set_settings(index="hnsw")
    index_file = path.with_name(path.name + ".hnsw")
    index_file.unlink(missing_ok=True)
    for model in (WordModel(fingerprint=A), WordModel(fingerprint=B)):
        with FaqBank.open(path, model, read_only=True) as bank:
            assert bank.index_kind == "hnsw" and bank.ask("opening hours").answer == "B"
        assert not index_file.exists()


def test_read_only_process_encodes_new_questions_with_its_own_model(path):
    reader = FaqBank.open(path, WordModel(fingerprint=B), read_only=True)
    with FaqBank.open(path, WordModel(fingerprint=A)) as writer:
        writer.add("close account", "C")
    answer = reader.ask("close account")
    assert answer.answer == "C" and answer.score == pytest.approx(1.0)
    reader.close()


def test_sync_after_another_process_reencodes_uses_this_process_model(path):
    """A question added after the bank moved to model B is stored with B's vector: a process on
    model A must not take that vector into its index."""
    server = FaqBank.open(path, WordModel(fingerprint=A), read_only=True)
    assert server.ask("reset pin").answer == "A"
    with FaqBank.open(path, WordModel(fingerprint=B)) as other:
        other.add("close account", "C")
    answer = server.ask("close account")
    assert answer.answer == "C" and answer.score == pytest.approx(1.0)
    assert server.ask("forgot pin").score == pytest.approx(1.0)
    server.close()


def test_read_only_open_with_a_model_folder_does_not_remember_it(trained_run, tmp_path):
    bank_path = tmp_path / "b.faq"
    with FaqBank.open(bank_path, WordModel()) as bank:
        bank.add("abcde", "A")
    before = stored_state(bank_path)
    with FaqBank.open(bank_path, trained_run[0] / "model", read_only=True) as bank:
        assert bank.ask("abcde").answer == "A"
    assert stored_state(bank_path) == before and before[0].get("model_path") is None


# -- ids and offsets ---------------------------------------------------------------------------


@pytest.mark.parametrize("entry_id", [2**63, 2**64, 2**70, -2**63 - 1, -2**70])
def test_ids_outside_sqlite_integers_are_not_there(bank, entry_id):
    assert bank.get(entry_id) is None
    assert bank.delete(entry_id) is False
    with pytest.raises(NoSuchEntry, match=f"no entry {entry_id}"):
        bank.update(entry_id, answer="x")
    assert bank.store.entries_by_id([entry_id, 1]).keys() == {1}
    assert bank.count() == (3, 5)


@pytest.mark.parametrize("offset, limit, expected", [
    (10**20, None, 0), (2**63 - 1, 5, 0), (2**63, 1, 0), (0, 10**20, 3), (1, 2**64, 2), (-5, 1, 1), (0, 0, 0)])
def test_huge_offsets_and_limits_are_not_an_error(bank, offset, limit, expected):
    assert len(bank.list_entries(offset=offset, limit=limit)) == expected
