"""What a run shows: log.jsonl (one JSON record per epoch) and curve.png (loss, validation
top-1/5 and, when logged, the class centres' top singular values, by epoch)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..files import atomic_save_png, atomic_write_bytes


def write_log(run: Path, history: list[dict]) -> None:
    atomic_write_bytes(run / "log.jsonl", "".join(json.dumps(r) + "\n" for r in history).encode())


def plot_curve(run: Path, history: list[dict], title: str, validation: str) -> None:
    """run/curve.png: loss, validation top-1/5 (panel title `validation`: which groups it scores), spectra."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    epochs = [r["epoch"] for r in history]
    spectra = [r.get("singular_values", {}) for r in history]
    watched = sorted({name for spectrum in spectra for name in spectrum if name.startswith("head")})
    fig, axes = plt.subplots(1, 3 if watched else 2, figsize=(15 if watched else 10, 3.8))
    axes[0].plot(epochs, [r["loss"] for r in history], marker="o")
    axes[0].set(xlabel="epoch", ylabel="training loss", title="loss")
    axes[1].plot(epochs, [r["val_top1"] for r in history], marker="o", label="top-1")
    axes[1].plot(epochs, [r["val_top5"] for r in history], marker=".", alpha=0.6, label="top-5")
    axes[1].set(xlabel="epoch", ylabel="open-set accuracy", title=validation)
    axes[1].legend()
    for name in watched:
        for i in range(3):
            values = [s[name][i] if name in s and len(s[name]) > i else np.nan for s in spectra]
            axes[2].plot(epochs, values, marker=".", label=f"sigma_{i + 1}")
        axes[2].set(xlabel="epoch", ylabel="singular value", title="class centres: top singular values")
        axes[2].legend()
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    fig.suptitle(title)
    fig.tight_layout()
    atomic_save_png(fig, run / "curve.png")
