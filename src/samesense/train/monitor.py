"""Singular values of weight matrices, watched during training as BigGAN does to spot collapse:
a class-centre matrix whose top singular value runs away from the rest is collapsing."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def top_singular_values(matrix: torch.Tensor, k: int = 3, iterations: int = 30) -> list[float]:
    """The k largest singular values by subspace (block power) iteration: cheap for a tall
    classes x dim matrix, where a full SVD would not be. A fixed generator keeps the training RNG
    untouched (a resumed run must draw the same numbers)."""
    matrix = matrix.detach().float().reshape(matrix.shape[0], -1)
    k = min(k, *matrix.shape)
    generator = torch.Generator(device="cpu").manual_seed(0)
    basis = torch.randn(matrix.shape[1], k, generator=generator).to(matrix.device)
    for _ in range(iterations):
        basis, _ = torch.linalg.qr(matrix.t() @ (matrix @ basis))
    return torch.linalg.svdvals(matrix @ basis).tolist()


def weight_spectra(modules: dict[str, nn.Module | torch.Tensor], k: int = 3) -> dict[str, list[float]]:
    """Top-k singular values of every 2-D weight of the given modules (or of a given matrix)."""
    spectra = {}
    for prefix, module in modules.items():
        if isinstance(module, torch.Tensor):
            spectra[prefix] = top_singular_values(module, k)
            continue
        for name, param in module.named_parameters():
            if param.dim() == 2:
                spectra[f"{prefix}.{name}"] = top_singular_values(param, k)
    return spectra
