"""Property: whatever bytes an FAQ file holds, read_rows gives rows a bank would store, or one
SamesenseError, one line, naming the file (and the line, for a bad row): never another exception."""

import gzip
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samesense.errors import DataError, SamesenseError
from samesense.faq.choices import ON_ERROR
from samesense.faq.importer import read_rows
from samesense.faq.text import clean, clean_group, clean_list

FUZZ = settings(max_examples=100, deadline=None, database=None,  # no example files left in the repository
                suppress_health_check=[HealthCheck.function_scoped_fixture])

# pieces that make the readers take their less common paths: quotes, separators, line ends, a BOM,
# bytes that are not UTF-8, NUL, JSON escapes of lone surrogates, numbers too long for int()
PIECES = [b"\t", b",", b'"', b"\n", b"\r", b"\r\n", b"\xef\xbb\xbf", b"\xff", b"\xc3", b"\x00", b"\x1b", b" ",
          b"question", b"answer", b"group", b"a", b"\xc3\xa9", b"{", b"}", b"[", b"]", b":", b'"question"',
          b'"answer"', b'"group"', b'"paraphrases"', b'"tags"', b"\\ud800", b"\\", b"null", b"1e999", b"9" * 5000,
          b"[" * 3000]
pieces = st.lists(st.sampled_from(PIECES) | st.binary(max_size=6), max_size=60).map(b"".join)

KEYS = st.sampled_from(["question", "answer", "group", "paraphrases", "tags", "id", "extra"]) | st.text(max_size=3)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=5), max_leaves=12)
json_lines = st.lists(json_values.map(lambda v: json.dumps(v).encode()), max_size=6).map(b"\n".join)

file_bytes = st.one_of(st.binary(max_size=300), pieces, json_lines)


def read_or_refuse(path, on_error: str) -> None:
    """Rows each as a bank would store them, or one clean error naming the file."""
    try:
        rows, skipped = read_rows(path, on_error=on_error)
    except SamesenseError as err:
        message = str(err)
        assert message.startswith(f"{path}:") and "\n" not in message and "\r" not in message, message
        if isinstance(err, DataError) and err.line is not None:
            assert message.startswith(f"{path}:{err.line}: ")
        return
    for row in rows:
        assert (row.question, row.answer, row.group) == (clean(row.question, "question"),
                                                         clean(row.answer, "answer"), clean_group(row.group))
        assert row.paraphrases == clean_list(row.paraphrases, "paraphrases")
        assert row.tags == clean_list(row.tags, "tags")
    assert all(message.startswith(f"{path}:") for message in skipped)


@FUZZ
@given(ext=st.sampled_from(["tsv", "csv", "jsonl"]), data=file_bytes, on_error=st.sampled_from(ON_ERROR))
def test_any_bytes_give_rows_or_one_clean_error(tmp_path, ext, data, on_error):
    path = tmp_path / f"faq.{ext}"
    path.write_bytes(data)
    read_or_refuse(path, on_error)


@FUZZ
@given(ext=st.sampled_from(["tsv", "csv", "jsonl"]), data=file_bytes, packing=st.sampled_from(["gzip", "cut", "plain"]),
       on_error=st.sampled_from(ON_ERROR))
def test_any_gz_file_gives_rows_or_one_clean_error(tmp_path, ext, data, packing, on_error):
    packed = {"gzip": lambda d: gzip.compress(d), "cut": lambda d: gzip.compress(d)[:-5],
              "plain": lambda d: d}[packing](data)
    path = tmp_path / f"faq.{ext}.gz"
    path.write_bytes(packed)
    read_or_refuse(path, on_error)
