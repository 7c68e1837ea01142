"""A component with tensors: an nn.Module that saves its state_dict as safetensors beside its
config, and loads it back without unpickling anything.

Loading checks before it allocates: the settings (components.build), then the tensor shapes they
imply (`weight_shapes`, worked out without building anything) against the shapes in the weights
file's header (read without the tensors). Only when they agree is the module built.

An encoder that `samesense train --encoder NAME` builds is an `Encoder`: besides its settings and
bounds, it says how it is made from the run's model settings (train/config.py: ModelConfig, read
by name: nothing here imports training), what it refuses there, the tokenizer it reads and its
default pooling. So a new encoder is its own module and one line in encoders/__init__.py's ENCODERS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from ..components import CONFIG, WEIGHTS, Component, build, settings_problem, with_defaults
from ..errors import SamesenseError
from ..tokenize import Tokenizer

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
    def weight_shapes(cls, **settings) -> dict[str, tuple[int, ...]]:
        """The shape of each tensor in the state_dict of cls(**settings) (every setting given,
        defaults too), worked out without building it: loading compares them with the weights
        file before allocating anything. (A module built on the meta device would tell too, but
        its initialisation there imports torch's compiler, seconds on every first load.)"""
        raise NotImplementedError

    @classmethod
    def load(cls, folder: Path, config: dict) -> "TorchComponent":
        return cls.from_files(config, folder / CONFIG, folder / WEIGHTS)

    @classmethod
    def from_files(cls, settings: dict, config_path: Path, weights_path: Path) -> "TorchComponent":
        """Built from `settings` (read from config_path) with the tensors of weights_path, once the
        weights' shapes are those the settings imply."""
        problem = settings_problem(cls, settings)
        if problem:
            raise SamesenseError(f"{config_path}: bad settings for {cls.role} {cls.type!r}: {problem}")
        expected = cls.weight_shapes(**with_defaults(cls, settings))
        if not expected:  # nothing to load (pooling)
            return build(cls, settings, config_path)
        if not weights_path.is_file():
            raise SamesenseError(f"{weights_path.parent}: incomplete model folder ({weights_path.name} missing)")
        disagreement = shape_disagreement(expected, weight_shapes(weights_path))
        if disagreement:
            raise SamesenseError(f"{config_path} and {weights_path} disagree: {disagreement}")
        component = build(cls, settings, config_path)
        component.load_weights(weights_path)
        return component

    def load_weights(self, path: Path) -> None:
        try:
            self.load_state_dict(load_file(str(path)))
        except Exception as err:  # safetensors raises its own error types for damaged files
            raise SamesenseError(f"{path}: cannot load weights ({err})") from None


def weight_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Each tensor's shape from a safetensors file's header, without reading the tensors (the
    header's offsets are checked against the file's size as it is opened)."""
    try:
        with safe_open(str(path), framework="pt") as weights:
            return {name: tuple(weights.get_slice(name).get_shape()) for name in weights.keys()}
    except Exception as err:  # safetensors raises its own error types for damaged files
        raise SamesenseError(f"{path}: cannot load weights ({err})") from None


def shape_disagreement(expected: dict[str, tuple], found: dict[str, tuple]) -> str:
    """The first tensor whose shape the config and the weights disagree on, in words; '' if none."""
    for name in sorted(expected.keys() | found.keys()):
        if name not in found:
            return f"the config needs {name} {list(expected[name])}, the weights lack it"
        if name not in expected:
            return f"the weights hold {name} {list(found[name])}, which the config has no place for"
        if expected[name] != found[name]:
            return f"{name} is {list(expected[name])} by the config, {list(found[name])} in the weights"
    return ""


class Encoder(TorchComponent):
    """Token ids -> token vectors (`token_embeddings`, and `final_state` if it has one), as built by
    `samesense train`. `model` in the class methods is the run's model settings (ModelConfig)."""

    role = "encoder"
    default_pooling: ClassVar[str] = "max"
    fine_tuned: ClassVar[bool] = False  # a pretrained network fine-tuned, not one trained from scratch
    starts_from_teacher: ClassVar[bool] = False  # its table may start from a teacher's token vectors (--init-from)
    default_tokenizer: ClassVar[str] = "char"  # when --tokenizer is not given

    @classmethod
    def default_lr(cls, model: Any) -> float:
        """Adam's rate of the encoder when --lr is not given: a pretrained network's is small."""
        return 5e-5 if cls.fine_tuned else 1e-3

    @classmethod
    def settings_from(cls, model: Any) -> dict:
        """This encoder's settings (its config.json but vocab_size, which the tokenizer gives)."""
        raise NotImplementedError

    @classmethod
    def check_settings(cls, model: Any) -> None:
        """Refuse model settings this encoder cannot build, in one line naming the flag."""

    @classmethod
    def tokenizer_settings(cls, model: Any, train_sentences: int) -> dict:
        """The settings (with a `type`) of the tokenizer it reads: ours, fitted on the training text."""
        return Tokenizer.settings_from(model, train_sentences)

    @classmethod
    def train_vocabulary(cls, model: Any) -> list[str] | None:
        """A vocabulary the run keeps as given instead of fitting one on the training text (None: fit)."""
        return None
