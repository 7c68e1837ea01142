"""A model folder: a manifest and one folder per component; its fingerprint; legacy folders."""

import json
import re
import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import samesense
from samesense.components import COMPONENTS, load_component, make_component
from samesense.encoders import GRUEncoder, Pooling, Projection
from samesense.errors import SamesenseError
from samesense.model import SentenceModel, fingerprint
from samesense.tokenize import CharTokenizer, WordTokenizer

from model_folders import forget_file_digests, record_file_digests

TEXTS = ["hello", "how are you today", "你好", "", "zzz unknown ###"]


def small_model(seed=0, pooling="max", projection=None, bidirectional=False):
    torch.manual_seed(seed)
    tok = CharTokenizer(min_count=1, max_len=16).fit(["hello world", "how are you", "你好世界"])
    return SentenceModel.build(tok, {"type": "gru", "embed_dim": 8, "hidden_dim": 12, "bidirectional": bidirectional},
                               pooling=pooling, projection=projection)


def files_of(path):
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())


def test_the_manifest_lists_the_components_in_order(tmp_path):
    model = small_model(projection=6)
    model.info = {"note": "x"}
    path = model.save(tmp_path / "m")
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["format"] == "samesense-model" and manifest["format_version"] == 2
    assert manifest["components"] == [{"role": "tokenizer", "type": "char", "path": "tokenizer"},
                                      {"role": "encoder", "type": "gru", "path": "encoder"},
                                      {"role": "pooling", "type": "pooling", "path": "pooling"},
                                      {"role": "projection", "type": "linear", "path": "projection"}]
    assert manifest["dim"] == 6 and manifest["normalized"] is True and manifest["info"] == {"note": "x"}
    loaded = samesense.load(path)
    assert [c.role for c in loaded.components] == ["tokenizer", "encoder", "pooling", "projection"]
    assert list(loaded.stages) == ["encoder", "pooling", "projection"]  # the order they run in


def test_each_component_saves_into_its_own_folder(tmp_path):
    model = small_model(projection=6)
    path = model.save(tmp_path / "m")
    assert files_of(path) == ["encoder/config.json", "encoder/weights.safetensors", "manifest.json",
                              "pooling/config.json", "projection/config.json", "projection/weights.safetensors",
                              "tokenizer/config.json", "tokenizer/vocab.json"]
    assert json.loads((path / "tokenizer" / "config.json").read_text()) == {
        "type": "char", "max_len": 16, "min_count": 1, "normalize": True, "unknown_buckets": 0}
    assert json.loads((path / "tokenizer" / "vocab.json").read_text()) == {"tokens": model.tokenizer.tokens}
    assert json.loads((path / "encoder" / "config.json").read_text()) == {"type": "gru", **model.encoder.config()}
    assert json.loads((path / "pooling" / "config.json").read_text()) == {"type": "pooling", "mode": "max"}
    assert json.loads((path / "projection" / "config.json").read_text()) == {
        "type": "linear", "in_dim": 12, "out_dim": 6, "bias": False}
    # every folder loads on its own, to the same component
    tokenizer = load_component(path / "tokenizer")
    assert isinstance(tokenizer, CharTokenizer) and tokenizer.tokens == model.tokenizer.tokens
    for role in ("encoder", "pooling", "projection"):
        component = load_component(path / role)
        assert type(component) is type(model.stages[role]) and component.config() == model.stages[role].config()
        original = model.stages[role].state_dict()
        assert component.state_dict().keys() == original.keys()
        assert all(torch.equal(component.state_dict()[k], original[k]) for k in original)


def test_registry_names_every_component_type():
    assert {"char": CharTokenizer, "word": WordTokenizer, "gru": GRUEncoder, "pooling": Pooling,
            "linear": Projection}.items() <= COMPONENTS.items()


def test_word_tokenizer_component_round_trips(tmp_path):
    tok = WordTokenizer(min_count=1, max_len=8, normalize=False).fit(["Hello world, how are you"])
    tok.save(tmp_path / "tok")
    again = load_component(tmp_path / "tok")
    assert isinstance(again, WordTokenizer) and again.config() == tok.config() and again.tokens == tok.tokens
    assert again.encode("Hello you there") == tok.encode("Hello you there")


