"""The torch components: the GRU encoder (token outputs and final state), pooling, projection."""

import pytest
import torch

from samesense.components import make_component, with_defaults
from samesense.encoders import (ENCODERS, POOLINGS, GRUEncoder, Pooling, Projection, SlicedGRUEncoder, StaticEncoder,
                                TransformerEncoder)
from samesense.errors import SamesenseError
from samesense.model import SentenceModel
from samesense.tokenize import CharTokenizer


def padded(features, extra):
    """The same batch with `extra` more padding columns (ids 0, mask False), lengths unchanged."""
    rows = features["input_ids"].shape[0]
    return {"input_ids": torch.cat([features["input_ids"], torch.zeros(rows, extra, dtype=torch.long)], dim=1),
            "attention_mask": torch.cat([features["attention_mask"], torch.zeros(rows, extra, dtype=torch.bool)], dim=1),
            "lengths": features["lengths"].clone()}


@pytest.mark.parametrize("bidirectional, layers, pooling", [(False, 1, "last"), (True, 2, "last"),
                                                            (False, 1, "max"), (True, 1, "mean"),
                                                            (True, 1, "cls")])
def test_padding_does_not_change_a_sentence_vector(bidirectional, layers, pooling):
    torch.manual_seed(0)
    tok = CharTokenizer(min_count=1).fit(["abcdefghijklmnopqrstuvwxyz"])
    model = SentenceModel.build(tok, {"type": "gru", "embed_dim": 16, "hidden_dim": 24,
                                      "num_layers": layers, "bidirectional": bidirectional}, pooling=pooling)
    assert model.stages["pooling"].mode == pooling
    short = "abc"
    alone = model.encode([short])
    beside_longer = model.encode(["a much longer sentence than that", short, "mid length"], batch_size=3)
    assert torch.allclose(torch.from_numpy(alone[0]), torch.from_numpy(beside_longer[1]), atol=1e-6)
    # and directly through forward with explicit padding
    features = model.features(model.tokenize([short]))
    with torch.no_grad():
        assert torch.allclose(model(dict(features)), model(padded(features, 20)), atol=1e-6)


def batch_features(vocab_size=50):
    torch.manual_seed(0)
    lengths = torch.tensor([7, 3, 1, 5])
    ids = torch.randint(2, vocab_size, (4, 7))
    mask = torch.arange(7)[None, :] < lengths[:, None]
    return {"input_ids": ids * mask, "lengths": lengths, "attention_mask": mask}


def test_output_shape_and_config():
    enc = make_component({"type": "gru", "vocab_size": 50, "embed_dim": 8, "hidden_dim": 12, "bidirectional": True})
    assert isinstance(enc, GRUEncoder) and enc.dim == 24 and (enc.role, enc.type) == ("encoder", "gru")
    assert ENCODERS == {"gru": GRUEncoder, "srnn": SlicedGRUEncoder, "static": StaticEncoder,
                        "transformer": TransformerEncoder}
    features = batch_features()
    out = enc(dict(features))
    assert out["token_embeddings"].shape == (4, 7, 24) and out["final_state"].shape == (4, 24)
    assert set(out) == {"input_ids", "lengths", "attention_mask", "token_embeddings", "final_state"}
    assert make_component({"type": enc.type, **enc.config()}).config() == enc.config()
    assert enc.config() == {"vocab_size": 50, "embed_dim": 8, "hidden_dim": 12, "num_layers": 1,
                            "bidirectional": True, "dropout": 0.0}
    pooled = Pooling("max")(out)
    assert pooled["sentence_embedding"].shape == (4, 24)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_token_outputs_stop_at_each_sentence_and_final_state_is_the_last_reading(bidirectional):
    enc = GRUEncoder(50, embed_dim=8, hidden_dim=6, bidirectional=bidirectional).eval()
    with torch.no_grad():
        out = enc(batch_features())
    tokens, final = out["token_embeddings"], out["final_state"]
    for row, length in enumerate([7, 3, 1, 5]):
        assert (tokens[row, length:] == 0).all()  # nothing past a sentence's end
        assert torch.allclose(final[row, :6], tokens[row, length - 1, :6])  # forward: read to the end
        if bidirectional:  # backward: read back to the first token
            assert torch.allclose(final[row, 6:], tokens[row, 0, 6:])


