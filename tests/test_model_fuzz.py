"""Model-loading fuzz (issues 14 and 36): whatever JSON sits in a model folder's files, and whatever
damage befalls any of its files, `samesense.load` either gives a model that encodes (to the very
vectors it was saved with, when the damage left the files as they were saved), or raises one
SamesenseError; never another exception, never a large allocation.

Each example copies a tiny saved model (tokenizer, GRU encoder, pooling, projection) and writes
into one of its files either any JSON value at all, or the file's real content mutated: keys
dropped, values replaced by wrong types, negative or huge numbers, floats for integers. Loading
runs under a cap on the process's address space, so a config that slipped through to a huge
allocation fails the test instead of exhausting the machine.
"""

import contextlib
import json
import math
import resource
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import samesense
from samesense.errors import SamesenseError
from samesense.model import SentenceModel
from samesense.tokenize import CharTokenizer

FILES = ["manifest.json", "tokenizer/config.json", "tokenizer/vocab.json", "encoder/config.json",
         "pooling/config.json", "projection/config.json"]
FUZZ = settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
HEADROOM = 2 << 30  # address space loading may add: a tiny model needs a few MB

scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
           | st.sampled_from([0, -1, 1, 2, 10**9, 2**31, 2**63, 10**30, 1e9, 1e308, -1e9, 0.5, 8.0, 12.0,
                              "char", "gru", "max", "encoder", "tokenizer", "..", "/", "<pad>", "<unk>"]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=16)


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    torch.manual_seed(0)
    tok = CharTokenizer(min_count=1, max_len=16, unknown_buckets=4).fit(["hello world", "你好世界"])
    model = SentenceModel.build(tok, {"type": "gru", "embed_dim": 8, "hidden_dim": 12}, projection=6)
    return model.save(tmp_path_factory.mktemp("fuzz") / "model")


@contextlib.contextmanager
def address_space_cap(extra: int):
    """RLIMIT_AS at what the process holds now plus `extra`: past it, an allocation fails (torch
    raises) rather than the machine swapping or killing processes."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as fh:
        held = int(fh.read().split()[0]) * resource.getpagesize()
    cap = held + extra if hard == resource.RLIM_INFINITY else min(held + extra, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def loaded_or_refused(folder: Path, texts: list[str]):
    """(the model in `folder`, its vectors of `texts`), loaded under the memory cap; None when loading
    refused it, which must be one line (a SamesenseError)."""
    with address_space_cap(HEADROOM):
        try:
            model = samesense.load(folder)
        except SamesenseError as err:
            assert "\n" not in str(err)
            return None
        return model, model.encode(texts)


def load_or_refuse(model_dir: Path, file: str, value) -> None:
    """Write `value` as JSON into `file` of a copy of the model; it must load and encode, or raise
    a one-line SamesenseError."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(shutil.copytree(model_dir, Path(tmp) / "m"))
        (copy / file).write_text(json.dumps(value), encoding="utf-8")  # NaN and Infinity too, as json allows
        loaded = loaded_or_refused(copy, ["hello", "", "asdf 🙂"])
    if loaded is not None:
        model, vectors = loaded
        assert vectors.shape == (3, model.dim) and np.isfinite(vectors).all()


@st.composite
def mutations(draw, original: dict) -> dict:
    """The real config with some keys dropped or given other values, and maybe a key it lacks."""
    config = dict(original)
    for key in draw(st.lists(st.sampled_from(sorted(config)), max_size=3, unique=True)):
        if draw(st.booleans()):
            del config[key]
        else:
            config[key] = draw(number_mutations(config[key]) | json_values)
    if draw(st.booleans()):
        config[draw(st.sampled_from(["colour", "tokens", "pooling", "vocab_size", "in_dim", "dim"]))] = draw(scalars)
    return config


def number_mutations(value) -> st.SearchStrategy:
    """Near misses of a real value: negative, huge, a float for an integer, the wrong list."""
    if isinstance(value, bool):
        return st.sampled_from([0, 1, "true", None, not value])
    if isinstance(value, (int, float)):
        return st.sampled_from([-value, value + 1, value * 1000, float(value), value + 0.5, 10**9, 1e9,
                                math.inf, math.nan, str(value)])
    if isinstance(value, list):
        return st.sampled_from([value[:1], value[::-1], [value], value + value[:1], [len(value)]])
    return st.just(value)


@FUZZ
@given(file=st.sampled_from(FILES), value=json_values)
def test_any_json_in_a_model_file_loads_or_is_one_samesense_error(saved_model, file, value):
    load_or_refuse(saved_model, file, value)


@FUZZ
@given(file=st.sampled_from(FILES), data=st.data())
def test_a_mutated_model_file_loads_or_is_one_samesense_error(saved_model, file, data):
    original = json.loads((saved_model / file).read_text(encoding="utf-8"))
    if file == "manifest.json" and data.draw(st.booleans()):  # mutate one component entry instead
        entries = original["components"]
        at = data.draw(st.integers(0, len(entries) - 1))
        entries[at] = data.draw(mutations(entries[at]))
        value = {**original, "components": data.draw(st.permutations(entries))}
    else:
        value = data.draw(mutations(original))
    load_or_refuse(saved_model, file, value)


def test_the_fuzzed_model_loads_untouched(saved_model):
    # the fuzz starts from a model that loads, so a refusal above is the mutation's doing
    load_or_refuse(saved_model, "manifest.json", json.loads((saved_model / "manifest.json").read_text()))


DAMAGES = ["truncate", "flip a bit", "append", "empty", "link to /dev/zero", "link to a copy outside",
           "huge", "a folder instead", "gone"]
PROBES = ["hello", "", "asdf 🙂", "你好世界"]


def damaged(path: Path, damage: str, at: float, outside: Path) -> None:
    """`damage` done to the file at `path`; `at` in [0, 1) picks where in it."""
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: int(at * len(data))])
    elif damage == "flip a bit":
        bit = int(at * len(data) * 8)
        path.write_bytes(data[: bit // 8] + bytes([data[bit // 8] ^ (1 << bit % 8)]) + data[bit // 8 + 1:])
    elif damage == "append":
        path.write_bytes(data + b"\0" * (1 + int(at * 100)))
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage.startswith("link"):
        outside.write_bytes(data)
        path.unlink()
        path.symlink_to("/dev/zero" if damage.endswith("/dev/zero") else outside)
    elif damage == "huge":
        with open(path, "r+b") as fh:
            fh.truncate((16 << 30) + 1)  # sparse: no disk is used
    elif damage == "a folder instead":
        path.unlink()
        path.mkdir()
    else:
        path.unlink()


@FUZZ
@given(damage=st.sampled_from(DAMAGES), pick=st.floats(0, 1, exclude_max=True), at=st.floats(0, 1, exclude_max=True))
def test_damage_to_any_file_is_one_line_or_the_vectors_it_was_saved_with(saved_model, damage, pick, at):
    files = sorted(p.relative_to(saved_model) for p in saved_model.rglob("*") if p.is_file())
    expected = samesense.load(saved_model).encode(PROBES)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(shutil.copytree(saved_model, Path(tmp) / "m"))
        damaged(copy / files[int(pick * len(files))], damage, at, Path(tmp) / "outside")
        loaded = loaded_or_refused(copy, PROBES)
    assert loaded is None or np.array_equal(loaded[1], expected)  # loaded: the damage changed nothing read
