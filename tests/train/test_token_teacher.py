"""`train --encoder static --init-from TEACHER`: a static table started token by token from a teacher
(model2vec's distillation), then trained with the margin losses. The teacher is a tiny one made
here: each text's vector from its characters, so the expected table can be worked out by hand."""

import hashlib

import numpy as np
import pytest
import torch

import samesense
from samesense.errors import SamesenseError
from samesense.tokenize import CharTokenizer
from samesense.train import TrainConfig, plan_run, prepare_data, train
from samesense.train.step import build, make_batch, train_step
from samesense.model import load as load_torch
from samesense.runtime.static_model import StaticModel
from samesense.runtime.teacher_tokenizer import TeacherTokenizer
from samesense.train.token_teacher import reduced, sif_weights, token_start


class CharTeacher:
    """A text's vector: the sum of fixed random vectors of its characters (16-d)."""

    dim, fingerprint, spec = 16, "char-teacher", "char-teacher"

    def __init__(self):
        self.calls = 0

    def vector(self, char: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(char.encode()).digest()[:4], "big")
        return np.random.default_rng(seed).normal(size=self.dim).astype(np.float32)

    def encode(self, texts, batch_size=256, show_progress=False):
        self.calls += len(texts)
        return np.stack([sum(self.vector(c) for c in text) for text in texts]).astype(np.float32)


def test_each_token_starts_at_the_teachers_vector_of_it_reduced_by_pca(tmp_path):
    tokenizer = CharTokenizer(min_count=1, unknown_buckets=3).fit(["abcab", "cde", "aaae"])
    teacher = CharTeacher()
    table, weights = token_start(teacher, tokenizer, ["abcab", "cde", "aaae"], 4, tmp_path / "cache.sqlite")
    words = tokenizer.tokens[2:]
    assert table.shape == (tokenizer.num_ids, 4) and weights.shape == (tokenizer.num_ids,)
    assert not table[:2].any() and not table[len(tokenizer.tokens):].any()  # <pad>, <unk>, buckets: zero
    expected = reduced(teacher.encode(words), 4)
    assert np.allclose(table[2: len(tokenizer.tokens)].numpy(), expected, atol=1e-6)
    # full-rank PCA keeps the centred teacher vectors' inner products: each row is its own token's
    full = reduced(teacher.encode(words), 5)  # 5 tokens: rank 4 once centred
    centred = teacher.encode(words) - teacher.encode(words).mean(0)
    assert np.allclose(full @ full.T, centred @ centred.T, atol=1e-3)
    # rarer tokens weigh more (SIF); the rows with no token weigh 1
    counts = {"a": 6, "b": 2, "c": 2, "d": 1, "e": 2}
    order = sorted(words, key=lambda w: counts[w])
    shares = weights[2: len(tokenizer.tokens)].numpy()
    assert [shares[words.index(w)] for w in order] == sorted(shares, reverse=True)
    assert np.allclose(shares, sif_weights(tokenizer, ["abcab", "cde", "aaae"]))
    assert weights[0] == weights[1] == 1.0
    calls = teacher.calls
    again, _ = token_start(teacher, tokenizer, ["abcab"], 4, tmp_path / "cache.sqlite")
    assert teacher.calls == calls and torch.equal(again, table)  # the second time, every token from the cache


def test_more_dimensions_than_the_teacher_has_is_one_line_before_the_teacher_runs(tmp_path):
    teacher = CharTeacher()
    tokenizer = CharTokenizer(min_count=1).fit(["abc"])
    with pytest.raises(SamesenseError, match="^token vectors of 32 dimensions: more than the teacher's 16$"):
        token_start(teacher, tokenizer, ["abc"], 32, tmp_path / "cache.sqlite")
    assert teacher.calls == 0


def test_init_from_is_for_the_static_encoder():
    with pytest.raises(SamesenseError, match="--init-from starts a static encoder's table from a teacher"):
        plan_run(TrainConfig.of(train=["x"], out="y", encoder="gru", init_from="minilm"))


@pytest.fixture
def settings(synthetic_files, tmp_path):
    train_file, test_file = synthetic_files
    return dict(train=[str(train_file)], val=str(test_file), encoder="static", tokenizer="char", embed_dim=8,
                min_count=1,
                batch_size=32, show_progress=False, spectra=False, threads=1)