def test_fingerprint_covers_every_file(tmp_path):
    path = small_model(projection=6).save(tmp_path / "m")
    base = fingerprint(path)
    assert len(base) == 64 and samesense.load(path).fingerprint == base
    seen = {base}
    for rel in files_of(path):  # one byte more in any single file changes it
        copy = tmp_path / f"copy-{rel.replace('/', '-')}"
        shutil.copytree(path, copy)
        with open(copy / rel, "ab") as fh:
            fh.write(b" ")
        assert fingerprint(copy) not in seen, rel
        seen.add(fingerprint(copy))
    # changes that keep the folder loadable: another pooling, a vocabulary in another order
    pooled = tmp_path / "pooled"
    shutil.copytree(path, pooled)
    (pooled / "pooling" / "config.json").write_text(json.dumps({"type": "pooling", "mode": "mean"}))
    record_file_digests(pooled)
    assert samesense.load(pooled).fingerprint not in seen
    assert not np.allclose(samesense.load(pooled).encode(TEXTS), samesense.load(path).encode(TEXTS))
    swapped = tmp_path / "swapped"
    shutil.copytree(path, swapped)
    tokens = json.loads((path / "tokenizer" / "vocab.json").read_text())["tokens"]
    tokens[2], tokens[3] = tokens[3], tokens[2]
    (swapped / "tokenizer" / "vocab.json").write_text(json.dumps({"tokens": tokens}))
    record_file_digests(swapped)
    assert samesense.load(swapped).fingerprint not in seen
    # a renamed file changes it too (names are hashed), and the same bytes elsewhere do not
    renamed = tmp_path / "renamed"
    shutil.copytree(path, renamed)
    (renamed / "projection").rename(renamed / "projection2")
    assert fingerprint(renamed) not in seen
    elsewhere = tmp_path / "deeper" / "m"
    shutil.copytree(path, elsewhere)
    assert fingerprint(elsewhere) == base


def test_an_unknown_component_type_is_one_line(tmp_path):
    path = small_model().save(tmp_path / "m")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["components"].append({"role": "reranker", "type": "colbert", "path": "reranker"})
    (path / "manifest.json").write_text(json.dumps(manifest))
    (path / "reranker").mkdir()
    (path / "reranker" / "config.json").write_text(json.dumps({"type": "colbert", "dim": 8}))
    with pytest.raises(SamesenseError, match="unknown component type 'colbert'") as err:
        samesense.load(path)
    assert "\n" not in str(err.value) and "reranker" in str(err.value)
    with pytest.raises(SamesenseError, match="unknown component type 'colbert'"):
        make_component({"type": "colbert"})

    (path / "reranker" / "config.json").unlink()
    with pytest.raises(SamesenseError, match="config.json missing"):
        samesense.load(path)
    manifest["components"] = [{"role": "encoder", "type": "gru"}]  # no path
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SamesenseError, match="damaged manifest"):
        samesense.load(path)
    manifest["components"] = [{"role": "encoder", "type": "gru", "path": "encoder"}]
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SamesenseError, match="the first component must be a tokenizer"):
        samesense.load(path)
    (path / "encoder" / "config.json").write_text(json.dumps({"type": "gru", "vocab_size": 10, "colour": "blue"}))
    with pytest.raises(SamesenseError, match="bad settings for encoder 'gru'") as err:
        load_component(path / "encoder")
    assert "\n" not in str(err.value)


def test_the_manifest_and_the_parts_must_agree(tmp_path):
    path = small_model().save(tmp_path / "m")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["components"][1]["type"] = "colbert"  # says colbert, the folder holds a gru
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SamesenseError, match="lists encoder/ as encoder 'colbert', but it holds encoder 'gru'"):
        samesense.load(path)


def test_a_projection_changes_dim_and_round_trips(tmp_path):
    plain, projected = small_model(), small_model(projection=5)
    assert plain.dim == 12 and projected.dim == 5
    vectors = projected.encode(TEXTS)
    assert vectors.shape == (5, 5) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # the projection is applied to the pooled vector of the same encoder
    with torch.no_grad():
        features = plain.features(plain.tokenize(TEXTS[:2]))
        pooled = plain.stages["pooling"](plain.encoder(dict(features)))["sentence_embedding"]
        mapped = torch.nn.functional.normalize(projected.stages["projection"].linear(pooled), dim=-1)
    assert torch.allclose(torch.from_numpy(projected.encode(TEXTS[:2])), mapped, atol=1e-6)
    loaded = samesense.load(projected.save(tmp_path / "p"))
    assert loaded.dim == 5 and np.array_equal(loaded.encode(TEXTS), vectors)
    assert loaded.fingerprint == projected.fingerprint


# ---------------------------------------------------------------------------------------------
# Folders saved before components: config.json + vocab.json + model.safetensors, the readout
# ("pooling") a setting of the GRU encoder, and absent before it was one (the final state).


