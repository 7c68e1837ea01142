"""Lexical + dense: does fusing BM25 with a model's cosine (samesense.lexical.hybrid) rank better than
either alone? Open-set top-1/5/10 on the Chinese test sets and qqp test, and pair Spearman, for
each dense encoder alone, BM25 alone, and the two fused, all measured in the same run; the weight
is chosen on the dev file (lcqmc dev for Chinese, qqp dev for English) and never on a test file.

    python benchmarks/hybrid.py --zh-model RUN_OR_MODEL [--en-model RUN_OR_MODEL] \
        [--pretrained e5-small minilm] [--vectors benchmarks/out/vectors] [--no-doc]

A dense encoder's vectors can be kept between runs (--vectors: one file per encoder fingerprint,
as `samesense bench` keeps them), since e5-small encodes ~110 sentences/s on 2 cores. Writes the
`hybrid` section of docs/benchmarks.md and docs/results/hybrid.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, ZH_TESTS, ZH_VAL, CachedEncoder, data_path, machine, table, write_section  # noqa: E402

from samesense.lexical.bm25 import BM25Ranker  # noqa: E402
from samesense.bench.methods import VectorMethod  # noqa: E402
from samesense.data import has_partner, read_groups, read_pairs  # noqa: E402
from samesense.encoder_spec import resolve_encoder  # noqa: E402
from samesense.evaluate import nearest_neighbours, pair_similarities, ranking_scores, spearman  # noqa: E402
from samesense.files import atomic_write_json  # noqa: E402
from samesense.lexical.hybrid import HybridRanker, choose_weight, describe_weights  # noqa: E402

RESULTS_JSON = REPO / "docs" / "results" / "hybrid.json"
EN_TESTS = {"qqp test": "en/qqp/groups_test.tsv"}
# a test set's own dev file, where it has one: the weight a user of that domain would choose
OWN_DEV = {"bq test": "zh/bq/groups_dev.tsv", "stsb_zh test": "zh/stsb_zh/groups_dev.tsv"}
EN_VAL = "en/qqp/groups_dev.tsv"
PAIRS = {"zh": {"lcqmc test": "zh/lcqmc/pairs_test.tsv", "bq test": "zh/bq/pairs_test.tsv",
                "afqmc dev": "zh/afqmc/pairs_dev.tsv", "stsb_zh test": "zh/stsb_zh/pairs_test.tsv"},
         "en": {"qqp test": "en/qqp/pairs_test.tsv"}}


def dense_encoder(name: str, spec: str, sentences: list[str], vectors: str | None, threads: int | None):
    method = VectorMethod(name, resolve_encoder(spec, threads), (), 256, None)
    kept = method.load_vectors(vectors, sentences) if vectors else 0
    started = time.perf_counter()
    encoded = method.prepare(sentences, show_progress=True)
    print(f"{name}: {encoded} sentences encoded in {time.perf_counter() - started:.0f} s, {kept} kept", flush=True)
    if vectors and encoded:
        method.save_vectors(vectors)
    return CachedEncoder(method)


def measure(language: str, encoders: dict[str, str], dev_file: str, tests: dict[str, str],
            args: argparse.Namespace) -> dict:
    dev = read_groups(data_path(dev_file), normalize=False)
    test_groups = {name: read_groups(data_path(path), normalize=False) for name, path in tests.items()}
    pairs = {name: read_pairs(data_path(path), normalize=False) for name, path in PAIRS[language].items()}
    own_dev = {t: read_groups(data_path(OWN_DEV[t]), normalize=False) for t in tests if t in OWN_DEV}
    sentences = list(dict.fromkeys(dev.sentences + [s for g in test_groups.values() for s in g.sentences]
                                   + [s for p in pairs.values() for s in p.first + p.second]
                                   + [s for g in own_dev.values() for s in g.sentences]))
    bm25 = BM25Ranker()
    rows: dict[str, dict] = {"BM25 (jieba words)" if language == "zh" else "BM25": {
        **{name: ranking_scores(bm25.neighbours(g.sentences, 10), g.labels) for name, g in test_groups.items()},
        **{f"{name} spearman": spearman(bm25.pair_scores(p.first, p.second), p.labels) for name, p in pairs.items()}}}
    weights = {}
    for name, spec in encoders.items():
        encoder = dense_encoder(name, spec, sentences, args.vectors, args.threads)
        weight, top1 = choose_weight(encoder, dev.sentences, dev.labels)
        weights[name] = {"weight": weight, "dev_top1": {f"{w:g}": v for w, v in top1.items()}}
        print(f"{language} {name}: hybrid weight {weight:g} on {dev_file}: {describe_weights(top1)}", flush=True)
        hybrid = HybridRanker(encoder, weight)
        rows[name] = {
            **{t: ranking_scores(nearest_neighbours(encoder.encode(g.sentences), 10), g.labels)
               for t, g in test_groups.items()},
            **{f"{t} spearman": spearman(pair_similarities(encoder.encode, p), p.labels) for t, p in pairs.items()}}
        rows[f"hybrid: {name} + BM25 (weight {weight:g})"] = {
            **{t: ranking_scores(hybrid.neighbours(g.sentences, 10), g.labels) for t, g in test_groups.items()},
            **{f"{t} spearman": spearman(hybrid.pair_scores(p.first, p.second), p.labels) for t, p in pairs.items()}}
        if own_dev:  # each set with a dev file of its own gets the weight chosen there
            own = {t: choose_weight(encoder, g.sentences, g.labels)[0] for t, g in own_dev.items()}
            weights[name]["own_dev"] = {t: w for t, w in own.items()}
            label = f"hybrid: {name} + BM25, weight from each set's dev file ({', '.join(f'{t} {w:g}' for t, w in own.items())}; else {weight:g})"
            rows[label] = {t: (ranking_scores(HybridRanker(encoder, own[t]).neighbours(g.sentences, 10), g.labels)
                               if t in own else rows[f"hybrid: {name} + BM25 (weight {weight:g})"][t])
                           for t, g in test_groups.items()}
            rows[label].update({f"{t} spearman": (spearman(HybridRanker(encoder, own[t]).pair_scores(p.first, p.second),
                                                           p.labels) if t in own else
                                                  rows[f"hybrid: {name} + BM25 (weight {weight:g})"][f"{t} spearman"])
                                for t, p in pairs.items()})
        for t in test_groups:
            print(f"  {t}: {name} {rows[name][t]['top1']:.4f}, BM25 {next(iter(rows.values()))[t]['top1']:.4f}, "
                  f"hybrid {rows[f'hybrid: {name} + BM25 (weight {weight:g})'][t]['top1']:.4f}", flush=True)
    return {"rows": rows, "weights": weights, "tests": list(tests), "pairs": list(pairs), "dev": dev_file,
            "queries": {t: int(has_partner(g.labels).sum()) for t, g in test_groups.items()}}


def markdown(results: dict, command: str) -> str:
    lines = ["## Hybrid: BM25 and the model's cosine in one score", "",
             "`samesense.lexical.hybrid`: score = (1 - w) * cosine + w * BM25(q, d) / BM25(q, q), where BM25(q, q) is "
             "the query's score against a copy of itself with the searched sentences' word weights, so the "
             "lexical part is the share of the query's own BM25 weight that d matches (0 to 1) and one "
             "threshold serves every query (the FAQ bank's calibration needs that; rank fusion would lose it). "
             "w is chosen on the dev file (best open-set top-1 over 0, 0.05, ..., 1) and never on a test file. "
             "Every row was measured in the same run.", "",
             f"`{command}` on {machine()}, {time.strftime('%Y-%m-%d')}.", ""]
    for language, result in results.items():
        tests = result["tests"]
        lines += [f"### {'Chinese' if language == 'zh' else 'English'} (weight chosen on {result['dev']})", "",
                  "Open-set top-1/5/10 (each sentence against all others of its file):", ""]
        rows = [[name] + [" / ".join(f"{scores[t][f'top{k}']:.4f}" for k in (1, 5, 10)) for t in tests]
                for name, scores in result["rows"].items()]
        lines += [table(["method"] + [f"{t} top-1/5/10" for t in tests], rows), ""]
        pair_names = result["pairs"]
        rows = [[name] + [scores[f"{t} spearman"] for t in pair_names] for name, scores in result["rows"].items()]
        lines += ["Pair Spearman (score against label):", "", table(["method"] + pair_names, rows), ""]
        for name, chosen in result["weights"].items():
            dev, weight = chosen["dev_top1"], chosen["weight"]
            lines.append(f"- {name}: weight {weight:g}; dev top-1 {dev[f'{weight:g}']:.4f} against "
                         f"{dev['0']:.4f} for the model alone (0) and {dev['1']:.4f} for BM25 alone (1)"
                         + ("; chosen on each set's own dev file instead: " + ", ".join(
                             f"{t} {w:g} ({OWN_DEV[t]})" for t, w in chosen["own_dev"].items())
                            if chosen.get("own_dev") else "") + ".")
        lines.append("")
        lines.append("Queries per test file: " + ", ".join(f"{t} {n}" for t, n in result["queries"].items()) + ".")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zh-model", help="a Chinese samesense model or run folder")
    parser.add_argument("--en-model", help="an English samesense model or run folder (trained on qqp train)")
    parser.add_argument("--pretrained", nargs="*", default=[], choices=["e5-small", "minilm"],
                        help="pretrained encoders to fuse with BM25 too (e5-small: both languages; minilm: English)")
    parser.add_argument("--vectors", help="folder keeping dense encoders' vectors between runs")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs/ alone")
    args = parser.parse_args()
    results = {}
    zh = {"samesense (zh)": args.zh_model} if args.zh_model else {}
    en = {"samesense (en)": args.en_model} if args.en_model else {}
    if "e5-small" in args.pretrained:
        zh["e5-small"] = en["e5-small"] = "e5-small"
    if "minilm" in args.pretrained:
        en["minilm"] = "minilm"
    if zh:
        results["zh"] = measure("zh", zh, ZH_VAL, ZH_TESTS, args)
    if en:
        results["en"] = measure("en", en, EN_VAL, EN_TESTS, args)
    command = "python benchmarks/hybrid.py " + " ".join(sys.argv[1:])
    if args.no_doc:
        return
    atomic_write_json(RESULTS_JSON, {"command": command, **results})
    write_section("hybrid", markdown(results, command))


if __name__ == "__main__":
    main()
