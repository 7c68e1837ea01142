"""Every loss against a slow, obviously-correct reference (value and gradient), then learning."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from samesense.train.batch import Batch
from samesense.errors import SamesenseError
from samesense.train.heads import CosineHead
from samesense.losses import (LOSSES, AAMSoftmaxLoss, AMSoftmaxLoss, ASoftmaxLoss, BatchHardTripletLoss,
                              CenterLoss, InBatchContrastiveLoss, MarginSoftmaxLoss, OrthogonalPenalty,
                              PairClassificationLoss, SimplerASoftmaxLoss, chebyshev, make_loss,
                              orthogonal_penalty)
from samesense.losses import pairwise


def head_batch(logits, targets):
    """A Batch as the step hands it to a margin loss: the head's cosines and target columns."""
    return Batch(rows=np.arange(len(targets)), features={}, labels=targets, logits=logits, targets=targets)


def vector_batch(z, labels):
    """A Batch as the step hands it to an embedding loss or a term: unit vectors and group labels."""
    return Batch(rows=np.arange(len(labels)), features={}, labels=labels, embeddings=z)

# ---------------------------------------------------------------------------------------------
# The margin-softmax family: psi written from the papers' angle definitions, a one-hot matrix,
# a textbook softmax cross-entropy.


def psi_from_angle(loss, cos_t):
    theta = torch.acos(cos_t)
    if isinstance(loss, AMSoftmaxLoss):
        return cos_t - loss.margin
    if isinstance(loss, AAMSoftmaxLoss):
        m = loss.margin
        return torch.stack([torch.cos(t + m) if t + m <= math.pi else torch.cos(t) - m * math.sin(m)
                            for t in theta])
    if isinstance(loss, ASoftmaxLoss):
        m, lam = loss.margin, loss.current_lambda()
        k = torch.floor(m * theta / math.pi)
        psi = (-1.0) ** k * torch.cos(m * theta) - 2 * k
        return (lam * cos_t + psi) / (1 + lam)
    if isinstance(loss, SimplerASoftmaxLoss):
        return torch.minimum(cos_t, torch.cos(loss.margin * theta))
    return cos_t


def dense_reference(loss, cos, labels):
    one_hot = torch.zeros_like(cos)
    for row, label in enumerate(labels.tolist()):
        one_hot[row, label] = 1.0
    psi = psi_from_angle(loss, (cos * one_hot).sum(1))
    logits = loss.scale * (cos * (1 - one_hot) + psi[:, None] * one_hot)
    log_probs = logits - torch.log(torch.exp(logits).sum(dim=1, keepdim=True))
    return -(one_hot * log_probs).sum(dim=1).mean()


MARGIN_LOSSES = [MarginSoftmaxLoss(scale=30.0), AMSoftmaxLoss(scale=30.0, margin=0.35),
                 AMSoftmaxLoss(scale=10.0, margin=0.1), AAMSoftmaxLoss(scale=30.0, margin=0.5),
                 AAMSoftmaxLoss(scale=16.0, margin=1.2), ASoftmaxLoss(scale=30.0, margin=4),
                 ASoftmaxLoss(scale=30.0, margin=2, lambda_base=0.0, lambda_min=0.0),
                 SimplerASoftmaxLoss(scale=30.0)]


@pytest.mark.parametrize("loss", MARGIN_LOSSES, ids=lambda loss: f"{loss.name}({loss.extra_repr()})")
def test_margin_loss_and_gradient_match_dense_reference(loss):
    torch.manual_seed(0)
    head = CosineHead(50, 16).double()
    z = F.normalize(torch.randn(32, 16, dtype=torch.float64), dim=-1).requires_grad_()
    labels = torch.randint(0, 50, (32,))
    loss.eval()  # A-Softmax: no step counting while we compare

    logits, targets = head(z, labels)
    assert targets is labels
    value = loss(head_batch(logits, targets))
    grad_z, grad_w = torch.autograd.grad(value, [z, head.weight])
    ref = dense_reference(loss, head(z, labels)[0], labels)
    ref_z, ref_w = torch.autograd.grad(ref, [z, head.weight])

    assert torch.allclose(value, ref, atol=1e-9)
    assert torch.allclose(grad_z, ref_z, atol=1e-8)
    assert torch.allclose(grad_w, ref_w, atol=1e-8)


