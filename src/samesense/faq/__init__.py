"""The FAQ matcher: keep question/answer pairs, answer a new question with the nearest stored one,
or say there is no confident answer.

    from samesense.faq import FaqBank
    bank = FaqBank.open("support.faq", model="runs/mine/model")
    bank.ask("how do i reset my pin")

store.py (SQLite) -> index.py (FAISS) -> bank.py (both kept in step with a model) -> matcher.py
(answer or abstain); importer.py reads and writes FAQ files, calibrate.py chooses the threshold,
serve.py is the HTTP service and web page, cli.py the commands.
"""

from .bank import FaqBank, FaqRow, ImportReport
from .matcher import Answer, Candidate
from .store import Entry

__all__ = ["Answer", "Candidate", "Entry", "FaqBank", "FaqRow", "ImportReport"]
