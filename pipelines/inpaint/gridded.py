"""The batch job's stages for gridded inputs, NetCDF series and GeoTIFFs: match files, plan,
write.

A file is one input of the job (one outcome, one output file of the same name). A NetCDF file's
scenes (time steps) are read one at a time through one open file; a GeoTIFF is one scene (read
as training reads it, `components.gridded.geotiff`). Each scene is cut into the same row blocks
of tiles as an OLCI scene, so memory follows a scene, not the series; a block's key numbers it
across the series (`scene * blocks_per_scene + block`). The writer fills a copy of the source
(`components.gridded.series_writer`, `components.gridded.geotiff_writer`) and commits it by a
rename, or for a gs:// output uploads it as one object, create-only: a file under the output's
name is complete (a GeoTIFF's sidecars are committed before it).

The model's bands are the series' variables, or the GeoTIFF's bands as `open_geotiff` names
them (`band_names` of the layout, else the band descriptions, else b1..bN), matched by name; the
pixels to fill are those where a band is missing and, in a NetCDF series, `mask_variable` (land,
ice) does not mask. A temporal model's tiles go with the same tiles of their neighbours in time
(`pipelines.inpaint.neighbours`), which NetCDF series have and single GeoTIFFs do not.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import apache_beam as beam
import numpy as np
import xarray as xr
from apache_beam.io.filesystems import FileSystems

from components.example_gen.temporal import SECONDS_PER_DAY, SceneWindow
from components.gridded import (
    BandNamesError,
    GriddedConfig,
    open_geotiff,
    open_series_masked,
    scene_count,
    scene_names,
    scene_times,
    times,
)
from components.gridded.eof_blend import BlendWeight, blend, series_eof
from components.gridded.geotiff import geotiff_band_names
from components.gridded.geotiff_writer import sidecars, write_filled_geotiff
from components.gridded.series_writer import SeriesWriter
from components.inpaint.anchors import Anchors
from components.olci.commit import remove_stale_temporaries
from components.olci.storage import gcs_object, is_gcs, local_copy, upload_file
from pipelines.inpaint.model import ModelInfo
from pipelines.inpaint.neighbours import SeriesNeighbours, SeriesWindows
from pipelines.inpaint.scene import block_tiles, decode_block, tile_counts
from pipelines.inpaint.stages import (
    OUTCOMES,
    SKIPPED,
    STALE_SECONDS,
    TILES,
    MatchInputs,
    Outcome,
    PlanInputs,
    WriteInputs,
    block_progress,
    counter,
)

if TYPE_CHECKING:
    from pipelines.inpaint.job import InpaintConfig

NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf", ".cdf")
GEOTIFF_SUFFIXES = (".tif", ".tiff")
# A temporal model's side input: each input's windows in time, one per scene.
Windows = Mapping[str, Iterable[SceneWindow]]


def check_model(config: InpaintConfig, model: ModelInfo) -> None:
    """Raise ValueError when `model` cannot fill series of `config.gridded`'s layout."""
    if config.quicklook or config.geotiff_bands:
        raise ValueError("--quicklook and --geotiff-bands are for OLCI products; a gridded "
                         "input is written in its own format, NetCDF or GeoTIFF")  # fmt: skip
    if config.eof and not model.uncertainty:
        raise ValueError(f"model {model.path} gives no uncertainty (sigma): --eof weighs its "
                         "fill against the EOF fill by their uncertainties")  # fmt: skip
    variables, bands = config.gridded.variables, model.bands
    if set(variables) != set(bands):
        raise ValueError(
            f"model {model.path} takes the bands {list(bands)}, matched by name to the series' "
            f"variables, but the gridded layout names the variables {list(variables)}: fill a "
            "series with a model trained on the same variables"
        )


def layout_for(config: GriddedConfig, model: ModelInfo) -> GriddedConfig:
    """The layout that reads the model's bands, in the model's channel order."""
    return replace(config, variables=model.bands)


def check_first_input(path: str, layout: GriddedConfig, temporal_window: int) -> None:
    """Read a local input's header against the layout (a series' dims and the model's
    variables, a GeoTIFF's band names) and refuse a GeoTIFF to a temporal model.

    Raises:
        GriddedError: naming the file and what it lacks.
        ValueError: naming the GeoTIFF a temporal model cannot fill.
    """
    if is_geotiff(path):
        check_not_temporal(path, temporal_window)
    if is_gcs(path):
        return
    if is_geotiff(path):
        check_geotiff_bands(path, Path(path), layout)
    else:
        scene_names(path, layout)


