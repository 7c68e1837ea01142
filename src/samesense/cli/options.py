"""Flags derived from a config made of dataclass sections, so that a setting is declared once.

Each section becomes a group of flags titled by its docstring; each field whose metadata says
`cli=True` (see samesense.train.config.setting) becomes a flag:

    name      --FIELD, or --FLAG when the metadata names one; `_` written `-`
    type      from the annotation: int, float, str, X | None, list[str] (one or more values);
              a bool is a switch: --NAME when it defaults to False, --no-NAME when to True
    checks    `choices` (a function, called here), `at_least`, `at_most`, `between`: refused while
              parsing, with an error naming the flag
    help      the metadata's help, with the field's default

Every flag defaults to argparse.SUPPRESS, so the parsed namespace holds only the flags the user gave:
`given_values` returns them as {field: value}, to lay over the config's defaults or over a saved run.
"""

from __future__ import annotations

import argparse
import inspect
from dataclasses import MISSING, Field, fields

from .parsing import bounded, worth_showing

SCALARS = {"int": int, "float": float, "str": str}


def add_sections(parser: argparse.ArgumentParser, sections: dict[str, type],
                 required: tuple[str, ...] = ()) -> dict[str, argparse._ArgumentGroup]:
    """One group of flags per section ({name: dataclass}); `required` names fields that must be
    given although they have a default. Returns the groups by section name, to add more flags to."""
    groups = {}
    for name, section in sections.items():
        title, _, description = inspect.cleandoc(section.__doc__ or name).partition("\n")
        groups[name] = group = parser.add_argument_group(title, description.strip() or None)
        for f in fields(section):
            if f.metadata.get("cli"):
                add_flag(group, f, required=f.name in required)
    return groups


def add_flag(group: argparse._ArgumentGroup, f: Field, required: bool = False) -> None:
    meta, default = f.metadata, default_of(f)
    name = (meta.get("flag") or f.name).replace("_", "-")
    common = {"dest": f.name, "default": argparse.SUPPRESS, "required": required or default is MISSING,
              "help": help_with_default(meta.get("help", ""), default)}
    kind = annotation(f).removesuffix(" | None")
    if kind == "bool":
        if default is True:
            group.add_argument(f"--no-{name}", action="store_false", **common)
        else:
            group.add_argument(f"--{name}", action="store_true", **common)
        return
    nargs = None
    if kind.startswith("list[") and kind.endswith("]"):
        nargs, kind = "+", kind[len("list["):-1]
    if kind not in SCALARS:
        raise TypeError(f"{f.name}: no command-line type for {annotation(f)!r}")
    read = bounded(SCALARS[kind], meta.get("at_least"), meta.get("at_most"), meta.get("between"))
    choices = meta["choices"]() if meta.get("choices") else None
    # named after the flag, not the field (--layers LAYERS); with choices argparse lists them instead
    metavar = meta.get("metavar") or (None if choices else name.upper().replace("-", "_"))
    group.add_argument(f"--{name}", type=read, nargs=nargs, choices=choices, metavar=metavar, **common)


def given_values(args: argparse.Namespace, *dataclasses: type) -> dict:
    """{field: value} for every field of these dataclasses that the namespace holds: with SUPPRESS
    defaults, the ones the user gave (a flag of the command's own may fill a field too, e.g.
    train's --quiet sets show_progress)."""
    return {f.name: getattr(args, f.name) for cls in dataclasses for f in fields(cls) if hasattr(args, f.name)}


def default_of(f: Field):
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return MISSING


def annotation(f: Field) -> str:
    """The annotation as written: already so under `from __future__ import annotations`; else a
    class is its name, and `list[str]` or `int | None` print as written."""
    if isinstance(f.type, str):
        return f.type
    return f.type.__name__ if type(f.type) is type else str(f.type)


def help_with_default(text: str, default) -> str:
    text = text.replace("%", "%%")  # argparse expands %(...)s in help texts
    if default is MISSING or not worth_showing(default) or "default" in text:
        return text
    return f"{text} (default: {default})"
