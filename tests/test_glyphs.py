"""Glyph-aware characters (--glyphs): the glyph table, the tokenizer's glyph ids, the glyph CNN, and
a run whose saved model reads rare characters without the font."""

import json
import random

import numpy as np
import pytest
import torch

import samesense
from samesense import glyphs
from samesense.encoders.glyph import GlyphEmbedding
from samesense.errors import SamesenseError
from samesense.glyphs import GLYPH_COUNT, draw_glyphs, glyph_char, glyph_index
from samesense.tokenize import UNK_ID, CharTokenizer
from samesense.train import TrainConfig, plan_run, train

from model_folders import forget_file_digests
from synthetic import write_groups

COMMON = "银行信用卡办理账户密码手机天气电影音乐学校医院火车飞机"


RARE = [chr(0x5000 + i) for i in range(400)]  # each drawn a few times at most: outside a min-count-3 vocabulary


def chinese_groups(num_groups: int, seed: int, prefix: str) -> list[tuple[str, str]]:
    """Groups of common characters in a fixed order (each group its own four), with filler ones
    around and one rare character at the end (glyphs are read for those)."""
    rng = random.Random(seed)
    records = []
    for g in range(num_groups):
        key = "".join(rng.sample(COMMON, 4))
        for _ in range(4):
            records.append((f"{prefix}{g}", "".join(rng.sample(COMMON, rng.randint(0, 2))) + key + rng.choice(RARE)))
    return records


def test_every_character_of_the_blocks_has_a_glyph_index_and_nothing_else_does():
    assert GLYPH_COUNT == 27584
    assert glyph_index("\u3400") == 0 and glyph_index("\u4e00") == 0x4dbf - 0x3400 + 1
    assert glyph_index("\u9fff") == GLYPH_COUNT - 1
    for index in (0, 1, 6591, 6592, 20000, GLYPH_COUNT - 1):
        assert glyph_index(glyph_char(index)) == index
    assert [glyph_index(t) for t in ("a", "。", "ab", "银行", "\U00020000", "")] == [-1] * 6


def test_the_glyphs_are_drawn_from_the_font():
    bitmaps = draw_glyphs(16)
    assert bitmaps.shape == (GLYPH_COUNT, 32) and bitmaps.dtype == np.uint8
    one = np.unpackbits(bitmaps[glyph_index("一")]).reshape(16, 16)
    assert one.sum() > 4 and one.any(axis=1).sum() <= 3  # a horizontal stroke: ink on a row or two
    drawn = [glyph_index(c) for c in "河海湖银钱铁"]
    assert len({bitmaps[i].tobytes() for i in drawn}) == 6 and all(bitmaps[i].any() for i in drawn)


def test_a_missing_font_is_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setenv(glyphs.FONT_VARIABLE, str(tmp_path / "none.otf"))
    with pytest.raises(SamesenseError, match="no such font file"):
        glyphs.font_path()
    monkeypatch.delenv(glyphs.FONT_VARIABLE)
    monkeypatch.setitem(__import__("sys").modules, "cvttf_NotoSansCJK_Regular", None)  # as if not installed
    with pytest.raises(SamesenseError, match="pip install cvttf-notosanscjk-regular"):
        glyphs.font_path()


def test_a_glyph_tokenizer_gives_a_rare_character_its_own_id_and_its_glyph():
    tokenizer = CharTokenizer(min_count=1, glyphs=True, unknown_buckets=8).fit(["银行卡", "ab"])
    ids = tokenizer.encode("银鑫鍂z")  # 鑫 and 鍂: never seen; z: not Chinese
    assert ids[0] == tokenizer.ids["银"]
    assert ids[1] == tokenizer.num_ids + glyph_index("鑫") and ids[2] == tokenizer.num_ids + glyph_index("鍂")
    assert len(tokenizer) <= ids[3] < tokenizer.num_ids  # z: its bucket, as without glyphs
    features = tokenizer.collate([ids, [ids[0]]])
    learned, glyph = features["input_ids"], features["glyph_ids"]
    assert learned.max() < tokenizer.num_ids  # only learned rows: a rare character reads its bucket's
    assert learned[0, 1] == tokenizer.learned_unknown_id("鑫") and learned[0, 3] == tokenizer.learned_unknown_id("z")
    assert glyph[0].tolist() == [glyph_index("银") + 1, glyph_index("鑫") + 1, glyph_index("鍂") + 1, 0]
    assert glyph[1].tolist() == [glyph_index("银") + 1, 0, 0, 0]  # padding has no glyph
    assert tokenizer.unknown_fraction(["鑫鍂", "zz", "银z"]) == [0.0, 1.0, 0.5]  # a glyph is read; z is not
    plain = CharTokenizer(min_count=1).fit(["银行卡"])
    assert plain.encode("鑫") == [UNK_ID] and "glyph_ids" not in plain.collate([[UNK_ID]])


