"""Fill quality on real gaps: the transplant protocol, models against the classical fills.

Run as `python benchmarks/quality.py [--cases series chl rrs sample-series] [--train-steps N]
[--temporal-window K] [--model DIR] [--temporal-model DIR]`; `--cases sample` is the small mode
on synthetic data that the tests run.

Data: `../shared/data/real_ocean/` beside the project (the benchmark says so and stops when it
is absent): a daily MODIS-Aqua chlorophyll series off Newfoundland (182 days), a MODIS-Aqua
chlorophyll scene of the NW Atlantic and an OC-CCI six-band Rrs scene. Chlorophyll is scored in
log10 units, Rrs in sr-1. `sample-series` is the time-coherent synthetic series of
`s3inpaint sample-data --series` (`components/sample/series.py`: `--series-days` days of
96 x 128 with land, drifting real and synthetic clouds), scored like the real series.

Protocol (DINCAE; Stock et al.; `components/evaluator/transplant.py`):
- series: the `--targets` clearest days of the second half are scored, each with its observed
  water hidden under the real cloud of another day of the series (one that hides 20-60 % of
  it; the other scored days are never sources);
- single scenes: the observed water is hidden under a real cloud of the series (a day hiding
  20-60 % of it), laid periodically over the larger grid;
- every fill sees the scene with those pixels removed, is made with the batch job's tiling and
  blending (`components/inpaint/scene_fill.py`, tile `--tile`, halo tile / 8), and only the
  hidden pixels count, the same pixels for every method (a pixel some method leaves NaN, e.g. a
  tile with nothing known, counts for none).

Methods: `mean` (each band's mean over the tile's known pixels) and `biharmonic`
(scikit-image) from the evaluator's baselines; `classical` (the in-graph biharmonic first guess
of `model/classical.py`, what an untrained model returns); `model`: with `--train-steps N`, a
spatial model trained through the real pipeline (`s3inpaint train`'s LocalDagRunner, NetCDF
ingest) on the case's data with the hidden pixels removed (the series' days; a single scene cut
into overlapping crops), or with `--model DIR` an exported or pushed model. On series cases
also `eof` (a DINEOF fill over the whole series with the hidden pixels removed,
`components/gridded/eof.py`: anomalies from the overall mean, its temporal covariance filtered
(`EOF_SETTINGS`), rank cross-validated on other days' clouds laid over observed pixels, days
under 5 % observed left out of the basis) and
`temporal`: a model with a temporal window of `--temporal-window` days each side
(`ingest.temporal_window`), trained the same way (`--train-steps`) or given (`--temporal-model
DIR`); it fills each target with the same tiles of its neighbouring days (with every target's
hidden pixels removed, as in training), and the neighbours never hold the target's truth.
With a model and the EOF fill, `model+eof` (and `temporal+eof`): the model's fill blended with
the EOF fill as `s3inpaint inpaint --eof` fills a series (`components/gridded/eof_blend.py`: one
inverse-variance weight from the model's mean predicted variance over its fill of every day of
the series and the EOFs' cross-validated error).
Printed: RMSE, MAE and bias per method, the ratio to biharmonic (and the temporal model's to
the spatial model and the EOF fill), RMSE by gap coverage of the tile-sized cell around each
pixel, training steps and wall time; saved to `benchmarks/output/quality.json`.

Goals (issue 12): model RMSE <= 0.7x biharmonic on the series, <= 1.0x on the single scenes and
in every coverage bucket; `classical` within 2 % of biharmonic or better. Issue 13: on the
series, the temporal model's RMSE <= 0.8x the spatial model's and <= 0.8x the EOF fill's.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from components.evaluator.baselines import BASELINES
from components.evaluator.metrics import calibration
from components.evaluator.transplant import (
    hidden_pixels,
    pick_cloud_sources,
    tile_to,
)
from components.example_gen.config import IngestConfig
from components.features import MODEL_DESCRIPTION
from components.gridded import GriddedConfig
from components.gridded.eof import EofFill, eof_fill
from components.gridded.eof_blend import EOF_SETTINGS, BlendWeight, blend
from components.gridded.samples import write_netcdf_series
from components.inpaint.scene_fill import TileFiller, fill_scene
from components.masks.buckets import coverage_bucket, coverage_bucket_labels
from components.sample.series import sample_series
from components.transforms import NONE
from model.config import ModelConfig
from model.signature import neighbour_inputs
from pipelines.config import PipelineConfig
from pipelines.environment import use_keras_3
from pipelines.local_runner import run_local
from pipelines.outputs import latest_artifact

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "real_ocean"
OUTPUT = ROOT / "benchmarks" / "output"
SERIES = "phytofit_modisaqua_chl_2015H1_newfoundland.nc"
CHL_SCENE = "modisaqua_A2018252_chl_poly4_nwa_gridded.nc"
RRS_SCENE = "occci_20240703_rrs_pancan_example04.nc"
HIDDEN_SHARE = (0.2, 0.6)
# Fills one target of a case: (target index, its values with the hidden pixels removed (H, W,
# bands), the pixels to fill (H, W)) -> (H, W, channels).
SceneFiller = Callable[[int, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Case:
    """Scenes to score and the data a model trains on.

    Attributes:
        name: the case's name in the tables.
        values: (T, H, W, bands) float32 in the scored space (log10 for chlorophyll), NaN where
            missing, with the hidden pixels still present (the truth).
        water: (H, W) bool, pixels that can be observed (sea).
        bands: the variables' names.
        units: of the scored space.
        log10: values are log10 of the physical quantity (a model takes 10 ** values).
        targets: time indices scored.
        hidden: (len(targets), H, W) bool, the pixels hidden from each target and scored.
        crop: single scenes train on overlapping crops of this side (0: the series' days).
    """

    name: str
    values: np.ndarray
    water: np.ndarray
    bands: tuple[str, ...]
    units: str
    log10: bool
    targets: tuple[int, ...]
    hidden: np.ndarray
    crop: int = 0

    def observed(self) -> np.ndarray:
        return np.isfinite(self.values).all(axis=-1) & self.water

    def training_values(self) -> np.ndarray:
        """`values` with every target's hidden pixels removed: what a model may learn from."""
        values = self.values.copy()
        for target, hidden in zip(self.targets, self.hidden, strict=True):
            values[target][hidden] = np.nan
        return values


def _open(name: str):
    path = DATA / name
    if not path.is_file():
        sys.exit(f"{path}: missing; this benchmark reads ../shared/data/real_ocean beside the "
                 "project")  # fmt: skip
    return xr.open_dataset(path)


def _series_clouds() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(log10 chlorophyll (T, H, W, 1), sea (H, W), cloud (T, H, W)) of the series."""
    with _open(SERIES) as ds:
        chl = ds["chlor_a"].values.astype(np.float32)
        sea = ds["sea_mask"].values.astype(bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.log10(np.where(chl > 0, chl, np.nan))[..., np.newaxis]
    cloud = sea & ~np.isfinite(values[..., 0])
    return values, sea, cloud


def _clearest(observed: np.ndarray, among: np.ndarray, count: int) -> tuple[int, ...]:
    """The `count` days of `among` with the most observed water, clearest first."""
    clear = observed.reshape(len(observed), -1).sum(axis=1)
    return tuple(int(d) for d in among[np.argsort(-clear[among])][:count])


def _hide_under_other_days(observed, cloud, water, chosen, seed: int) -> np.ndarray:
    """Each chosen day's observed water under the cloud of another, unchosen day of the same
    series (one hiding `HIDDEN_SHARE` of it): (len(chosen), H, W) bool."""
    sources = pick_cloud_sources(observed, cloud, chosen, HIDDEN_SHARE, exclude=chosen, seed=seed)
    return np.stack([hidden_pixels(observed[t], cloud[s], water)
                     for t, s in zip(chosen, sources, strict=True)])  # fmt: skip


def series_case(targets: int, seed: int) -> Case:
    values, sea, cloud = _series_clouds()
    observed = ~cloud & sea
    chosen = tuple(sorted(_clearest(observed, np.arange(len(values) // 2, len(values)), targets)))
    hidden = _hide_under_other_days(observed, cloud, sea, chosen, seed)
    return Case("series", values, sea, ("chlor_a",), "log10(mg m-3)", True, chosen, hidden)


def _scene_case(name: str, values: np.ndarray, water: np.ndarray, bands, units, log10, crop,
                seed: int) -> Case:  # fmt: skip
    _, _, cloud = _series_clouds()
    observed = np.isfinite(values[0]).all(axis=-1) & water
    rng = np.random.default_rng(seed)
    offsets = [tuple(int(o) for o in rng.integers(0, cloud.shape[1:])) for _ in cloud]
    laid = np.stack([tile_to(c, water.shape, o) for c, o in zip(cloud, offsets, strict=True)])
    (source,) = pick_cloud_sources(observed[None], laid, (0,), HIDDEN_SHARE, seed=seed)
    hidden = hidden_pixels(observed, laid[source], water)[None]
    return Case(name, values, water, tuple(bands), units, log10, (0,), hidden, crop)


def chl_scene_case(seed: int) -> Case:
    with _open(CHL_SCENE) as ds:
        chl = ds["chlor_a"].values.astype(np.float32)
        ocean = ds["ocean_bin"].values.astype(bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.log10(np.where(chl > 0, chl, np.nan))[None, ..., None]
    return _scene_case("chl scene", values, ocean, ("chlor_a",), "log10(mg m-3)", True, 256,
                       seed)  # fmt: skip


def rrs_scene_case(seed: int) -> Case:
    with _open(RRS_SCENE) as ds:
        bands = tuple(str(v) for v in ds.data_vars)
        values = np.stack([ds[b].values for b in bands], axis=-1).astype(np.float32)[None]
    water = np.ones(values.shape[1:3], bool)  # the subset is open water: its gaps are cloud
    return _scene_case("rrs scene", values, water, bands, "sr-1", False, 48, seed)


def sample_case(targets: int, seed: int, folder: Path) -> Case:
    """The small mode: a synthetic chlorophyll series (`s3inpaint`'s gridded sample data, no
    land), scored like the real series; what the tests run so the benchmark cannot rot."""
    path = write_netcdf_series(folder / "sample_series.nc", times=12, shape=(48, 64),
                               gap_fraction=0.35, seed=seed)  # fmt: skip
    with xr.open_dataset(path) as ds:
        chl = ds["chlor_a"].values.astype(np.float32)
    values = np.log10(np.where(chl > 0, chl, np.nan))[..., np.newaxis]
    water = np.ones(values.shape[1:3], bool)
    observed = np.isfinite(values[..., 0])
    chosen = _clearest(observed, np.arange(len(values)), targets)
    hidden = _hide_under_other_days(observed, ~observed, water, chosen, seed)
    return Case("sample", values, water, ("chlor_a",), "log10(mg m-3)", True, chosen, hidden)


def sample_series_case(targets: int, days: int, seed: int) -> Case:
    """The time-coherent sample series (`s3inpaint sample-data --series`), scored like the real
    series: its own clouds are the gaps, the clearest days of the second half the targets."""
    ds = sample_series(days=days, seed=seed)
    chl = ds["chlor_a"].values.astype(np.float32)
    sea = ds["land"].values == 0
    values = np.log10(np.where(chl > 0, chl, np.nan))[..., np.newaxis]
    cloud = sea & ~np.isfinite(values[..., 0])
    observed = ~cloud & sea
    chosen = tuple(sorted(_clearest(observed, np.arange(len(values) // 2, len(values)), targets)))
    hidden = _hide_under_other_days(observed, cloud, sea, chosen, seed)
    return Case("sample series", values, sea, ("chlor_a",), "log10(mg m-3)", True, chosen,
                hidden)  # fmt: skip


CASES: dict[str, Callable[[argparse.Namespace], Case]] = {
    "series": lambda a: series_case(a.targets, a.seed),
    "sample-series": lambda a: sample_series_case(a.targets, a.series_days, a.seed),
    "chl": lambda a: chl_scene_case(a.seed),
    "rrs": lambda a: rrs_scene_case(a.seed),
    "sample": lambda a: sample_case(a.targets, a.seed, a.workdir),
}
DEFAULT_CASES = ("series", "chl", "rrs")


def baseline_tiles(name: str) -> TileFiller:
    """A classical fill of the evaluator's baselines, tile by tile."""
    fill = BASELINES[name]

    def fill_tiles(values: np.ndarray, to_fill: np.ndarray) -> np.ndarray:
        known = np.isfinite(values).all(axis=-1) & ~to_fill
        return np.stack([fill(np.nan_to_num(v), k) for v, k in zip(values, known, strict=True)])

    return fill_tiles


def classical_tiles(iterations: int) -> TileFiller:
    """The in-graph classical fill (`model/classical.py`), a batch of tiles at a time."""
    # Deferred: TensorFlow (seconds) loads only for this fill, after main's use_keras_3().
    from model.classical import classical_fill

    def fill_tiles(values: np.ndarray, to_fill: np.ndarray) -> np.ndarray:
        known = (np.isfinite(values).all(axis=-1) & ~to_fill)[..., np.newaxis]
        filled = classical_fill(np.nan_to_num(values), known.astype(np.float32), iterations)
        return np.where(np.any(known, axis=(1, 2, 3), keepdims=True), filled.numpy(), np.nan)

    return fill_tiles


def model_tiles(serving_dir: str, log10: bool, bands: int = 0,
                offsets: np.ndarray | None = None) -> TileFiller:  # fmt: skip
    """An exported model's serving signature: the fill, then its sigma (NaN when the model has
    none); log10 cases are converted to and from it (sigma to first order).

    With `offsets` (2k,) days, a model with a temporal window: each tile's first `bands`
    channels are the tile, the others its 2k neighbours' (oldest first), NaN where unobserved.
    """
    # Deferred: TensorFlow (seconds) loads only for this fill, after main's use_keras_3().
    import tensorflow as tf

    from model.export import load_serving

    serve = load_serving(serving_dir)

    def fill_tiles(values: np.ndarray, to_fill: np.ndarray) -> np.ndarray:
        physical = np.power(10.0, values) if log10 else values
        inputs = {}
        if offsets is not None:
            n, size = len(physical), physical.shape[1]
            neighbours = physical[..., bands:].reshape(n, size, size, len(offsets), bands)
            context = neighbour_inputs(np.moveaxis(neighbours, 3, 1), offsets)
            inputs = {name: tf.constant(value) for name, value in context.items()}
            physical = physical[..., :bands]
        out = serve(reflectance=tf.constant(physical.astype(np.float32)),
                    gap=tf.constant(to_fill[..., np.newaxis].astype(np.float32)),
                    **inputs)  # fmt: skip
        filled = out["filled"].numpy()
        spread = out["sigma"].numpy() if "sigma" in out else np.full_like(filled, np.nan)
        if log10:
            with np.errstate(divide="ignore", invalid="ignore"):
                filled, spread = np.log10(filled), spread / (np.log(10.0) * filled)
        return np.concatenate([filled, spread], axis=-1)

    return fill_tiles


# Methods whose filler returns sigmas after the bands.
WITH_SIGMA = ("model", "temporal", "model+eof", "temporal+eof")


def tiled(fill_tiles: TileFiller, tile: int, channels: int | None = None) -> SceneFiller:
    """A scene filler from a tile filler, with the batch job's tiling and blending."""

    def fill(target: int, seen: np.ndarray, to_fill: np.ndarray) -> np.ndarray:
        return fill_scene(seen, to_fill, fill_tiles, tile, tile // 8, channels=channels)

    return fill


def temporal_filler(case: Case, serving_dir: str, window: int, tile: int) -> SceneFiller:
    """A model with a temporal window of `window` days: each target's tiles with the same tiles
    of the days around it (from `Case.training_values`, so no target's hidden pixels; days
    beyond the series are NaN, like the pipeline's empty neighbours)."""
    context = case.training_values()
    days = [d for d in range(-window, window + 1) if d]
    bands = case.values.shape[-1]
    fill_tiles = model_tiles(serving_dir, case.log10, bands, np.array(days, np.float32))

    def fill(target: int, seen: np.ndarray, to_fill: np.ndarray) -> np.ndarray:
        outside = np.full_like(seen, np.nan)
        neighbours = [context[target + d] if 0 <= target + d < len(context) else outside
                      for d in days]  # fmt: skip
        stacked = np.concatenate([seen, *neighbours], axis=-1)
        return fill_scene(stacked, to_fill, fill_tiles, tile, tile // 8, channels=2 * bands,
                          context=len(days) * bands)  # fmt: skip

    return fill


def eof_filler(case: Case, seed: int) -> tuple[SceneFiller, dict, EofFill]:
    """DINEOF over the whole series with every target's hidden pixels removed (in the scored
    space: log10 for chlorophyll), its rank cross-validated on other observations; (the filler,
    what it chose, the fill)."""
    started = time.perf_counter()
    result = eof_fill(case.training_values(), seed=seed, **EOF_SETTINGS)
    about = {"rank": result.rank, "cv_rmse": [round(e, 4) for e in result.cv_rmse],
             "iterations": list(result.iterations), "basis_days": len(result.basis_days),
             "basis_pixels": result.basis_pixels,
             "seconds": round(time.perf_counter() - started, 1)}  # fmt: skip

    def fill(target: int, seen: np.ndarray, to_fill: np.ndarray) -> np.ndarray:
        return np.where(to_fill[..., np.newaxis], result.filled[target], seen)

    return fill, about, result


def remembered(filler: SceneFiller) -> SceneFiller:
    """`filler`, each target filled once (the model's fill is scored alone and blended)."""
    done: dict[int, np.ndarray] = {}

    def fill(target: int, seen: np.ndarray, to_fill: np.ndarray) -> np.ndarray:
        if target not in done:
            done[target] = filler(target, seen, to_fill)
        return done[target]

    return fill


def eof_blended(filler: SceneFiller, eof: EofFill, case: Case) -> SceneFiller:
    """A model's fill (bands, then sigmas) blended with the EOF fill as `s3inpaint inpaint
    --eof` blends a series (`components.gridded.eof_blend`, in the scored space, which is the
    blend's: log10 for chlorophyll): the model's weight from its fill of every day of the
    series (what the model may see of it, `Case.training_values`), made at the first call."""
    bands, transforms = len(case.bands), (NONE,) * len(case.bands)
    weights: list[np.ndarray] = []

    def weight() -> np.ndarray:
        if not weights:
            total = BlendWeight(bands)
            for day, seen in enumerate(case.training_values()):
                to_fill = case.water & ~np.isfinite(seen).all(axis=-1)
                model = filler(day, seen, to_fill)[to_fill]
                total.add(model[:, :bands], model[:, bands:], eof.filled[day][to_fill],
                          transforms)  # fmt: skip
            weights.append(total.weight(np.asarray(eof.error)))
        return weights[0]

    def fill(target: int, seen: np.ndarray, to_fill: np.ndarray) -> np.ndarray:
        filled = filler(target, seen, to_fill).copy()
        model = filled[to_fill]
        values, sigma = blend(model[:, :bands], model[:, bands:], eof.filled[target][to_fill],
                              np.asarray(eof.error), transforms, weight())  # fmt: skip
        filled[to_fill] = np.concatenate([values, sigma], axis=-1)
        return filled

    return fill


def _coverage(to_fill: np.ndarray, water: np.ndarray, cell: int) -> np.ndarray:
    """Per pixel, the share of its `cell`-sized grid cell's water that is to be filled."""
    height, width = to_fill.shape
    coverage = np.zeros(to_fill.shape, np.float32)
    for i in range(0, height, cell):
        for j in range(0, width, cell):
            window = slice(i, i + cell), slice(j, j + cell)
            coverage[window] = to_fill[window].sum() / max(water[window].sum(), 1)
    return coverage


def evaluate(case: Case, fillers: dict[str, SceneFiller], tile: int) -> dict:
    """Fill every target with every method; score the hidden pixels every method filled."""
    truths, fills, coverage = [], {m: [] for m in fillers}, []
    sigmas = {m: [] for m in fillers if m in WITH_SIGMA}
    seconds = dict.fromkeys(fillers, 0.0)
    bands = case.values.shape[-1]
    for target, hidden in zip(case.targets, case.hidden, strict=True):
        truth = case.values[target]
        seen = truth.copy()
        seen[hidden] = np.nan
        to_fill = case.water & ~np.isfinite(seen).all(axis=-1)
        for name, filler in fillers.items():
            started = time.perf_counter()
            filled = filler(target, seen, to_fill)
            seconds[name] += time.perf_counter() - started
            fills[name].append(filled[hidden][:, :bands])
            if name in sigmas:
                sigmas[name].append(filled[hidden][:, bands:])
        truths.append(truth[hidden])
        coverage.append(_coverage(to_fill, case.water, tile)[hidden])
    truth = np.concatenate(truths)
    filled = {m: np.concatenate(f) for m, f in fills.items()}
    usable = np.all([np.isfinite(f).all(axis=-1) for f in filled.values()], axis=0)
    cover = np.concatenate(coverage)[usable]
    buckets = np.array([coverage_bucket(float(c)) for c in cover])
    scores = {}
    for name, values in filled.items():
        error = values[usable] - truth[usable]
        per_bucket = {}
        for label in coverage_bucket_labels():
            inside = buckets == label
            if inside.any():
                per_bucket[label] = float(np.sqrt(np.mean(error[inside] ** 2)))
        scores[name] = {
            "rmse": float(np.sqrt(np.mean(error**2))),
            "mae": float(np.mean(np.abs(error))),
            "bias": float(np.mean(error)),
            "rmse_by_coverage": per_bucket,
            "seconds": round(seconds[name], 2),
        }
        if name in sigmas:
            spread = np.concatenate(sigmas[name])[usable]
            scores[name]["calibration"] = calibration((error / spread)[np.isfinite(spread)])
    reference = scores["biharmonic"]["rmse"]
    for values in scores.values():
        values["ratio"] = values["rmse"] / reference
    if "temporal" in scores:
        for other in ("model", "eof"):
            if other in scores:
                ratio = scores["temporal"]["rmse"] / scores[other]["rmse"]
                scores["temporal"][f"ratio_to_{other}"] = ratio
    return {"case": case.name, "units": case.units, "targets": list(case.targets),
            "hidden_pixels": int(usable.sum()), "left_out": int((~usable).sum()),
            "scores": scores}  # fmt: skip


def write_training_series(case: Case, path: Path) -> Path:
    """The case's trainable data as a NetCDF series the pipeline's gridded ingest reads."""
    values = case.training_values()
    if case.crop:  # a single scene: overlapping crops become the series' scenes
        scene, side = values[0], min(case.crop, *values.shape[1:3])
        step = max(side // 2, 1)
        rows = range(0, values.shape[1] - side + 1, step)
        cols = range(0, values.shape[2] - side + 1, step)
        values = np.stack([scene[r : r + side, c : c + side] for r in rows for c in cols])
        land = np.stack([~case.water[r : r + side, c : c + side] for r in rows for c in cols])
    else:
        land = np.broadcast_to(~case.water, values.shape[:3])
    physical = np.power(10.0, values) if case.log10 else values
    time_axis = np.datetime64("2015-01-01", "ns") + np.arange(len(values)) * np.timedelta64(1, "D")
    ds = xr.Dataset(
        {
            b: (("time", "lat", "lon"), physical[..., i].astype(np.float32))
            for i, b in enumerate(case.bands)
        }
        | {"land": (("time", "lat", "lon"), land.astype(np.int8))},
        coords={"time": time_axis},
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.to_netcdf(path)
    return path


def train_model(case: Case, workdir: Path, args: argparse.Namespace,
                window: int = 0) -> tuple[str, dict]:  # fmt: skip
    """Train through the real pipeline on the case's data, with a temporal window of `window`
    days each side; (exported model, its metadata)."""
    data = write_training_series(case, workdir / "data" / "series.nc")
    gridded = GriddedConfig(variables=case.bands, mask_variable="land")
    config = PipelineConfig(
        pipeline_name=f"quality-{case.name.replace(' ', '-')}-t{window}",
        pipeline_root=str(workdir / "pipeline"),
        input_base=str(data.parent),
        input_pattern="*.nc",
        ingest=IngestConfig(
            kind="netcdf",
            bands=case.bands,
            patch_size=args.tile,
            stride=args.tile // 2,
            min_valid=args.min_valid,
            gridded=gridded,
            temporal_window=window,
            transforms={band: "log10" for band in case.bands} if case.log10 else {},
        ),
        model=ModelConfig(
            kind=args.kind,
            width=args.width,
            batch_size=args.batch_size,
            discriminator_width=max(args.width // 2, 4),
            log_every=50,
            checkpoint_every=500,
            generator_lr=args.lr,
        ),
        train_steps=args.train_steps,
        evaluator={"must_beat": [], "panels_per_bucket": 1},
        warm_start=False,
    )
    config = PipelineConfig.from_dict(json.loads(config.to_json()))
    run_local(config, progress=True)
    model = latest_artifact(Path(config.pipeline_root), "Trainer", "model") / "Format-Serving"
    meta = json.loads((model / MODEL_DESCRIPTION).read_text())
    return str(model), meta


def _metadata(model_dir: str) -> dict:
    return json.loads((Path(model_dir) / MODEL_DESCRIPTION).read_text())


def _trained(case: Case, args: argparse.Namespace, name: str, window: int) -> tuple[str, dict]:
    """Train a model (temporal window `window`) for the case; (its folder, the run's facts)."""
    started = time.perf_counter()
    model_dir, meta = train_model(case, args.workdir / f"{name}-t{window}", args, window)
    return model_dir, {"steps": meta["steps"], "seconds": round(time.perf_counter() - started),
                       "kind": args.kind, "width": args.width, "temporal_window": window,
                       "model": model_dir}  # fmt: skip


def print_table(result: dict) -> None:
    scores = result["scores"]
    scenes = len(result["targets"])
    print(f"\n{result['case']} ({result['units']}): {result['hidden_pixels']} hidden pixels "
          f"scored on {scenes} scene(s), {result['left_out']} left out")  # fmt: skip
    print(f"{'method':12} {'RMSE':>10} {'MAE':>10} {'bias':>11} {'x biharm.':>9} {'s':>7}")
    for name, s in scores.items():
        print(f"{name:12} {s['rmse']:10.4g} {s['mae']:10.4g} {s['bias']:11.3g} "
              f"{s['ratio']:9.3f} {s['seconds']:7.1f}")  # fmt: skip
    labels = [b for b in coverage_bucket_labels() if b in scores["biharmonic"]["rmse_by_coverage"]]
    print("RMSE by gap coverage: " + "  ".join(f"{b:>9}" for b in labels))
    for name, s in scores.items():
        row = "  ".join(f"{s['rmse_by_coverage'].get(b, float('nan')):9.4g}" for b in labels)
        print(f"  {name:19} {row}")
    if "temporal" in scores:
        t = scores["temporal"]
        ratios = "  ".join(f"{t[f'ratio_to_{o}']:.3f}x {o}" for o in ("model", "eof")
                           if f"ratio_to_{o}" in t)  # fmt: skip
        print(f"temporal: {ratios} (goal <= 0.8x each)")
    for name, s in scores.items():
        if "calibration" in s:
            c = s["calibration"]
            print(f"{name} uncertainty: {c['within_1_sigma']:.0%} of errors within 1 sigma, "
                  f"{c['within_2_sigma']:.0%} within 2 (ideal 68 %, 95 %), z std "
                  f"{c['z_std']:.2f} (ideal 1)")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=DEFAULT_CASES,
                        help="real cases (default), or sample: the small mode")  # fmt: skip
    parser.add_argument("--targets", type=int, default=8, help="scored days of the series")
    parser.add_argument("--tile", type=int, default=64, help="tile side (and training patch)")
    parser.add_argument("--iterations", type=int, default=None,
                        help="classical fill iterations (default: ModelConfig's)")  # fmt: skip
    parser.add_argument("--series-days", type=int, default=90,
                        help="days of the sample-series case")  # fmt: skip
    parser.add_argument("--model", help="an exported model to score (instead of training)")
    parser.add_argument("--temporal-model",
                        help="an exported temporal model to score on series")  # fmt: skip
    parser.add_argument("--temporal-window", type=int, default=2,
                        help="days each side a trained temporal model reads (0: none)")  # fmt: skip
    parser.add_argument("--train-steps", type=int, default=0, help="train a model (0: none)")
    parser.add_argument("--kind", default="unet", choices=("unet", "cmunet"))
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3, help="generator peak learning rate")
    parser.add_argument("--min-valid", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, help="keep the training runs here")
    parser.add_argument("--output", type=Path, default=OUTPUT / "quality.json")
    args = parser.parse_args(argv)

    use_keras_3()  # before the fills import TensorFlow
    iterations = ModelConfig().classical_iterations if args.iterations is None else args.iterations
    results = []
    args.workdir = args.workdir or Path(tempfile.mkdtemp(prefix="s3inpaint-quality-"))
    args.workdir.mkdir(parents=True, exist_ok=True)
    for name in args.cases:
        case = CASES[name](args)
        bands = len(case.bands)
        fillers: dict[str, SceneFiller] = {
            "mean": tiled(baseline_tiles("mean"), args.tile),
            "biharmonic": tiled(baseline_tiles("biharmonic"), args.tile),
            "classical": tiled(classical_tiles(iterations), args.tile),
        }
        series = not case.crop and len(case.values) > 2
        eof, eof_result = {}, None
        if series:
            fillers["eof"], eof, eof_result = eof_filler(case, args.seed)
        training = {}
        model_dir = args.model
        if args.train_steps and not model_dir:
            model_dir, training["model"] = _trained(case, args, name, 0)
        if model_dir:
            fillers["model"] = remembered(tiled(model_tiles(model_dir, case.log10), args.tile,
                                                2 * bands))  # fmt: skip
        temporal_dir = args.temporal_model if series else None
        if series and args.train_steps and args.temporal_window and not temporal_dir:
            temporal_dir, training["temporal"] = _trained(case, args, name, args.temporal_window)
        if temporal_dir:
            window = _metadata(temporal_dir)["temporal_window"]
            fillers["temporal"] = remembered(temporal_filler(case, temporal_dir, window,
                                                             args.tile))  # fmt: skip
        if eof_result is not None:
            for method in ("model", "temporal"):
                if method in fillers:
                    fillers[f"{method}+eof"] = eof_blended(fillers[method], eof_result, case)
        result = evaluate(case, fillers, args.tile)
        result["training"] = training
        result["eof"] = eof
        result["classical_iterations"] = iterations
        print_table(result)
        if eof:
            print(f"eof: {eof['rank']} EOFs (cross-validated), basis of {eof['basis_days']} days "
                  f"x {eof['basis_pixels']} pixels, {eof['seconds']} s")  # fmt: skip
        for method, run in training.items():
            print(f"{method}: {run['kind']} width {run['width']}, temporal window "
                  f"{run['temporal_window']}, {run['steps']} steps, pipeline wall time "
                  f"{run['seconds']} s")  # fmt: skip
        results.append(result)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"machine": platform.platform(), "tile": args.tile,
                                       "results": results}, indent=2))  # fmt: skip
    print(f"\nsaved {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
