"""datasets/synthetic.py: groups at any scale, each a different meaning, written atomically."""

import gzip

import pytest

from samesense.data import read_groups
from samesense.datasets.synthetic import SyntheticGroups, SyntheticSpec, write_synthetic
from samesense.errors import SamesenseError


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_group_is_its_own_meaning_said_several_ways(language):
    made = SyntheticGroups(SyntheticSpec(5000, per_group=3, language=language, seed=2))
    lines = list(made)
    assert len(lines) == 15000 and len({name for name, _ in lines}) == 5000
    assert len({made.meaning(g) for g in range(5000)}) == 5000  # no two groups share a meaning
    by_group = {}
    for name, sentence in lines:
        by_group.setdefault(name, []).append(sentence)
        assert sentence.strip() and "{" not in sentence
    # paraphrases, not copies: most groups say their meaning in more than one way
    assert sum(len(set(s)) > 1 for s in by_group.values()) > 0.8 * 5000
    if language == "zh":
        assert all("\u4e00" <= ch <= "\u9fff" for _, s in lines[:300] for ch in s)
    # a group's object and modifier words appear in its sentences, under one of their forms
    intent, obj, modifier = made.meaning(7)
    for sentence in by_group["syn0007"]:
        assert any(form in sentence for form in made.object_forms[obj])
        assert any(form in sentence for form in made.modifier_forms[modifier])
    assert list(SyntheticGroups(SyntheticSpec(5000, per_group=3, language=language, seed=2)))[:50] == lines[:50]


def test_written_files_split_the_groups_and_read_back(tmp_path):
    spec = SyntheticSpec(400, per_group=2)
    train = write_synthetic(tmp_path / "train.tsv.gz", spec, keep=lambda g: g % 10 != 0)
    val = write_synthetic(tmp_path / "val.tsv", spec, keep=lambda g: g % 10 == 0)
    with gzip.open(train, "rt") as f:
        assert f.readline().startswith("syn001\t")
    train_groups, val_groups = read_groups(train), read_groups(val)
    assert (train_groups.num_groups, val_groups.num_groups) == (360, 40)
    assert not set(train_groups.names) & set(val_groups.names)
    assert not list(tmp_path.glob(".*tmp"))


def test_bad_specs_are_refused_in_one_line():
    with pytest.raises(SamesenseError, match="at least 1 group"):
        SyntheticGroups(SyntheticSpec(0))
    with pytest.raises(SamesenseError, match="language must be one of"):
        SyntheticGroups(SyntheticSpec(10, language="fr"))
