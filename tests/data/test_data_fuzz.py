"""Property tests of the file readers: whatever bytes a file holds, plain or gzip-compressed (whole,
cut short, or damaged), a reader returns records or raises one SamesenseError whose one-line
message names the file (and the line, where there is one), never another exception."""

import gzip
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samesense.data import load_groups, read_groups, read_pairs, read_sentences
from samesense.errors import DataError, SamesenseError

BOUNDED = settings(max_examples=150, deadline=None, database=None)

READERS = {
    "read_groups": lambda path: read_groups(path),
    "read_groups raw": lambda path: read_groups(path, normalize=False),
    "read_pairs": lambda path: read_pairs(path),
    "read_sentences": lambda path: read_sentences(path),
    "load_groups": lambda path: load_groups(path),
    "load_groups pairs": lambda path: load_groups(path, "pairs", positive_at=0.5),
}

# pieces that make files almost well-formed, so that the parsers' inner branches run, not only the
# first line's "no tab"
PIECES = [b"\t", b"\n", b"\r\n", b"\r", b" ", b"g1", b"g2", b"hello", b"\xef\xbc\xa1", b"\xe4\xbd\xa0",
          b"0", b"1", b"0.5", b"-3e2", b"nan", b"inf", b"yes", b"\xef\xbb\xbf", b"\xff", b"\xc3", b"\x00",
          b"\xe2\x80\xa8", b"\x1f\x8b"]
file_bytes = st.one_of(st.binary(max_size=300),
                       st.lists(st.sampled_from(PIECES), max_size=60).map(b"".join))


def gzip_variant(data: bytes, damage: str, at: int) -> bytes:
    """The bytes compressed, then whole, cut at `at`, or with the byte at `at` flipped."""
    packed = gzip.compress(data)
    at %= len(packed)
    if damage == "cut":
        return packed[:at]
    if damage == "flip":
        return packed[:at] + bytes([packed[at] ^ 0xFF]) + packed[at + 1:]
    return packed


gz_bytes = st.builds(gzip_variant, file_bytes, st.sampled_from(["whole", "cut", "flip"]), st.integers(0, 10**6))


def read_or_clean_error(reader, path: Path, last_line: int | None):
    """The reader's records, or None after checking the error it raised is a clean one: a
    DataError names the file, and a line from 1 to `last_line` (None: not known, for damaged gz)."""
    try:
        return reader(path)
    except DataError as err:
        assert err.path == str(path)
        assert err.line is None or 1 <= err.line <= (last_line or err.line)
        message = str(err)
        assert message.startswith(f"{path}:" if err.line is None else f"{path}:{err.line}: ")
        assert "\n" not in message and err.message
        return None
    except SamesenseError as err:  # not about one file's bytes: e.g. pairs with scores and no threshold
        assert "\n" not in str(err) and str(err)
        return None


def check_records(result) -> None:
    """What a reader returns is consistent whatever the input was."""
    if isinstance(result, list):  # read_sentences
        assert all(isinstance(s, str) and s.strip() == s and s for s in result)
        return
    if hasattr(result, "first"):  # Pairs
        assert len(result.first) == len(result.second) == len(result.labels)
        assert np.isfinite(result.labels).all()
        return
    assert len(result.sentences) == len(result.labels) and all(result.sentences)
    assert len(set(result.names)) == len(result.names)
    assert result.labels.min(initial=0) >= 0 and result.labels.max(initial=-1) < max(result.num_groups, 1)


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


@pytest.mark.parametrize("reader", list(READERS))
@BOUNDED
@given(content=file_bytes)
def test_any_plain_file_gives_records_or_one_clean_error(folder, reader, content):
    read_written(folder / "data.tsv", content, READERS[reader], content.count(b"\n") + 1)


@pytest.mark.parametrize("reader", list(READERS))
@BOUNDED
@given(content=gz_bytes)
def test_any_gz_file_gives_records_or_one_clean_error(folder, reader, content):
    read_written(folder / "data.tsv.gz", content, READERS[reader], None)


def read_written(path, content: bytes, reader, last_line: int | None) -> None:
    """`content` written to `path`, read by `reader`: records, or one clean error."""
    path.write_bytes(content)
    result = read_or_clean_error(reader, path, last_line)
    if result is not None:
        check_records(result)


# well-formed groups: ids and sentences of printable text without tabs or line breaks
field_text = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Zl", "Zp")), min_size=1, max_size=12)
records = st.lists(st.tuples(field_text.filter(str.strip), field_text.filter(str.strip)), max_size=20)


@BOUNDED
@given(records=records, compressed=st.booleans())
def test_well_formed_groups_read_back_as_written(folder, records, compressed):
    path = folder / ("good.tsv.gz" if compressed else "good.tsv")
    text = "".join(f"{gid}\t{sentence}\n" for gid, sentence in records).encode("utf-8")
    path.write_bytes(gzip.compress(text) if compressed else text)
    groups = read_groups(path, normalize=False)
    assert groups.sentences == [sentence.strip() for _, sentence in records]
    assert [groups.names[label] for label in groups.labels] == [gid.strip() for gid, _ in records]
