import os
import subprocess
import sys

import numpy as np
import pytest

from samesense.errors import SamesenseError
from samesense.tokenize import PAD_ID, UNK_ID, CharTokenizer, WordTokenizer, bucket_of, make_tokenizer


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
    assert again.config() == tok.config() == {"max_len": 16, "min_count": 1, "normalize": True,
                                              "unknown_buckets": 0}
    with pytest.raises(SamesenseError, match="unknown tokenizer"):
        make_tokenizer({"type": "bpe"})


# ---------------------------------------------------------------------------------------------
# Unknown tokens: hashed buckets after the vocabulary (issue 14), or the one <unk> without them.


def test_unknown_tokens_hash_into_buckets_after_the_vocabulary():
    tok = WordTokenizer(min_count=1, unknown_buckets=64).fit(["how do i reset my pin"])
    vocab = len(tok.tokens)
    assert tok.num_ids == vocab + 64 and len(tok) == vocab  # len: the vocabulary; num_ids: embedding rows
    ids = tok.encode("asdf qwer zxcv привет 🙂")
    assert all(vocab <= i < vocab + 64 for i in ids) and len(set(ids)) > 1
    assert tok.encode("asdf") == [vocab + bucket_of("asdf", 64)] == tok.encode("asdf")  # one token, one bucket
    assert tok.encode("reset my pin") == [tok.ids["reset"], tok.ids["my"], tok.ids["pin"]]  # known: unchanged
    assert tok.encode("") == [UNK_ID]  # an empty text is still the one <unk>


def test_no_buckets_keeps_the_single_unknown_id():
    tok = WordTokenizer(min_count=1).fit(["how do i reset my pin"])
    assert tok.unknown_buckets == 0 and tok.num_ids == len(tok.tokens)
    assert tok.encode("asdf qwer zxcv") == tok.encode("привет мир ок") == [UNK_ID] * 3


def test_rare_training_tokens_map_to_their_buckets():
    tok = CharTokenizer(min_count=2, unknown_buckets=16).fit(["aab", "abc"])
    assert set(tok.tokens[2:]) == {"a", "b"}  # c was too rare for the vocabulary...
    assert tok.encode("c") == [len(tok.tokens) + bucket_of("c", 16)]  # ...so training reads it as its bucket


def test_bucket_ids_are_pinned_and_the_same_in_another_process():
    # pinned: a saved model's bucket rows were trained for exactly these ids
    assert [bucket_of(t, 256) for t in ("asdf", "Привет", "🙂", "信")] == [189, 153, 41, 103]
    tokens = ["asdf", "Привет", "🙂", "信", "qwer", "\ud800"]  # a lone surrogate (valid JSON) too
    here = [bucket_of(t, 1000003) for t in tokens]
    code = f"from samesense.tokenize import bucket_of; print([bucket_of(t, 1000003) for t in {tokens!r}])"
    for seed in ("1", "2"):  # Python's own str hash differs between these
        out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed},
                             capture_output=True, text=True, check=True).stdout
        assert out.strip() == str(here)


def test_unknown_fraction_counts_the_tokens_read():
    tok = WordTokenizer(min_count=1, max_len=4, unknown_buckets=8).fit(["reset my pin"])
    assert tok.unknown_fraction(["reset my pin", "reset asdf", "asdf qwer", "", "reset my pin asdf qwer"]) == [
        0.0, 0.5, 1.0, 1.0, 0.25]  # the last is cut at max_len: reset my pin asdf
    assert WordTokenizer(min_count=1).fit(["reset"]).unknown_fraction(["reset asdf"]) == [0.5]  # no buckets: same


def test_bad_bucket_settings_are_refused():
    with pytest.raises(SamesenseError, match="unknown_buckets must be at least 0"):
        CharTokenizer(unknown_buckets=-1)
    with pytest.raises(SamesenseError, match="unknown_buckets must be at most"):
        make_tokenizer({"type": "char", "unknown_buckets": 10**9})


def test_token_ids_are_compact_rows_that_add_up():
    from samesense.tokenize import TokenIds

    rows = [[5, 6, 7], [1], [8, 9]]
    ids = TokenIds.of(rows)
    assert len(ids) == 3 and [r.tolist() for r in ids] == rows and ids[-1].tolist() == [8, 9]
    assert ids.flat.dtype == np.int32 and ids.nbytes == 6 * 4 + 4 * 8
    both = TokenIds.concatenate([ids, TokenIds.of([[4], [2, 3]])])
    assert [r.tolist() for r in both] == rows + [[4], [2, 3]]
    assert both == TokenIds.of(rows + [[4], [2, 3]]) and both != ids
    with pytest.raises(IndexError):
        ids[3]
    tok = CharTokenizer(min_count=1, max_len=4).fit(["你好世界啊", "abc"])
    texts = ["你好世界啊", "", "abc", "zz"] * 10
    assert [r.tolist() for r in tok.tokenize_compact(texts, chunk=3)] == tok.tokenize(texts)
    assert len(tok.tokenize_compact([])) == 0


def test_jieba_reads_characters_and_the_words_the_vocabulary_holds():
    tok = make_tokenizer({"type": "jieba", "max_len": 32, "min_count": 2}).fit(
        ["我想查询银行卡余额", "银行卡丢了", "余额不足 ok", "信用卡 ok"])
    assert {"银行卡", "余额"} <= set(tok.tokens) and "信用卡" not in tok.tokens  # words seen twice kept
    assert tok.tokens_of("银行卡余额 ok") == ["银", "行", "卡", "余", "额", "银行卡", "余额", "ok"]
    # a word the vocabulary lacks is left to its characters, never read as <unk>
    assert tok.tokens_of("信用卡") == ["信", "用", "卡"]
    assert tok.encode("信用卡") == [UNK_ID, UNK_ID, tok.ids["卡"]]
    assert tok.unknown_fraction(["银行卡"]) == [0.0]


def test_jieba_saves_and_loads_to_the_same_ids(tmp_path):
    from samesense.components import load_component

    tok = make_tokenizer({"type": "jieba", "max_len": 8, "min_count": 1, "unknown_buckets": 3}).fit(
        ["我想查询银行卡余额", "hello world"])
    tok.save(tmp_path / "tok")
    again = load_component(tmp_path / "tok")
    assert type(again) is type(tok)
    for text in ["银行卡余额查询", "hello 银行 there", "完全陌生的句子"]:
        assert again.encode(text) == tok.encode(text) and len(tok.encode(text)) <= 8
