"""The heads: dense centres, a sample of them each step (Partial FC), this process's share."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from samesense.train.batch import Batch
from samesense.train.heads import CosineHead, SampledCosineHead, uniform_sample
from samesense.losses import AMSoftmaxLoss, AAMSoftmaxLoss, MarginSoftmaxLoss, SimplerASoftmaxLoss
from samesense.train.optim import Optimizers, RowAdam, RowwiseRMSprop


def margin_value(loss, logits, targets):
    return loss(Batch(rows=np.arange(len(targets)), features={}, labels=targets, logits=logits, targets=targets))


@pytest.mark.parametrize("loss", [MarginSoftmaxLoss(), AMSoftmaxLoss(), AAMSoftmaxLoss(), SimplerASoftmaxLoss()],
                         ids=lambda loss: loss.name)
def test_sampled_loss_equals_the_dense_loss_at_rate_1(loss):
    torch.manual_seed(0)
    dense = CosineHead(40, 8).double()
    sampled = SampledCosineHead(40, 8, sample_rate=1.0).double()
    sampled.weight.data.copy_(dense.weight.data)
    z = F.normalize(torch.randn(24, 8, dtype=torch.float64), dim=-1).requires_grad_()
    labels = torch.randint(0, 40, (24,))

    value = margin_value(loss, *dense(z, labels))
    grad_z, grad_w = torch.autograd.grad(value, [z, dense.weight])
    sampled_value = margin_value(loss, *sampled(z, labels))
    sampled_z, sampled_w = torch.autograd.grad(sampled_value, [z, sampled.weight])

    assert sampled_w.is_sparse  # the gradient names the rows it touches
    assert torch.allclose(value, sampled_value, atol=1e-12)
    assert torch.allclose(grad_z, sampled_z, atol=1e-12)
    assert torch.allclose(grad_w, sampled_w.to_dense(), atol=1e-12)


def test_a_sample_holds_every_positive_and_the_rate_of_all_classes():
    head = SampledCosineHead(1000, 4, sample_rate=0.1)
    labels = torch.tensor([3, 3, 997, 500, 12])
    torch.manual_seed(1)
    index = head.sampled(labels)
    assert len(index) == math.ceil(0.1 * 1000) and index.unique().numel() == len(index)
    assert set(labels.tolist()) <= set(index.tolist()) and torch.equal(index, index.sort().values)
    # the draw is torch's generator: the same state (as a checkpoint restores it) draws the same classes
    z = F.normalize(torch.randn(5, 4), dim=-1)
    torch.manual_seed(1)
    logits, targets = head(z, labels)
    assert logits.shape == (5, 100) and torch.equal(index[targets], labels)
    # more positives than the rate: they alone are scored
    many = torch.arange(0, 1000, 5)
    assert torch.equal(head.sampled(many), many)



def test_the_other_classes_are_drawn_uniformly_without_replacement():
    """Each non-positive class is drawn with probability (keep - P) / (classes - P): the move past
    the positives neither favours nor skips the classes beside them."""
    classes, keep, positives = 12, 5, np.array([0, 4, 5, 11])
    counts = np.zeros(classes)
    torch.manual_seed(0)
    for _ in range(4000):
        drawn = uniform_sample(classes, keep, positives)
        assert len(drawn) == keep and np.all(np.diff(drawn) > 0) and np.isin(positives, drawn).all()
        counts[drawn] += 1
    others = np.setdiff1d(np.arange(classes), positives)
    assert np.all(counts[positives] == 4000)
    assert np.allclose(counts[others] / 4000, (keep - 4) / (classes - 4), atol=0.03)

def test_row_adam_leaves_the_centres_a_step_did_not_see_untouched():
    torch.manual_seed(0)
    head = SampledCosineHead(500, 6, sample_rate=0.02)
    optimizer = Optimizers(RowAdam(head.parameters(), lr=0.1))
    before = head.weight.detach().clone()
    z = F.normalize(torch.randn(4, 6), dim=-1)
    labels = torch.tensor([1, 2, 3, 4])
    seen = set()
    for _ in range(3):
        state = torch.get_rng_state()
        seen |= set(head.sampled(labels).tolist())
        torch.set_rng_state(state)
        optimizer.zero_grad()
        margin_value(AMSoftmaxLoss(), *head(z, labels)).backward()
        optimizer.step()
    changed = set(torch.nonzero((head.weight.detach() != before).any(1)).squeeze(1).tolist())
    assert changed and changed <= seen and len(seen) < 500 // 3
    moments = optimizer.parts[0].state[head.weight]["exp_avg"]
    assert set(torch.nonzero(moments.abs().sum(1)).squeeze(1).tolist()) == changed


def test_several_optimizers_save_and_load_as_one():
    a, b = torch.nn.Linear(3, 2), torch.nn.Embedding(10, 2, sparse=True)
    both = Optimizers(torch.optim.Adam(a.parameters()), RowAdam(b.parameters()))
    (a(torch.ones(1, 3)).sum() + b(torch.tensor([1, 4])).sum()).backward()
    both.step()
    saved = both.state_dict()
    assert sorted(saved["state"]) == [0, 1, 2] and [g["params"] for g in saved["param_groups"]] == [[0, 1], [2]]
    again = Optimizers(torch.optim.Adam(a.parameters()), RowAdam(b.parameters()))
    again.load_state_dict(saved)
    assert torch.equal(again.parts[1].state[b.weight]["exp_avg"], both.parts[1].state[b.weight]["exp_avg"])
    assert len(again.param_groups) == 2


def test_row_adam_makes_sparse_adams_updates():
    """RowAdam makes SparseAdam's updates with row gathers and the fused Adam kernel: the same
    moments, and weights equal but for where eps sits (a few parts in a million here), step after
    step, with rows repeated within a batch and rows left out."""
    torch.manual_seed(3)
    start = torch.randn(50, 8)
    ours, theirs = torch.nn.Embedding(50, 8, sparse=True), torch.nn.Embedding(50, 8, sparse=True)
    ours.weight.data.copy_(start)
    theirs.weight.data.copy_(start)
    row_adam, sparse_adam = RowAdam(ours.parameters(), lr=0.05), torch.optim.SparseAdam(list(theirs.parameters()), lr=0.05)
    for step in range(5):
        rows = torch.randint(0, 20, (12,))  # rows 20..49 never seen; repeats summed
        target = torch.randn(12, 8)
        for module, optimizer in ((ours, row_adam), (theirs, sparse_adam)):
            optimizer.zero_grad()
            ((module(rows) - target) ** 2).sum().backward()
            optimizer.step()
        torch.testing.assert_close(ours.weight, theirs.weight, rtol=1e-5, atol=1e-6)
    for slot in ("exp_avg", "exp_avg_sq"):
        torch.testing.assert_close(row_adam.state[ours.weight][slot], sparse_adam.state[theirs.weight][slot])
    assert row_adam.state[ours.weight]["step"] == 5
    assert torch.equal(ours.weight[20:], start[20:])


def test_rowwise_rmsprop_moves_each_seen_row_along_its_gradient_by_one_step_size():
    """Adam with beta1 = 0 and one second moment a row (the mean of its squared gradient),
    written out by hand: the same weights and state, step after step; unseen rows untouched."""
    torch.manual_seed(4)
    start = torch.randn(40, 6)
    module = torch.nn.Embedding(40, 6, sparse=True)
    module.weight.data.copy_(start)
    optimizer = RowwiseRMSprop(module.parameters(), lr=0.05, beta2=0.9)
    weight, second = start.double().clone(), torch.zeros(40, dtype=torch.float64)
    for step in range(1, 5):
        rows = torch.randint(0, 15, (10,))  # rows 15..39 never seen; repeats summed
        target = torch.randn(10, 6)
        optimizer.zero_grad()
        ((module(rows) - target) ** 2).sum().backward()
        optimizer.step()
        grad = torch.zeros(40, 6, dtype=torch.float64).index_add_(0, rows, 2 * (weight[rows] - target.double()))
        seen = rows.unique()
        second[seen] = 0.9 * second[seen] + 0.1 * grad[seen].pow(2).mean(1)
        size = 0.05 / ((second[seen] / (1 - 0.9 ** step)).sqrt() + 1e-8)
        weight[seen] -= size.unsqueeze(1) * grad[seen]
        torch.testing.assert_close(module.weight.detach(), weight.float(), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(optimizer.state[module.weight]["exp_avg_sq"], second.float())
    assert optimizer.state[module.weight]["step"] == 4 and set(optimizer.state[module.weight]) == {"step", "exp_avg_sq"}
    assert torch.equal(module.weight.detach()[15:], start[15:])


@pytest.mark.parametrize("make", [lambda params, **kw: RowAdam(params, lr=0.1, **kw),
                                  lambda params, **kw: RowwiseRMSprop(params, lr=0.1, **kw)],
                         ids=["adam", "rowwise"])
def test_the_optimizer_updates_the_rows_the_forward_read_as_it_would_read_them_again(make):
    """Given the head's take_gathered, the optimizer starts from the copy of the rows the forward
    pass read (not reading them again): the same updates as without it, the copy let go; with
    gradients of several forward passes summed (other rows than the last read), it reads them."""
    torch.manual_seed(0)
    ours, theirs = SampledCosineHead(300, 8, sample_rate=0.1), SampledCosineHead(300, 8, sample_rate=0.1)
    theirs.weight.data.copy_(ours.weight.data)
    taking = make(ours.parameters(), gathered=ours.take_gathered)
    reading = make(theirs.parameters())
    taken = []
    ours_take = ours.take_gathered
    taking.gathered = lambda p: taken.append(ours_take(p)) or taken[-1]
    for step in range(4):
        passes = 2 if step == 3 else 1
        z = F.normalize(torch.randn(8 * passes, 8), dim=-1)
        labels = torch.randint(0, 300, (8 * passes,))
        for head, optimizer in ((ours, taking), (theirs, reading)):
            torch.manual_seed(step)
            optimizer.zero_grad()
            for part in range(passes):
                rows = slice(8 * part, 8 * part + 8)
                margin_value(AMSoftmaxLoss(), *head(z[rows], labels[rows])).backward()
            optimizer.step()
        torch.testing.assert_close(ours.weight, theirs.weight, rtol=0, atol=0)
        assert ours.gathered is None
        index, copy = taken[-1]
        updated = torch.equal(copy, ours.weight.detach()[index])  # the copy is what was updated and written back
        assert updated == (passes == 1)


def test_sampled_cosines_and_their_gradient_equal_autograd_through_normalize():
    torch.manual_seed(0)
    head = SampledCosineHead(300, 8, sample_rate=0.2).double()
    z = F.normalize(torch.randn(16, 8, dtype=torch.float64), dim=-1).requires_grad_()
    labels = torch.randint(0, 300, (16,))
    upstream = torch.randn(16, 60, dtype=torch.float64)

    torch.manual_seed(1)
    cos, targets = head(z, labels)
    grad_z, grad_w = torch.autograd.grad(cos, [z, head.weight], upstream)
    torch.manual_seed(1)
    index = head.sampled(labels)
    reference = z @ F.normalize(F.embedding(index, head.weight), dim=-1).t()
    ref_z, ref_w = torch.autograd.grad(reference, [z, head.weight], upstream)

    assert torch.allclose(cos, reference, atol=1e-12) and torch.equal(index[targets], labels)
    assert torch.allclose(grad_z, ref_z, atol=1e-12)
    assert grad_w.is_sparse and torch.equal(grad_w._indices()[0], index)  # only the sampled rows, in order
    assert torch.allclose(grad_w.to_dense(), ref_w, atol=1e-12)


def test_sparse_rows_coalesces_only_a_gradient_out_of_order():
    from samesense.train.optim import sparse_rows

    ordered = torch.sparse_coo_tensor(torch.tensor([[1, 4, 7]]), torch.ones(3, 2), (9, 2), check_invariants=True)
    rows, values = sparse_rows(ordered)
    assert rows.tolist() == [1, 4, 7] and values.shape == (3, 2)
    repeated = torch.sparse_coo_tensor(torch.tensor([[7, 1, 7]]), torch.ones(3, 2), (9, 2), check_invariants=True)
    rows, values = sparse_rows(repeated)
    assert rows.tolist() == [1, 7] and values.tolist() == [[1.0, 1.0], [2.0, 2.0]]
    rows, values = sparse_rows(torch.tensor([[0.0, 0.0], [3.0, 1.0], [0.0, 0.0]]))  # a dense gradient
    assert rows.tolist() == [1] and values.tolist() == [[3.0, 1.0]]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_the_margin_loss_counts_the_training_hits_on_its_way_through_the_cosines(dtype):
    """The loss notes whether each row's target cosine is its largest (ties count, as the row
    maximum did): the same count as a pass of its own, on a dense head's transposed cosines too."""
    from samesense.train.step import training_hits

    torch.manual_seed(0)
    cos = torch.rand(64, 3000).mul_(2).sub_(1).to(dtype)
    targets = torch.randint(0, 3000, (64,))
    cos[:10, targets[:10]] = 1.0  # some certain hits
    cos[10:20] = cos[10:20].clamp_max(0.5)
    cos[torch.arange(10, 20), targets[10:20]] = 0.5  # ties with another class: hits
    for logits in (cos, cos.t().contiguous().t()):
        batch = Batch(rows=np.arange(64), features={}, labels=targets, logits=logits, targets=targets)
        AMSoftmaxLoss()(batch)
        expected = int((logits.gather(1, targets.view(-1, 1)).squeeze(1) >= logits.amax(1)).sum())
        assert batch.hits is not None and training_hits(batch) == (expected, 64) and expected >= 20


