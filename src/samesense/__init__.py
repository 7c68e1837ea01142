"""samesense: train small, fast sentence encoders on groups of same-meaning sentences.

    import samesense
    model = samesense.load("runs/demo/model")
    vectors = model.encode(["how do i reset my pin", "i forgot my pin"])  # (2, 128) unit vectors
    samesense.resolve_encoder("minilm")        # what any --model names: a folder, a baseline
    samesense.export_onnx("runs/demo/model", "runs/demo/onnx")  # samesense.load opens it too

Names are imported on first use (PEP 562), so `import samesense` and the command line's --help
stay fast: torch is loaded only by what needs it.
"""

from __future__ import annotations

from .lazy import lazy_names

__version__ = "0.1.0"

_LAZY = {"DataError": "errors", "SamesenseError": "errors", "load_groups": "data", "read_groups": "data",
         "read_pairs": "data", "SentenceModel": "model", "load": "runtime.static_model", "TrainConfig": "train.config",
         "TextEncoder": "protocols", "resolve_encoder": "encoder_spec", "export_onnx": "runtime.export"}

__all__ = [*_LAZY, "__version__"]


__getattr__ = lazy_names(__name__, _LAZY)
