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

A model folder may come from anywhere, so its settings are checked before anything is built: each
setting against its constructor parameter (name, annotated type) and the component's `bounds`
(bounds.py: the same ones `samesense train` holds its flags to), which cap every size. A bad
config.json is one line naming the file and the setting, never a huge allocation.
"""

from __future__ import annotations

import inspect
import json
import os
import reprlib
import stat
from pathlib import Path
from typing import Any, ClassVar, Mapping

from .bounds import setting_problem
from .errors import SamesenseError
from .files import atomic_write_json

CONFIG, WEIGHTS = "config.json", "weights.safetensors"
COMPONENTS: dict[str, type["Component"]] = {}
# The largest file a model folder may hold: a JSON file (a config, a vocabulary of MAX_VOCAB tokens,
# a tokenizer's file) is parsed whole in memory; weights and graphs are mapped or read as they are.
MAX_JSON_BYTES = 256 << 20
MAX_FILE_BYTES = 16 << 30


def register(cls: type["Component"]) -> type["Component"]:
    COMPONENTS[cls.type] = cls
    return cls


class Component:
    """One stage of the pipeline. `role` says where it stands (tokenizer, encoder, pooling,
    projection); `type` names the class in a manifest."""

    role: ClassVar[str] = ""
    type: ClassVar[str] = ""
    # per setting: at_least, at_most, choices (as bounds.setting() records them); the constructor's
    # annotations give the types
    bounds: ClassVar[dict[str, Mapping]] = {}

    def config(self) -> dict:
        """Keyword arguments that rebuild the same component (weights aside)."""
        raise NotImplementedError

    # -- files (a torch component saves its state_dict; see TorchComponent) --------------------

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_json(folder / CONFIG, {"type": self.type, **self.config()})

    @classmethod
    def load(cls, folder: Path, config: dict) -> "Component":
        return build(cls, config, folder / CONFIG)


def settings_problem(cls: type[Component], settings: Mapping[str, Any]) -> str | None:
    """What is wrong with settings for cls(**settings), or None: an unknown or missing setting, a
    value of the wrong type (by the constructor's annotation) or out of cls.bounds."""
    params = {name: p for name, p in inspect.signature(cls.__init__).parameters.items()
              if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    for name, value in settings.items():
        if name not in params:
            return f"unknown setting {name!r}"
        annotation = params[name].annotation  # a string: components use `from __future__ import annotations`
        problem = setting_problem(name, value, annotation if isinstance(annotation, str) else annotation.__name__,
                                  cls.bounds.get(name, {}))
        if problem:
            return problem
    missing = [name for name, p in params.items() if p.default is p.empty and name not in settings]
    return f"{missing[0]} missing" if missing else None


def with_defaults(cls: type[Component], settings: Mapping[str, Any]) -> dict[str, Any]:
    """Checked settings, and the constructor's defaults for those not given."""
    bound = inspect.signature(cls.__init__).bind(None, **settings)  # None: self
    bound.apply_defaults()
    return dict(list(bound.arguments.items())[1:])


def build(cls: type[Component], settings: dict, where: Path | str) -> Component:
    """cls(**settings), once the settings are checked (settings_problem); a bad one is one line
    naming where it came from."""
    problem = settings_problem(cls, settings)
    if problem:
        raise SamesenseError(f"{where}: bad settings for {cls.role} {cls.type!r}: {problem}")
    try:
        return cls(**settings)
    except TypeError as err:
        raise SamesenseError(f"{where}: bad settings for {cls.role} {cls.type!r}: {err}") from None


def component_class(kind: Any, where: Path | str) -> type[Component]:
    if not isinstance(kind, str) or kind not in COMPONENTS:
        raise SamesenseError(f"{where}: unknown component type {reprlib.repr(kind)}: "
                             f"choose from {', '.join(sorted(COMPONENTS))}")
    return COMPONENTS[kind]


def make_component(config: dict, where: Path | str = "config") -> Component:
    """A fresh component from a config with a `type` (no weights)."""
    settings = dict(config)
    return build(component_class(settings.pop("type", None), where), settings, where)


def check_model_files(folder: Path) -> None:
    """Refuse, before any file of a model folder is read: a link inside it (it could point the
    loader anywhere: /dev/zero, a file outside the model; a model folder holds its own files),
    anything but folders and plain files (a FIFO would block a reader for ever), and a file larger
    than a model file may be. One line naming the file."""
    for root, folders, files in os.walk(folder):  # links are not followed
        for name in sorted(folders + files):
            path = Path(root) / name
            mode = path.lstat()
            if stat.S_ISLNK(mode.st_mode):
                raise SamesenseError(f"{path}: a link in a model folder (a model folder holds its own files: copy "
                                     "the file in)")
            if not (stat.S_ISDIR(mode.st_mode) or stat.S_ISREG(mode.st_mode)):
                raise SamesenseError(f"{path}: not a plain file or folder")
            json_file = name.endswith(".json")
            bound = MAX_JSON_BYTES if json_file else MAX_FILE_BYTES
            if stat.S_ISREG(mode.st_mode) and mode.st_size > bound:
                raise SamesenseError(f"{path}: {mode.st_size} bytes, more than a model's {'JSON ' if json_file else ''}"
                                     f"file may hold ({bound} bytes)")


def read_json_object(path: Path) -> dict:
    """A JSON object from a model folder; a missing, unreadable or misshapen file is one line."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        raise SamesenseError(f"{path.parent}: incomplete model folder ({path.name} missing)") from None
    except OSError as err:
        raise SamesenseError(f"{path}: cannot read ({err.strerror or err})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SamesenseError(f"{path}: damaged model file ({err})") from None
    except RecursionError:  # nested deeper than the parser goes
        raise SamesenseError(f"{path}: damaged model file (nested too deep)") from None
    if not isinstance(value, dict):
        raise SamesenseError(f"{path}: damaged model file (not a JSON object)")
    return value


def load_component(folder: Path) -> Component:
    config = read_json_object(folder / CONFIG)
    cls = component_class(config.pop("type", None), folder / CONFIG)
    return cls.load(folder, config)