def is_geotiff(path: str) -> bool:
    """Whether the job reads the input `path` as a GeoTIFF (by its name's suffix)."""
    return path.lower().endswith(GEOTIFF_SUFFIXES)


def check_not_temporal(path: str, temporal_window: int) -> None:
    """Raise ValueError when a model with a temporal window would fill the GeoTIFF `path`."""
    if temporal_window:
        raise ValueError(f"{path}: a GeoTIFF is a single scene with no neighbours in time, and "
                         f"the model takes {temporal_window} neighbouring scenes on each side; "
                         "fill GeoTIFFs with a model without a temporal window, or fill the "
                         "series as NetCDF")  # fmt: skip


def check_geotiff_bands(path: str, local: Path, layout: GriddedConfig) -> tuple[str, ...]:
    """The band names of the GeoTIFF `path` (read from `local`, its local copy) as training
    reads them, checked to be the model's (`layout.variables`).

    Raises:
        BandNamesError: naming `path`, its bands and the model's.
    """
    names = geotiff_band_names(local, layout.band_names)
    if set(names) != set(layout.variables):
        source = ("the layout's band_names" if layout.band_names is not None else
                  "its band descriptions, else b1..bN")  # fmt: skip
        raise BandNamesError(path, f"its bands are {list(names)} (named by {source}), but the "
                             f"model takes {list(layout.variables)}: name the bands as its "
                             "training did (band descriptions, or band_names in "
                             "--gridded-config)")  # fmt: skip
    return names


def output_name(path: str) -> str:
    """A series' output file name: its own."""
    return path.rstrip("/").rsplit("/", 1)[-1]


def match_series(pattern: str) -> tuple[list[str], list[str]]:
    """(series, others): the files a glob matches, split into NetCDF files and GeoTIFFs (by
    suffix) and the rest; Beam's BeamIOError when the location cannot be listed."""
    files = sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)
    series = [f for f in files if f.lower().endswith(NETCDF_SUFFIXES + GEOTIFF_SUFFIXES)]
    return series, [f for f in files if f not in series]


class MatchSeries(MatchInputs):
    """A glob -> the NetCDF files and GeoTIFFs it matches; anything else fails."""

    NOT_INPUT = ("not a NetCDF series or a GeoTIFF: its name does not end in "
                 f"{', '.join(NETCDF_SUFFIXES + GEOTIFF_SUFFIXES)}")  # fmt: skip

    def match(self, pattern: str) -> tuple[list[str], list[str]]:
        return match_series(pattern)


@dataclass(frozen=True)
class SeriesJob:
    """A series the planner sent through the model: what the writer needs."""

    input: str
    name: str
    scenes: int
    height: int
    width: int
    tiles: dict[str, int]
    started: float


def scene_input(
    scene: xr.Dataset, masked: np.ndarray, bands: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values (rows, columns, bands) float32 NaN where unknown; gap; water) of a scene.

    The gap is every pixel the mask leaves where a band is missing; masked pixels are no gap
    and have no value.
    """
    values = np.stack([np.asarray(scene[b].values, np.float32) for b in bands], axis=-1)
    water = ~masked
    gap = water & ~np.asarray(scene["valid"].values, bool)
    values[masked] = np.nan
    return values, gap, water


def geotiff_scene(path: str, local: Path, layout: GriddedConfig) -> tuple[xr.Dataset, np.ndarray]:
    """(scene, masked) of the GeoTIFF `path` (read from `local`): nothing is masked, every
    missing pixel is a gap, as training reads it.

    Raises:
        BandNamesError: its bands are not the model's, naming `path`.
    """
    check_geotiff_bands(path, local, layout)
    scene = open_geotiff(local, layout.band_names)
    return scene, np.zeros((scene.sizes["y"], scene.sizes["x"]), bool)


def output_exists(target: str) -> bool:
    """Whether a committed output is at `target` (one is only ever there whole)."""
    if not is_gcs(target):
        return os.path.isfile(target)
    return gcs_object(target) is not None


def planner_inputs(named: beam.PCollection, config: InpaintConfig,
                   model: ModelInfo) -> list[Any]:  # fmt: skip
    """The planner's side inputs: every output name of the job (`named`: (output name,
    [inputs])), to refuse an output that another GeoTIFF's sidecar would overwrite; and for a
    model with a temporal window, the windows of the inputs' scenes, by input."""
    names = beam.pvalue.AsList(named | "Names" >> beam.Keys())
    if not model.temporal_window:
        return [names]
    layout = layout_for(config.gridded, model)
    windows = named | "Windows" >> SeriesWindows(layout, model.temporal_window)
    return [names, beam.pvalue.AsMultiMap(windows)]


