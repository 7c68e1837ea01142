import pytest

from samesense.errors import SamesenseError
from samesense.tokenize import PAD_ID, UNK_ID, CharTokenizer, WordTokenizer, make_tokenizer


def test_char_vocab_min_count_and_unknown():
    tok = CharTokenizer(min_count=2).fit(["aab", "abc"])
    assert tok.tokens[:2] == ["<pad>", "<unk>"]
    assert set(tok.tokens[2:]) == {"a", "b"}  # c seen once
    assert tok.encode("abc") == [tok.ids["a"], tok.ids["b"], UNK_ID]
    assert PAD_ID not in tok.encode("abcabc")


def test_max_len_and_empty():
    tok = CharTokenizer(max_len=3, min_count=1).fit(["abcdef"])
    assert len(tok.encode("abcdef")) == 3
    assert tok.encode("") == [UNK_ID]


def test_normalization_applies_at_encode():
    tok = CharTokenizer(min_count=1).fit(["abc"])
    assert tok.encode("ＡＢＣ") == tok.encode("abc")
    raw = CharTokenizer(min_count=1, normalize=False).fit(["abc"])
    assert raw.encode("ABC") == [UNK_ID] * 3


def test_word_tokenizer_splits_words_punctuation_and_cjk():
    tok = WordTokenizer()
    assert tok.split("how's my card? 信用卡ok") == ["how", "'", "s", "my", "card", "?", "信", "用", "卡", "ok"]


def test_config_round_trip_and_unknown_type():
    tok = WordTokenizer(max_len=16, min_count=1).fit(["a b c"])
    assert "type" not in tok.config()  # the type is the component's, written beside its config
    again = make_tokenizer({"type": tok.type, **tok.config()}, tok.tokens)
    assert isinstance(again, WordTokenizer) and again.encode("a c d") == tok.encode("a c d")
    assert again.config() == tok.config() == {"max_len": 16, "min_count": 1, "normalize": True}
    with pytest.raises(SamesenseError, match="unknown tokenizer"):
        make_tokenizer({"type": "bpe"})
