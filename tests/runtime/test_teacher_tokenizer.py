"""The teacher's own tokenizer of a static model (runtime/teacher_tokenizer.py): the teacher's ids,
sentence by sentence, whichever way a sentence goes (the cached BERT split of ASCII text, or the
library's batch encoding), saved and read back with its tokenizer.json. The tokenizers are made here
with the `tokenizers` library (a BERT-style WordPiece over words and pieces, a SentencePiece-style
one), so no pretrained package is needed."""

import json

import pytest

from samesense.components import load_component
from samesense.errors import SamesenseError
from samesense.runtime.teacher_tokenizer import TeacherTokenizer

tokenizers = pytest.importorskip("tokenizers")

WORDS = ["how", "do", "i", "reset", "my", "pin", "cafe", "book", "a", "table", "for", "two", "re", "##set", "##s",
         "un", "##do", "##ing", "!", "?", ".", "'", ",", "-", "(", ")", "$", "1", "##2", "##3", "é", "中", "文"]
SENTENCES = ["How do I reset my PIN?", "resets undoing", "Book a table for two!!", "", "   ", "café crème",
             "Café", "中文 reset", "tab\there\nnewline", "pin\x07bell", "don't (re-set) $123", "x" * 40,
             "unknownword here", "a,b.c", "UNDOING", "🙂 pin"]


def bert_file(tmp_path, lowercase: bool = True) -> str:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    vocab = {token: i for i, token in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *WORDS])}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=lowercase)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    path = tmp_path / "tokenizer.json"
    tokenizer.save(str(path))
    return str(path)


def library_ids(path: str, texts: list[str]) -> list[list[int]]:
    fast = tokenizers.Tokenizer.from_file(path)
    return [fast.encode(text, add_special_tokens=False).ids for text in texts]


def test_the_cached_bert_split_gives_the_librarys_ids_sentence_by_sentence(tmp_path):
    path = bert_file(tmp_path)
    tokenizer = TeacherTokenizer(file=path, max_len=512)
    assert tokenizer.word_pieces is not None  # the fast way is taken for this pipeline
    expected = [ids or [tokenizer.unk_id] for ids in library_ids(path, SENTENCES)]
    assert tokenizer.tokenize(SENTENCES) == expected
    assert tokenizer.tokenize(SENTENCES) == expected  # again, from the word cache
    assert [tokenizer.encode(text) for text in SENTENCES] == expected
    assert tokenizer.tokenize_compact(SENTENCES).flat.tolist() == [i for ids in expected for i in ids]


def test_another_pipeline_goes_through_the_library_alone(tmp_path):
    path = bert_file(tmp_path, lowercase=False)  # BERT's split, but cased: not the cached way's
    tokenizer = TeacherTokenizer(file=path, max_len=512)
    assert tokenizer.word_pieces is None
    assert tokenizer.tokenize(SENTENCES) == [ids or [tokenizer.unk_id] for ids in library_ids(path, SENTENCES)]


def test_ids_are_cut_at_max_len_and_an_empty_text_is_the_unknown_token(tmp_path):
    tokenizer = TeacherTokenizer(file=bert_file(tmp_path), max_len=3)
    assert [len(ids) for ids in tokenizer.tokenize(["how do i reset my pin", "pin", "", "🙂"])] == [3, 1, 1, 1]
    assert tokenizer.tokenize(["", "🙂"]) == [[tokenizer.unk_id]] * 2
    assert tokenizer.unknown_fraction(["how do i", "🙂 pin", ""]) == [0.0, 0.5, 1.0]
    for cut in (1, 2, 5, 512):  # the numpy way of tokenize_compact cuts and fills as tokenize does
        tokenizer.max_len = cut
        for texts in (SENTENCES, ["", "", "pin"], [""], SENTENCES[::-1] + [""]):
            compact = tokenizer.tokenize_compact(texts)
            assert [compact[i].tolist() for i in range(len(texts))] == tokenizer.tokenize(texts)


def test_saved_in_a_model_folder_with_its_file_and_read_back(tmp_path):
    tokenizer = TeacherTokenizer(file=bert_file(tmp_path), max_len=16, source="my-teacher")
    tokenizer.save(tmp_path / "tokenizer")
    config = json.loads((tmp_path / "tokenizer" / "config.json").read_text())
    assert config == {"type": "teacher", "max_len": 16, "normalize": False, "source": "my-teacher"}
    again = load_component(tmp_path / "tokenizer")
    assert isinstance(again, TeacherTokenizer) and again.tokens == tokenizer.tokens and again.max_len == 16
    assert again.tokenize(SENTENCES) == tokenizer.tokenize(SENTENCES)


def test_a_damaged_or_missing_tokenizer_file_is_one_line_naming_it(tmp_path):
    TeacherTokenizer(file=bert_file(tmp_path)).save(tmp_path / "tokenizer")
    (tmp_path / "tokenizer" / "tokenizer.json").write_text("{not json")
    with pytest.raises(SamesenseError, match=r"tokenizer\.json: cannot read the tokenizer"):
        load_component(tmp_path / "tokenizer")
    (tmp_path / "tokenizer" / "tokenizer.json").unlink()
    with pytest.raises(SamesenseError, match=r"incomplete model folder \(tokenizer\.json missing\)"):
        load_component(tmp_path / "tokenizer")
    with pytest.raises(SamesenseError, match="no tokenizer.json there"):
        TeacherTokenizer(source=str(tmp_path / "tokenizer"))


def test_a_full_word_cache_still_gives_the_librarys_ids(tmp_path, monkeypatch):
    monkeypatch.setattr("samesense.runtime.teacher_tokenizer.CACHE_WORDS", 3)
    path = bert_file(tmp_path)
    tokenizer = TeacherTokenizer(file=path, max_len=512)
    expected = [ids or [tokenizer.unk_id] for ids in library_ids(path, SENTENCES)]
    assert tokenizer.tokenize(SENTENCES) == expected and tokenizer.tokenize(SENTENCES[::-1]) == expected[::-1]
    assert len(tokenizer.word_pieces) <= 3
