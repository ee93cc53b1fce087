"""The batch-inpainting Beam job: fill the cloudy water of every product matched by some globs.

    match ─► group by output name ─► plan: skip complete outputs, cut row blocks of tiles
      ─► RunInference (keyed by block; the tiles with a gap only) ─► blend the block's tiles
      ─► write each block's filled pixels to the work folder
      ─► join blocks with their product ─► write the product, quicklook, GeoTIFF ─► outcomes

A scene is handled one row block at a time (`block_tile_rows` rows of tiles), so memory follows
the block, not the scene, and only tiles that hold a gap reach the model: cost grows with the
cloudy-water area. The planner reads and tiles the next block while the model runs on this one,
and the writer merges and reads the next row group while it writes this one (`read_ahead`).
Every input ends in one outcome: written, skipped (a verified complete output exists) or failed
with its reason, also when the model, the blend or the writer fails on it;
`runs/<run id>/summary.json` lists them all and `runs/<run id>/dead_letter.jsonl` the failures,
and `summary.json` / `dead_letter.jsonl` beside the products are copies of the latest run's.
Before any product is read the output is checked (a folder, writable, room for a product) and
leased (`pipelines/inpaint/lease.py`): one job at a time writes there.
"""

from __future__ import annotations

import fnmatch
import glob
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import apache_beam as beam
import netCDF4
import numpy as np
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.ml.inference.base import KeyedModelHandler, RunInference
from apache_beam.options.pipeline_options import PipelineOptions

from components.gridded import GriddedConfig
from components.inpaint.tiling import (
    Blender,
    RowGroup,
    RowMerger,
    TilePlan,
    block_layout,
)
from components.olci import (
    ProductWriter,
    check_values,
    open_product,
    remove_stale_temporaries,
)
from components.olci.fill_quicklook import write_fill_quicklook
from components.olci.format import BAND_NAMES, FILL_FILE, MANIFEST, quantity_factor
from components.olci.geotiff import write_geotiff
from components.olci.storage import gcs_client, is_gcs, materialise
from pipelines.inpaint import gridded
from pipelines.inpaint.lease import Lease, new_run_id
from pipelines.inpaint.model import (
    MODEL_MICROSECONDS,
    NAMESPACE,
    BlockModelHandler,
    ModelInfo,
    Tiles,
    check_saved_model,
    read_model_info,
)
from pipelines.inpaint.outputs import (
    check_output,
    output_problems,
    product_bytes,
    publish,
    remove_output,
)
from pipelines.inpaint.scene import (
    block_tiles,
    decode_block,
    encode_block,
    output_name,
    read_rows,
    tile_counts,
)
from pipelines.inpaint.stages import (
    FAILED,
    FAILURES,
    OUTCOMES,
    SKIPPED,
    STALE_SECONDS,
    TILES,
    WRITTEN,
    MatchInputs,
    Outcome,
    PlanInputs,
    WriteInputs,
    block_progress,
    read_ahead,
)
from pipelines.inpaint.stages import counter as _counter

log = logging.getLogger(__name__)

SUMMARY_FILE, DEAD_LETTER_FILE, WORK_FOLDER = "summary.json", "dead_letter.jsonl", ".s3inpaint-work"
DEFAULT_TILE = 256  # the tile of a model that does not record its training patch size
RUNS_FOLDER = "runs"  # runs/<run id>/summary.json and dead_letter.jsonl: every run's record


