"""`train --encoder static --start-from DIR`: a static encoder that goes on from a saved static model
(its tokenizer and vocabulary as they are, its rows and token weights the start), what `faq learn`
does to a static bank's model; and what is refused in one line."""

import numpy as np
import pytest

from samesense.cli import main
from samesense.errors import SamesenseError
from samesense.runtime.saved_static import SavedStatic
from samesense.train import TrainConfig, plan_run, train


@pytest.fixture(scope="module")
def start(synthetic_files, tmp_path_factory):
    """A static model of the generated groups' characters, trained a little from random rows."""
    train_file, test_file = synthetic_files
    out = tmp_path_factory.mktemp("start") / "run"
    train(TrainConfig.of(train=[str(train_file)], val=str(test_file), out=str(out), encoder="static", tokenizer="char",
                         embed_dim=8, min_count=1, epochs=1, show_progress=False, spectra=False, threads=1))
    return str(out / "model")


def test_a_run_starts_from_the_saved_rows_weights_and_vocabulary(start, synthetic_files, tmp_path):
    train_file, test_file = synthetic_files
    # a rate too small to move anything: what the run saves after one epoch is where it started
    cfg = TrainConfig.of(train=[str(train_file)], val=str(test_file), out=str(tmp_path / "run"), encoder="static",
                         start_from=start, epochs=1, lr=1e-12, head_lr=1e-12, embed_dim=64, min_count=9,
                         show_progress=False, spectra=False, threads=1)
    assert plan_run(cfg).centre_init == "means"  # the saved model places each group already
    result = train(cfg)
    saved, base = SavedStatic(result["model"]), SavedStatic(start)
    assert saved.tokenizer.tokens == base.tokenizer.tokens  # not fitted again (min count 9 would drop some)
    assert saved.tokenizer.config() == base.tokenizer.config() and saved.table.dim == 8  # not --embed-dim's 64
    for moved, was in zip(saved.table_parts(), base.table_parts()):
        assert np.allclose(moved, was, atol=1e-6)
    assert saved.info["started_from"] == str(base.folder.resolve())
    assert saved.info["started_from_fingerprint"] == base.fingerprint
    # resumed by the same call for one more epoch: run.json names no tokenizer of its own
    assert train(cfg.replace(epochs=2, resume=True))["epochs"] == 2


def test_start_from_refuses_a_tokenizer_a_teacher_and_a_folder_that_is_no_static_model(start, synthetic_files, tmp_path,
                                                                                      capsys):
    with pytest.raises(SamesenseError, match="keeps the saved model's tokenizer and table: leave out --tokenizer"):
        plan_run(TrainConfig.of(train=["x"], out="y", encoder="static", start_from=start, tokenizer="word"))
    with pytest.raises(SamesenseError, match="leave out --init-from"):
        plan_run(TrainConfig.of(train=["x"], out="y", encoder="static", start_from=start, init_from="minilm"))
    (tmp_path / "empty").mkdir()
    assert main(["train", "--train", str(synthetic_files[0]), "--out", str(tmp_path / "run"), "--start-from",
                 str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'empty'}: not a samesense model folder" in err and "Traceback" not in err


def test_an_int8_table_starts_from_its_rows_scaled_back(start, synthetic_files, tmp_path):
    from samesense.runtime.static_model import export_int8

    export_int8(start, tmp_path / "int8")
    rows, weights = SavedStatic(tmp_path / "int8").table_parts()
    base_rows, base_weights = SavedStatic(start).table_parts()
    assert np.allclose(rows * weights[:, None], base_rows * base_weights[:, None], atol=0.02)
    train_file, test_file = synthetic_files
    result = train(TrainConfig.of(train=[str(train_file)], val=str(test_file), out=str(tmp_path / "run"),
                                  encoder="static", start_from=str(tmp_path / "int8"), epochs=1, show_progress=False,
                                  spectra=False, threads=1))
    assert SavedStatic(result["model"]).info["started_from"] == str((tmp_path / "int8").resolve())