@pytest.mark.parametrize("make", [lambda p: CosineHead(200, 32, precision=p),
                                  lambda p: SampledCosineHead(200, 32, sample_rate=0.3, precision=p)],
                         ids=["dense", "sampled"])
def test_bfloat16_products_give_the_float32_loss_and_gradients_to_about_three_digits(make):
    """--head-precision bfloat16 takes the (batch x classes) products in bfloat16; the loss and the
    gradients of z and of the centres come out float32 and close to float32's."""
    torch.manual_seed(0)
    exact, low = make("float32"), make("bfloat16")
    low.weight.data.copy_(exact.weight.data)
    z = F.normalize(torch.randn(64, 32), dim=-1).requires_grad_()
    labels = torch.randint(0, 200, (64,))
    results = []
    for head in (exact, low):
        torch.manual_seed(1)  # the same sample of centres
        logits, targets = head(z, labels)
        value = margin_value(AMSoftmaxLoss(), logits, targets)
        grad_z, grad_w = torch.autograd.grad(value, [z, head.weight])
        results.append((logits, value, grad_z, grad_w.to_dense() if grad_w.is_sparse else grad_w))
    (logits, value, grad_z, grad_w), (low_logits, low_value, low_z, low_w) = results
    assert low_value.dtype == low_z.dtype == low_w.dtype == torch.float32
    assert not torch.equal(logits, low_logits.float())  # the products really were taken in bfloat16
    assert (logits - low_logits.float()).abs().max() < 1e-2  # 8 bits of mantissa: ~3 digits of a cosine
    assert abs(value.item() - low_value.item()) < 1e-2 * abs(value.item())
    for ours, reference in ((low_z, grad_z), (low_w, grad_w)):
        assert (ours - reference).norm() < 2e-2 * reference.norm()
    assert "precision=bfloat16" in repr(low)