@dataclass(frozen=True)
class InpaintConfig:
    """What to fill and how.

    Attributes:
        model: the pushed (or exported) model's folder, local or gs://.
        inputs: globs of products (.SEN3 folders or .zip), or of NetCDF series and GeoTIFFs
            (with `gridded`), local or gs://.
        output: the folder (local or gs://) that receives `<name>.SEN3`, optionally `<name>.png`
            (before, after, filled mask) and `<name>.tif` (or each series or GeoTIFF under
            its file name, a GeoTIFF with its sidecars), and the job's summary files.
        tile: the model window's side (a multiple of the model's stride); None: the side of the
            model's training patches, so it fills windows like those it learned on
            (`DEFAULT_TILE` for a model that does not record it).
        halo: overlap on each side between neighbouring tiles (blended with feathered weights);
            None: an eighth of the tile.
        block_tile_rows: tile rows per row block. Memory grows with it (on a full scene with
            256-px tiles, 1 peaked at 2.1 GB, 2 at 2.6 GB) and the anchors of tiles inside wide
            clouds are drawn from the block's rows.
        batch_size: tiles per model call. On a CPU, small calls are as fast per tile and
            need far less memory (8 x 288 x 288 x 16 bands: twice the time per tile of 1, 2 or
            4, and 0.7 GB more than 1); raise it on a GPU.
        geotiff_bands: bands of the GeoTIFF beside each product (none: no GeoTIFF).
        quicklook: write the before/after PNG (it costs seconds a full scene: off unless asked).
        overwrite: redo products whose complete output exists.
        gridded: the layout of gridded inputs to fill instead of OLCI products (the inputs are
            then NetCDF files and GeoTIFFs, each written under its own name; a GeoTIFF's bands
            are named by `band_names`, else its band descriptions); None for OLCI products, or
            the layout the model records (`for_model`).
        eof: blend the model's fill of each NetCDF series with a DINEOF fill of the whole
            series, one inverse-variance weight per band from the model's mean σ and the EOFs'
            cross-validated error (`components.gridded.eof_blend`; needs a model with
            uncertainty; the series is held in memory to make its EOFs).
    """

    model: str
    inputs: tuple[str, ...]
    output: str
    tile: int | None = None
    halo: int | None = None
    block_tile_rows: int = 1
    batch_size: int = 2
    geotiff_bands: tuple[str, ...] = ()
    quicklook: bool = False
    overwrite: bool = False
    gridded: GriddedConfig | None = None
    eof: bool = False

    def for_model(self, model: ModelInfo) -> InpaintConfig:
        """These settings with what the model records where they leave it open: the gridded
        layout, the tile (its training patch size) and so the halo."""
        config = self
        if config.gridded is None and model.gridded is not None:
            config = replace(config, gridded=model.gridded)
        if config.tile is None:
            config = replace(config, tile=model.patch_size or DEFAULT_TILE)
        if config.halo is None:
            config = replace(config, halo=config.tile // 8)
        return config

    def check(self, model: ModelInfo) -> None:
        """Raise ValueError when the settings (`for_model`'s where left open) cannot work with
        `model`."""
        if self.tile is None or self.halo is None:
            self.for_model(model).check(model)
            return
        if self.tile % model.stride:
            raise ValueError(f"tile {self.tile} is not a multiple of the model's stride "
                             f"{model.stride}")  # fmt: skip
        if not 0 <= 2 * self.halo < self.tile:
            raise ValueError(f"halo {self.halo} must satisfy 0 <= 2 * halo < tile {self.tile}")
        if self.block_tile_rows < 1 or self.batch_size < 1:
            raise ValueError("block_tile_rows and batch_size must be positive")
        if self.eof and self.gridded is None:
            raise ValueError("--eof blends a fill with the EOFs of a gridded series: OLCI "
                             "products share no grid")  # fmt: skip
        if self.gridded is not None:
            gridded.check_model(self, model)
            return
        if model.temporal_window:
            raise ValueError(f"model {model.path} takes {model.temporal_window} neighbouring "
                             "scenes on each side as context: it fills gridded NetCDF series "
                             "(give --gridded-config, or train it on a NetCDF ingest); OLCI "
                             "products share no grid")  # fmt: skip
        if unknown := sorted(set(model.bands) - set(BAND_NAMES)):
            raise ValueError(f"model {model.path} takes bands {unknown} that are not OLCI L2 WFR "
                             "bands: a model of a gridded series fills NetCDF series and GeoTIFFs "
                             "(give --gridded-config, or train it on a NetCDF ingest)")  # fmt: skip
        if unknown := sorted(set(self.geotiff_bands) - set(BAND_NAMES)):
            raise ValueError(f"geotiff bands {unknown} are not OLCI bands {BAND_NAMES}")
        # Every band of a product is written and the `filled` flag is one per pixel: a band
        # the model does not take would keep its cloud values at pixels flagged filled.
        if lacking := [band for band in BAND_NAMES if band not in model.bands]:
            raise ValueError(f"model {model.path} lacks bands {lacking}: the job fills every "
                             f"band {BAND_NAMES}; use a model trained on all of them")  # fmt: skip

    def target(self, name: str) -> str:
        return FileSystems.join(self.output, name)

    def work(self, name: str) -> str:
        return FileSystems.join(self.output, WORK_FOLDER, name)

    def blocks(self, height: int, width: int) -> tuple[TilePlan, tuple[RowGroup, ...]]:
        """The tile plan of a height x width scene and its row blocks (made once per shape)."""
        return block_layout(height, width, self.tile, self.halo, self.block_tile_rows)


@dataclass(frozen=True)
class ProductJob:
    """A product the planner sent through the model: what the writer needs."""

    input: str
    name: str
    height: int
    width: int
    tiles: dict[str, int]
    started: float


def match_products(pattern: str) -> tuple[list[str], list[str]]:
    """(products, others): what a glob matches, split into products (folders with a manifest,
    zips) and anything else; Beam's BeamIOError when the location cannot be listed."""
    base = pattern.rstrip("/")
    files = [m.path.rstrip("/") for m in FileSystems.match([base])[0].metadata_list]
    manifests = FileSystems.match([f"{base}/{MANIFEST}"])[0].metadata_list
    folders = {m.path.rsplit("/", 1)[0] for m in manifests}
    found, others = set(folders), set()
    if not is_gcs(base):  # local globs list files only: find folders without a manifest
        others |= {d.rstrip("/") for d in glob.glob(base) if os.path.isdir(d)} - folders
    for path in files:
        if path in folders or any(path.startswith(f + "/") for f in folders):
            continue
        top = _top(path, base)
        (found if top.endswith(".zip") else others).add(top)
    return sorted(found), sorted(others - found)


class MatchProducts(MatchInputs):
    """A glob -> the products it matches (folders with a manifest, zips); anything else fails."""

    NOT_INPUT = "not an OLCI product: neither a .SEN3 folder with a manifest nor a .zip"

    def match(self, pattern: str) -> tuple[list[str], list[str]]:
        return match_products(pattern)


def _comparable(path: str) -> str:
    """`path` as a key for containment tests: gs:// as written, local paths resolved."""
    return path.rstrip("/") if is_gcs(path) else os.path.realpath(path)


def _within(inner: str, outer: str) -> bool:
    return inner == outer or inner.startswith(outer.rstrip("/") + "/")


def check_output_apart(config: InpaintConfig) -> None:
    """Refuse an output folder that is, lies inside or contains an input (it would be read as
    an input, or an input replaced by its own output).

    Raises:
        ValueError: naming the output and the first input it overlaps.
    """
    output = _comparable(config.output)
    for pattern in config.inputs:
        try:
            found, others = _matcher(config)(pattern)
        except Exception:  # reported as the glob's failed outcome by the job itself
            continue
        for path in (*found, *others):
            item = _comparable(path)
            if _within(item, output) or _within(output, item):
                relation = ("is" if item == output else
                            "is inside" if _within(output, item) else "contains")  # fmt: skip
                raise ValueError(
                    f"--output {config.output} {relation} the input {path}: refusing to write "
                    "outputs where inputs are read; choose a folder apart from every input"
                )


def _top(path: str, pattern: str) -> str:
    """The shortest leading part of `path` that `pattern` matches (a gs:// object's product)."""
    parts = path.split("/")
    for depth in range(1, len(parts) + 1):
        candidate = "/".join(parts[:depth])
        if fnmatch.fnmatchcase(candidate, pattern):
            return candidate
    return path


class PlanProduct(PlanInputs):
    """Skip complete outputs, redo torn ones, and emit each row block's tiles that hold a gap."""

    NAME = "product name"

    def plan(self, path: str, name: str, target: str, started: float) -> Iterator[Any]:
        config = self._config
        client = gcs_client(target)
        problems = output_problems(target, client)
        if problems == [] and not config.overwrite:
            reason = "a complete output exists"
            if missing := [e for e in asked_extras(config, name)
                           if not FileSystems.exists(config.target(e))]:  # fmt: skip
                self._remake_extras(path, target, missing)
                reason += f"; made {', '.join(missing)} again"
            _counter(SKIPPED).inc()
            yield beam.pvalue.TaggedOutput(OUTCOMES, Outcome(path, SKIPPED, reason, target))
            return
        if problems:
            log.warning("%s: redoing a torn output (%s)", target, problems[0])
        if problems is not None:
            remove_output(target, client)
        yield from self._plan(path, name, started)

    def _remake_extras(self, path: str, target: str, names: list[str]) -> None:
        """Write the missing quicklook or GeoTIFF of a complete output, without the model."""
        with tempfile.TemporaryDirectory(prefix="s3inpaint-") as tmp:
            product = materialise(target, gcs_client=gcs_client(target), workdir=tmp)
            try:
                with open_product(path, gcs_client=gcs_client(path)) as before:
                    for extra in write_extras(self._config, before, product.folder, Path(tmp),
                                              names):  # fmt: skip
                        _copy_out(extra, self._config.target(extra.name))
            finally:
                product.cleanup()

    def _plan(self, path: str, name: str, started: float) -> Iterator[Any]:
        config, bands = self._config, self._model.bands
        # Read in the model's quantity (ρw or Rrs), whatever the product's collection stores.
        with open_product(path, reflectance=self._model.quantity,
                          gcs_client=gcs_client(path)) as ds:  # fmt: skip
            missing = [b for b in bands if b not in ds]
            if missing:
                raise ValueError(f"{path}: lacks the model's bands {missing}")
            check_values(ds)
            height, width = ds.sizes["y"], ds.sizes["x"]
            _, blocks = config.blocks(height, width)
            counts = tile_counts()

            def prepare(b: int) -> Tiles | None:
                reflectance, gap, water = read_rows(ds, blocks[b].rows, bands)
                return block_tiles(reflectance, gap, water, blocks[b], config.tile,
                                   blocks[b].rows.start, counts)  # fmt: skip

            with block_progress(name, len(blocks)) as bar:
                for b, tiles in enumerate(read_ahead(prepare, len(blocks))):
                    if tiles is not None:
                        yield beam.pvalue.TaggedOutput(TILES, ((name, height, width, b), tiles))
                    bar.update()
        for reason, n in counts.items():
            _counter(f"tiles_{reason}").inc(n)
        yield (name, ProductJob(path, name, height, width, counts, started))


class BlendBlock(beam.DoFn):
    """Blend a row group's predicted tiles; store its weighted sums in the work folder."""

    def __init__(self, config: InpaintConfig, bands: int) -> None:
        self._config = config
        self._bands = bands

    def process(self, element) -> Iterator[tuple[str, tuple[int, str]]]:
        (name, height, width, b), result = element
        gaps, indices = result.example
        config = self._config
        plan, groups = config.blocks(height, width)
        rows = groups[b % len(groups)].rows  # a series numbers its blocks across its scenes
        gap = np.zeros((len(rows), width), bool)
        for (i, j), tile_gap in zip(indices, gaps, strict=True):
            tile = plan.rows[i][j]
            gap[tile.slices(rows.start)] |= tile_gap[: tile.rows, : tile.cols]
        blender = Blender(plan, rows, self._bands, where=gap)
        for (i, j), pred in zip(indices, result.inference, strict=True):
            blender.add(plan.rows[i][j], pred)
        mask, sums, weights = blender.partial(gap)
        path = FileSystems.join(config.work(name), f"block-{b:05d}.npz")
        with FileSystems.create(path) as f:
            f.write(encode_block(rows, np.flatnonzero(mask), sums, weights))
        yield (name, (b, path))


def _error(trace: list[str]) -> str:
    """The error a formatted traceback ends with, on one line: "InvalidArgumentError: ...".

    TensorFlow puts the stack of the failing op inside its message; those lines are dropped.
    """
    lines = trace[-1].splitlines() if trace else ["unknown error"]
    kept = [line.strip() for line in lines if line.strip() and not line.startswith("  File ")]
    return re.sub(r"^[\w.]+\.(\w+:)", r"\1", " ".join(kept))


def failed_inference(failure: tuple[list, tuple]) -> Iterator[tuple[str, str]]:
    """RunInference's dead letter (a batch of keyed blocks, the error) -> (name, reason) each."""
    batch, (_, _, trace) = failure
    log.error("the model failed on %s:\n%s", [key for key, _ in batch], "".join(trace))
    for (name, _, _, b), _ in batch:
        yield name, f"the model failed on row block {b}: {_error(trace)}"


def failed_blend(failure: tuple[tuple, tuple]) -> tuple[str, str]:
    """BlendBlock's dead letter (a keyed prediction, the error) -> (name, reason)."""
    ((name, _, _, b), _), (_, _, trace) = failure
    log.error("blending row block %d of %s failed:\n%s", b, name, "".join(trace))
    return name, f"blending row block {b} failed: {_error(trace)}"


class WriteProduct(WriteInputs):
    """Write a product from its blocks' filled pixels; the quicklook and GeoTIFF beside it."""

    def write(self, job: ProductJob, blocks: dict[int, str]) -> int:
        config = self._config
        target = config.target(job.name)
        with tempfile.TemporaryDirectory(prefix="s3inpaint-") as tmp:
            if is_gcs(target):
                local_target = Path(tmp) / job.name
            else:
                local_target = Path(target)
                local_target.parent.mkdir(parents=True, exist_ok=True)
                remove_stale_temporaries(local_target.parent, older_than=STALE_SECONDS)
            filled = 0
            _, groups = config.blocks(job.height, job.width)
            merger = RowMerger(job.width, self._model.channels)
            uncertainty = self._model.bands if self._model.uncertainty else False

            def merged(b: int) -> tuple | None:
                """Row group b's finished rows, merged and laid into the source's rows."""
                if b in blocks:
                    with FileSystems.open(blocks[b]) as f:
                        rows, index, sums, weights = decode_block(f.read())
                    mask = np.zeros((len(rows), job.width), bool)
                    mask.reshape(-1)[index] = True
                    merger.add(rows, mask, sums, weights)
                return self._rows(ds, *merger.pop(groups[b].final.stop))

            with open_product(job.input, gcs_client=gcs_client(job.input)) as ds:
                with ProductWriter(ds, local_target, overwrite=True,
                                   uncertainty=uncertainty) as writer:  # fmt: skip
                    # The next group is read and merged while this one is packed and written.
                    for done in read_ahead(merged, len(groups)):
                        if done is not None:
                            span, bands, mask, sigmas = done
                            writer.write_rows(span, bands, mask, sigmas)
                            filled += int(mask.sum())
                    writer.commit()
                extras = write_extras(config, ds, local_target, Path(tmp),
                                      asked_extras(config, job.name))  # fmt: skip
            if is_gcs(target):
                publish(local_target, target, gcs_client(target))
            for extra in extras:
                _copy_out(extra, FileSystems.join(config.output, extra.name))
        return filled

    def _rows(self, ds, rows: range, mask: np.ndarray, values: np.ndarray) -> tuple | None:
        """The source's rows holding filled pixels among `rows`, with them laid in: (scene rows,
        bands, filled mask, sigmas) for `ProductWriter.write_rows`; None when no pixel was
        filled (those rows keep the source's copy untouched)."""
        used = np.flatnonzero(mask.any(axis=1))
        if not used.size:
            return None
        span = slice(rows.start + int(used[0]), rows.start + int(used[-1]) + 1)
        mask = mask[used[0] : used[-1] + 1]
        window = ds.isel(y=span)
        # The model fills in its own quantity; the product keeps the one its collection stores.
        factor = np.float32(quantity_factor(self._model.quantity, ds.attrs["reflectance"]))
        count = len(self._model.bands)
        bands, sigmas = {}, {}
        for i, band in enumerate(self._model.bands):
            data = np.array(window[band].values, np.float32)
            data[mask] = values[:, i] * factor
            bands[band] = data
            if self._model.uncertainty:
                spread = np.full(mask.shape, np.nan, np.float32)
                spread[mask] = values[:, count + i] * factor
                sigmas[band] = spread
        return span, bands, mask, sigmas


def asked_extras(config: InpaintConfig, name: str) -> list[str]:
    """The files beside product `name` that the run asks for: its quicklook, its GeoTIFF."""
    stem = name.removesuffix(".SEN3")
    return [f"{stem}.png"] * config.quicklook + [f"{stem}.tif"] * bool(config.geotiff_bands)


def write_extras(config: InpaintConfig, before, product: Path, tmp: Path,
                 names: list[str]) -> list[Path]:  # fmt: skip
    """Write the `names` of `asked_extras` for the filled `product` (local) into `tmp`."""
    if not names:
        return []
    stem, extras = product.name.removesuffix(".SEN3"), []
    with open_product(product) as after:
        filled = _filled_flag(product)
        if f"{stem}.png" in names:
            extras.append(write_fill_quicklook(before, after, filled, tmp / f"{stem}.png",
                                               title=stem))  # fmt: skip
        if f"{stem}.tif" in names:
            extras.append(write_geotiff(after, tmp / f"{stem}.tif", config.geotiff_bands,
                                        filled=filled))  # fmt: skip
    return extras


def _filled_flag(product: Path) -> np.ndarray:
    with netCDF4.Dataset(product / FILL_FILE) as nc:
        return np.asarray(nc.variables["filled"][:], bool)


def _copy_out(local: Path, target: str) -> None:
    with open(local, "rb") as src, FileSystems.create(target) as dst:
        while chunk := src.read(1 << 22):
            dst.write(chunk)


class ReportProgress(beam.DoFn):
    """A line on stderr as each input ends: the job's elapsed time, the outcome, the input.

    Workers (processes, machines) print independently, so a line claims no count of the whole.
    """

    def __init__(self, started: float) -> None:
        self._started = started  # time.time() of the job's start, in the launching process

    def process(self, outcome: Outcome) -> Iterator[Outcome]:
        print(progress_line(outcome, time.time() - self._started), file=sys.stderr, flush=True)
        yield outcome


def progress_line(outcome: Outcome, elapsed: float) -> str:
    """`[h:mm:ss] state   input: detail` for an outcome `elapsed` seconds into the job."""
    minutes, seconds = divmod(max(0, round(elapsed)), 60)
    detail = outcome.reason or f"{outcome.filled_pixels} pixels filled in {outcome.seconds} s"
    clock = f"{minutes // 60}:{minutes % 60:02}:{seconds:02}"
    return f"[{clock}] {outcome.state:7} {outcome.input}: {detail}"


def build(pipeline: beam.Pipeline, config: InpaintConfig, model: ModelInfo) -> beam.PCollection:
    """Add the job to `pipeline`; returns the PCollection of Outcomes (one per input)."""
    if config.gridded is None:
        match, name, plan = MatchProducts(), output_name, PlanProduct(config, model)
        write = WriteProduct(config, model)
    else:
        match, name, plan = gridded.MatchSeries(), gridded.output_name, gridded.PlanSeries(
            config, model)  # fmt: skip
        write = gridded.WriteSeries(config, model)
    matched = (
        pipeline
        | "Globs" >> beam.Create(list(config.inputs))
        | "Match" >> beam.ParDo(match).with_outputs(OUTCOMES, main="products")
    )
    named = (
        matched.products
        | "ByName" >> beam.Map(lambda path: (name(path), path))
        | "GroupByName" >> beam.GroupByKey()
    )
    # The series planner sees every output name (GeoTIFF sidecars) and, for a temporal model,
    # the windows in time of every series' scenes.
    side_inputs = [] if config.gridded is None else gridded.planner_inputs(named, config, model)
    planned = named | "Plan" >> beam.ParDo(plan, *side_inputs).with_outputs(
        TILES, OUTCOMES, main="jobs"
    )
    handler = KeyedModelHandler(BlockModelHandler(model.path, config.batch_size))
    # A block the model or the blend fails on fails its product, with the error as the reason.
    inferred, not_inferred = (
        planned[TILES] | "Infer" >> RunInference(handler).with_exception_handling()
    )
    blocks, not_blended = (
        inferred
        | "Blend" >> beam.ParDo(BlendBlock(config, model.channels)).with_exception_handling()
    )
    failures = (
        not_inferred.failed_inferences | "ModelFailures" >> beam.FlatMap(failed_inference),
        not_blended | "BlendFailures" >> beam.Map(failed_blend),
    ) | "Failures" >> beam.Flatten()
    written = (
        {"job": planned.jobs, "blocks": blocks, FAILURES: failures}
        | "JoinBlocks" >> beam.CoGroupByKey()
        | "Write" >> beam.ParDo(write)
    )
    return (
        (matched[OUTCOMES], planned[OUTCOMES], written)
        | "Outcomes" >> beam.Flatten()
        | "Progress" >> beam.ParDo(ReportProgress(time.time()))
    )


class WriteSummary(beam.DoFn):
    """The run's record, `runs/<run id>/summary.json` (its settings, every outcome, counts by
    state) and `runs/<run id>/dead_letter.jsonl` (its failures), and copies of both beside the
    products as the latest run's."""

    def __init__(self, config: InpaintConfig, run_id: str) -> None:
        self._config = config
        self._run_id = run_id

    def process(self, outcomes: list[Outcome]) -> Iterator[dict]:
        outcomes = sorted(outcomes, key=lambda o: o.input)
        counts = {
            state: sum(o.state == state for o in outcomes) for state in (WRITTEN, SKIPPED, FAILED)
        }
        summary = {
            "run": {"id": self._run_id, "config": asdict(self._config)},
            "counts": counts,
            "outcomes": [asdict(o) for o in outcomes],
        }
        dead = "".join(json.dumps({"input": o.input, "reason": o.reason}) + "\n"
                       for o in outcomes if o.state == FAILED)  # fmt: skip
        output = self._config.output
        for folder in (FileSystems.join(output, RUNS_FOLDER, self._run_id), output):
            with FileSystems.create(FileSystems.join(folder, SUMMARY_FILE)) as f:
                f.write(json.dumps(summary, indent=2).encode())
            with FileSystems.create(FileSystems.join(folder, DEAD_LETTER_FILE)) as f:
                f.write(dead.encode())
        yield summary


def model_seconds(result: beam.runners.runner.PipelineResult) -> float:
    """Seconds the finished job spent in the model's serving calls, over all its workers."""
    query = MetricsFilter().with_namespace(NAMESPACE).with_name(MODEL_MICROSECONDS)
    found = result.metrics().query(query)["distributions"]
    return sum(d.committed.sum for d in found if d.committed) / 1e6


def run(config: InpaintConfig, beam_args: list[str] | None = None) -> dict:
    """Run the job (DirectRunner unless `beam_args` say otherwise) and return its summary, with
    `seconds`: the job's `wall` time and the time in the `model`.

    Raises:
        ValueError: bad settings, an output that overlaps an input, is not a usable folder or
            has too little room (see `check_output`), or is leased by another job
            (`LeaseHeldError`), all before any product is read.
    """
    started = time.perf_counter()

    options = PipelineOptions(beam_args or [])
    FileSystems.set_options(options)  # gs:// access outside the pipeline uses the same options
    model = read_model_info(config.model)
    config = config.for_model(model)
    config.check(model)
    check_saved_model(config.model, model.temporal_window)
    check_output_apart(config)
    first = _first_product(config)
    if first and config.gridded is not None:  # the model's bands are in the series or GeoTIFF
        gridded.check_first_input(first, gridded.layout_for(config.gridded, model),
                                  model.temporal_window)  # fmt: skip
    size = product_bytes(first, gcs_client(first)) if first else 0
    check_output(config.output, size, gcs_client(config.output))
    run_id = new_run_id()
    with Lease(config.output, run_id, gcs_client=gcs_client(config.output)):
        try:
            with beam.Pipeline(options=options) as pipeline:
                outcomes = build(pipeline, config, model)
                _ = (
                    outcomes
                    | "AllOutcomes" >> beam.combiners.ToList()
                    | "Summary" >> beam.ParDo(WriteSummary(config, run_id))
                )
        finally:
            if not is_gcs(config.output):  # what killed runs left; no other job writes here
                shutil.rmtree(FileSystems.join(config.output, WORK_FOLDER), ignore_errors=True)
    record = FileSystems.join(config.output, RUNS_FOLDER, run_id, SUMMARY_FILE)
    with FileSystems.open(record) as f:
        summary = json.loads(f.read())
    wall = time.perf_counter() - started
    return {**summary, "seconds": {"wall": wall, "model": model_seconds(pipeline.result)}}


def _first_product(config: InpaintConfig) -> str | None:
    """The first product (or series) the inputs match (None when they match none)."""
    for pattern in config.inputs:
        try:
            found, _ = _matcher(config)(pattern)
        except Exception:  # reported as the glob's failed outcome by the job itself
            continue
        if found:
            return found[0]
    return None


def _matcher(config: InpaintConfig):
    """The function that splits what a glob matches into inputs of the job's kind and others."""
    return match_products if config.gridded is None else gridded.match_series
