"""SentEval adapter: score a samesense model (or any encoder with `encode`) with SentEval itself.

SentEval (facebookresearch/SentEval, not on PyPI: install it from its repository, with its data)
asks for two functions: `prepare(params, samples)`, called once per task with every sentence of
the task, and `batcher(params, batch)`, called on batches and returning one embedding row per
sentence. Both get sentences as lists of tokens.

    import senteval
    from samesense import load
    from samesense.bench.senteval import batcher, prepare, senteval_params

    params = senteval_params(load("runs/mine/model"), "SentEval/data")
    results = senteval.engine.SE(params, batcher, prepare).eval(["STSBenchmark", "MRPC", "SICKRelatedness"])

`evaluate(encoder, task_path, tasks)` does those last two lines.
"""

from __future__ import annotations

import numpy as np

from .methods import VectorMethod
from ..errors import SamesenseError

CACHE = "samesense_vectors"  # the params key of the encoded sentences


def senteval_params(encoder, task_path: str, batch_size: int = 128, encode_batch_size: int = 256,
                    kfold: int = 5, usepytorch: bool = False, seed: int = 1111,
                    classifier: dict | None = None) -> dict:
    """SentEval's params dict, with the encoder under "encoder". The classifier defaults to
    SentEval's fast prototyping setting (logistic regression, small epochs)."""
    return {"task_path": str(task_path), "usepytorch": usepytorch, "kfold": kfold, "seed": seed,
            "batch_size": batch_size, "encode_batch_size": encode_batch_size, "encoder": encoder,
            "classifier": classifier or {"nhid": 0, "optim": "rmsprop", "batch_size": 128,
                                         "tenacity": 3, "epoch_size": 2}}


def _texts(params, sentences) -> list[str]:
    """Token lists back to text. An empty sentence becomes "." as in SentEval's own examples, so
    that every sentence has a vector."""
    join = params.get("join_with", " ")
    return [join.join(tokens) if len(tokens) else "." for tokens in sentences]


def prepare(params, samples) -> None:
    """Encode every distinct sentence of the task once; batcher then only looks vectors up."""
    encoder = params["encoder"]
    params[CACHE] = VectorMethod(getattr(encoder, "name", "model"), encoder, (), params.get("encode_batch_size", 256), None)
    params[CACHE].prepare(_texts(params, samples))


def batcher(params, batch) -> np.ndarray:
    """(len(batch), dim) float32 unit rows, in the order of `batch`."""
    if CACHE not in params:  # SentEval always calls prepare first; this keeps batcher usable alone
        prepare(params, [])
    return params[CACHE].encode(_texts(params, batch))


def evaluate(encoder, task_path: str, tasks: list[str], **settings) -> dict:
    """Run SentEval's tasks on an encoder; needs SentEval installed (`import senteval`)."""
    try:
        import senteval
    except ImportError:
        raise SamesenseError("SentEval is not installed: it is not on PyPI; install it from its "
                             "repository (facebookresearch/SentEval) and download its data") from None
    return senteval.engine.SE(senteval_params(encoder, task_path, **settings), batcher, prepare).eval(tasks)
