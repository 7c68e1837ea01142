import errno
import gzip
import os

import numpy as np
import pytest

from samesense.data import read as data_files
from samesense.data import (DataError, Groups, SamesenseError, has_partner, load_groups, normalize_text,
                            pairs_to_groups, read_groups, read_pairs, read_sentences, require_pairs,
                            require_rankable, require_training_groups, split_groups)


def write(tmp_path, name, data: bytes | str):
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_normalize_fullwidth_lowercase_spaces():
    assert normalize_text("ＡＢＣ　１２３？  Hello\tWORLD ") == "abc 123? hello world"
    assert normalize_text("怎么办理信用卡？") == "怎么办理信用卡?"


def test_read_groups_normalizes_and_counts_empty(tmp_path):
    path = write(tmp_path, "g.tsv", "a\tHello  World\na\thi\nb\t   \n\nb\tＯＫ\n")
    groups = read_groups(path)
    assert groups.sentences == ["hello world", "hi", "ok"]
    assert groups.names == ["a", "b"] and groups.labels.tolist() == [0, 0, 1]
    assert groups.skipped_empty == 1
    assert read_groups(path, normalize=False).sentences == ["Hello  World", "hi", "ＯＫ"]


def test_gzip_and_bom(tmp_path):
    path = tmp_path / "g.tsv.gz"
    path.write_bytes(gzip.compress("\ufeffx\tone\nx\ttwo\n".encode()))
    assert read_groups(path).names == ["x"]


@pytest.mark.parametrize("content, line, message", [
    ("a\tok\nno tab here\n", 2, "no tab"),
    ("a\tok\n\tsentence\n", 2, "empty group id"),
    ("a\tok\na\tb\tc\n", 2, "found 3 tab-separated fields"),
])
def test_group_errors_name_file_and_line(tmp_path, content, line, message):
    path = write(tmp_path, "bad.tsv", content)
    with pytest.raises(DataError) as err:
        read_groups(path)
    assert err.value.line == line and message in str(err.value)
    assert str(err.value).startswith(f"{path}:{line}: ")


