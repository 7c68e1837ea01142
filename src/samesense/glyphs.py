"""Glyphs of Chinese characters (after Su & Lee, "Learning Chinese Word Representations From Glyphs
of Characters", 2017): every character of the CJK Unified Ideographs blocks (the basic block and
Extension A, 27,584 characters) drawn as a small black-and-white bitmap.

A character's glyph index is its place in those blocks, fixed by Unicode, so the tokenizer gives
any of them an id without a font (tokenize.py), and a character too rare for the vocabulary still
reaches the encoder by its shape and the components it shares with others (encoders/glyph.py).

The font is needed only to draw the bitmaps, once, when a model is built for training: Noto Sans
CJK from the PyPI package cvttf-notosanscjk-regular (a dependency), or any font file
named by SAMESENSE_GLYPH_FONT (Debian's fonts-wqy-zenhei, say). The model keeps the bitmaps in its
weights, so a trained model reads rare characters on a machine without the font.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import SamesenseError

GLYPH_BLOCKS = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF))  # CJK Unified Ideographs Extension A, then the basic block
GLYPH_COUNT = sum(last - first + 1 for first, last in GLYPH_BLOCKS)
FONT_VARIABLE = "SAMESENSE_GLYPH_FONT"
EM_ASCENT = 0.88  # of the em square above the baseline (CJK fonts' ideographic em box: 0.88 up, 0.12 down)


def glyph_index(token: str) -> int:
    """The glyph index of a one-character token of the blocks; -1 for anything else."""
    if len(token) != 1:
        return -1
    code, start = ord(token), 0
    for first, last in GLYPH_BLOCKS:
        if first <= code <= last:
            return start + code - first
        start += last - first + 1
    return -1


def glyph_char(index: int) -> str:
    """The character of a glyph index (glyph_index's inverse)."""
    for first, last in GLYPH_BLOCKS:
        if index <= last - first:
            return chr(first + index)
        index -= last - first + 1
    raise IndexError(index)


def font_path() -> Path:
    """The font the glyphs are drawn with: SAMESENSE_GLYPH_FONT, or Noto Sans CJK's package."""
    named = os.environ.get(FONT_VARIABLE)
    if named:
        if not Path(named).is_file():
            raise SamesenseError(f"{FONT_VARIABLE}={named}: no such font file")
        return Path(named)
    try:
        import cvttf_NotoSansCJK_Regular

        return Path(cvttf_NotoSansCJK_Regular.get_TTF_path())
    except (ImportError, FileNotFoundError):
        raise SamesenseError("--glyphs draws the characters with Noto Sans CJK, which is not installed: "
                             "pip install cvttf-notosanscjk-regular==1.0 (samesense's set-up does; or name a CJK "
                             f"font file in {FONT_VARIABLE})") from None


@lru_cache(maxsize=2)
def draw_glyphs(size: int) -> np.ndarray:
    """Every glyph as a size x size bitmap, ink 1, rows packed 8 pixels to a byte (np.packbits):
    uint8 (GLYPH_COUNT, size * size // 8). The font's em square (`size` pixels) is the bitmap: an
    ideograph's design box, so a character is drawn whole and where the font puts it; a character
    the font lacks stays blank. A few seconds for all of them."""
    from PIL import Image, ImageDraw, ImageFont

    from .console import progress

    path = font_path()
    try:
        font = ImageFont.truetype(str(path), size)
    except OSError as err:
        raise SamesenseError(f"{path}: cannot read the font ({err})") from None
    bitmaps = np.zeros((GLYPH_COUNT, size * size // 8), dtype=np.uint8)
    image = Image.new("L", (size, size))
    draw = ImageDraw.Draw(image)
    for index in progress(range(GLYPH_COUNT), desc="drawing glyphs", unit="char", show=None):
        draw.rectangle((0, 0, size, size), fill=0)
        draw.text((0, EM_ASCENT * size), glyph_char(index), font=font, fill=255, anchor="ls")
        bitmaps[index] = np.packbits(np.asarray(image) >= 128)
    return bitmaps
