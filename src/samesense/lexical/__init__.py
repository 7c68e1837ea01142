"""Scoring by words: BM25 (`bm25.py`), alone (the `bm25` baseline: `--model bm25`, `--baseline bm25`)
and fused with a model's cosine into one score (`hybrid.py`: `--hybrid`, the FAQ bank's `hybrid`
setting). Production code (the FAQ bank) and the benchmarks both use it, so it lives here, not among
the reference models of samesense.baselines. Importing the package imports neither bm25s nor numpy.
"""
