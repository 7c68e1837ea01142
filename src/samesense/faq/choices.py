"""What the FAQ commands let a user choose, what a stored text may be, and the server's limits:
names and numbers alone.

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
# what an import does with a row whose answer differs from that of the stored entry it joins (planner.py):
# keep the bank's (the default: nothing is lost, each such row is reported), take the file's, or refuse
ON_CHANGE = ("keep", "replace", "error")
INDEX_KINDS = ("flat", "hnsw")  # vector indexes (index.py); a bank's `index` setting may also be "auto"
MIN_TOKEN_CHARS = 16  # the server's bearer token: a shorter one is guessable, `serve` refuses it (guard.py)

# How a bank decides to answer, as a new bank has it (store.py) and `faq set --reset` puts it back
# (read as policy.py's AnswerPolicy, typed and checked):
#   threshold    cosine the best match must reach (`calibrate` chooses it from labelled questions)
#   margin       two entries with different answers closer than this: "did you mean", no answer
#   max_unknown  a question with a larger share of tokens outside the model's vocabulary is not
#                answered. Past half, the unknown tokens (a few shared hashed rows, or the one <unk>)
#                outweigh the known ones in its vector, and a high cosine says more about them than
#                about what was asked; at half or less (a typo in a short question) it is answered
#   hybrid       weight of BM25 in the score (samesense.lexical.hybrid: (1 - w) * cosine + w * BM25
#                over the question's own BM25 score); 0, the model alone, until chosen (calibrate --hybrid)
#   answers      weight of the entry's answer text in its score: (1 - a) * (its best stored question's score)
#                + a * cosine(question, answer); 0, the stored questions alone, until chosen (calibrate --answers)
#   suggest      a question below the threshold whose best score reaches this still gets up to three
#                "did you mean" choices (matcher.suggest_choices); 1, off: a score below a threshold is below 1
ANSWER_DEFAULTS = {"threshold": 0.6, "margin": 0.02, "max_unknown": 0.5, "hybrid": 0.0, "answers": 0.0, "suggest": 1.0}
# the values each may take: a score (a cosine, or a fused score: between -1 and 1 too), a difference of
# scores that still lets an answer through, a share, two weights, a score
ANSWER_BOUNDS = {"threshold": (-1.0, 1.0), "margin": (0.0, 1.0), "max_unknown": (0.0, 1.0), "hybrid": (0.0, 1.0),
                 "answers": (0.0, 1.0), "suggest": (-1.0, 1.0)}
# The least share of in-scope questions a calibrated threshold must answer (calibrate.py). Below one
# in twenty the bank abstains on nearly everything (switched off rather than calibrated), and the
# precision rests on a handful of answers (3 of 60 questions), too few to trust; 0 takes any
# threshold that answers at least one.
MIN_COVERAGE = 0.05


@dataclass
class TextLimits:
    """What a text may be to be stored in a bank, whichever way it comes in (Python, `faq add`,
    `faq import`, HTTP): text.py's rules apply them, the bank enforces them on every write."""

    max_question_chars: int = 1000  # a question or paraphrase
    max_answer_chars: int = 20_000
    max_tag_chars: int = 100
    max_group_chars: int = 200
    max_paraphrases: int = 1000  # given at once: one call, one request, one imported row
    max_tags: int = 50

    def longest(self, field: str) -> int:
        """The most characters a `field` (singular or plural: "tag" or "tags") may hold."""
        longest = {"question": self.max_question_chars, "paraphrase": self.max_question_chars,
                   "answer": self.max_answer_chars, "tag": self.max_tag_chars, "group": self.max_group_chars}
        return longest[field.removesuffix("s")]

    def most(self, field: str) -> int:
        """The most texts a list field (paraphrases, tags) may hold."""
        return {"paraphrases": self.max_paraphrases, "tags": self.max_tags}[field]


@dataclass
class LimitValues(TextLimits):
    """The server's limits on a request, as numbers: the text limits, plus the body size and k;
    guard.py's Limits (a subclass) enforces them."""

    max_body_bytes: int = 64 * 1024
    max_k: int = 50


# The service's logs (logs.py): `serve --log-level`, `--log-format`.
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")
# What the web page shows under "No confident answer" (`serve --fallback-text`).
FALLBACK_TEXT = "Please rephrase the question, or contact support."
# The pages' interface language (`serve --page-language`): auto, the browser's (Accept-Language)
PAGE_LANGUAGES = ("auto", "en", "zh")
MAX_FALLBACK_CHARS = 1000
# The unanswered-questions log (unanswered.py): the rows it keeps (the oldest go first), what a
# recorded question's outcome was (narrow: answered, but nearly not), and the orders it is read in.
UNANSWERED_ROWS = 100_000
UNANSWERED_OUTCOMES = ("abstained", "narrow")
UNANSWERED_ORDERS = ("count", "newest")  # most asked first, or most recently asked first
# what the support team did with a logged question: nothing yet (open: the list shows these), made it
# a paraphrase of an entry (assigned), made it a new entry (added), or nothing to do (dismissed)
UNANSWERED_STATUSES = ("open", "assigned", "added", "dismissed")