@pytest.mark.parametrize("loss", MARGIN_LOSSES, ids=lambda loss: loss.name)
def test_margin_losses_stable_at_extreme_cosines(loss):
    cos = torch.tensor([[1.0, -1.0, 1.0], [-1.0, -1.0, -1.0], [0.0, 1.0, -1.0]], requires_grad=True)
    value = loss(head_batch(cos, torch.tensor([1, 0, 2])))
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(cos.grad).all()


@pytest.mark.parametrize("loss", [AMSoftmaxLoss(scale=30.0), AMSoftmaxLoss(scale=200.0)], ids=["s30", "s200"])
def test_margin_loss_where_exp_of_s_times_cos_minus_1_underflows(loss):
    """The log-sum-exp is shifted by s (no logit exceeds it); where exp(s * (l - 1)) underflows for
    a whole row (s = 200, every cosine <= -0.5, in float32) it must shift by the row maxima instead."""
    torch.manual_seed(0)
    cos = (-0.5 - 0.5 * torch.rand(8, 20)).requires_grad_()
    labels = torch.randint(0, 20, (8,))
    value = loss(head_batch(cos, labels))
    grad, = torch.autograd.grad(value, [cos])
    wide = cos.detach().double().requires_grad_()
    ref = dense_reference(loss, wide, labels)
    ref_grad, = torch.autograd.grad(ref, [wide])
    assert torch.isfinite(value) and torch.isfinite(grad).all()
    assert abs(value.item() - ref.item()) < 1e-3 * max(1.0, abs(ref.item()))
    assert torch.allclose(grad.double(), ref_grad, atol=1e-5)


@pytest.mark.parametrize("s200", [False, True], ids=["shift-s", "shift-row-maxima"])
def test_bfloat16_cosines_keep_their_gradient_in_bfloat16_and_the_target_term_in_float32(s200):
    """Cosines in bfloat16 (--head-precision) keep the (batch, classes) exponentials and the
    gradient in it, but each row's target and sum in float32: the target's gradient s*(p_t - 1)/n
    stays accurate where p_t is within 1e-3 of 1, which a bfloat16 p_t (3 digits) would round to 0."""
    torch.manual_seed(0)
    loss = AMSoftmaxLoss(scale=200.0 if s200 else 30.0)
    # the others' logits at least 15 (s30) or 20 (s200) under the target's psi = cos_t - 0.35; with
    # s200 every exp(s * (l - 1)) underflows, so the rows' maxima shift them
    low, high, target = (-0.75, -0.7, -0.25) if s200 else (0.0, 0.15, 1.0)
    cos = (low + (high - low) * torch.rand(8, 3000)).to(torch.bfloat16)
    labels = torch.randint(0, 3000, (8,))
    cos[torch.arange(8), labels] = target
    cos.requires_grad_()
    value = loss(head_batch(cos, labels))
    grad, = torch.autograd.grad(value, [cos])
    wide = cos.detach().double().requires_grad_()
    ref = dense_reference(loss, wide, labels)
    ref_grad, = torch.autograd.grad(ref, [wide])
    assert grad.dtype == torch.bfloat16 and value.dtype == torch.float32
    assert abs(value.item() - ref.item()) < 1e-5  # log(total) + shift - s * psi: absolute precision
    target, ref_target = grad[torch.arange(8), labels].double(), ref_grad[torch.arange(8), labels]
    assert (ref_target.abs() < 1e-3 * loss.scale / 8).all()  # p_t - 1 is small: the case in question
    assert torch.allclose(target, ref_target, rtol=2e-2, atol=0)
    assert torch.allclose(grad.double(), ref_grad, rtol=2e-2, atol=1e-9)