def test_each_pooling_against_a_loop():
    torch.manual_seed(0)
    tokens = torch.randn(3, 5, 4)
    lengths = torch.tensor([5, 2, 1])
    mask = torch.arange(5)[None, :] < lengths[:, None]
    final = torch.randn(3, 4)
    expected = {"max": torch.stack([tokens[i, :n].max(0).values for i, n in enumerate(lengths.tolist())]),
                "mean": torch.stack([tokens[i, :n].mean(0) for i, n in enumerate(lengths.tolist())]),
                "cls": tokens[:, 0], "last": final}
    assert set(expected) == set(POOLINGS)
    for mode, want in expected.items():
        features = {"token_embeddings": tokens, "final_state": final, "attention_mask": mask, "lengths": lengths}
        got = Pooling(mode)(features)["sentence_embedding"]
        assert torch.allclose(got, want, atol=1e-6), mode
        assert Pooling(mode).config() == {"mode": mode} and not Pooling(mode).state_dict()
    with pytest.raises(SamesenseError, match="needs an encoder with a final state"):
        Pooling("last")({"token_embeddings": tokens, "attention_mask": mask, "lengths": lengths})


def test_projection_maps_to_another_size():
    torch.manual_seed(0)
    proj = Projection(24, 10)
    assert proj.dim == 10 and (proj.role, proj.type) == ("projection", "linear")
    z = torch.randn(4, 24)
    out = proj({"sentence_embedding": z})["sentence_embedding"]
    assert out.shape == (4, 10) and torch.allclose(out, z @ proj.linear.weight.t())
    again = make_component({"type": "linear", **proj.config()})
    assert again.config() == {"in_dim": 24, "out_dim": 10, "bias": False}


def test_unknown_encoder_and_bad_settings():
    with pytest.raises(SamesenseError, match="unknown component type 'lstm9'"):
        make_component({"type": "lstm9", "vocab_size": 10})
    with pytest.raises(SamesenseError, match="bad settings for encoder 'gru'"):
        make_component({"type": "gru", "vocab_size": 10, "colour": "blue"})
    with pytest.raises(SamesenseError, match="bad settings"):  # pooling is a component of its own now
        make_component({"type": "gru", "vocab_size": 10, "pooling": "max"})
    with pytest.raises(SamesenseError, match="mode must be one of"):
        make_component({"type": "pooling", "mode": "median"})
    tok = CharTokenizer(min_count=1).fit(["abc"])
    with pytest.raises(SamesenseError, match="pooling must be one of"):
        SentenceModel.build(tok, {"type": "gru", "embed_dim": 4, "hidden_dim": 4}, pooling="median")
    with pytest.raises(SamesenseError, match="bad settings for encoder 'gru'") as err:
        SentenceModel.build(tok, {"type": "gru", "embed_dim": 4, "pooling": "max"})
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("cls, settings", [
    (GRUEncoder, {"vocab_size": 30, "embed_dim": 5, "hidden_dim": 7}),
    (GRUEncoder, {"vocab_size": 30, "embed_dim": 5, "hidden_dim": 7, "num_layers": 3, "bidirectional": True}),
    (GRUEncoder, {"vocab_size": 9, "embed_dim": 4, "hidden_dim": 3, "num_layers": 2, "dropout": 0.1}),
    (Projection, {"in_dim": 6, "out_dim": 4}), (Projection, {"in_dim": 6, "out_dim": 4, "bias": True}),
    (Pooling, {"mode": "mean"}), (StaticEncoder, {"vocab_size": 30, "dim": 6}),
])
def test_weight_shapes_are_those_of_the_built_module(cls, settings):
    # what loading compares with a weights file's header before it builds (and allocates) anything
    built = {name: tuple(tensor.shape) for name, tensor in cls(**settings).state_dict().items()}
    assert cls.weight_shapes(**with_defaults(cls, settings)) == built


def test_a_static_encoder_is_the_weighted_mean_of_its_tokens_rows():
    tok = CharTokenizer(min_count=1).fit(["abc"])
    model = SentenceModel.build(tok, {"type": "static", "dim": 4}, pooling="mean")
    encoder = model.encoder
    with torch.no_grad():
        encoder.token_weight.copy_(torch.arange(len(encoder.token_weight), dtype=torch.float32))
    ids = tok.encode("abca")
    rows = encoder.embedding.weight[ids] * encoder.token_weight[ids, None]
    expected = torch.nn.functional.normalize(rows.mean(0), dim=0)
    assert torch.allclose(torch.from_numpy(model.encode("abca")), expected.detach(), atol=1e-6)
    assert torch.allclose(torch.from_numpy(model.encode(["abca", "c"], batch_size=2)[0]), expected.detach(), atol=1e-6)
