import torch
from torch import nn

from samesense.train.monitor import top_singular_values, weight_spectra


def test_power_iteration_finds_the_top_singular_values():
    torch.manual_seed(0)
    u, _ = torch.linalg.qr(torch.randn(500, 20))
    v, _ = torch.linalg.qr(torch.randn(20, 20))
    s = torch.tensor([9.0, 5.0, 3.0] + [1.0] * 17)
    matrix = u @ torch.diag(s) @ v.t()
    assert torch.allclose(torch.tensor(top_singular_values(matrix, 3)), s[:3], atol=1e-4)


def test_spectra_of_module_weights_leave_the_rng_alone():
    torch.manual_seed(1)
    module = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2))
    centres = torch.randn(30, 4)
    state = torch.get_rng_state()
    spectra = weight_spectra({"net": module, "centres": centres})
    assert torch.equal(state, torch.get_rng_state())
    assert set(spectra) == {"net.0.weight", "net.2.weight", "centres"}
    assert len(spectra["net.0.weight"]) == 3 and len(spectra["net.2.weight"]) == 2
    expected = torch.linalg.svdvals(module[0].weight.detach())[:3]
    assert torch.allclose(torch.tensor(spectra["net.0.weight"]), expected, atol=1e-4)
