"""What a change to one entry asks for (FaqBank.update, `faq edit`, `faq paraphrase`, PATCH /faq/{id},
assigning a logged question to an entry), checked by text.py's rules before anything is encoded.

A change names what it changes, and nothing else moves: `paraphrases` replaces the whole list (PUT's
contract), `add_paraphrases` / `remove_paraphrases` add or remove the ones named and keep the rest
(PATCH's, and the commands'), so adding a paraphrase can never drop another. Removing a paraphrase the
entry does not hold is refused, not ignored (a typo would otherwise look like a success); the entry's
own question cannot be removed as a paraphrase (give another question first). `group` KEEP leaves
it, None takes it away, a text renames it (refused when another entry has that group).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..errors import SamesenseError
from .choices import TextLimits
from .planner import HeldByAnotherEntry
from .store import Entry, Store
from .text import clean, clean_group, clean_list, unique

KEEP = "<keep>"  # a group left as it is (None is no group); never a stored group: a group is trimmed text


@dataclass
class EntryChange:
    texts: list[str]  # the entry's questions after the change: its question first, then its paraphrases
    answer: str | None  # None: kept
    tags: list[str] | None  # None: kept
    group: str | None = KEEP

    @property
    def changes_group(self) -> bool:
        return self.group != KEEP

    @classmethod
    def of(cls, current: Entry, limits: TextLimits, question: str | None = None, answer: str | None = None,
           paraphrases: Sequence[str] | None = None, tags: Sequence[str] | None = None, group: str | None = KEEP,
           add_paraphrases: Sequence[str] = (), remove_paraphrases: Sequence[str] = ()) -> "EntryChange":
        question = clean(question, "question", limits) if question is not None else current.question
        kept = clean_list(paraphrases, "paraphrases", limits) if paraphrases is not None else current.paraphrases
        added = clean_list(add_paraphrases, "paraphrases", limits)
        removed = clean_list(remove_paraphrases, "paraphrases", limits)
        for text in removed:
            if text == question:
                raise SamesenseError(f"{text!r} is entry {current.id}'s question, not a paraphrase: give the entry "
                                     "another question first")
            if text not in kept:
                raise SamesenseError(f"entry {current.id} has no paraphrase {text!r}")
        texts = unique([question, *(t for t in kept if t not in removed), *added])
        return cls(texts, clean(answer, "answer", limits) if answer is not None else None,
                   clean_list(tags, "tags", limits) if tags is not None else None,
                   group if group == KEEP else clean_group(group, limits))


def group_held_elsewhere(store: Store, conn, entry_id: int, group: str | None) -> None:
    """HeldByAnotherEntry when an entry other than `entry_id` has `group` (a group names one entry)."""
    if group is None or group == KEEP:
        return
    holder = store.entry_by_group(group, conn)
    if holder is not None and holder.id != entry_id:
        raise HeldByAnotherEntry(f"group {group!r} already exists (entry {holder.id}): change that entry instead")