def test_glyph_scope_rare_gives_glyphs_to_characters_outside_the_vocabulary_only():
    rare = CharTokenizer(min_count=1, glyphs=True, glyph_scope="rare").fit(["银行卡"])
    features = rare.collate([rare.encode("银鑫")])
    assert features["glyph_ids"][0].tolist() == [0, glyph_index("鑫") + 1]  # 银 reads its learned row alone
    assert features["input_ids"][0].tolist() == [rare.ids["银"], UNK_ID]
    assert rare.config()["glyph_scope"] == "rare"
    every = CharTokenizer(min_count=1, glyphs=True, glyph_scope="all").fit(["银行卡"])
    assert every.collate([every.encode("银鑫")])["glyph_ids"][0].tolist() == [glyph_index("银") + 1, glyph_index("鑫") + 1]
    with pytest.raises(SamesenseError, match="glyph_scope must be one of rare, all"):
        CharTokenizer(glyphs=True, glyph_scope="some")


def test_a_glyph_model_saved_before_the_scope_reads_every_characters_glyph(glyph_run, tmp_path):
    out, _ = glyph_run
    model = samesense.load(out)
    assert model.tokenizer.glyph_scope == "all"  # what training gives by default
    folder = model.save(tmp_path / "old")
    config = folder / "tokenizer" / "config.json"
    settings = json.loads(config.read_text())
    del settings["glyph_scope"]  # as saved before the setting: trained with every character's glyph
    config.write_text(json.dumps(settings))
    forget_file_digests(folder)  # which was before manifests recorded the files
    assert samesense.load(folder).tokenizer.glyph_scope == "all"
    assert np.array_equal(samesense.load(folder).encode(["银行鑫"]), model.encode(["银行鑫"]))


def test_a_run_can_read_the_glyphs_of_rare_characters_only(tmp_path):
    train_file = write_groups(tmp_path / "train.tsv", chinese_groups(30, seed=0, prefix="g"))
    result = train(TrainConfig.of(encoder="gru", train=[str(train_file)], out=str(tmp_path / "run"), glyphs=True,
                                  glyph_scope="rare", glyph_size=8, embed_dim=16, hidden_dim=24, epochs=1, batch_size=32, min_count=3,
                                  show_progress=False, threads=1))
    model = samesense.load(result["model"])
    assert model.tokenizer.glyph_scope == "rare"
    assert model.tokenizer.collate([model.tokenizer.encode("银")])["glyph_ids"].tolist() == [[0]]


def small_glyph_embedding(size: int = 8) -> GlyphEmbedding:
    torch.manual_seed(0)
    module = GlyphEmbedding(size, 6)
    module.draw()
    with torch.no_grad():
        module.gate.fill_(1.0)  # a new one starts at 0 (all glyph vectors zero): open the gate to see them
    return module


def test_a_new_glyph_embedding_adds_nothing_until_its_gate_opens():
    module = GlyphEmbedding(8, 6)
    module.draw()
    ids = torch.tensor([[glyph_index("鑫") + 1, glyph_index("河") + 1]])
    assert torch.equal(module(ids), torch.zeros(1, 2, 6))
    (module(ids) * torch.arange(6.0)).sum().backward()  # (a plain sum: 0 after the layer norm)
    assert module.gate.grad.abs() > 1e-3


