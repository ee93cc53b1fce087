"""A picture of a mask library: real shapes and what the sampler draws."""

from __future__ import annotations

import numpy as np
from apache_beam.io.filesystems import FileSystems

COLUMNS = 8


def write_preview(library, sampler, seed: int, path: str) -> None:
    """Write a PNG: a row of real shapes (if any) and rows of sampled masks with coverages."""
    # Deferred: pyplot comes after choosing the Agg backend, a process-wide setting made when
    # a picture is drawn, not when the module is imported.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(seed)
    tiles = []
    if len(library):
        picks = rng.choice(len(library), size=min(COLUMNS, len(library)), replace=False)
        tiles += [(library.shapes[i], f"real {library.shapes[i].mean():.0%}") for i in picks]
    for _ in range(2 * COLUMNS):
        mask, coverage = sampler.sample(rng)
        tiles.append((mask, f"sampled {coverage:.0%}"))
    rows = -(-len(tiles) // COLUMNS)
    fig, axes = plt.subplots(rows, COLUMNS, figsize=(COLUMNS * 1.3, rows * 1.45), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, (mask, label) in zip(axes.flat, tiles, strict=False):
        ax.imshow(mask, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(label, fontsize=7)
    fig.suptitle(f"gap masks (black = gap): {len(library)} real shapes in the library", fontsize=9)
    with FileSystems.create(path) as f:
        fig.savefig(f, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
