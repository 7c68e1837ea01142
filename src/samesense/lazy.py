"""Names a package imports on first use (PEP 562), so `import samesense` and the command line's
--help stay fast: torch, FAISS and FastAPI load only when something that needs them is used."""

from __future__ import annotations

import importlib
import sys
from typing import Callable


def lazy_names(package: str, names: dict[str, str]) -> Callable[[str], object]:
    """A module `__getattr__` for `package` that imports `name` from its submodule `names[name]`
    the first time it is asked for, and keeps it."""

    def __getattr__(name: str):
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{names[name]}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
