"""Sentence groups and pairs: read from files (read.py), held in memory (groups.py).

    from samesense.data import load_groups, read_pairs
    groups = load_groups(["groups.tsv"])        # group_id<TAB>sentence lines (or pairs: s1<TAB>s2<TAB>label)
"""

from __future__ import annotations

from ..errors import DataError, SamesenseError
from .groups import (Groups, Pairs, groups_error, has_partner, normalize_text, pairs_to_groups, plural,
                     require_pairs, require_rankable, require_training_groups, split_groups)
from .read import load_groups, read_groups, read_lines, read_pairs, read_sentences, sniff_format

__all__ = ["DataError", "Groups", "Pairs", "SamesenseError", "groups_error", "has_partner", "load_groups",
           "normalize_text", "pairs_to_groups", "plural", "read_groups", "read_lines", "read_pairs", "read_sentences",
           "require_pairs", "require_rankable", "require_training_groups", "sniff_format", "split_groups"]
