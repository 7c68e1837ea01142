"""The sliced GRU (--encoder srnn): its cut, its padding invariance, and a run that trains and loads."""

import json

import numpy as np
import pytest
import torch

import samesense
from samesense.components import make_component
from samesense.encoders import SlicedGRUEncoder
from samesense.errors import SamesenseError
from samesense.model import SentenceModel
from samesense.tokenize import CharTokenizer
from samesense.train import TrainConfig, plan_run, train


def small_encoder(**settings):
    torch.manual_seed(0)
    return make_component({"type": "srnn", "vocab_size": 40, "max_len": 16, "embed_dim": 8, "hidden_dim": 12,
                           "slices": 2, "slice_levels": 2, **settings})


def features(rows):
    lengths = torch.tensor([len(r) for r in rows])
    ids = torch.zeros(len(rows), int(lengths.max()), dtype=torch.int64)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
    return {"input_ids": ids, "lengths": lengths, "attention_mask": ids > 0}


def test_the_levels_read_slices_of_the_sentence_then_their_states():
    enc = small_encoder().eval()
    assert (enc.pieces, enc.slice_len) == (4, 4)  # 2 slices, cut twice: 4 minimal subsequences of 4 tokens
    sentence = list(range(2, 12))  # 10 tokens: slices of 4, 4, 2 and an empty one
    out = enc(features([sentence]))
    # by hand: level 0 over each minimal subsequence, level 1 over pairs of their states, level 2 over the two
    with torch.no_grad():
        tokens = enc.embedding(torch.tensor([sentence]))
        states = [enc.grus[0](tokens[:, a:b])[1][-1] for a, b in ((0, 4), (4, 8), (8, 10))]
        first = enc.grus[1](torch.stack(states[:2], 1))[1][-1]
        second = enc.grus[1](states[2][:, None])[1][-1]  # its one non-empty child: the empty slice is not read
        top = enc.grus[2](torch.stack([first, second], 1))[1][-1]
    assert torch.allclose(out["final_state"], top, atol=1e-6)
    assert out["token_embeddings"].shape == (1, 10, 12)


def test_a_sentence_encodes_the_same_alone_or_beside_longer_ones():
    enc = small_encoder().eval()
    short, long = [5, 6, 7], list(range(2, 18))
    with torch.no_grad():
        alone = enc(features([short]))["final_state"]
        beside = enc(features([short, long]))["final_state"][:1]
    assert torch.equal(alone, beside) or torch.allclose(alone, beside, atol=1e-7)


def test_bad_slicing_is_refused_in_one_line():
    with pytest.raises(SamesenseError, match="at most max_len"):
        small_encoder(slices=4, slice_levels=3)  # 64 minimal subsequences for 16 tokens
    with pytest.raises(SamesenseError, match="srnn encoder is one direction"):
        plan_run(TrainConfig.of(train=["x"], out="y", encoder="srnn", bidirectional=True))


def test_an_srnn_run_trains_saves_and_loads(synthetic_files, tmp_path):
    train_file, test_file = synthetic_files
    result = train(TrainConfig.of(train=[str(train_file)], val=str(test_file), out=str(tmp_path / "run"),
                                  encoder="srnn", max_len=16, slices=2, slice_levels=2, embed_dim=16, hidden_dim=32,
                                  epochs=3, batch_size=32, lr=3e-3, min_count=1, show_progress=False, threads=1))
    first, last = result["history"][0], result["history"][-1]
    assert last["loss"] < first["loss"] and last["val_top1"] > first["val_top1"]
    model = samesense.load(tmp_path / "run")
    assert model.encoder.type == "srnn" and model.stages["pooling"].mode == "last"
    config = json.loads((tmp_path / "run" / "model" / "encoder" / "config.json").read_text())
    assert config["slices"] == 2 and config["slice_levels"] == 2 and config["max_len"] == 16
    texts = ["abcde", "12abcde3"]
    assert np.allclose(model.encode(texts), samesense.load(model.save(tmp_path / "again")).encode(texts))


def test_a_sentence_model_with_an_srnn_encoder_reads_what_its_tokenizer_gives():
    tokenizer = CharTokenizer(max_len=16, min_count=1).fit(["abcdefghij"])
    model = SentenceModel.build(tokenizer, {"type": "srnn", "max_len": 16, "embed_dim": 8, "hidden_dim": 8,
                                            "slices": 4, "slice_levels": 2}, "last")
    vectors = model.encode(["abc", "abcdefghij" * 3])  # the long one cut at max_len by the tokenizer
    assert vectors.shape == (2, 8) and np.isfinite(vectors).all()


def test_a_model_folder_whose_srnn_reads_fewer_tokens_than_its_tokenizer_gives_is_refused(tmp_path):
    tokenizer = CharTokenizer(max_len=16, min_count=1).fit(["abcdefghij"])
    model = SentenceModel.build(tokenizer, {"type": "srnn", "max_len": 16, "embed_dim": 8, "hidden_dim": 8,
                                            "slices": 2, "slice_levels": 2}, "last")
    folder = model.save(tmp_path / "m")
    config = folder / "tokenizer" / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "max_len": 64}))
    with pytest.raises(SamesenseError, match="max_len is 16, but the tokenizer gives up to 64"):
        samesense.load(folder)
