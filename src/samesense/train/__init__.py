"""Training: every group is a class; a margin-softmax head teaches the encoder to rank.

The package reads top to bottom in the order a run goes:

    config.py      TrainConfig: every setting, in sections (the command line is derived from it);
                   model_config.py its model section; migrate.py how run folders of older versions read
    plan.py        plan_run(cfg): every rule settings ask of each other, and what the run builds
    data.py        reading and tokenizing the groups once: TrainGroups in, TrainData out
    teacher.py     a teacher's vectors of every row, kept on disk (distillation)
    batch.py, heads.py, samplers.py   what a step reads: the Batch, the class centres, which rows
    step.py        build(plan): what is trained (model, head, loss, terms, optimizers); one step
    optim.py       the optimizers (Adam, and the sparse centres' RowAdam / RowwiseRMSprop)
    checkpoint.py  the run's state in safetensors + JSON (nothing pickled): resume from here
    plots.py       log.jsonl and curve.png; monitor.py singular values; memory.py peak memory, cache-sized passes
    loop.py        run_training(cfg, ...): the stages of a run in one process
    processes.py   train(cfg, data=None, on_epoch=None, teacher=None): the entry, above the loop: one
                   process, or several (distributed.py: their collectives)
    tune.py        samesense tune: a search over runs (Optuna)

    from samesense.train import TrainConfig, train
    result = train(TrainConfig.of(train=["groups.tsv"], out="runs/mine", epochs=5))

Names are imported on first use, so the command line can read TrainConfig without torch.
"""

from __future__ import annotations

from ..lazy import lazy_names

_LAZY = {"TrainConfig": "config", "learning_rate": "config", "LR_SCHEDULES": "config",
         "TrainGroups": "data", "TrainData": "data", "prepare_data": "data",
         "train": "processes", "saved_config": "checkpoint", "plan_run": "plan"}

__all__ = list(_LAZY)


__getattr__ = lazy_names(__name__, _LAZY)
