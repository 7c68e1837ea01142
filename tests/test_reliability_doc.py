"""docs/reliability.md names, for every promise, the tests that prove it: each named test exists."""

import re
from pathlib import Path

TESTS = Path(__file__).parent
DOC = TESTS.parent / "docs" / "reliability.md"


def named_tests() -> list[tuple[str, str]]:
    """(file, test) for every `file::test` in the doc, and every `::test` after it (the same file)."""
    found, file = [], None
    for cell in re.findall(r"`([\w/]*\.py)?::(\w+)`", DOC.read_text(encoding="utf-8")):
        file = cell[0] or file
        found.append((file, cell[1]))
    return found


def test_every_test_the_reliability_doc_names_exists():
    named = named_tests()
    assert len(named) > 40
    missing = [f"{file}::{name}" for file, name in named
               if not (TESTS / file).is_file() or f"def {name}(" not in (TESTS / file).read_text(encoding="utf-8")]
    assert not missing, missing
