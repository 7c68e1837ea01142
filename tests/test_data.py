import gzip

import numpy as np
import pytest

from samesense.data import (DataError, load_groups, normalize_text, pairs_to_groups, read_groups,
                            read_pairs, read_sentences, split_groups)


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