def test_psi_curves_are_below_cosine_and_arcface_never_rises():
    theta = torch.linspace(0.0, math.pi, 2001, dtype=torch.float64)
    cos = torch.cos(theta)
    for loss in (AMSoftmaxLoss(), AAMSoftmaxLoss(), ASoftmaxLoss(lambda_base=0.0, lambda_min=0.0)):
        psi = loss.target_logit(cos)
        assert (psi <= cos + 1e-12).all(), loss.name
        assert (psi[1:] <= psi[:-1] + 1e-9).all(), f"{loss.name} must decrease with the angle"


def test_chebyshev_is_the_multiple_angle_formula():
    theta = torch.linspace(0, math.pi, 50, dtype=torch.float64)
    for m in range(6):
        assert torch.allclose(chebyshev(torch.cos(theta), m), torch.cos(m * theta), atol=1e-12)
    c = torch.cos(theta)
    assert torch.allclose(chebyshev(c, 4), 8 * c**4 - 8 * c**2 + 1)


def test_a_softmax_lambda_anneals_with_training_steps():
    loss = ASoftmaxLoss(lambda_base=1000.0, lambda_gamma=0.12, lambda_min=5.0)
    assert loss.current_lambda() == 1000.0
    cos, labels = torch.rand(4, 3), torch.tensor([0, 1, 2, 0])
    loss.train()
    for _ in range(10):
        loss(head_batch(cos, labels))
    assert int(loss.step) == 10 and loss.current_lambda() == pytest.approx(1000.0 / 2.2)
    assert loss.log_values() == {"a_softmax_lambda": loss.current_lambda()}
    loss.step.fill_(100_000)
    assert loss.current_lambda() == 5.0 and loss.log_values() == {"a_softmax_lambda": 5.0}
    loss.eval()
    loss(head_batch(cos, labels))
    assert int(loss.step) == 100_000  # evaluation does not advance the schedule
    assert "step" in loss.state_dict()  # so a resumed run keeps its place


def test_margin_raises_the_loss_of_a_correct_prediction():
    cos = torch.tensor([[0.9, 0.2, 0.1]])
    labels = torch.tensor([0])
    base = MarginSoftmaxLoss()(head_batch(cos, labels))
    for loss in (AMSoftmaxLoss(), AAMSoftmaxLoss(), SimplerASoftmaxLoss()):
        assert loss(head_batch(cos, labels)) > base, loss.name
        assert loss.log_values() == {}


def test_head_gives_cosines_and_targets():
    head = CosineHead(5, 4)
    z = F.normalize(torch.randn(3, 4), dim=-1)
    labels = torch.tensor([4, 0, 2])
    cos, targets = head(z, labels)
    assert cos.shape == (3, 5) and cos.abs().max() <= 1.0 + 1e-6
    assert torch.allclose(cos, F.cosine_similarity(z[:, None], head.weight[None], dim=-1), atol=1e-6)
    assert torch.allclose(cos, z @ head.centres().t(), atol=1e-6)
    assert torch.equal(targets, labels)  # every class is scored, so a row's column is its label


# ---------------------------------------------------------------------------------------------
# Losses over batches of groups. Batch: groups 0, 1, 2 with 2, 3 and 2 sentences; two hard
# negatives (labels < 0).

BATCH_LABELS = torch.tensor([0, 0, 1, 1, 1, 2, 2, -1, -2])


def batch_vectors(seed=0):
    torch.manual_seed(seed)
    return F.normalize(torch.randn(len(BATCH_LABELS), 8, dtype=torch.float64), dim=-1).requires_grad_()


def contrastive_reference(z, labels, scale, symmetric):
    labels = labels.tolist()
    anchors, positives = [], []
    for g in sorted({l for l in labels if l >= 0}):
        rows = [i for i, l in enumerate(labels) if l == g]
        anchors.append(rows[0])
        positives.append(rows[1])
    candidates = [i for i in range(len(labels)) if i not in anchors]
    terms = []
    for a, p in zip(anchors, positives):
        allowed = [c for c in candidates if c == p or labels[c] != labels[a]]
        logits = torch.stack([scale * torch.dot(z[a], z[c]) for c in allowed])
        terms.append(torch.logsumexp(logits, 0) - scale * torch.dot(z[a], z[p]))
    loss = torch.stack(terms).mean()
    if symmetric:
        back = []
        for a, p in zip(anchors, positives):
            logits = torch.stack([scale * torch.dot(z[p], z[b]) for b in anchors])
            back.append(torch.logsumexp(logits, 0) - scale * torch.dot(z[p], z[a]))
        loss = (loss + torch.stack(back).mean()) / 2
    return loss


