"""The benchmark harness on a fake data root (the real folder and file names, tiny generated data)."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from synthetic import CONTENT, CONTENT_ZH, write_data_root

from samesense.bench import BenchConfig, run_bench, select_tasks
from samesense.bench.methods import MethodSpec, RankerMethod, VectorMethod, model_languages
from samesense.bench.report import write_section
from samesense.bench.tasks import PROTOCOLS, TASKS, check_files
from samesense.cli import main
from samesense.errors import DataError, SamesenseError


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    files = sorted({f for task in TASKS for f in task.files()})
    return write_data_root(tmp_path_factory.mktemp("data"), files)


class LetterCounts:
    """A stand-in encoder: counts of the content letters (which carry a synthetic sentence's
    meaning), so that its scores are predictable; it also counts the sentences it encodes."""

    name, languages = "letters", ("zh", "en")
    alphabet = CONTENT + CONTENT_ZH
    dim = len(alphabet)

    def __init__(self):
        self.encoded = 0

    def encode(self, texts, batch_size=256, show_progress=False):
        self.encoded += len(texts)
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, text in enumerate(texts):
            for ch in text:
                if ch in self.alphabet:
                    out[row, self.alphabet.index(ch)] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def letters_method():
    return VectorMethod("letters", LetterCounts(), ("zh", "en"), 64, None)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: f"{t.protocol}:{t.name}")
def test_each_task_on_tiny_files(task, data_root):
    method = letters_method()
    data = task.load(data_root)
    method.prepare(task.sentences(data))
    result = task.run(method, data)
    if task.protocol == "open-set":
        assert result["n"] == 64 and 0.8 < result["top1"] <= result["top5"] <= result["top10"] <= 1.0
    elif task.protocol == "pairs":
        assert result["n"] == 32 and result["spearman"] > 0.5
        if "auc" in result:
            assert result["auc"] > 0.9
            assert result["threshold_from"] == (f"dev ({Path(task.dev).name})" if task.dev
                                                else "best on this file (optimistic)")
    elif task.protocol == "intent":
        assert result["n"] == 64 and result["accuracy"] > 0.8
        if task.oos_test:  # random out-of-scope strings are far from every intent: mostly refused
            assert result["oos_n"] == 8 and result["oos_recall"] > 0.5
            assert result["accuracy"] <= result["accuracy_no_abstention"]
    else:
        assert result["n"] == 64 and result["sentences_per_second"] > 0


def test_a_vector_method_encodes_each_sentence_once(data_root):
    method = letters_method()
    tasks = [t for t in TASKS if t.protocol != "speed"]
    loaded = {t: t.load(data_root) for t in tasks}
    sentences = [s for t in tasks for s in t.sentences(loaded[t])]
    method.prepare(sentences)
    assert method.encoder.encoded == len(set(sentences))
    for task in tasks:
        task.run(method, loaded[task])
    assert method.encoder.encoded == len(set(sentences))  # every protocol found its vectors cached


def test_bm25_and_vectors_answer_the_same_questions(data_root):
    bm25 = MethodSpec.baseline("bm25").load(64, None)
    task = next(t for t in TASKS if t.name == "clinc150")
    data = task.load(data_root)
    best, scores = bm25.nearest(data["test"].sentences, data["train"].sentences)
    assert best.shape == scores.shape == (len(data["test"]),)


# The data folder as ../shared/data/README.md describes it (its tables: set -> files), written out
# independently of TASKS, so that the task table is checked against the documented layout.
README_LAYOUT = {
    "zh/diac2019": ["groups_train", "hardneg_train"],
    "zh/bq": ["groups_train", "groups_dev", "groups_test", "pairs_train", "pairs_dev", "pairs_test"],
    "zh/afqmc": ["groups_train", "groups_dev", "pairs_train", "pairs_dev"],
    "zh/lcqmc": ["groups_dev", "groups_test", "pairs_dev", "pairs_test"],
    "zh/stsb_zh": ["groups_train", "groups_dev", "groups_test", "pairs_train", "pairs_dev", "pairs_test"],
    "zh/pawsx_zh": ["groups_dev", "pairs_dev"],
    "zh/simclue": ["groups_train1w", "pairs_train1w"],
    "zh/chinese_sts": ["groups_train", "pairs_train"],
    "en/clinc150": ["groups_train", "groups_dev", "groups_test", "oos_train", "oos_dev", "oos_test", "oos_plus_train"],
    "en/banking77": ["groups_train", "groups_dev", "groups_test", "groups_train_full"],
    "en/qqp": ["groups_train", "groups_dev", "groups_test", "pairs_train", "pairs_dev", "pairs_test"],
    "en/stsb": ["pairs_train", "pairs_dev", "pairs_test"],
    "en/sick": ["pairs_train", "pairs_dev", "pairs_test"],
    "en/mrpc": ["groups_train", "groups_test", "pairs_train", "pairs_test"],
}


def documented_files() -> list[str]:
    return sorted(f"{folder}/{name}.{'txt' if name.startswith('oos_') else 'tsv'}"
                  for folder, names in README_LAYOUT.items() for name in names)


def test_the_task_table_matches_the_real_data(trained_run, tmp_path, capsys):
    """Every task reads files the data folder ships, and the whole suite gives real numbers on a
    data root of that layout (tiny generated files, so no ../shared/data is needed). Where the
    real folder is beside the repository, its files are exactly the documented ones."""
    real = Path(os.environ.get("SAMESENSE_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
    if real.is_dir():
        shipped = sorted(p.relative_to(real).as_posix() for p in real.rglob("*") if p.is_file() and p.suffix != ".md")
        assert shipped == documented_files()
        check_files(TASKS, real)

    root = write_data_root(tmp_path / "data", documented_files())
    check_files(TASKS, root)
    assert {f for task in TASKS for f in task.files()} < set(documented_files())
    run, _ = trained_run  # reads the synthetic English groups; BM25 reads the Chinese ones by character
    out = tmp_path / "bench.json"
    assert main(["bench", "--baseline", "bm25", "--model", f"tiny={run}@en", "--data", str(root),
                 "--json", str(out), "--quiet", "--threads", "1"]) == 0
    capsys.readouterr()
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["data"] == str(root) and results["methods"]["bm25"]["languages"] == ["zh", "en"]
    for task in TASKS:
        by_method = results["results"][task.protocol][task.name]
        readers = {"tiny"} if task.language == "en" else set()  # the model reads English; BM25 both, but no centroid
        assert set(by_method) == readers | ({"bm25"} if task.applies(RankerMethod("bm25", None, ())) else set()), task.name
        for result in by_method.values():  # every number a number
            assert all(np.isfinite(v) for v in result.values() if isinstance(v, (int, float))), (task.name, result)
        result = by_method["tiny" if task.language == "en" else "bm25"]  # the method that reads this language
        if task.protocol == "open-set":
            assert result["n"] == 64 and 0.5 < result["top1"] <= result["top5"] <= result["top10"] <= 1.0, task.name
        elif task.protocol == "pairs":
            assert result["n"] == 32 and result["spearman"] > 0.5, task.name
            if "auc" in result:
                assert result["auc"] > 0.8 and 0.5 < result["accuracy"] <= 1.0, task.name
        elif task.protocol == "intent":
            assert result["n"] == 64 and result["accuracy"] > 0.8, task.name
            if task.oos_test:
                assert result["oos_n"] == 8 and result["oos_recall"] > 0.5
        else:
            assert result["n"] == 64 and result["sentences_per_second"] > 0


def test_protocol_selection_and_missing_files(tmp_path):
    assert {t.protocol for t in select_tasks(["pairs", "intent"])} == {"pairs", "intent"}
    assert {t.protocol for t in select_tasks(PROTOCOLS)} == set(PROTOCOLS)
    with pytest.raises(SamesenseError, match="unknown protocol"):
        select_tasks(["speed", "vibes"])
    chosen = select_tasks(["open-set", "intent"], ["lcqmc test", "banking77"])
    assert sorted(t.name for t in chosen) == ["banking77", "lcqmc test"]
    with pytest.raises(SamesenseError, match="no task 'lcqmc tset'"):  # a typo runs nothing, not less
        select_tasks(["open-set"], ["lcqmc tset"])
    with pytest.raises(DataError, match="benchmark file not found"):
        check_files(TASKS, tmp_path)


def test_model_spec_and_language(trained_run):
    run, _ = trained_run
    spec = MethodSpec.parse_model(f"tiny={run}@zh+en")
    assert (spec.name, spec.source, spec.languages) == ("tiny", str(run), ("zh", "en"))
    assert MethodSpec.parse_model(f"tiny={run}").languages is None
    for bad in ("no-equals-sign", f"x={run}@fr"):
        with pytest.raises(SamesenseError):
            MethodSpec.parse_model(bad)
    method = MethodSpec.parse_model(f"tiny={run}").load(64, None)
    assert method.languages == ("en",)  # its vocabulary is Latin letters and digits
    assert model_languages(method.encoder) == ("en",)


def test_chinese_vocabulary_means_zh():
    class Vocab:
        tokens = ["<pad>", "<unk>"] + list(CONTENT_ZH) + list("ab1")

    class Model:
        tokenizer = Vocab()

    assert model_languages(Model()) == ("zh",)


def test_write_section_replaces_only_its_own(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nintro\n\n<!-- BEGIN other -->\nkeep me\n<!-- END other -->\n", encoding="utf-8")
    write_section("bench", "## first", doc)
    write_section("bench", "## second", doc)
    text = doc.read_text(encoding="utf-8")
    assert "keep me" in text and "intro" in text and "## second" in text and "## first" not in text
    assert text.count("<!-- BEGIN bench -->") == 1


def test_bench_command_end_to_end(trained_run, data_root, tmp_path, capsys):
    run, _ = trained_run
    doc = tmp_path / "docs" / "benchmarks.md"
    out_json, plots = tmp_path / "docs" / "results" / "bench.json", tmp_path / "docs" / "img"
    code = main(["bench", "--model", f"tiny={run}", "--baseline", "bm25", "--data", str(data_root),
                 "--json", str(out_json), "--doc", str(doc), "--section", "tiny", "--plots", str(plots),
                 "--title", "Tiny comparison", "--quiet", "--threads", "1"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "## Tiny comparison" in printed and "| tiny |" in printed and "| bm25 |" in printed

    results = json.loads(out_json.read_text(encoding="utf-8"))
    assert results["methods"]["tiny"]["languages"] == ["en"]
    assert results["methods"]["bm25"]["train_seconds"] == "no training"
    assert results["methods"]["tiny"]["train_seconds"] is None or results["methods"]["tiny"]["train_seconds"] > 0
    open_set = results["results"]["open-set"]
    assert set(open_set["qqp test"]) == {"tiny", "bm25"}  # en: both
    assert set(open_set["lcqmc test"]) == {"bm25"}  # zh: the English model does not run it
    assert open_set["qqp test"]["tiny"]["top1"] > 0.5  # a trained model reads the synthetic groups
    assert set(results["results"]["intent"]["clinc150"]["tiny"]) >= {"accuracy", "oos_recall", "threshold"}
    assert results["results"]["speed"]["en speed"]["tiny"]["sentences_per_second"] > 0
    assert all(m["suite_seconds"] > 0 for m in results["methods"].values())

    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks") and "<!-- BEGIN tiny -->" in text and "<!-- END tiny -->" in text
    assert "| tiny |" in text and "—" in text  # dashes where the English model has no zh numbers
    pngs = sorted(p.name for p in plots.iterdir())
    assert pngs == ["tiny_intent.png", "tiny_open-set.png", "tiny_pairs.png", "tiny_speed.png"]
    for name in pngs:
        assert (plots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"](img/{name})" in text  # linked relative to the doc


def test_bench_command_subset_of_protocols(trained_run, data_root, capsys):
    run, _ = trained_run
    results = run_bench(BenchConfig([MethodSpec.parse_model(f"tiny={run}@en")], data=str(data_root),
                                    protocols=["intent"], show_progress=False))
    assert list(results["results"]) == ["intent"]
    assert "### Open-set" not in results["markdown"] and "### Intent matching" in results["markdown"]


@pytest.mark.parametrize("argv, message", [
    ([], "nothing to compare"),
    (["--model", "nameonly"], "expected NAME=PATH"),
    (["--model", "x=/no/such/model"], "no such model folder"),
    (["--baseline", "bm25", "--data", "/no/such/data"], "benchmark file not found"),
    (["--baseline", "bm25", "--data", "/no/such/data", "--model", "x=/no/such/model"], "no such model folder"),
    (["--baseline", "bm25", "--model", "bm25=/no/such/model"], "two methods are called 'bm25'"),
])
def test_bench_user_errors_are_one_line(argv, message, capsys):
    assert main(["bench", "--quiet"] + argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def test_two_methods_of_one_name_are_refused(trained_run, data_root):
    run, _ = trained_run
    spec = MethodSpec.parse_model(f"same={run}")
    with pytest.raises(SamesenseError, match="two methods are called 'same'"):
        run_bench(BenchConfig([spec, spec], data=str(data_root)))


def test_vectors_kept_between_runs_are_reused(data_root, tmp_path):
    tasks = [t for t in TASKS if t.protocol == "open-set"]
    sentences = [s for t in tasks for s in t.sentences(t.load(data_root))]
    first = letters_method()
    first.encoder.fingerprint = "letters-v1"
    assert first.load_vectors(tmp_path, sentences) == 0
    assert first.prepare(sentences) == len(set(sentences))
    first.save_vectors(tmp_path)
    again = letters_method()
    again.encoder.fingerprint = "letters-v1"
    assert again.load_vectors(tmp_path, sentences + ["a new one"]) == len(set(sentences))
    assert again.prepare(sentences + ["a new one"]) == 1  # only the new sentence is encoded
    assert np.array_equal(again.encode(sentences), first.encode(sentences))
    other = letters_method()
    other.encoder.fingerprint = "letters-v2"  # another model: nothing of the first one's
    assert other.load_vectors(tmp_path, sentences) == 0


def test_a_protocol_no_method_ran_has_no_table(trained_run, data_root):
    run, _ = trained_run
    results = run_bench(BenchConfig([MethodSpec.parse_model(f"tiny={run}@zh")], data=str(data_root),
                                    protocols=["open-set", "intent"], show_progress=False))
    assert results["results"]["intent"] == {}  # intent sets are English
    assert "### Open-set" in results["markdown"] and "### Intent matching" not in results["markdown"]


@pytest.mark.parametrize("protocol, rel, content, message", [
    ("open-set", "zh/lcqmc/groups_test.tsv", "", "no sentences"),
    ("open-set", "zh/lcqmc/groups_test.tsv", "a\tone\nb\ttwo\n", "no group of the file has two sentences"),
    ("pairs", "zh/lcqmc/pairs_test.tsv", "", "no pairs"),
    ("pairs", "zh/lcqmc/pairs_dev.tsv", "x\t \t1\n", "no pairs (1 pair with an empty side skipped)"),
])
def test_bench_refuses_a_test_file_with_nothing_to_score(protocol, rel, content, message, tmp_path, capsys):
    """An empty or all-single-sentence file would score a silent 0.0000: exit 2, one line naming it."""
    tasks = [t for t in TASKS if t.protocol == protocol]
    root = write_data_root(tmp_path / "data", sorted({f for t in tasks for f in t.files()}))
    (root / rel).write_text(content, encoding="utf-8")
    assert main(["bench", "--baseline", "bm25", "--protocols", protocol, "--data", str(root),
                 "--quiet", "--threads", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("samesense: error: ") and f"{root / rel}: {message}" in err
    assert "\n" not in err and "Traceback" not in err


# ---------------------------------------------------------------------------------------------
# Plots at the size a page shows them


def many_results(zh_methods: int = 10, en_methods: int = 3, baselines: int = 3) -> dict:
    """Results shaped as docs/results/compare.json: 16 methods, the Chinese models scored on the
    Chinese tasks only and the English ones on the English tasks only, baselines on all."""
    rng = np.random.default_rng(0)
    zh = [f"zh model {i}, a longish name as the tuned runs have" for i in range(zh_methods)]
    en = [f"en model {i}" for i in range(en_methods)]
    both = [f"baseline {i}" for i in range(baselines)]
    tasks = {"open-set": {**{f"zh set {i}": "zh" for i in range(4)}, "en set": "en"},
             "pairs": {**{f"zh pairs {i}": "zh" for i in range(5)}, **{f"en pairs {i}": "en" for i in range(4)}},
             "intent": {"clinc150": "en", "banking77": "en"}, "speed": {"zh speed": "zh", "en speed": "en"}}
    keys = {"open-set": "top1", "pairs": "spearman", "intent": "accuracy", "speed": "sentences_per_second"}
    results = {protocol: {task: {m: {keys[protocol]: float(rng.uniform(0.1, 0.9)) * (1e4 if protocol == "speed" else 1)}
                                 for m in (zh if language == "zh" else en) + both}
                          for task, language in by_task.items()} for protocol, by_task in tasks.items()}
    return {"methods": {m: {} for m in zh + en + both}, "results": results,
            "tasks": {protocol: {task: {"language": language} for task, language in by_task.items()}
                      for protocol, by_task in tasks.items()}}


def test_plots_of_sixteen_methods_are_page_sized_with_the_legend_outside_the_panels(tmp_path):
    import struct

    from samesense.bench.report import figures, plot

    results = many_results()
    for caption, (fig, _) in figures(results, "many").items():
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        panels = [ax.get_window_extent(renderer) for ax in fig.axes]
        for legend in fig.legends:
            box = legend.get_window_extent(renderer)
            assert not any(box.overlaps(panel) for panel in panels), caption
            assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 and fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1
        if caption.startswith("open-set"):  # a panel per task; the legend names each method once
            assert [ax.get_title() for ax in fig.axes] == list(results["results"]["open-set"])
            assert [t.get_text() for t in fig.legends[0].get_texts()] == list(results["methods"])
            bars = [tuple(bar.get_facecolor()) for bar in fig.axes[0].patches]
            assert len(bars) == 13 and len(set(bars)) == 13  # 10 Chinese models and 3 baselines, 13 colours
    for path in plot(results, tmp_path, "many").values():
        width, height = struct.unpack(">II", path.read_bytes()[16:24])  # the PNG header's IHDR
        assert width <= 1600 and height <= 1000, (path.name, width, height)


@pytest.mark.parametrize("count", [3, 10, 16, 20, 30])
def test_series_colours_are_distinct(count):
    from samesense.bench.report import series_colours

    colours = series_colours(count)
    assert len(colours) == count == len({tuple(np.round(c, 3)) for c in colours})


def test_centroid_matching_takes_the_intent_whose_mean_is_nearest_where_one_neighbour_misleads():
    """Intent a's examples lie around (1, 0) but one stray example sits at (0.6, 0.8); intent b's
    around (0, 1). A query at (0.5, 0.85) is nearest the stray example of a (1-NN says a) and
    nearest b's centroid (centroids say b)."""
    from samesense.bench.tasks import IntentMatching
    from samesense.data import Groups

    points = {"a1": (1.0, 0.0), "a2": (0.99, 0.14), "a3": (0.6, 0.8), "b1": (0.0, 1.0), "b2": (0.2, 0.98),
              "q": (0.5, 0.85)}

    class Fixed:
        dim = 2

        def encode(self, texts, batch_size=256, show_progress=False):
            return np.asarray([points[t] for t in texts], np.float32)

    method = VectorMethod("fixed", Fixed(), ("en",), 8, None)
    train = Groups(sentences=["a1", "a2", "a3", "b1", "b2"], labels=np.array([0, 0, 0, 1, 1]), names=["a", "b"])
    data = {"train": train, "test": Groups(sentences=["q"], labels=np.array([0]), names=["b"]),
            "dev": None, "oos_dev": [], "oos_test": []}
    method.prepare(train.sentences + ["q"])
    nearest = IntentMatching("x", "en", train="t", test="q").run(method, data)
    centroid = IntentMatching("x", "en", train="t", test="q", match="centroid").run(method, data)
    assert nearest["accuracy"] == 0.0 and centroid["accuracy"] == 1.0
    assert IntentMatching("x", "en", match="centroid").applies(method)
    assert not IntentMatching("x", "en", match="centroid").applies(RankerMethod("bm25", None, ("en",)))