def write_legacy_folder(path, model, pooling="max"):
    """What samesense wrote before components, built by hand from a model's tokenizer and encoder."""
    path.mkdir(parents=True)
    tok, enc = model.tokenizer, model.encoder
    encoder = {"type": "gru", "embed_dim": enc.embed_dim, "hidden_dim": enc.hidden_dim,
               "num_layers": enc.num_layers, "bidirectional": enc.bidirectional, "dropout": enc.dropout_p}
    if pooling is not None:
        encoder["pooling"] = pooling
    tokenizer = {"type": tok.type, "max_len": tok.max_len, "min_count": tok.min_count, "normalize": tok.normalize}
    config = {"format": "samesense-model", "format_version": 1, "samesense_version": "0.1.0", "dim": enc.dim,
              "normalized": True, "tokenizer": tokenizer, "encoder": encoder,
              "info": {"loss": "am-softmax", "best_epoch": 3}}
    (path / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    (path / "vocab.json").write_text(json.dumps({"tokens": tok.tokens}, ensure_ascii=False), encoding="utf-8")
    save_file({k: v.detach().contiguous() for k, v in enc.state_dict().items()}, str(path / "model.safetensors"))
    return path


@pytest.mark.parametrize("pooling, bidirectional", [("max", False), ("last", False), ("mean", True)])
def test_a_legacy_folder_loads_and_gives_the_same_vectors(pooling, bidirectional, tmp_path):
    model = small_model(pooling=pooling, bidirectional=bidirectional)
    path = write_legacy_folder(tmp_path / "old", model, pooling)
    loaded = samesense.load(path)
    assert loaded.stages["pooling"].mode == pooling and loaded.dim == model.dim
    assert loaded.info == {"loss": "am-softmax", "best_epoch": 3}
    assert np.array_equal(loaded.encode(TEXTS), model.encode(TEXTS))
    assert loaded.fingerprint == fingerprint(path) and len(loaded.fingerprint) == 64
    # saved again, it is a folder of components that gives the same vectors
    again = samesense.load(loaded.save(tmp_path / "new"))
    assert (tmp_path / "new" / "manifest.json").is_file()
    assert np.array_equal(again.encode(TEXTS), model.encode(TEXTS))


def test_a_model_saved_before_pooling_was_a_setting_keeps_its_readout(tmp_path):
    old = small_model(pooling="last")
    path = write_legacy_folder(tmp_path / "old", old, pooling=None)
    loaded = samesense.load(path)
    assert loaded.stages["pooling"].mode == "last"
    assert np.array_equal(loaded.encode(TEXTS), old.encode(TEXTS))
    assert not np.allclose(loaded.encode(TEXTS), small_model(pooling="max").encode(TEXTS))


def test_a_run_folder_with_a_legacy_model_resolves(tmp_path):
    model = small_model()
    write_legacy_folder(tmp_path / "run" / "model", model)
    assert np.array_equal(samesense.load(tmp_path / "run").encode(TEXTS), model.encode(TEXTS))


def test_damaged_legacy_folders_are_clear(tmp_path):
    path = write_legacy_folder(tmp_path / "old", small_model())
    (path / "model.safetensors").unlink()
    with pytest.raises(SamesenseError, match="model.safetensors missing"):
        samesense.load(path)
    path = write_legacy_folder(tmp_path / "old2", small_model())
    config = json.loads((path / "config.json").read_text())
    config["encoder"]["type"] = "lstm"
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(SamesenseError, match="damaged model folder"):
        samesense.load(path)
    (path / "vocab.json").unlink()
    with pytest.raises(SamesenseError, match="vocab.json missing"):
        samesense.load(path)


# ---------------------------------------------------------------------------------------------
# Damaged or hostile folders (issue 14): one SamesenseError naming the file and the field, raised
# before anything large is allocated.


def rewrite_json(path, **changes):
    config = json.loads(path.read_text())
    config.update(changes)
    path.write_text(json.dumps(config))


def test_a_folder_saved_before_unknown_buckets_gives_the_same_vectors(tmp_path):
    model = small_model()
    path = model.save(tmp_path / "m")
    config = json.loads((path / "tokenizer" / "config.json").read_text())
    del config["unknown_buckets"]  # as samesense wrote it before the setting
    (path / "tokenizer" / "config.json").write_text(json.dumps(config))
    forget_file_digests(path)  # which was before manifests recorded the files
    loaded = samesense.load(path)
    assert loaded.tokenizer.unknown_buckets == 0 and loaded.encoder.vocab_size == len(loaded.tokenizer.tokens)
    assert np.array_equal(loaded.encode(TEXTS), model.encode(TEXTS))


@pytest.mark.parametrize("value, message", [
    (1e9, "hidden_dim must be an integer, got 1000000000.0"),
    (10**9, "hidden_dim must be at most 65536, got 1000000000"),
    (-12, "hidden_dim must be at least 1, got -12"),
    ("12", "hidden_dim must be an integer, got '12'"),
    (True, "hidden_dim must be an integer, got True"),
])
def test_a_bad_size_in_a_config_names_the_file_and_the_field(value, message, tmp_path):
    path = small_model().save(tmp_path / "m")
    rewrite_json(path / "encoder" / "config.json", hidden_dim=value)
    with pytest.raises(SamesenseError, match=re.escape(message)) as err:
        samesense.load(path)
    assert str(err.value).startswith(str(path / "encoder" / "config.json")) and "\n" not in str(err.value)


def test_a_config_that_disagrees_with_its_weights_names_both_before_allocating(tmp_path):
    path = small_model(projection=6).save(tmp_path / "m")
    encoder_config, weights = path / "encoder" / "config.json", path / "encoder" / "weights.safetensors"
    # the largest size allowed: built, its GRU alone would take 51 GB; compared first, it is refused at once
    for changes, detail in [({"hidden_dim": 65536}, "gru.bias_hh_l0 is [196608] by the config, [36] in the weights"),
                            ({"embed_dim": 9}, "embedding.weight is [17, 9] by the config, [17, 8] in the weights"),
                            ({"bidirectional": True},
                             "the config needs gru.bias_hh_l0_reverse [36], the weights lack it")]:
        original = encoder_config.read_text()
        rewrite_json(encoder_config, **changes)
        with pytest.raises(SamesenseError) as err:
            samesense.load(path)
        assert str(err.value) == f"{encoder_config} and {weights} disagree: {detail}"
        encoder_config.write_text(original)
    rewrite_json(path / "projection" / "config.json", bias=True)
    with pytest.raises(SamesenseError, match="projection/config.json and .*projection/weights.safetensors disagree: "
                                             r"the config needs linear.bias \[6\], the weights lack it"):
        samesense.load(path)


def test_a_manifest_cannot_point_outside_the_model_folder(tmp_path):
    path = small_model().save(tmp_path / "m")
    small_model().save(tmp_path / "elsewhere")
    manifest = json.loads((path / "manifest.json").read_text())
    for folder in ("../elsewhere/encoder", str(tmp_path / "elsewhere" / "encoder"), "..", "", "encoder\\..\\x"):
        manifest["components"][1]["path"] = folder
        (path / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(SamesenseError, match=r"components\[1\].path must name a folder inside the model folder"):
            samesense.load(path)


def test_the_encoder_table_must_hold_every_id_the_tokenizer_gives(tmp_path):
    path = small_model().save(tmp_path / "m")
    rewrite_json(path / "tokenizer" / "config.json", unknown_buckets=8)  # 8 more ids than the table has rows
    with pytest.raises(SamesenseError, match=r"encoder/config.json: vocab_size is 17, but the tokenizer gives 25 ids "
                                             r"\(17 tokens in .*tokenizer/vocab.json, then unknown_buckets 8\)"):
        samesense.load(path)


def test_a_projection_must_take_the_size_before_it(tmp_path):
    path = small_model(projection=6).save(tmp_path / "m")
    rewrite_json(path / "projection" / "config.json", in_dim=10)
    save_file({"linear.weight": torch.zeros(6, 10)}, str(path / "projection" / "weights.safetensors"))
    with pytest.raises(SamesenseError, match="projection/config.json: in_dim is 10, but the stage before it gives 12"):
        samesense.load(path)


@pytest.mark.parametrize("order", [[0, 1], [0, 2, 1], [0, 1, 2, 2]])
def test_components_that_do_not_run_together_are_a_damaged_manifest(order, tmp_path):
    path = small_model().save(tmp_path / "m")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["components"] = [manifest["components"][i] for i in order]  # no pooling; pooling first; twice
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SamesenseError, match="damaged manifest: its components do not run|pooling more than once"):
        samesense.load(path)


def test_a_damaged_vocabulary_is_one_line(tmp_path):
    path = small_model().save(tmp_path / "m")
    for tokens, message in [([], "must start with '<pad>' and '<unk>'"), (["<pad>", "<unk>", 3], "list of strings"),
                            (["<pad>", "<unk>", "a", "a"], "tokens repeat"), ("abc", "list of strings")]:
        (path / "tokenizer" / "vocab.json").write_text(json.dumps({"tokens": tokens}))
        with pytest.raises(SamesenseError, match=re.escape(message)):
            samesense.load(path)
