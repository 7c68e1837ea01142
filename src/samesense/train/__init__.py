"""Training: every group is a class; a margin-softmax head teaches the encoder to rank.

The package reads top to bottom in the order a run goes:

    config.py      TrainConfig: every setting, in sections (the command line is derived from it)
    data.py        reading and tokenizing the groups once: TrainGroups in, TrainData out
    step.py        what is trained (model, head, loss, terms, optimizer), the batches, one step
    checkpoint.py  the run's state in safetensors + JSON (nothing pickled): resume from here
    plots.py       log.jsonl and curve.png
    loop.py        train(cfg, data=None, on_epoch=None): the stages of a run

    from samesense.train import TrainConfig, train
    result = train(TrainConfig.of(train=["groups.tsv"], out="runs/mine", epochs=5))

Names are imported on first use, so the command line can read TrainConfig without torch.
"""

from __future__ import annotations

from ..lazy import lazy_names

_LAZY = {"TrainConfig": "config", "learning_rate": "config", "LR_SCHEDULES": "config",
         "TrainGroups": "data", "TrainData": "data", "prepare_data": "data",
         "train": "loop", "saved_config": "checkpoint"}

__all__ = list(_LAZY)


__getattr__ = lazy_names(__name__, _LAZY)
