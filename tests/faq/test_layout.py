"""The FAQ package's boundaries, checked on its source: SQL only in the store modules, and routes and commands
that ask the bank rather than reach into its store or index."""

import ast
from pathlib import Path

import samesense.faq

FAQ = Path(samesense.faq.__file__).parent
# the bank's store (its reads, its writes inside a transaction, a copy of it whole), the unanswered-questions log's,
# and the database layer under them (database.py: SQLite's dialect; postgres.py: PostgreSQL's)
STORE_MODULES = ("store.py", "store_writes.py", "store_copy.py", "unanswered_store.py", "database.py", "postgres.py")


def attribute_uses(path: Path) -> set[str]:
    """`a.b` for every attribute `b` read off a plain name `a` in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {f"{node.value.id}.{node.attr}" for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)}


def test_sql_is_only_in_the_store():
    for path in FAQ.glob("*.py"):
        if path.name in STORE_MODULES:
            continue
        calls = {use for use in attribute_uses(path) if use.split(".")[1] in ("execute", "executemany", "executescript")}
        assert not calls, f"{path.name} runs SQL itself: {sorted(calls)}"


def test_routes_use_bank_methods_only():
    for name in ("serve.py", "guard.py", "metrics.py", "schemas.py"):
        reaches = {use for use in attribute_uses(FAQ / name) if use in ("bank.store", "bank.index", "bank.model")}
        assert not reaches, f"{name} reaches into the bank: {sorted(reaches)}"


def test_commands_use_bank_methods_only():
    """The FAQ commands, like the routes, go through the bank's methods: no store or index of its
    own, none reached through the bank."""
    for name in ("faq.py", "ask.py", "serve.py", "bank_args.py"):
        commands = FAQ.parent / "cli" / name
        reaches = {use for use in attribute_uses(commands) if use in ("bank.store", "bank.index", "bank.model")}
        assert not reaches, f"cli/{name} reaches into the bank: {sorted(reaches)}"
        tree = ast.parse(commands.read_text(encoding="utf-8"))
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        assert not {m for m in imported if m.endswith(("faq.store", "faq.index"))}, f"cli/{name} imports {sorted(imported)}"