def test_the_vectors_out_of_training_are_the_training_ones_and_follow_every_weight_change():
    module = small_glyph_embedding()
    ids = torch.tensor([[0, glyph_index("鑫") + 1, glyph_index("河") + 1], [glyph_index("河") + 1, 0, 0]])
    trained = module(ids)
    with torch.no_grad():
        kept = module(ids)
    assert torch.allclose(trained, kept, atol=1e-6) and torch.equal(kept[0, 0], torch.zeros(6))
    assert torch.allclose(kept[0, 2], kept[1, 0])
    optimizer = torch.optim.SGD(module.parameters(), lr=0.5)
    trained.pow(2).sum().backward()
    optimizer.step()
    with torch.no_grad():
        after = module(ids)
    assert not torch.allclose(after, kept) and torch.allclose(after, module(ids).detach(), atol=1e-6)


def test_pretraining_as_an_autoencoder_lowers_its_loss_and_leaves_the_rng_alone():
    module = small_glyph_embedding()
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    losses = module.pretrain(2, seed=0, show_progress=False)
    assert torch.equal(torch.rand(3), expected)
    assert len(losses) == 2 and losses[1] < losses[0]


@pytest.fixture(scope="module")
def glyph_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("glyphs")
    train_file = write_groups(folder / "train.tsv", chinese_groups(60, seed=0, prefix="g"))
    val_file = write_groups(folder / "val.tsv", chinese_groups(15, seed=1, prefix="v"))
    out = folder / "run"
    result = train(TrainConfig.of(encoder="gru", train=[str(train_file)], val=str(val_file), out=str(out), glyphs=True,
                                  glyph_size=8, embed_dim=16, hidden_dim=24, epochs=2, batch_size=32, lr=3e-3,
                                  min_count=3, show_progress=False, threads=1))
    return out, result


def test_a_glyph_model_reads_rare_characters_after_loading_without_the_font(glyph_run, monkeypatch, tmp_path):
    out, result = glyph_run
    assert result["history"][-1]["loss"] < result["history"][0]["loss"]
    monkeypatch.setenv(glyphs.FONT_VARIABLE, str(tmp_path / "gone.otf"))  # no font from here on
    model = samesense.load(out)
    assert model.encoder.glyph_size == 8 and model.tokenizer.glyphs
    vectors = model.encode(["银行鑫", "银行鍂", "银行卡"])
    assert not np.allclose(vectors[0], vectors[1])  # two rare characters: two vectors, not one <unk>
    assert np.allclose(model.encode(["银行鑫"]), vectors[:1], atol=1e-6)
    again = samesense.load(model.save(tmp_path / "again"))
    assert np.allclose(again.encode(["银行鑫", "银行卡"]), vectors[[0, 2]], atol=1e-6)


def test_a_tokenizer_and_an_encoder_that_disagree_on_glyphs_are_refused(glyph_run, tmp_path):
    out, _ = glyph_run
    model = samesense.load(out)
    folder = model.save(tmp_path / "copy")
    config = folder / "tokenizer" / "config.json"
    settings = json.loads(config.read_text())
    del settings["glyphs"]
    config.write_text(json.dumps(settings))
    with pytest.raises(SamesenseError, match="the encoder reads glyphs, but the tokenizer"):
        samesense.load(folder)


def test_glyph_settings_are_checked_before_training(tmp_path):
    with pytest.raises(SamesenseError, match="multiple of 4"):
        plan_run(TrainConfig.of(encoder="gru", train=["x"], out="y", glyphs=True, glyph_size=10))
    with pytest.raises(SamesenseError, match="add --glyphs"):
        plan_run(TrainConfig.of(encoder="gru", train=["x"], out="y", glyph_pretrain=3))
    with pytest.raises(SamesenseError, match="--glyphs is for the encoders trained from scratch"):
        plan_run(TrainConfig.of(train=["x"], out="y", glyphs=True, encoder="transformer", pretrained="minilm"))


def test_an_srnn_with_glyphs_encodes_a_sentence_the_same_alone_or_beside_longer_ones():
    tokenizer = CharTokenizer(max_len=16, min_count=1, glyphs=True).fit(["银行卡办理"])
    model = samesense.model.SentenceModel.build(tokenizer, {"type": "srnn", "max_len": 16, "embed_dim": 8,
                                                            "hidden_dim": 12, "slices": 2, "slice_levels": 2,
                                                            "glyph_size": 8}, "last").eval()
    alone = model.encode(["银鑫"])
    beside = model.encode(["银鑫", "银行卡办理银行卡办理鍂鍂鍂"])
    assert np.allclose(alone, beside[0], atol=1e-6)
