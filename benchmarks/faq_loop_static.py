"""The static students faq_loop.py runs the loop with (--models static): made once by `samesense
distil` and kept in benchmarks/out/faq_loop_static/ (a later run takes the folder there).

    en: MiniLM distilled on its own WordPiece vocabulary (`samesense distil minilm --dims 256`)
    zh: e5-small distilled with the jieba tokenizer on a vocabulary from the two Chinese FAQs' stored
        text (questions, answers, stored paraphrases: never the log, dev or test questions) and the
        Chinese training union (min count 2), `--dims 256`

    python benchmarks/faq_loop_static.py        # makes both (the Chinese one: minutes), prints their folders
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, ZH_TRAIN, data_path  # noqa: E402
from faq_newcomer import LANGUAGES  # noqa: E402

OUT = REPO / "benchmarks" / "out" / "faq_loop_static"
DATA = Path(__file__).resolve().parent / "data" / "faq_loop"
DIMS = 256


def faq_text(lang: str) -> list[str]:
    """What the FAQs of `lang` store before any round: each entry's question, answer and stored
    paraphrases (newcomer and telecom)."""
    entries, _ = LANGUAGES[lang]
    lines = [text for question, answer, stored, _held in entries for text in (question, answer, *stored)]
    doc = json.loads((DATA / f"telecom_{lang}.json").read_text(encoding="utf-8"))
    lines += [text for e in doc["entries"] for text in (e["question"], e["answer"], *e["paraphrases"])]
    return [" ".join(line.split()) for line in lines]


def distil_command(lang: str, out: Path) -> list[str]:
    if lang == "en":
        return ["distil", "minilm", "--out", str(out), "--dims", str(DIMS)]
    text = OUT / "faq_text_zh.txt"
    text.write_text("\n".join(faq_text("zh")) + "\n", encoding="utf-8")
    return ["distil", "e5-small", "--tokenizer", "jieba", "--vocab-from", str(text),
            *(data_path(p) for p in ZH_TRAIN), "--out", str(out), "--dims", str(DIMS)]


def static_student(lang: str, threads: int = 1) -> str:
    """The folder of `lang`'s static student, distilled now when not there yet."""
    out = OUT / f"static_{lang}"
    if not (out / "manifest.json").is_file():
        OUT.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "samesense", *distil_command(lang, out), "--threads", str(threads),
                   "--overwrite", "--quiet"]
        print(" ".join(command[2:]), flush=True)
        subprocess.run(command, check=True)
    return str(out)


if __name__ == "__main__":
    for language in ("en", "zh"):
        print(static_student(language))
