"""A component with tensors: an nn.Module that saves its state_dict as safetensors beside its
config, and loads it back without unpickling anything."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ..components import WEIGHTS, Component, build
from ..errors import SamesenseError

Features = dict[str, torch.Tensor]


class TorchComponent(nn.Module, Component):
    def forward(self, features: Features) -> Features:
        """Read some features, add or replace others, return the dict."""
        raise NotImplementedError

    def save(self, folder: Path) -> None:
        super().save(folder)
        state = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        if state:
            save_file(state, str(folder / WEIGHTS))

    @classmethod
    def load(cls, folder: Path, config: dict) -> "TorchComponent":
        component = build(cls, config, folder)
        if not component.state_dict():
            return component
        if not (folder / WEIGHTS).is_file():
            raise SamesenseError(f"{folder}: incomplete model folder ({WEIGHTS} missing)")
        component.load_weights(folder / WEIGHTS)
        return component

    def load_weights(self, path: Path) -> None:
        try:
            self.load_state_dict(load_file(str(path)))
        except Exception as err:  # safetensors raises its own error types for damaged files
            raise SamesenseError(f"{path}: cannot load weights ({err})") from None
