"""samesense distil: a static model (a table of token vectors) made from a teacher, token by token,
with no training: model2vec's distillation, in samesense's model format."""

from __future__ import annotations

import argparse

from ..encoder_spec import spec_help
from .parsing import add_progress_flags, cpu_count, non_negative_int, positive_int


def add_distil(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Make a static model from TEACHER: the teacher's own vocabulary (or one fitted on --vocab-from), each token "
        "encoded alone by the teacher (kept in a cache, so a killed run resumes), the vectors reduced by PCA to "
        "--dims, each token weighted by its rarity. Use it as any model (eval, similar, the "
        "FAQ commands), or train one on your groups: train --encoder static --init-from TEACHER.")
    parser.add_argument("teacher", metavar="TEACHER", help=f"the teacher: {spec_help(need_vectors=True)}")
    parser.add_argument("--out", required=True, metavar="DIR", help="the model folder to write")
    parser.add_argument("--vocab-from", nargs="+", default=[], metavar="FILE",
                        help="groups, pairs or plain text files (one sentence a line): the vocabulary and the "
                             "tokens' frequencies of the word and char tokenizers (needed by them; the teacher's "
                             "tokenizer weighs its tokens by their rank in its vocabulary)")
    parser.add_argument("--dims", type=positive_int, default=256, help="size of the token vectors (at most the "
                        "teacher's)")
    parser.add_argument("--tokenizer", choices=["teacher", "word", "char", "jieba"], default="teacher",
                        help="teacher: the teacher's own (WordPiece, SentencePiece), every token of its vocabulary a "
                             "row, as model2vec does; word: words and punctuation of --vocab-from, CJK characters one "
                             "by one; char: every character; jieba: word's tokens and jieba's Chinese words of two "
                             "or more characters (Chinese)")
    parser.add_argument("--min-count", type=positive_int, default=2, help="word, char, jieba: tokens seen fewer "
                        "times are left out")
    parser.add_argument("--max-len", type=positive_int, default=128, help="tokens read per sentence")
    parser.add_argument("--unknown-buckets", type=non_negative_int, default=0,
                        help="hashed rows for tokens outside the vocabulary (zero until trained)")
    parser.add_argument("--teacher-cache", metavar="DIR", help="folder keeping the teacher's vectors "
                        "(default: the samesense cache, $SAMESENSE_CACHE or ~/.cache/samesense)")
    parser.add_argument("--threads", type=cpu_count(), help="CPU threads of the teacher")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it is a model folder already")
    add_progress_flags(parser)
    parser.set_defaults(func=run_distil)


def run_distil(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..encoders.pretrained_files import cache_folder
    from ..model import check_model_out
    from ..train.teacher import CACHE_FILE
    from ..train.token_teacher import distil_static

    out = Path(args.out)
    check_model_out(out, args.overwrite)
    bounds = ({"max_len": args.max_len, "source": args.teacher} if args.tokenizer == "teacher" else
              {"max_len": args.max_len, "min_count": args.min_count, "unknown_buckets": args.unknown_buckets})
    cache = Path(args.teacher_cache) if args.teacher_cache else cache_folder()
    model = distil_static(args.teacher, args.vocab_from, out, args.dims, {"type": args.tokenizer, **bounds},
                          cache / CACHE_FILE, args.threads, args.show_progress)
    print(f"distilled {args.teacher} into {out}: {len(model.tokenizer)} token ids ({args.tokenizer} tokenizer), "
          f"{args.dims}-d")
    return 0
