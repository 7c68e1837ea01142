"""The answer weight: an entry scored by its best stored question and by its answer text, (1 - a) * question
score + a * cosine(question, answer); chosen by calibrate, set by hand, reset with the model."""

import pytest
from fastapi.testclient import TestClient

from conftest import FAQ, TOKEN
from fakes import WordModel

from samesense.cli import main
from samesense.errors import SamesenseError
from samesense.faq import FaqBank, FaqRow
from samesense.faq.calibrate import ANSWERS_CHOICES, calibrate
from samesense.faq.evaluate_bank import evaluate_bank

# the customer's words are in the answer, not in the stored question
ROWS = [("how do i reset my pin", "Open the app, tap Security, then Reset PIN.", "pin"),
        ("what are your opening hours", "Branches open Monday to Friday, 9 to 5.", "hours"),
        ("how do i close my account", "Write to support and we close it within a day.", "close")]


def expected(model, bank, question, weight):
    """Each entry's score by hand: its best stored question's cosine, mixed with its answer's."""
    q = model.encode([question])[0]
    scores = {}
    for entry in bank.list_entries():
        best = max(float(model.encode([text])[0] @ q) for text in entry.questions)
        scores[entry.id] = (1 - weight) * best + weight * float(model.encode([entry.answer])[0] @ q)
    return scores


@pytest.fixture
def answer_bank(tmp_path, model):
    with FaqBank.open(tmp_path / "answers.faq", model) as bank:
        bank.import_rows([FaqRow(*row) for row in ROWS])
        yield bank


def test_scores_mix_the_best_question_and_the_answer(answer_bank, model):
    question = "tap security in the app"
    before = answer_bank.search([question], k=3)[0]
    answer_bank.set_settings(answers=0.5)
    after = answer_bank.search([question], k=3)[0]
    by_hand = expected(model, answer_bank, question, 0.5)
    assert {c.entry_id: c.score for c in after} == pytest.approx(by_hand, abs=1e-5)
    assert [c.score for c in after] == sorted((c.score for c in after), reverse=True)
    pin = answer_bank.list_entries()[0].id
    assert after[0].entry_id == pin and before[0].entry_id != pin  # found by the words of its answer
    assert answer_bank.ask(question).candidates[0].entry_id == pin


def test_weight_zero_is_the_stored_questions_alone(answer_bank, model):
    scores = {c.entry_id: c.score for c in answer_bank.search(["branches open monday"], k=3)[0]}
    assert scores == pytest.approx(expected(model, answer_bank, "branches open monday", 0.0), abs=1e-5)
    assert answer_bank.settings["answers"] == 0.0


def test_an_edited_answer_is_scored_as_it_now_reads(answer_bank, model):
    answer_bank.set_settings(answers=0.4)
    pin = answer_bank.list_entries()[0]
    answer_bank.search(["zebra crossing rules"], k=3)  # the old answer's vector is kept from here
    answer_bank.update(pin.id, answer="Stop at the zebra crossing and reset it there.")
    got = {c.entry_id: c.score for c in answer_bank.search(["zebra crossing rules"], k=3)[0]}
    assert got == pytest.approx(expected(model, answer_bank, "zebra crossing rules", 0.4), abs=1e-5)
    assert max(got, key=got.get) == pin.id


def test_calibrate_chooses_stores_and_reports_the_weight(answer_bank, tmp_path):
    groups = tmp_path / "groups.tsv"
    groups.write_text("pin\ttap security in the app\nhours\tbranches open on monday\nclose\tclose account now\n"
                      "pin\treset pin\n")
    oos = tmp_path / "oos.txt"
    oos.write_text("what is the weather\nzebra crossing rules\n")
    model, encoded = answer_bank.need_model(), []
    encode = model.encode
    model.encode = lambda texts, *a, **kw: encoded.append(list(texts)) or encode(texts, *a, **kw)  # what is encoded
    try:
        result = calibrate(answer_bank, 1.0, groups=str(groups), oos=str(oos), answers="choose")
    finally:
        del model.encode
    asked = [line.split("\t")[1] for line in groups.read_text().splitlines()] + oos.read_text().splitlines()
    assert encoded.count(asked) == 1  # once, not once a weight tried
    assert set(result.answers_tried) == {f"{a:g}" for a in ANSWERS_CHOICES}
    assert result.answers_tried["0"] < result.answers_tried[f"{result.answers:g}"] == result.in_scope_accuracy == 1.0
    assert answer_bank.settings["answers"] == result.answers > 0
    assert answer_bank.settings["calibration"]["answers"] == result.answers
    evaluation = evaluate_bank(answer_bank, str(groups), str(oos))
    assert evaluation.settings["answers"] == result.answers and evaluation.counts["right"] == 4
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("reset pin\thow do i reset my pin\t1\nreset pin\topening hours\t0\n")
    with pytest.raises(SamesenseError, match="an answer weight above 0"):
        calibrate(answer_bank, 1.0, pairs=str(pairs))


def test_set_by_hand_forgets_the_calibration_shows_and_resets_with_the_model(bank, tmp_path, capsys):
    from samesense.faq.serve import create_app

    path = str(tmp_path / "bank.faq")
    bank.set_settings(threshold=0.7, calibration={"threshold": 0.7, "precision": 0.9})
    assert main(["faq", "set", path, "--answers", "0.3"]) == 0
    assert "answers 0.3, suggest 1; calibration forgotten" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        main(["faq", "set", path, "--answers", "2"])
    assert refused.value.code == 2 and "--answers" in capsys.readouterr().err
    bank.refresh()
    assert bank.settings["answers"] == 0.3 and bank.settings["calibration"] is None
    with TestClient(create_app(bank, TOKEN)) as client:
        assert client.get("/healthz").json()["answers"] == 0.3
        answer = client.post("/ask", json={"question": FAQ[1][2][0]}).json()
    assert answer["score"] == pytest.approx(max(expected(bank.model, bank, FAQ[1][2][0], 0.3).values()), abs=1e-5)
    bank.close()
    with FaqBank.open(path, WordModel(fingerprint="fake-model-2")) as moved:  # another model's scale
        assert moved.settings["answers"] == 0.0


def test_calibrate_cli_refuses_a_bad_weight_in_one_line(answer_bank, tmp_path, capsys):
    groups = tmp_path / "groups.tsv"
    groups.write_text("pin\ttap security in the app\n")
    for bad in ("chose", "1.5"):
        with pytest.raises(SystemExit) as refused:
            main(["calibrate", str(answer_bank.path), "--groups", str(groups), "--answers", bad])
        err = capsys.readouterr().err
        assert refused.value.code == 2 and len(err.strip().splitlines()) == 1
        assert f"argument --answers: must be choose or a number from 0 to 1, got {bad!r}" in err
        assert "--answers" in err and "Traceback" not in err


def test_the_answer_cache_starts_again_past_its_bound_and_still_gives_each_texts_vector(model, monkeypatch):
    from samesense.faq.search import AnswerVectors

    monkeypatch.setattr(AnswerVectors, "MOST", 3)
    cache = AnswerVectors(model)
    texts = ["open the app", "tap security", "reset pin", "branches open monday"]
    for batch in (texts[:2], texts[2:], texts[1:3]):
        got = cache.vectors(batch)
        assert len(cache.kept) <= 3
        for text in batch:
            assert got[text] == pytest.approx(model.encode([text])[0])
