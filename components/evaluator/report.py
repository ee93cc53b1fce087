"""The evaluation report: metrics tables (text and HTML) and PNG panels per coverage bucket."""

from __future__ import annotations

import html
import os
from pathlib import Path

import numpy as np

from components.evaluator.blessing import Decision
from components.evaluator.scoring import OVERALL, Panel, Scores
from components.features import REPORT_FILE
from components.pictures import Picture, picture_bands
from components.transforms import LOG10

PANELS_FOLDER = "panels"
COLUMNS = (  # (summary key, heading, format)
    ("examples", "examples", "{:d}"),
    ("gap_rmse", "gap RMSE", "{:.3g}"),
    ("gap_mae", "gap MAE", "{:.3g}"),
    ("gap_bias", "gap bias", "{:+.2g}"),
    ("gap_ssim", "gap SSIM", "{:.3f}"),
    ("ssim", "SSIM", "{:.3f}"),
    ("gap_psnr", "gap PSNR dB", "{:.1f}"),
    ("spectral_angle_deg", "angle °", "{:.2f}"),
    ("observed_rmse", "observed RMSE", "{:.2g}"),
    ("within_1_sigma", "gap within 1σ", "{:.0%}"),
    ("within_2_sigma", "gap within 2σ", "{:.0%}"),
    ("z_std", "z std", "{:.2f}"),
)
ERROR_CMAP = "magma"


def _cell(summary: dict, key: str, fmt: str) -> str:
    value = summary.get(key)
    return "–" if value is None else fmt.format(value)


def text_table(metrics: dict, bucket: str = OVERALL) -> str:
    """A fixed-width table of every scorer's metrics in `bucket` (from `Scores.to_dict()`)."""
    names = list(metrics["scores"])
    width = max(len(n) for n in names)
    head = f"{'':{width}}  " + "  ".join(f"{h:>13}" for _, h, _ in COLUMNS)
    rows = [
        f"{name:{width}}  "
        + "  ".join(f"{_cell(metrics['scores'][name][bucket], k, f):>13}" for k, _, f in COLUMNS)
        for name in names
    ]
    return "\n".join([head, *rows])


def bucket_table(metrics: dict, key: str = "gap_rmse", fmt: str = "{:.3g}") -> str:
    """A fixed-width table of one metric by coverage bucket (rows) and scorer (columns)."""
    names = list(metrics["scores"])
    head = f"{'coverage':>9}  " + "  ".join(f"{n:>12}" for n in names)
    rows = []
    for bucket in [*metrics["buckets"], OVERALL]:
        n = metrics["scores"][names[0]][bucket]["examples"]
        cells = "  ".join(f"{_cell(metrics['scores'][m][bucket], key, fmt):>12}" for m in names)
        rows.append(f"{bucket:>9}  {cells}  (n={n})")
    return "\n".join([head, *rows])


def masks_sentence(masks: dict[str, int]) -> str:
    """Where the deciding masks came from, in words."""
    total = sum(masks.values())
    text = (f"Deciding masks: {masks['transplanted']} of {total} are real clouds of other scenes "
            "laid over the example's observed pixels (the transplant protocol)")  # fmt: skip
    if masks["synthetic"]:
        text += f"; {masks['synthetic']} synthetic, where no other scene's cloud fitted"
    if masks["unknown"]:
        text += f"; {masks['unknown']} of unrecorded origin"
    return text + "."


def _panel_images(
    panel: Panel, bands: tuple[int, ...]
) -> tuple[list[tuple[str, np.ndarray, str | None]], Picture]:
    """(title, image, colormap) for one example: observed, gap, each fill, truth, error; and
    the picture they share (`components.pictures`), stretched to the example's valid truth."""
    picture = Picture.of(np.where(panel.valid[..., None], panel.truth, np.nan), bands)
    observed = np.where(panel.gap[..., None], 1.0, picture.render(panel.truth))
    images = [("observed", observed, None), ("gap", panel.gap.astype(float), "gray")]
    images += [(name, picture.render(filled), None) for name, filled in panel.filled.items()]
    images.append(("truth", picture.render(panel.truth), None))
    first = next(iter(panel.filled))
    error = np.abs(panel.filled[first] - panel.truth).mean(axis=-1)
    images.append((f"|{first} − truth|", np.where(panel.gap & panel.valid, error, 0.0), ERROR_CMAP))
    return images, picture