def triplet_reference(z, labels, margin):
    labels = labels.tolist()
    terms = []
    for i, li in enumerate(labels):
        if li < 0:
            continue
        pos = [1 - torch.dot(z[i], z[j]) for j, lj in enumerate(labels) if lj == li and j != i]
        neg = [1 - torch.dot(z[i], z[j]) for j, lj in enumerate(labels) if lj != li]
        if pos and neg:
            terms.append(torch.clamp(max(pos) - min(neg) + margin, min=0))
    return torch.stack(terms).mean()


def pair_reference(z, labels, negatives, classifier):
    terms = []
    labels_list = labels.tolist()
    seen = {}
    for row, label in enumerate(labels_list):
        if label >= 0 and label in seen and seen[label] is not None:
            a = seen[label]
            seen[label] = None
            for other, target in ((row, 1.0), (negatives[a], 0.0)):
                u, v = z[a], z[other]
                logit = classifier(torch.cat([(u - v).abs(), u * v]))[0]
                p = 1 / (1 + torch.exp(-logit))
                terms += [-(target * torch.log(p) + (1 - target) * torch.log(1 - p))]
        elif label >= 0 and label not in seen:
            seen[label] = row
    return torch.stack(terms).mean()


@pytest.mark.parametrize("symmetric", [True, False])
def test_contrastive_matches_reference(symmetric):
    z = batch_vectors()
    loss = InBatchContrastiveLoss(scale=20.0, symmetric=symmetric)
    value = loss(vector_batch(z, BATCH_LABELS))
    ref = contrastive_reference(z, BATCH_LABELS, 20.0, symmetric)
    assert torch.allclose(value, ref, atol=1e-10)
    assert torch.allclose(torch.autograd.grad(value, z)[0], torch.autograd.grad(ref, z)[0], atol=1e-10)


def test_triplet_matches_reference():
    z = batch_vectors(1)
    value = BatchHardTripletLoss(margin=0.3)(vector_batch(z, BATCH_LABELS))
    ref = triplet_reference(z, BATCH_LABELS, 0.3)
    assert torch.allclose(value, ref, atol=1e-10)
    assert torch.allclose(torch.autograd.grad(value, z)[0], torch.autograd.grad(ref, z)[0], atol=1e-10)
    single_group = torch.tensor([3, 3, 3])
    assert BatchHardTripletLoss()(vector_batch(z[:3], single_group)) == 0.0


def test_pair_classification_matches_reference(monkeypatch):
    z = batch_vectors(2)
    fixed = torch.tensor([2, 3, 4, 5, 6, 7, 8, 0, 1])  # row i's negative: a row of another group
    monkeypatch.setattr(pairwise, "random_negatives", lambda labels, rows: fixed[rows])
    loss = PairClassificationLoss(dim=8).double()
    value = loss(vector_batch(z, BATCH_LABELS))
    ref = pair_reference(z, BATCH_LABELS, fixed.tolist(), loss.classifier)
    assert torch.allclose(value, ref, atol=1e-10)
    params = [z, loss.classifier.weight]
    for got, want in zip(torch.autograd.grad(value, params, retain_graph=True), torch.autograd.grad(ref, params)):
        assert torch.allclose(got, want, atol=1e-10)


def test_random_negatives_are_always_another_group():
    torch.manual_seed(0)
    rows = torch.arange(len(BATCH_LABELS))
    for _ in range(50):
        negatives = pairwise.random_negatives(BATCH_LABELS, rows)
        assert (BATCH_LABELS[negatives] != BATCH_LABELS[rows]).all()


# ---------------------------------------------------------------------------------------------
# Regularisers


