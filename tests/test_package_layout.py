"""The house's rules, checked on the source so that they stay true (docs/architecture.md):

- no import cycle between samesense's modules, counting imports made inside functions (not those
  under `if TYPE_CHECKING:`, which never run: they name a type for an annotation);
- the model layer (what loads and runs a saved model) reaches nothing of training, evaluation or
  the FAQ product, even through other modules;
- short files: none under src/ over 350 lines; at most 15 modules at the package root.
"""

import ast
from pathlib import Path

import samesense

PACKAGE = Path(samesense.__file__).parent
MAX_LINES = 350
MAX_ROOT_MODULES = 15
MODEL_LAYER = ("samesense.bounds", "samesense.components", "samesense.tokenize", "samesense.glyphs",
               "samesense.encoders", "samesense.model", "samesense.runtime", "samesense.protocols")
NOT_BELOW_THE_MODEL = ("samesense.train", "samesense.losses", "samesense.faq", "samesense.bench",
                       "samesense.cli", "samesense.evaluate")


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The samesense modules a module imports anywhere in it (at the top, or inside a function):
    `from P import m` of a module m counts as importing P.m."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):  # annotation-only imports never run
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            node.body = []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target not in known and "." in target:  # a name inside a module: the module
                target = target.rpartition(".")[0]
            if target in known and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def test_the_imports_have_no_cycle_even_inside_functions():
    graph = import_graph()
    state: dict[str, str] = {}  # "open" while on the path being walked, "done" after
    path: list[str] = []

    def walk(name: str) -> None:
        state[name] = "open"
        path.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                cycle = path[path.index(target):] + [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                walk(target)
        path.pop()
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            walk(name)


def test_the_model_layer_reaches_nothing_of_training_or_the_product():
    graph = import_graph()
    for start in [name for name in graph if name.startswith(MODEL_LAYER)]:
        seen, todo = set(), [start]
        while todo:
            for target in graph[todo.pop()] - seen:
                seen.add(target)
                todo.append(target)
        reached = sorted(name for name in seen if name.startswith(NOT_BELOW_THE_MODEL))
        assert not reached, f"{start} imports {reached}"


def test_no_source_file_is_over_350_lines():
    long = {str(path.relative_to(PACKAGE)): n for path in PACKAGE.rglob("*.py")
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, long


def test_the_package_root_holds_at_most_15_modules():
    root = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(root) <= MAX_ROOT_MODULES, root
