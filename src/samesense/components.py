"""The parts a sentence model is made of, and how each one saves itself.

A model is a pipeline of components that pass a dict of features along:

    texts -> tokenizer -> {input_ids, attention_mask, lengths}
          -> encoder   -> + {token_embeddings, final_state}
          -> pooling   -> + {sentence_embedding}
          -> projection (optional) -> {sentence_embedding}, resized

Every component saves into a folder of its own: `config.json` (what `config()` returns, plus its
type), `weights.safetensors` when it has tensors, and any files of its own (a vocabulary, a
tokenizer file, an exported graph). `COMPONENTS` maps a type name to its class; the model's
manifest lists the components by type and folder, so loading never guesses and never unpickles.

A new kind of component (a pretrained transformer with its own tokenizer, an exported runtime
model) is a class with a `type`, `config()`, and `save`/`load` where the defaults do not fit,
registered with `@register`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

from .errors import SamesenseError
from .files import atomic_write_json

CONFIG, WEIGHTS = "config.json", "weights.safetensors"
COMPONENTS: dict[str, type["Component"]] = {}


def register(cls: type["Component"]) -> type["Component"]:
    COMPONENTS[cls.type] = cls
    return cls


class Component:
    """One stage of the pipeline. `role` says where it stands (tokenizer, encoder, pooling,
    projection); `type` names the class in a manifest."""

    role: ClassVar[str] = ""
    type: ClassVar[str] = ""

    def config(self) -> dict:
        """Keyword arguments that rebuild the same component (weights aside)."""
        raise NotImplementedError

    # -- files (a torch component saves its state_dict; see TorchComponent) --------------------

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_json(folder / CONFIG, {"type": self.type, **self.config()})

    @classmethod
    def load(cls, folder: Path, config: dict) -> "Component":
        return build(cls, config, folder)


def build(cls: type[Component], settings: dict, where: Path | str) -> Component:
    """cls(**settings), with a bad setting reported as one line naming where it came from."""
    try:
        return cls(**settings)
    except TypeError as err:
        raise SamesenseError(f"{where}: bad settings for {cls.role} {cls.type!r}: {err}") from None


def make_component(config: dict, where: Path | str = "config") -> Component:
    """A fresh component from a config with a `type` (no weights)."""
    settings = dict(config)
    kind = settings.pop("type", None)
    if kind not in COMPONENTS:
        raise SamesenseError(f"{where}: unknown component type {kind!r}: choose from {', '.join(sorted(COMPONENTS))}")
    return build(COMPONENTS[kind], settings, where)


def read_json_object(path: Path) -> dict:
    """A JSON object from a model folder; a missing, unreadable or misshapen file is one line."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SamesenseError(f"{path.parent}: incomplete model folder ({path.name} missing)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SamesenseError(f"{path}: damaged model file ({err})") from None
    if not isinstance(value, dict):
        raise SamesenseError(f"{path}: damaged model file (not a JSON object)")
    return value


def load_component(folder: Path) -> Component:
    config = read_json_object(folder / CONFIG)
    if config.get("type") not in COMPONENTS:
        raise SamesenseError(f"{folder / CONFIG}: unknown component type {config.get('type')!r}: "
                             f"choose from {', '.join(sorted(COMPONENTS))}")
    cls = COMPONENTS[config.pop("type")]
    return cls.load(folder, config)
