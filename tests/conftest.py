import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))

from synthetic import write_train_and_test  # noqa: E402


@pytest.fixture(autouse=True)
def _few_threads():
    torch.set_num_threads(1)  # CI has 2 cores; pytest and a subprocess may share them
    yield


@pytest.fixture(scope="session")
def synthetic_files(tmp_path_factory):
    """(train.tsv, test.tsv): generated groups, the test ones never seen in training."""
    return write_train_and_test(tmp_path_factory.mktemp("synthetic"))


@pytest.fixture(scope="session")
def trained_run(synthetic_files, tmp_path_factory):
    """A small GRU trained on the generated groups (strings of characters: a character model reads them);
    shared by tests that need any model."""
    from samesense.train import TrainConfig, train

    train_file, test_file = synthetic_files
    out = tmp_path_factory.mktemp("run") / "run"
    cfg = TrainConfig.of(train=[str(train_file)], val=str(test_file), out=str(out), epochs=6, encoder="gru",
                         min_count=1, embed_dim=32, hidden_dim=64, batch_size=32, lr=3e-3,
                         show_progress=False, seed=0)
    result = train(cfg)
    return out, result