def test_center_loss_matches_reference():
    torch.manual_seed(0)
    center = CenterLoss(3, 8, weight=0.5).double()
    with torch.no_grad():
        center.centres.normal_()
    z = batch_vectors()
    value = center(vector_batch(z, BATCH_LABELS))
    terms = [0.5 * ((z[i] - center.centres[l]) ** 2).sum() for i, l in enumerate(BATCH_LABELS.tolist()) if l >= 0]
    ref = 0.5 * torch.stack(terms).mean()
    assert torch.allclose(value, ref, atol=1e-12)
    params = [z, center.centres]
    for got, want in zip(torch.autograd.grad(value, params), torch.autograd.grad(ref, params)):
        assert torch.allclose(got, want, atol=1e-12)


def test_orthogonal_penalty_matches_the_full_gram_matrix():
    torch.manual_seed(0)
    weight = torch.randn(40, 6, dtype=torch.float64, requires_grad=True)
    centres = F.normalize(weight, dim=-1)
    value = orthogonal_penalty(centres, beta=1e-2)
    gram = centres @ centres.t()
    ref = 1e-2 * (gram * (1 - torch.eye(40, dtype=torch.float64))).pow(2).sum()
    assert torch.allclose(value, ref, atol=1e-9)
    got = torch.autograd.grad(value, weight, retain_graph=True)[0]
    assert torch.allclose(got, torch.autograd.grad(ref, weight)[0], atol=1e-9)


def test_orthogonal_penalty_term_reads_the_head_centres():
    torch.manual_seed(0)
    head = CosineHead(40, 6).double()
    term = OrthogonalPenalty(head, beta=1e-2)
    assert list(term.parameters()) == []  # the head's weight is the head's, not the term's
    value = term(vector_batch(batch_vectors(), BATCH_LABELS))
    gram = head.centres() @ head.centres().t()
    ref = 1e-2 * (gram * (1 - torch.eye(40, dtype=torch.float64))).pow(2).sum()
    assert torch.allclose(value, ref, atol=1e-9)
    assert torch.allclose(value, orthogonal_penalty(head.centres(), 1e-2))
    grad = torch.autograd.grad(value, head.weight, retain_graph=True)[0]
    assert torch.allclose(grad, torch.autograd.grad(ref, head.weight)[0], atol=1e-9)


def test_center_loss_skips_hard_negatives():
    center = CenterLoss(3, 8, weight=1.0).double()
    z = batch_vectors()
    only_negatives = torch.tensor([-1, -2, -3])
    assert center(vector_batch(z[:3], only_negatives)) == 0.0
    with torch.no_grad():
        center.centres[0] = z[0]
        center.centres[1] = z[2]
    both = torch.tensor([0, -1, 1])  # row 1 is a hard negative: it pulls on no centre
    assert torch.allclose(center(vector_batch(z[:3], both)), torch.zeros((), dtype=torch.float64))


def test_registry_and_settings():
    assert set(LOSSES) == {"softmax", "am-softmax", "aam-softmax", "a-softmax", "simpler-a-softmax",
                           "contrastive", "triplet", "pair"}
    assert make_loss("am-softmax", scale=None, margin=0.2).margin == 0.2
    assert make_loss("am-softmax").margin == 0.35 and make_loss("softmax").scale == 30.0
    assert make_loss("pair", dim=12).classifier.in_features == 24
    assert make_loss("am-softmax", dim=12).margin == 0.35  # dim goes only to losses that take it
    for name, cls in LOSSES.items():
        margin_family = issubclass(cls, MarginSoftmaxLoss)
        assert cls.needs_head == margin_family, name
        assert cls.batching == ("sentences" if margin_family else "groups"), name
    assert not hasattr(MarginSoftmaxLoss, "uses_head") and not hasattr(PairClassificationLoss, "needs_dim")
    with pytest.raises(SamesenseError, match="unknown loss"):
        make_loss("hinge")
    with pytest.raises(SamesenseError, match="integer margin"):
        make_loss("a-softmax", margin=2.5)
    with pytest.raises(SamesenseError, match="bad settings for loss 'triplet'"):
        make_loss("triplet", scale=3.0)