def test_a_static_student_trains_from_its_teachers_start_saves_and_loads(settings, tmp_path, monkeypatch):
    teacher = CharTeacher()
    monkeypatch.setattr("samesense.encoder_spec.resolve_encoder", lambda *a, **k: teacher)
    result = train(TrainConfig.of(out=str(tmp_path / "run"), epochs=3, init_from="char-teacher", **settings))
    assert result["history"][-1]["loss"] < result["history"][0]["loss"] and result["val_top1"] > 0.3
    model = load_torch(tmp_path / "run")
    assert model.encoder.type == "static" and model.stages["pooling"].mode == "mean"
    texts = ["abcde", "xyz12", ""]
    again = load_torch(model.save(tmp_path / "again"))
    assert np.array_equal(again.encode(texts), model.encode(texts))
    numpy_model = samesense.load(tmp_path / "run")  # what every --model and samesense.load give: numpy alone
    assert isinstance(numpy_model, StaticModel) and numpy_model.fingerprint == model.fingerprint
    assert np.allclose(numpy_model.encode(texts), model.encode(texts), atol=1e-6)


def test_rows_no_batch_touches_keep_their_teachers_start(settings, tmp_path, monkeypatch):
    teacher = CharTeacher()
    monkeypatch.setattr("samesense.encoder_spec.resolve_encoder", lambda *a, **k: teacher)
    cfg = TrainConfig.of(out=str(tmp_path / "run"), epochs=1, init_from="char-teacher", **settings)
    plan, data = plan_run(cfg), prepare_data(cfg)
    parts = build(plan, data)
    from samesense.train.token_teacher import start_from_teacher

    start_from_teacher(cfg, data, tmp_path, parts.model.encoder)
    before = parts.model.encoder.embedding.weight.detach().clone()
    rows = np.arange(8)
    seen = {int(i) for row in rows for i in data.token_ids[row]}
    train_step(parts, [make_batch(parts, data, torch.from_numpy(data.row_labels), rows, "cpu")])
    after = parts.model.encoder.embedding.weight.detach()
    untouched = sorted(set(range(len(before))) - seen)
    assert untouched and torch.equal(after[untouched], before[untouched])
    assert not torch.equal(after[sorted(seen)], before[sorted(seen)])


def test_with_the_teachers_tokenizer_each_token_goes_in_by_its_id(tmp_path):
    pytest.importorskip("transformers")
    from transformers import AutoModel

    from fake_encoders import write_sentence_transformers_folder
    from samesense.encoder_spec import resolve_encoder
    from samesense.runtime.teacher_tokenizer import TeacherTokenizer
    from samesense.train.token_pass import TokenTeacher
    from samesense.train.token_teacher import zipf_shares

    folder = write_sentence_transformers_folder(tmp_path / "teacher")
    teacher, tokenizer = resolve_encoder(str(folder)), TeacherTokenizer(source=str(folder))
    assert TokenTeacher(teacher, tokenizer).fingerprint.endswith("/tokens-by-id")
    table, weights = token_start(teacher, tokenizer, [], 8, tmp_path / "cache.sqlite")
    network = AutoModel.from_pretrained(str(folder)).eval()
    kept = list(range(1, tokenizer.num_ids))  # all but [PAD]
    ids = torch.tensor([[tokenizer.ids["[CLS]"], i, tokenizer.ids["[SEP]"]] for i in kept])
    with torch.no_grad():
        alone = network(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state.mean(1).numpy()
    assert not table[0].any() and weights[0] == 1.0  # [PAD]: no row
    assert np.allclose(table[kept].numpy(), reduced(alone, 8), atol=1e-4)
    # weights by Zipf's law over the rank in the teacher's vocabulary: later, rarer, heavier
    assert np.allclose(weights[kept].numpy(), 1e-4 / (1e-4 + zipf_shares(len(kept))))
    assert np.all(np.diff(weights[kept].numpy()) > 0)


def test_a_static_student_trains_on_the_teachers_own_tokens(settings, tmp_path, monkeypatch):
    from fake_encoders import write_pretrained_folder

    vocabulary = write_pretrained_folder(tmp_path / "pieces")  # a WordPiece of characters and ## pieces
    teacher = CharTeacher()  # no network of its own: each token goes in as its text, ## taken off
    monkeypatch.setattr("samesense.encoder_spec.resolve_encoder", lambda *a, **k: teacher)
    with pytest.raises(SamesenseError, match="--tokenizer teacher reads the vocabulary of the teacher --init-from"):
        plan_run(TrainConfig.of(out=str(tmp_path / "x"), **{**settings, "tokenizer": "teacher"}))
    result = train(TrainConfig.of(out=str(tmp_path / "run"), epochs=2, init_from=str(vocabulary),
                                  **{**settings, "tokenizer": "teacher"}))
    assert result["val_top1"] > 0.3
    model = samesense.load(tmp_path / "run")
    assert isinstance(model, StaticModel) and model.tokenizer.type == "teacher"
    assert model.tokenizer.tokens == TeacherTokenizer(source=str(vocabulary)).tokens
    assert np.allclose(model.encode(["abc12", "zz"]), load_torch(tmp_path / "run").encode(["abc12", "zz"]), atol=1e-6)
