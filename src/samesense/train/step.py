"""What is trained, which rows make each batch, and one optimizer step.

A step is the same for every loss: the model makes unit vectors of the batch; a head, when the
loss needs one, adds logits over all classes (or a sample of them) and each row's target column;
the loss and every added term read the Batch; their sum is minimised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..errors import SamesenseError
from ..evaluate import class_centroids
from ..losses import CenterLoss, DistillationTerm, Loss, LossTerm, OrthogonalPenalty, make_loss
from ..model import SentenceModel
from . import distributed
from .batch import Batch
from .config import TrainConfig
from .data import TrainData
from .heads import CosineHead, SampledCosineHead, ShardedCosineHead
from .memory import keep_freed_memory
from .migrate import one_group_as_before
from .optim import Optimizers
from .plan import RunPlan
from .samplers import group_batches, sentence_batches
from .teacher import Taught


@dataclass
class Trainable:
    model: SentenceModel
    loss: Loss
    head: nn.Module | None  # only for losses over classes (the margin-softmax family)
    terms: list[LossTerm] = field(default_factory=list)  # added to the loss: center loss, orthogonal
    optimizer: "Optimizers | None" = None

    def checkpointed(self) -> dict[str, nn.Module]:
        """The modules whose state a checkpoint keeps, by a stable name."""
        parts = {"model": self.model, "head": self.head, "loss": self.loss}
        parts.update({f"term.{term.name}": term for term in self.terms})
        return {name: module for name, module in parts.items() if module is not None}


def build(plan: RunPlan, data: TrainData, teacher: Taught | None = None) -> Trainable:
    """What the plan says, made: seeded, so the same plan builds the same starting weights."""
    cfg = plan.cfg
    torch.manual_seed(cfg.optim.seed)
    device = cfg.run.device
    model = SentenceModel.build(data.tokenizer, cfg.model.encoder_config(), cfg.model.pooling_mode(),
                                cfg.model.projection).to(device)
    if cfg.model.glyph_pretrain:  # before the head and the rest draw from the seeded RNG, which it leaves as it was
        model.encoder.glyphs.pretrain(cfg.model.glyph_pretrain, seed=cfg.optim.seed, show_progress=cfg.run.show_progress)
    if cfg.optim.freeze_layers:
        model.encoder.freeze_lower(cfg.optim.freeze_layers)
    loss = make_loss(cfg.loss.loss, dim=model.dim, scale=cfg.loss.scale, margin=cfg.loss.margin).to(device)
    head = make_head(plan, data.train.num_groups, model.dim).to(device) if plan.head else None
    terms: list[LossTerm] = []
    if cfg.loss.center_loss:
        terms.append(CenterLoss(data.train.num_groups, model.dim, cfg.loss.center_loss).to(device))
    if cfg.loss.orthogonal:
        terms.append(OrthogonalPenalty(head, cfg.loss.orthogonal))
    if teacher is not None:
        terms.append(DistillationTerm(model.dim, teacher.dim, cfg.distil.distil_weight,
                                      cfg.distil.distil_objective).to(device))
    parts = Trainable(model, loss, head, terms)
    if head is not None and head.sparse:  # its ~100 MB temporaries are faulted in afresh each step otherwise:
        keep_freed_memory()  # half the step time (not for the dense head: its GB-sized ones fragment the heap)
    parts.optimizer = make_optimizers(plan, parts)
    if distributed.rank():  # the same start everywhere; then each process its own dropout and samples
        torch.manual_seed(cfg.optim.seed + 7919 * distributed.rank())
    return parts


def make_head(plan: RunPlan, num_classes: int, dim: int) -> nn.Module:
    loss = plan.cfg.loss
    if plan.head == "sharded":
        shards = distributed.world_size()
        if num_classes < shards:
            raise SamesenseError(f"{num_classes} groups cannot be split over {shards} processes")
        return ShardedCosineHead(num_classes, dim, loss.sample_rate, distributed.rank(), shards, loss.head_precision)
    if plan.head == "sampled":
        return SampledCosineHead(num_classes, dim, loss.sample_rate, loss.head_precision)
    return CosineHead(num_classes, dim, loss.head_precision)


def make_optimizers(plan: RunPlan, parts: Trainable) -> Optimizers:
    """Adam over the encoder, the loss's and the terms' parameters at the encoder's rate, and the
    groups the head declares at the centres' rate (a dense head's centres; a sparse head's go to
    their own optimizer, which updates only the rows a step read)."""
    head, lr, head_lr = parts.head, plan.lr, plan.head_lr
    if head_lr == lr:
        groups = one_group_as_before([parts.model, head if head is not None and not head.sparse else None,
                                      parts.loss, *parts.terms], lr)
    else:
        body = [p for module in (parts.model, parts.loss, *parts.terms) for p in module.parameters() if p.requires_grad]
        groups = [{"params": body, "lr": lr, "base_lr": lr}, *(head.param_groups(head_lr) if head is not None else [])]
    sparse = head is not None and head.sparse
    return Optimizers(torch.optim.Adam(groups),
                      head.sparse_optimizer(head_lr, plan.cfg.optim.centres_optimizer) if sparse else None)


def epoch_batches(cfg: TrainConfig, data: TrainData, loss: Loss, epoch: int) -> list[np.ndarray]:
    """The rows of every batch of an epoch: a function of (seed, epoch) only, so a resumed run
    sees the same batches."""
    if loss.batching == "groups":
        return group_batches(data.train.labels, cfg.optim.batch_size, cfg.loss.per_group or loss.per_group,
                             cfg.optim.seed, epoch, data.hard_negatives)
    batches = sentence_batches(len(data.train), cfg.optim.batch_size, cfg.optim.seed, epoch)
    if len(data.unlabeled_rows):  # each batch also takes the next unlabeled sentences, round and round
        extra = cfg.distil.unlabeled_per_batch or cfg.optim.batch_size
        order = data.unlabeled_rows[np.random.default_rng([cfg.optim.seed, epoch, 1]).permutation(len(data.unlabeled_rows))]
        batches = [np.concatenate([rows, order[np.arange(step * extra, (step + 1) * extra) % len(order)]])
                   for step, rows in enumerate(batches)]
    return batches


@torch.no_grad()
def start_centres_at_means(parts: Trainable, data: TrainData, batch_size: int, show_progress: bool = False) -> None:
    """Each class centre starts at its group's mean vector by the untrained encoder (a pretrained
    one's vectors already rank well: random centres would first pull them apart). A pretrained
    transformer takes minutes over a big training set: the bar shows it."""
    rows = np.flatnonzero(data.row_labels >= 0)  # group sentences: hard negatives and unlabeled have none
    vectors = parts.model.encode([data.row_texts[i] for i in rows], batch_size, show_progress=show_progress)
    means = class_centroids(vectors, data.row_labels[rows], data.train.num_groups)
    weight = parts.head.weight
    first = getattr(parts.head, "first", 0)  # a process's share of the centres starts here
    weight.copy_(torch.from_numpy(means[first: first + len(weight)]).to(weight))


def make_batch(parts: Trainable, data: TrainData, labels: torch.Tensor, rows: np.ndarray, device: str,
               teacher: Taught | None = None) -> Batch:
    features = parts.model.features([data.token_ids[i] for i in rows], device)
    taught = torch.from_numpy(teacher.vectors[rows]).to(device) if teacher is not None else None
    return Batch(rows=rows, features=features, labels=labels[rows].to(device), teacher=taught)


def train_step(parts: Trainable, pieces: list[Batch]) -> tuple[float, int, int]:
    """One optimizer step over a batch given in pieces (one, unless gradients are accumulated: each
    piece's loss weighted by its share of the rows, so the gradients sum to the whole batch's);
    returns (loss, correct, counted) for the progress bar."""
    parts.optimizer.zero_grad(set_to_none=True)
    rows = sum(len(piece) for piece in pieces)
    value, correct, counted = 0.0, 0, 0
    for batch in pieces:
        batch.embeddings = parts.model(batch.features)
        if parts.head is not None:  # over the rows of a group: unlabeled ones (label < 0) have no class
            labelled = batch.labels >= 0
            batch.logits, batch.targets = parts.head(batch.embeddings[labelled], batch.labels[labelled])
            batch.sharded = parts.head.sharded
        loss = parts.loss(batch)
        for term in parts.terms:
            loss = loss + term(batch)
        (loss * (len(batch) / rows) if len(pieces) > 1 else loss).backward()
        value += loss.item() * len(batch) / rows
        hits = training_hits(batch)
        correct, counted = correct + hits[0], counted + hits[1]
    distributed.sum_gradients([parts.model, parts.loss, *parts.terms])  # the replicated parts
    parts.optimizer.step()
    return value, correct, counted


def training_hits(batch: Batch) -> tuple[int, int]:
    """Training accuracy of a batch: the head's best class, or else whether each group sentence's
    nearest neighbour in the batch is of its group."""
    if batch.sharded:  # every process's rows, against classes split between processes
        return distributed.sharded_hits(batch.logits, batch.targets), len(batch.targets)
    if batch.logits is not None:  # the margin loss noted whether each target's cosine is the row's best
        return int(batch.hits.sum()), len(batch.hits)
    z, labels = batch.embeddings.detach(), batch.labels
    sims = z @ z.t()
    sims.fill_diagonal_(float("-inf"))
    nearest = labels[sims.argmax(1)]
    same = labels[:, None] == labels[None, :]
    counted = (labels >= 0) & (same.sum(1) > 1)
    return int(((nearest == labels) & counted).sum()), int(counted.sum())