def sidecar_owner(name: str, names: Iterable[str], uncertainty: bool) -> str | None:
    """The other output among `names` whose GeoTIFF sidecars include `name`, if any."""
    for other in names:
        if other == name or not is_geotiff(other):
            continue
        if name in (p.name for p in sidecars(Path(other), uncertainty=uncertainty)):
            return other
    return None


class PlanSeries(PlanInputs):
    """Skip complete outputs; emit each scene's row blocks' tiles that hold a gap (with the
    same tiles of its neighbours in time, for a temporal model); the side inputs are
    `planner_inputs`'. An input whose output another GeoTIFF's sidecar would overwrite fails
    (the GeoTIFF is filled)."""

    NAME = "file name"

    def plan(self, path: str, name: str, target: str, started: float, names: list[str],
             windows: Windows | None = None) -> Iterator[Any]:  # fmt: skip
        if self._config.eof and is_geotiff(path):
            raise ValueError("--eof blends with the EOFs of a series; a GeoTIFF is one scene")
        if owner := sidecar_owner(name, names, self._model.uncertainty):
            raise ValueError(f"its output {name} would be overwritten by a sidecar of the fill "
                             f"of {owner}, another input: rename one of them")  # fmt: skip
        if not self._config.overwrite and output_exists(target):
            counter(SKIPPED).inc()
            reason = "a complete output exists"
            yield beam.pvalue.TaggedOutput(OUTCOMES, Outcome(path, SKIPPED, reason, target))
            return
        yield from self._plan(path, name, started, windows)

    def _plan(self, path: str, name: str, started: float,
              windows: Windows | None) -> Iterator[Any]:  # fmt: skip
        config, bands = self._config, self._model.bands
        layout = layout_for(config.gridded, self._model)
        counts = tile_counts()
        scenes = height = width = 0
        with ExitStack() as stack:
            local = stack.enter_context(local_copy(path))
            around = None
            if is_geotiff(path):
                check_not_temporal(path, self._model.temporal_window)
                count, scenes_in = 1, iter([geotiff_scene(path, local, layout)])
            else:
                count, scenes_in = scene_count(local, layout), open_series_masked(local, layout)
            if windows is not None:
                around = stack.enter_context(SeriesNeighbours(path, local, layout, windows[path]))
            bar = stack.enter_context(block_progress(name, count, unit="scene"))
            for index, (scene, masked) in enumerate(scenes_in):
                scenes, (height, width) = index + 1, masked.shape
                values, gap, water = scene_input(scene, masked, bands)
                neighbours = offsets = None
                if around is not None:
                    neighbours, offsets = around.around(index, (height, width))
                _, blocks = config.blocks(height, width)
                anchors = Anchors(values, gap)  # the whole scene's: one push-pull, when needed
                for b, block in enumerate(blocks):
                    tiles = block_tiles(values, gap, water, block, config.tile, 0, counts,
                                        neighbours, offsets, anchors)  # fmt: skip
                    if tiles is not None:
                        key = (name, height, width, index * len(blocks) + b)
                        yield beam.pvalue.TaggedOutput(TILES, (key, tiles))
                bar.update()
        for reason, n in counts.items():
            counter(f"tiles_{reason}").inc(n)
        yield (name, SeriesJob(path, name, scenes, height, width, counts, started))


