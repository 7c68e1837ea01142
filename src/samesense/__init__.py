"""samesense: train small, fast sentence encoders on groups of same-meaning sentences.

    import samesense
    model = samesense.load("runs/demo/model")
    vectors = model.encode(["how do i reset my pin", "i forgot my pin"])  # (2, 128) unit vectors
"""

__version__ = "0.1.0"

from .data import DataError, SamesenseError, load_groups, read_groups, read_pairs  # noqa: E402
from .model import SentenceModel, load  # noqa: E402

__all__ = ["DataError", "SamesenseError", "SentenceModel", "load", "load_groups", "read_groups",
           "read_pairs", "__version__"]
