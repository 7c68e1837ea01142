"""What the FAQ commands let a user choose, and the server's limits: names and numbers alone.

They live apart from the modules that act on them (importer.py, index.py with FAISS, guard.py with
FastAPI) so that `samesense faq import --help` and `samesense serve --help` can list the choices and
show the defaults without importing numpy, FAISS or FastAPI; so this file imports none of them (nor
anything that does), and neither may the package's __init__.py. The modules that use these names
re-export them: `from samesense.faq.importer import FORMATS` goes on working.
"""

from __future__ import annotations

from dataclasses import dataclass

FORMATS = ("tsv", "csv", "jsonl")  # FAQ files, read and written by importer.py
ON_ERROR = ("reject", "skip")  # what an import does with a malformed row: see importer.read_rows
INDEX_KINDS = ("flat", "hnsw")  # vector indexes (index.py); a bank's `index` setting may also be "auto"

TAG_CHARS, GROUP_CHARS = 100, 200  # longest tag and group the server stores


@dataclass
class LimitValues:
    """The server's limits on a request, as numbers; guard.py's Limits (a subclass) enforces them."""

    max_body_bytes: int = 64 * 1024
    max_question_chars: int = 1000
    max_answer_chars: int = 20_000
    max_k: int = 50

    def longest(self, field: str) -> int:
        return {"question": self.max_question_chars, "paraphrases": self.max_question_chars,
                "answer": self.max_answer_chars, "tags": TAG_CHARS, "group": GROUP_CHARS}[field]