class WriteSeries(WriteInputs):
    """Write a series from its blocks' filled pixels, scene by scene, or a GeoTIFF and its
    sidecars from its one scene's."""

    def write(self, job: SeriesJob, blocks: dict[int, str]) -> int:
        config, model = self._config, self._model
        target = config.target(job.name)
        moment = f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"
        history = (f"{moment}: s3inpaint inpaint: gaps of {', '.join(model.bands)} filled with "
                   f"the model {model.path}")  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="s3inpaint-") as tmp, local_copy(job.input) as src:
            if is_gcs(target):
                local = Path(tmp) / job.name
            else:
                local = Path(target)
                local.parent.mkdir(parents=True, exist_ok=True)
                remove_stale_temporaries(local.parent, older_than=STALE_SECONDS)
            layout = layout_for(config.gridded, model)
            if is_geotiff(job.input):
                mask, values = merge_scene(list(blocks.values()), job.height, job.width,
                                           model.channels)  # fmt: skip
                filled = write_filled_geotiff(
                    src, local, model.bands, mask, values, band_names=layout.band_names,
                    uncertainty=model.uncertainty, history=history,
                )  # fmt: skip
                if is_gcs(target):  # the sidecars first; one a killed run left is replaced
                    for extra in sidecars(local, uncertainty=model.uncertainty):
                        publish_file(extra, config.target(extra.name), overwrite=True)
            else:
                filled = self._write_series(job, blocks, src, local, layout, history)
            if is_gcs(target):
                publish_file(local, target, overwrite=config.overwrite)
        return filled

    def _write_series(self, job: SeriesJob, blocks: dict[int, str], src: Path, local: Path,
                      layout: GriddedConfig, history: str) -> int:  # fmt: skip
        """Write a NetCDF series scene by scene (with --eof, blended with its EOF fill)."""
        model = self._model
        per_scene = len(self._config.blocks(job.height, job.width)[1])

        def merged(scene: int) -> tuple[np.ndarray, np.ndarray]:
            paths = [blocks[g] for g in range(scene * per_scene, (scene + 1) * per_scene)
                     if g in blocks]  # fmt: skip
            return merge_scene(paths, job.height, job.width, model.channels)

        blender = None
        if self._config.eof:
            blender = SeriesBlend(src, layout, model, job.scenes, merged)
            history += f", blended with a DINEOF fill of {blender.eof.rank} EOFs"
        filled = 0
        with SeriesWriter(src, local, layout, uncertainty=model.uncertainty,
                          history=history) as writer:  # fmt: skip
            for scene in range(job.scenes):
                mask, values = merged(scene)
                if blender is not None:
                    values = blender.blend(scene, mask, values)
                filled += writer.write_scene(scene, mask, values)
            writer.commit()
        return filled


class SeriesBlend:
    """A series' DINEOF fill and the blend weight of the model's fill against it, from a first
    pass over the model's merged fill of every scene (`merged(scene)`: (mask, values))."""

    def __init__(self, local: Path, layout: GriddedConfig, model: ModelInfo, scenes: int,
                 merged: Callable[[int], tuple[np.ndarray, np.ndarray]]) -> None:  # fmt: skip
        stack = []
        for scene, masked in open_series_masked(local, layout):
            values, gap, _ = scene_input(scene, masked, model.bands)
            values[gap] = np.nan
            stack.append(values)
        self.eof = series_eof(np.stack(stack), model.band_transforms,
                              times=series_days(local, layout))  # fmt: skip
        self._bands, self._transforms = len(model.bands), model.band_transforms
        weight = BlendWeight(self._bands)
        for scene in range(scenes):
            mask, values = merged(scene)
            weight.add(values[:, : self._bands], values[:, self._bands :],
                       self.eof.filled[scene][mask], self._transforms)  # fmt: skip
        self.weight = weight.weight(self.eof.error)

    def blend(self, scene: int, mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        """A scene's merged fill (n, bands + sigmas) at `mask`, blended with the EOF fill."""
        bands = self._bands
        blended, sigma = blend(values[:, :bands], values[:, bands:], self.eof.filled[scene][mask],
                               self.eof.error, self._transforms, self.weight)  # fmt: skip
        return np.concatenate([blended, sigma], axis=1)


def series_days(local: Path, layout: GriddedConfig) -> np.ndarray | None:
    """The series' scene times (`scene_times`, as the temporal windows read them) in days from
    its first, when every scene states one and they are at least a day apart (what DINEOF's
    temporal filter takes); else None."""
    starts = scene_times(local, layout)
    if len(starts) < 2 or not all(starts):
        return None
    moments = [times.parse_text(text) for text in starts]
    days = np.array([(m - moments[0]).total_seconds() / SECONDS_PER_DAY for m in moments])
    return days if np.min(np.diff(days)) >= 1 else None


def merge_scene(paths: list[str], height: int, width: int,
                channels: int) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """A scene's blend from its blocks' files: (mask (height, width), values (n, channels))."""
    sums = np.zeros((height, width, channels))
    weights = np.zeros((height, width))
    for path in paths:
        with FileSystems.open(path) as f:
            rows, index, part, weight = decode_block(f.read())
        mask = np.zeros((len(rows), width), bool)
        mask.reshape(-1)[index] = True
        sums[rows.start : rows.stop][mask] += part
        weights[rows.start : rows.stop][mask] += weight
    mask = weights > 0
    return mask, (sums[mask] / weights[mask][:, None]).astype(np.float32)


def publish_file(local: Path, target: str, *, overwrite: bool) -> None:
    """Upload a committed file to gs:// as one object: create-only, or (`overwrite`) replacing
    exactly the object that is there."""
    existing = gcs_object(target) if overwrite else None
    upload_file(local, target, generation=existing.generation if existing is not None else 0)