def test_bad_utf8(tmp_path):
    path = write(tmp_path, "bad.tsv", b"a\tok\nb\t\xff\xfe bad\n")
    with pytest.raises(DataError, match=r"bad.tsv:2: invalid UTF-8"):
        read_groups(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_groups(tmp_path / "nope.tsv")


def test_pairs_and_label_errors(tmp_path):
    pairs = read_pairs(write(tmp_path, "p.tsv", "a\tb\t1\nc\td\t0\ne\t\t1\n"))
    assert pairs.first == ["a", "c"] and pairs.labels.tolist() == [1.0, 0.0] and pairs.skipped_empty == 1
    with pytest.raises(DataError, match=r"p2.tsv:2: label 'yes' is not a number"):
        read_pairs(write(tmp_path, "p2.tsv", "a\tb\t1\nc\td\tyes\n"))
    with pytest.raises(DataError, match="no tab"):
        read_pairs(write(tmp_path, "p3.tsv", "just one field\n"))


def test_pairs_become_connected_components(tmp_path):
    path = write(tmp_path, "p.tsv", "a\tb\t1\nb\tc\t1\nd\te\t1\nc\tx\t0\ny\tz\t0\n")
    groups = pairs_to_groups(read_pairs(path))
    members = {}
    for sentence, label in zip(groups.sentences, groups.labels):
        members.setdefault(label, set()).add(sentence)
    assert sorted(map(sorted, members.values())) == [["a", "b", "c"], ["d", "e"]]


def test_score_pairs_need_a_threshold(tmp_path):
    pairs = read_pairs(write(tmp_path, "sts.tsv", "a\tb\t4.5\nc\td\t1.0\n"))
    with pytest.raises(DataError, match="positive_at"):
        pairs_to_groups(pairs)
    assert pairs_to_groups(pairs, positive_at=4).sentences == ["a", "b"]


def test_load_groups_sniffs_and_concatenates(tmp_path):
    g = write(tmp_path, "g.tsv", "x\tone\nx\ttwo\n")
    p = write(tmp_path, "p.tsv", "three\tfour\t1\n")
    groups = load_groups([g, p])
    assert groups.num_groups == 2 and len(groups) == 4


def test_read_sentences_takes_last_field(tmp_path):
    assert read_sentences(write(tmp_path, "s.txt", "Hello\ng\tWorld\n")) == ["hello", "world"]


def test_split_holds_out_whole_groups_deterministically(tmp_path):
    records = "".join(f"g{i}\ts{i}_{j}\n" for i in range(200) for j in range(3))
    groups = read_groups(write(tmp_path, "g.tsv", records))
    train, held = split_groups(groups, 0.2, seed=7)
    assert not set(train.names) & set(held.names)
    assert set(train.names) | set(held.names) == set(groups.names)
    assert 20 <= held.num_groups <= 60
    assert all(np.bincount(held.labels) == 3)  # whole groups
    again_train, again_held = split_groups(groups, 0.2, seed=7)
    assert again_held.names == held.names
    assert split_groups(groups, 0.2, seed=8)[1].names != held.names


def gz_cases(tmp_path, line_text):
    """(file, line, message) for each way a .gz file of `line_text(i)` lines can fail to read."""
    packed = gzip.compress("".join(line_text(i) for i in range(5000)).encode())
    damaged = bytearray(packed)
    damaged[len(packed) // 2:len(packed) // 2 + 40] = b"\xff" * 40
    return [(write(tmp_path, "plain.tsv.gz", "a\tone\n"), None, "not gzip-compressed, though its name ends in .gz"),
            (write(tmp_path, "cut.tsv.gz", packed[: len(packed) // 2]), "some", "the compressed data ends early"),
            (write(tmp_path, "damaged.tsv.gz", bytes(damaged)), "some", "damaged gzip data"),
            (write(tmp_path, "crc.tsv.gz", packed[:-8] + b"\0" * 8), "some", "damaged gzip data (CRC check failed")]


@pytest.mark.parametrize("reader", [read_groups, read_pairs, read_sentences, load_groups])
def test_unreadable_gz_is_a_data_error_naming_file_and_line(tmp_path, reader):
    pairs = reader is read_pairs
    for path, line, message in gz_cases(tmp_path, lambda i: f"s{i}\tt{i}\t1\n" if pairs else f"g{i}\ts {i}\n"):
        with pytest.raises(DataError) as err:
            reader(path)
        assert err.value.path == str(path) and message in err.value.message, err.value
        assert (err.value.line is None) == (line is None) and "\n" not in str(err.value)


def test_cut_gz_names_the_line_where_it_stops(tmp_path):
    packed = gzip.compress("".join(f"g{i}\tsentence {i}\n" for i in range(5000)).encode())
    with pytest.raises(DataError) as err:
        read_groups(write(tmp_path, "cut.tsv.gz", packed[: len(packed) // 2]))
    assert 1 < err.value.line < 5000  # the lines before it were read


def test_a_file_that_cannot_be_opened_is_a_data_error(tmp_path, monkeypatch):
    def refuse(path):  # as open() does for a file without read permission (root reads them all)
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(data_files, "_open_binary", refuse)
    with pytest.raises(DataError, match=r"secret.tsv: cannot open \(Permission denied\)$"):
        read_groups(write(tmp_path, "secret.tsv", "a\tone\n"))


def test_too_few_groups_counts_the_groups_of_the_file(tmp_path):
    one = read_groups(write(tmp_path, "one.tsv", "a\tx\na\ty\n"))
    with pytest.raises(DataError, match=r"one.tsv: found 1 group: training needs at least 2, plus 1 to hold out"):
        require_training_groups(one, held_out=True)
    two = read_groups(write(tmp_path, "two.tsv", "a\tx\nb\ty\n"))
    require_training_groups(two, held_out=False)
    with pytest.raises(DataError, match="found 2 groups"):
        require_training_groups(two, held_out=True)
    with pytest.raises(DataError, match=r"empty.tsv: no sentences"):
        require_training_groups(read_groups(write(tmp_path, "empty.tsv", "")), held_out=False)


def test_split_refuses_fewer_than_two_groups(tmp_path):
    with pytest.raises(DataError, match="one.tsv: found 1 group: a split needs at least 2"):
        split_groups(read_groups(write(tmp_path, "one.tsv", "a\tx\na\ty\n")), 0.5, seed=0)


def test_groups_with_no_two_sentences_are_not_rankable(tmp_path):
    singles = read_groups(write(tmp_path, "singles.tsv", "a\tx\nb\ty\nc\tz\n"))
    with pytest.raises(DataError, match="singles.tsv: no group of the validation file has two sentences: nothing"):
        require_rankable(singles, "of the validation file")
    with pytest.raises(DataError, match="empty.tsv: no sentences"):
        require_rankable(read_groups(write(tmp_path, "empty.tsv", "\n\n")), "of the file")
    require_rankable(read_groups(write(tmp_path, "one_pair.tsv", "a\tx\nb\ty\nb\tz\n")), "of the file")
    assert has_partner(np.array([0, 1, 1, 2])).tolist() == [False, True, True, False]
    with pytest.raises(SamesenseError, match="^no group of the validation file"):  # in memory: no file to name
        require_rankable(Groups.from_records([("a", "x"), ("b", "y")]), "of the validation file")


def test_pairs_files_with_no_pair_are_refused(tmp_path):
    with pytest.raises(DataError, match=r"p.tsv: no pairs \(1 pair with an empty side skipped\)"):
        require_pairs(read_pairs(write(tmp_path, "p.tsv", "a\t \t1\n")))
