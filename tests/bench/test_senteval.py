"""The SentEval adapter, called the way SentEval's engine calls it: a dict-like params object with
attribute access, prepare once with every sentence of a task, then batcher on batches of token
lists, the embeddings stacked in order."""

import importlib.util

import numpy as np
import pytest

from samesense import load
from samesense.errors import SamesenseError
from samesense.bench.senteval import batcher, evaluate, prepare, senteval_params


class dotdict(dict):
    """SentEval's params type (senteval.utils.dotdict)."""

    __getattr__ = dict.get
    __setattr__ = dict.__setitem__


class Counting:
    """Wraps an encoder and counts what it is asked to encode."""

    def __init__(self, model):
        self.model, self.dim, self.calls = model, model.dim, []

    def encode(self, texts, batch_size=256, show_progress=False):
        self.calls.append(list(texts))
        return self.model.encode(texts, batch_size=batch_size)


def run_like_senteval(params, samples, batch_size):
    prepare(params, samples)
    return np.vstack([batcher(params, samples[i: i + batch_size]) for i in range(0, len(samples), batch_size)])


def test_prepare_then_batcher_gives_rows_in_order(trained_run, synthetic_files):
    run, _ = trained_run
    model = load(run)
    encoder = Counting(model)
    sentences = synthetic_files[1].read_text(encoding="utf-8").split("\n")[:50]
    samples = [list(line.split("\t")[1]) for line in sentences if line]  # token lists (characters)
    samples += [samples[0], []]  # a repeated sentence and an empty one
    params = dotdict(senteval_params(encoder, "/senteval/data", batch_size=8, encode_batch_size=16))
    params["join_with"] = ""  # character tokens: join without spaces
    embeddings = run_like_senteval(params, samples, params.batch_size)

    assert embeddings.shape == (len(samples), model.dim) and embeddings.dtype == np.float32
    expected = model.encode(["".join(s) if s else "." for s in samples])
    assert np.allclose(embeddings, expected, atol=1e-5)
    assert np.allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-4)
    assert len(encoder.calls) == 1  # prepare encoded every distinct sentence once; batcher looked up
    assert len(encoder.calls[0]) == len({"".join(s) or "." for s in samples})


def test_batcher_works_without_prepare_and_joins_words_with_spaces(trained_run):
    run, _ = trained_run
    model = load(run)
    params = dotdict(senteval_params(model, "/senteval/data"))
    out = batcher(params, [["ab", "cd"], []])
    assert np.allclose(out, model.encode(["ab cd", "."]), atol=1e-5)


def test_params_carry_senteval_settings(trained_run):
    run, _ = trained_run
    params = senteval_params(load(run), "data", kfold=10, usepytorch=True)
    assert params["task_path"] == "data" and params["kfold"] == 10 and params["usepytorch"] is True
    assert params["classifier"]["nhid"] == 0  # SentEval asserts the classifier names nhid


def test_evaluate_says_senteval_is_not_installed(trained_run):
    if importlib.util.find_spec("senteval"):
        pytest.skip("SentEval is installed here")
    run, _ = trained_run
    with pytest.raises(SamesenseError, match="SentEval is not installed"):
        evaluate(load(run), "data", ["STSBenchmark"])
