import pytest
import torch
import torch.nn.functional as F

from samesense.data import SamesenseError
from samesense.losses import LOSSES, AMSoftmaxLoss, CosineHead, MarginSoftmaxLoss, make_loss


def dense_reference(cos, labels, scale, margin):
    """Slow and obvious: a one-hot matrix and a textbook softmax cross-entropy."""
    one_hot = torch.zeros_like(cos)
    for row, label in enumerate(labels.tolist()):
        one_hot[row, label] = 1.0
    logits = scale * (cos - margin * one_hot)
    log_probs = logits - torch.log(torch.exp(logits).sum(dim=1, keepdim=True))
    return -(one_hot * log_probs).sum(dim=1).mean()


@pytest.mark.parametrize("loss, margin", [(MarginSoftmaxLoss(scale=30.0), 0.0),
                                          (AMSoftmaxLoss(scale=30.0, margin=0.35), 0.35),
                                          (AMSoftmaxLoss(scale=10.0, margin=0.1), 0.1)])
def test_sparse_loss_and_gradient_match_dense_reference(loss, margin):
    torch.manual_seed(0)
    head = CosineHead(50, 16).double()
    z = F.normalize(torch.randn(8, 16, dtype=torch.float64), dim=-1).requires_grad_()
    labels = torch.randint(0, 50, (8,))

    value = loss(head(z), labels)
    grad_z, grad_w = torch.autograd.grad(value, [z, head.weight])
    ref = dense_reference(head(z), labels, loss.scale, margin)
    ref_z, ref_w = torch.autograd.grad(ref, [z, head.weight])

    assert torch.allclose(value, ref, atol=1e-10)
    assert torch.allclose(grad_z, ref_z, atol=1e-10)
    assert torch.allclose(grad_w, ref_w, atol=1e-10)


def test_stable_at_extreme_cosines():
    cos = torch.tensor([[1.0, -1.0, 1.0], [-1.0, -1.0, -1.0]], requires_grad=True)
    value = AMSoftmaxLoss(scale=64.0)(cos, torch.tensor([1, 0]))
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(cos.grad).all()


def test_margin_raises_the_loss_of_a_correct_prediction():
    cos = torch.tensor([[0.9, 0.2, 0.1]])
    labels = torch.tensor([0])
    assert AMSoftmaxLoss()(cos, labels) > MarginSoftmaxLoss()(cos, labels)


def test_head_gives_cosines():
    head = CosineHead(5, 4)
    z = F.normalize(torch.randn(3, 4), dim=-1)
    cos = head(z)
    assert cos.shape == (3, 5) and cos.abs().max() <= 1.0 + 1e-6
    assert torch.allclose(cos, F.cosine_similarity(z[:, None], head.weight[None], dim=-1), atol=1e-6)


def test_registry():
    assert set(LOSSES) >= {"softmax", "am-softmax"}
    assert make_loss("am-softmax", scale=None, margin=0.2).margin == 0.2
    assert make_loss("am-softmax").margin == 0.35 and make_loss("softmax").scale == 30.0
    with pytest.raises(SamesenseError, match="unknown loss"):
        make_loss("hinge")
