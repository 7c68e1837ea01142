"""Hybrid answers in the FAQ bank: BM25 over the stored questions fused with the model's cosine,
kept in step with the store through add, edit, delete, another process's writes, and a reopen."""

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from conftest import CALIBRATION_ROWS, FAQ, TOKEN, labelled_questions
from fakes import WordModel

from samesense.cli import main
from samesense.errors import SamesenseError
from samesense.faq import FaqBank, FaqRow
from samesense.faq.calibrate import HYBRID_CHOICES, calibrate
from samesense.lexical.hybrid import HybridRanker

QUESTIONS = ["reset my pin", "opening hours today", "how do i close an account", "pin forgotten"]


def stored_texts(bank):
    return [q for entry in bank.list_entries() for q in entry.questions]


def expected_best(model, bank, question, weight):
    """The best fused score over every stored question, by samesense.lexical.hybrid (tested against a slow
    reference in tests/test_hybrid.py), with the stored questions' word weights."""
    texts = stored_texts(bank)
    rows, scores = HybridRanker(model, weight).top_k([question], texts, k=1)
    return texts[rows[0, 0]], float(scores[0, 0])


def check_scores(bank, model, weight):
    for question in QUESTIONS:
        best = bank.search([question], k=3)[0][0]
        text, score = expected_best(model, bank, question, weight)
        assert best.score == pytest.approx(score, abs=1e-5), question
        assert best.question == text or best.score == pytest.approx(expected_best(model, bank, best.question, weight)[1])


def test_hybrid_scores_are_the_fused_scores_and_follow_every_write(bank, model, tmp_path):
    bank.set_settings(hybrid=0.4)
    check_scores(bank, model, 0.4)
    entry = bank.add("where is the nearest branch", "Use the branch finder.", paraphrases=["branch near me"])
    check_scores(bank, model, 0.4)
    assert bank.ask("nearest branch").entry_id == entry.id
    bank.update(entry.id, question="which atm is close to me")
    check_scores(bank, model, 0.4)
    assert all("branch" not in q for q in stored_texts(bank) if "atm" in q)
    bank.delete(entry.id)
    check_scores(bank, model, 0.4)
    assert all(c.entry_id != entry.id for c in bank.search(["which atm is close to me"], k=5)[0])
    path = bank.path
    bank.close()
    with FaqBank.open(path, WordModel()) as reopened:  # the weight is the bank's; BM25 is built anew
        assert reopened.settings["hybrid"] == 0.4
        check_scores(reopened, reopened.model, 0.4)


def test_a_write_by_another_process_reaches_the_lexical_index(bank, model):
    bank.set_settings(hybrid=0.5)
    bank.search(["reset my pin"])  # builds the BM25 index
    with FaqBank.open(bank.path, WordModel()) as other:
        added = other.add("zebra crossing rules", "Stop for pedestrians.")
    assert bank.search(["zebra crossing"], k=1)[0][0].entry_id == added.id
    check_scores(bank, model, 0.5)


def test_weight_zero_is_the_model_alone_and_a_bad_weight_is_refused(bank, model):
    dense = [c[0].score for c in bank.search(QUESTIONS)]
    vectors = model.encode(QUESTIONS) @ model.encode(stored_texts(bank)).T
    np.testing.assert_allclose(dense, vectors.max(1), atol=1e-5)
    with pytest.raises(SamesenseError, match="hybrid must be a number from 0 to 1"):
        bank.set_settings(hybrid=1.5)


def test_calibrate_chooses_and_stores_a_weight(tmp_path, model):
    with FaqBank.open(tmp_path / "b.faq", model) as bank:
        bank.import_rows([FaqRow(*row) for row in CALIBRATION_ROWS])
        groups, oos = labelled_questions(tmp_path)
        result = calibrate(bank, 1.0, groups=str(groups), oos=str(oos), hybrid="choose")
        assert set(result.hybrid_tried) == {f"{w:g}" for w in HYBRID_CHOICES}
        best = max(a for a in result.hybrid_tried.values() if a is not None)
        assert result.in_scope_accuracy == best and result.hybrid_tried[f"{result.hybrid:g}"] == best
        assert bank.settings["hybrid"] == result.hybrid
        assert bank.settings["calibration"]["hybrid"] == result.hybrid
        fixed = calibrate(bank, 1.0, groups=str(groups), oos=str(oos), hybrid=0.3, save=False)
        assert fixed.hybrid == 0.3 and bank.settings["hybrid"] == result.hybrid  # not stored
        pairs = tmp_path / "pairs.tsv"
        pairs.write_text("reset my pin\treset my pin please\t1\nreset my pin\topening hours\t0\n")
        with pytest.raises(SamesenseError, match="calibrated from a groups file"):
            calibrate(bank, 1.0, pairs=str(pairs), hybrid=0.3)


def test_faq_set_hybrid_forgets_the_calibration_and_the_service_shows_it(bank, tmp_path, capsys):
    from samesense.faq.serve import create_app

    path = str(tmp_path / "bank.faq")
    bank.set_settings(threshold=0.7, calibration={"threshold": 0.7, "precision": 0.9})
    assert main(["faq", "set", path, "--hybrid", "0.3"]) == 0
    assert "hybrid 0.3, answers 0, suggest 1; calibration forgotten" in capsys.readouterr().out
    bank.refresh()
    assert bank.settings["hybrid"] == 0.3 and bank.settings["calibration"] is None
    with TestClient(create_app(bank, TOKEN)) as client:
        assert client.get("/healthz").json()["hybrid"] == 0.3
        answer = client.post("/ask", json={"question": FAQ[0][0]}).json()
    assert answer["answered"] and answer["score"] == pytest.approx(expected_best(bank.model, bank, FAQ[0][0], 0.3)[1],
                                                                   abs=1e-5)


def test_a_read_only_open_answers_with_the_banks_weight(bank, tmp_path):
    bank.set_settings(hybrid=0.6)
    bank.close()
    with FaqBank.open(tmp_path / "bank.faq", WordModel(), read_only=True) as reader:
        score = reader.ask("when are you open").score
        assert score == pytest.approx(expected_best(reader.model, reader, "when are you open", 0.6)[1], abs=1e-5)
        assert json.loads(json.dumps(reader.info()))["hybrid"] == 0.6
