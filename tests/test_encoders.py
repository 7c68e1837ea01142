import pytest
import torch

from samesense.data import SamesenseError
from samesense.encoders import GRUEncoder, make_encoder
from samesense.model import SentenceModel
from samesense.tokenize import CharTokenizer


@pytest.mark.parametrize("bidirectional, layers, pooling", [(False, 1, "last"), (True, 2, "last"),
                                                            (False, 1, "max"), (True, 1, "mean")])
def test_padding_does_not_change_a_sentence_vector(bidirectional, layers, pooling):
    torch.manual_seed(0)
    tok = CharTokenizer(min_count=1).fit(["abcdefghijklmnopqrstuvwxyz"])
    model = SentenceModel.build(tok, {"type": "gru", "embed_dim": 16, "hidden_dim": 24, "pooling": pooling,
                                      "num_layers": layers, "bidirectional": bidirectional})
    short = "abc"
    alone = model.encode([short])
    beside_longer = model.encode(["a much longer sentence than that", short, "mid length"], batch_size=3)
    assert torch.allclose(torch.from_numpy(alone[0]), torch.from_numpy(beside_longer[1]), atol=1e-6)
    # and directly through forward with explicit padding
    ids, lengths = model.collate(model.tokenize([short]))
    padded = torch.cat([ids, torch.zeros(1, 20, dtype=torch.long)], dim=1)
    with torch.no_grad():
        assert torch.allclose(model(ids, lengths), model(padded, lengths), atol=1e-6)


def test_output_shape_and_config():
    enc = make_encoder({"type": "gru", "embed_dim": 8, "hidden_dim": 12, "bidirectional": True}, 50)
    assert isinstance(enc, GRUEncoder) and enc.dim == 24
    out = enc(torch.randint(1, 50, (4, 7)), torch.tensor([7, 3, 1, 5]))
    assert out.shape == (4, 24)
    assert make_encoder(enc.config(), 50).config() == enc.config()


def test_unknown_encoder_and_bad_settings():
    with pytest.raises(SamesenseError, match="unknown encoder"):
        make_encoder({"type": "lstm9"}, 10)
    with pytest.raises(SamesenseError, match="bad settings"):
        make_encoder({"type": "gru", "colour": "blue"}, 10)
    with pytest.raises(SamesenseError, match="pooling must be one of"):
        make_encoder({"type": "gru", "pooling": "median"}, 10)
