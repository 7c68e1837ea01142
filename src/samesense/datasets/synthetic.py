"""Synthetic groups at any scale (a million and more), for the scale benchmark and tests.

A group is one meaning: an intent applied to an object with a modifier, e.g. "cancel / card /
tomorrow": intents x objects x modifiers meanings in all. Its sentences are paraphrases: each
intent has several phrasings (templates of filler words around the slots), each object and
modifier several surface forms (synonyms), and each sentence some noise (a dropped character, an
added particle). So a model must learn which surface forms mean the same, and a held-out group
is a new combination of parts it has seen in other groups: the open-set setting, in miniature.

The words are made of Chinese characters (or Latin letters for English-like text) drawn by a
seeded generator: nothing here is a real language, and nothing is read from anywhere.
"""

from __future__ import annotations

import gzip
import math
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import SamesenseError

CJK_FIRST, CJK_COUNT = 0x4E00, 3500  # characters drawn from the start of the CJK block
PARTICLES = {"zh": ["吗", "呢", "啊", "了", "吧"], "en": ["please", "now", "ok", "so", "pls"]}


@dataclass(frozen=True)
class SyntheticSpec:
    groups: int
    per_group: int = 3
    language: str = "zh"  # zh: words of Chinese characters; en: words of Latin letters, spaced
    seed: int = 0
    phrasings: int = 4  # templates an intent is said with
    synonyms: int = 3  # surface forms of each object and modifier
    noise: float = 0.15  # chance of each kind of noise in a sentence

    def check(self) -> None:
        if self.groups < 1 or self.per_group < 1:
            raise SamesenseError(f"synthetic data needs at least 1 group of 1 sentence, not {self.groups} x {self.per_group}")
        if self.language not in PARTICLES:
            raise SamesenseError(f"synthetic language must be one of {sorted(PARTICLES)}, not {self.language!r}")


class SyntheticGroups:
    """The parts of spec.groups meanings; iterate for (group id, sentence) in group order."""

    def __init__(self, spec: SyntheticSpec):
        spec.check()
        self.spec = spec
        rng = random.Random(spec.seed)
        # about a cube root of the groups each: intents a little fewer, objects a little more
        side = max(2, math.ceil(spec.groups ** (1 / 3)))
        self.intents, self.objects = max(2, side // 2), side * 2
        self.modifiers = max(2, math.ceil(spec.groups / (self.intents * self.objects)))
        self.vocabulary: set[str] = set()
        self.templates = [[self.template(rng) for _ in range(spec.phrasings)] for _ in range(self.intents)]
        self.object_forms = [[self.word(rng, 2) for _ in range(spec.synonyms)] for _ in range(self.objects)]
        self.modifier_forms = [[self.word(rng, 2) for _ in range(spec.synonyms)] for _ in range(self.modifiers)]

    def word(self, rng: random.Random, length: int) -> str:
        """A new word, never one made before (a synonym shared by two objects would merge them)."""
        while True:
            if self.spec.language == "zh":
                word = "".join(chr(CJK_FIRST + rng.randrange(CJK_COUNT)) for _ in range(length))
            else:
                word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(length + 3))
            if word not in self.vocabulary:
                self.vocabulary.add(word)
                return word

    def template(self, rng: random.Random) -> list[str]:
        """Filler words with the two slots, object before or after the modifier."""
        fillers = [self.word(rng, rng.choice((1, 2))) for _ in range(rng.randint(2, 4))]
        slots = ["{object}", "{modifier}"] if rng.random() < 0.5 else ["{modifier}", "{object}"]
        for slot in slots:
            fillers.insert(rng.randint(0, len(fillers)), slot)
        return fillers

    def meaning(self, group: int) -> tuple[int, int, int]:
        """Group number -> (intent, object, modifier): every number a different combination."""
        intent, rest = group % self.intents, group // self.intents
        return intent, rest % self.objects, rest // self.objects

    def sentence(self, rng: random.Random, group: int) -> str:
        intent, obj, modifier = self.meaning(group)
        words = [w.replace("{object}", rng.choice(self.object_forms[obj]))
                 .replace("{modifier}", rng.choice(self.modifier_forms[modifier]))
                 for w in rng.choice(self.templates[intent])]
        if rng.random() < self.spec.noise:  # a particle somewhere
            words.insert(rng.randint(0, len(words)), rng.choice(PARTICLES[self.spec.language]))
        if rng.random() < self.spec.noise:  # a filler word left out
            fillers = [i for i, w in enumerate(words) if w not in self.object_forms[obj] + self.modifier_forms[modifier]]
            if len(fillers) > 1:
                del words[rng.choice(fillers)]
        return ("" if self.spec.language == "zh" else " ").join(words)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        rng = random.Random(self.spec.seed + 1)
        width = len(str(self.spec.groups - 1))
        for group in range(self.spec.groups):
            name = f"syn{group:0{width}d}"
            for _ in range(self.spec.per_group):
                yield name, self.sentence(rng, group)


def write_synthetic(path: str | os.PathLike, spec: SyntheticSpec, keep: Callable[[int], bool] | None = None,
                    show_progress: bool | None = False) -> Path:
    """Write `group_id<TAB>sentence` lines of the spec's groups (or of those whose number `keep`
    accepts: the rest held out in another file) to `path` (gzip when it ends in .gz), atomically."""
    from ..console import progress

    path = Path(path)
    made = SyntheticGroups(spec)
    tmp = path.with_name(f".{path.name}.tmp")
    opener = gzip.open if path.suffix == ".gz" else open
    lines = progress(iter(made), desc=f"writing {path.name}", unit="line", show=show_progress,
                     total=spec.groups * spec.per_group)
    with opener(tmp, "wt", encoding="utf-8", newline="\n") as out:
        for name, sentence in lines:
            if keep is None or keep(int(name[3:])):
                out.write(f"{name}\t{sentence}\n")
    os.replace(tmp, path)
    return path