def write_panels(
    panels: list[Panel],
    band_names: tuple[str, ...],
    path: Path,
    true_colour_bands: tuple[str, ...] | None = None,
) -> Path:
    """One PNG: a row per example of observed, gap, every fill, truth and the first's error.

    The bands shown follow `components.pictures.picture_bands(band_names, true_colour_bands)`;
    each row is labelled with its coverage and what its colours mean.
    """
    # Deferred: pyplot comes after choosing the Agg backend, a process-wide setting made when
    # a picture is drawn, not when the module is imported.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bands = picture_bands(band_names, true_colour_bands)
    rows = [_panel_images(p, bands) for p in panels]
    cols = len(rows[0][0])
    fig, axes = plt.subplots(len(rows), cols, figsize=(1.8 * cols, 1.9 * len(rows)), squeeze=False)
    for axes_row, (images, picture), panel in zip(axes, rows, panels, strict=True):
        for ax, (title, image, cmap) in zip(axes_row, images, strict=True):
            ax.imshow(image, cmap=cmap, interpolation="nearest")
            ax.set_title(title, fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
        label = f"{panel.coverage:.0%} gap\n{picture.describe(band_names)}"
        axes_row[0].set_ylabel(label, fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _html_table(metrics: dict, bucket: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h, _ in COLUMNS)
    body = "".join(
        f"<tr><th>{html.escape(name)}</th>"
        + "".join(f"<td>{_cell(by_bucket[bucket], k, f)}</td>" for k, _, f in COLUMNS)
        + "</tr>"
        for name, by_bucket in metrics["scores"].items()
    )
    return f"<table><tr><th></th>{head}</tr>{body}</table>"


def _per_band_table(metrics: dict, band_names: tuple[str, ...]) -> str:
    head = "".join(f"<th>{html.escape(b)}</th>" for b in band_names)
    body = "".join(
        f"<tr><th>{html.escape(name)}</th>"
        + "".join(
            f"<td>{'–' if v is None else f'{v:.3g}'}</td>"
            for v in by_bucket[OVERALL]["per_band"]["gap_rmse"]
        )
        + "</tr>"
        for name, by_bucket in metrics["scores"].items()
    )
    return f"<table><tr><th></th>{head}</tr>{body}</table>"


def _transformed_table(metrics: dict, band_names: tuple[str, ...]) -> str:
    """Gap RMSE of the log10 bands in their transformed space; "" without such bands."""
    transformed = metrics.get("transformed")
    if transformed is None:
        return ""
    logged = [i for i, t in enumerate(transformed["transforms"]) if t == LOG10]
    head = "".join(f"<th>{html.escape(band_names[i])}</th>" for i in logged)
    body = "".join(
        f"<tr><th>{html.escape(name)}</th>"
        + "".join(f"<td>{'–' if rmse[i] is None else f'{rmse[i]:.3g}'}</td>" for i in logged)
        + "</tr>"
        for name, rmse in transformed["gap_rmse"].items()
    )
    return (
        "<h2>Gap RMSE by band, in log10 units</h2><p>The bands modelled in log10 "
        "(<code>ingest.transforms</code>), scored in that space too.</p>"
        f"<table><tr><th></th>{head}</tr>{body}</table>"
    )


STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:80em}"
    "table{border-collapse:collapse;margin:0.5em 0 1.5em}"
    "td,th{border:1px solid #ccc;padding:0.2em 0.6em;text-align:right}"
    ".blessed{color:#070}.not{color:#a00}img{max-width:100%}"
)


def write_report(
    scores: Scores,
    decision: Decision,
    band_names: tuple[str, ...],
    out_dir: str | os.PathLike[str],
    title: str,
    synthetic: Scores | None = None,
    true_colour_bands: tuple[str, ...] | None = None,
) -> Path:
    """Write `report.html` (tables, decision, panels) and `panels/*.png` into `out_dir`;
    `synthetic`: the scores under synthetic masks, a second table after the deciding ones;
    `true_colour_bands`: the bands the panels show (see `components.pictures`)."""
    out = Path(out_dir)
    (out / PANELS_FOLDER).mkdir(parents=True, exist_ok=True)
    metrics = scores.to_dict()
    verdict = "BLESSED" if decision.blessed else "NOT BLESSED"
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
        f"<h2 class='{'blessed' if decision.blessed else 'not'}'>{verdict}</h2><ul>",
        *(f"<li>{html.escape(r)}</li>" for r in decision.reasons),
        "</ul><p>Errors are in the data's units; SSIM uses each band's range over the "
        "evaluation truth; the spectral angle needs two or more bands (– with one). <i>gap</i> "
        "metrics cover the masked pixels whose truth is known; <i>observed</i> metrics the "
        "pixels a model was given.</p>",
        f"<p>{html.escape(masks_sentence(metrics['masks']))}</p>",
        "<p>Calibration, for a model that predicts its uncertainty: the share of gap errors "
        "within 1σ and 2σ of its predicted σ (ideal 68 % and 95 %) and the standard deviation "
        "of error / σ (ideal 1).</p>",
        f"<h2>All examples</h2>{_html_table(metrics, OVERALL)}",
        f"<h2>Gap RMSE by band</h2>{_per_band_table(metrics, band_names)}",
        _transformed_table(metrics, band_names),
    ]
    for i, bucket in enumerate(scores.buckets):
        n = metrics["scores"][next(iter(metrics["scores"]))][bucket]["examples"]
        parts.append(f"<h2>Gap coverage {html.escape(bucket)} ({n} examples)</h2>")
        if not n:
            continue
        parts.append(_html_table(metrics, bucket))
        if scores.panels.get(bucket):
            png = write_panels(scores.panels[bucket], band_names,
                               out / PANELS_FOLDER / f"{i}.png", true_colour_bands)  # fmt: skip
            parts.append(f"<img src='{PANELS_FOLDER}/{png.name}' alt='examples, {bucket}'>")
    if synthetic is not None:
        second = synthetic.to_dict()
        parts += [
            "<h2>Synthetic masks (a second table; it does not decide)</h2>",
            "<p>The same examples under synthetic gaps (fractal, strokes, boxes), drawn per "
            "example. Such gaps are easier than real clouds and may rank models otherwise.</p>",
            _html_table(second, OVERALL),
            f"<h3>Gap RMSE by coverage</h3><pre>{html.escape(bucket_table(second))}</pre>",
        ]
    parts.append("</body></html>")
    path = out / REPORT_FILE
    path.write_text("\n".join(parts))
    return path
