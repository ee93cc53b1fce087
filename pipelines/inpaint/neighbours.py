"""Neighbours in time for a temporal model: each scene's window and its neighbours' tiles.

A model trained with `ingest.temporal_window: k` reads, beside each tile, the same tile of the
k previous and k next scenes of its series. The job finds them exactly as training does: a
series is every scene of the job's inputs that lies on one grid, across files, in time order
(`components.example_gen.temporal`: `series_scene_refs`, `scene_windows`), so a series split
into daily files has the same neighbours as one file; at the series' ends the missing
neighbours are empty, and a scene at the centre's own time is never a neighbour. The windows
are made once from the inputs' headers (`SeriesWindows`) and reach the planners as a side
input.

The neighbours are the inputs' observed values, with their own gaps as gaps (never the job's
fill of another scene), read as training reads them (`open_scene`, `neighbour_arrays`) and
handed to the model with NaN where unobserved (`model.signature.neighbour_inputs`). A planner
reads each neighbour scene when a window first asks for it and drops it when no window holds
it any more (`SeriesNeighbours`): a series in time order is read once more, and at most 2k
scenes are held beside the one being planned.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path

import apache_beam as beam
import numpy as np

from components.example_gen.scenes import SceneRef
from components.example_gen.temporal import (
    SceneWindow,
    neighbour_arrays,
    scene_windows,
    series_scene_refs,
)
from components.gridded import GriddedConfig, SceneTimeError, open_scene
from components.olci.errors import ProductError
from components.olci.storage import local_copy


def timed_scenes(path: str, local: Path, layout: GriddedConfig) -> list[tuple[str, SceneRef, str]]:
    """(grid, scene, start time) of every scene of the series `path` (read from `local`, its
    local copy), from its header alone.

    Raises:
        GriddedError: naming `path`'s file, also when a scene states no time, without which it
            has no place in a series.
    """
    timed = series_scene_refs(local, layout, source=path)
    if untimed := [ref for _, ref, start in timed if not start]:
        raise SceneTimeError(path, f"scene {untimed[0].index} states no time (no time "
                             "dimension or time_coverage_start): a temporal model needs every "
                             "scene's time to find its neighbours")  # fmt: skip
    return timed


def grid_scenes(
    element: tuple[str, list[str]], layout: GriddedConfig
) -> Iterator[tuple[str, tuple[SceneRef, str]]]:
    """(grid, (scene, start time)) of every scene of an output name's planned input (the first
    of its inputs, sorted, as the planner chooses). An input whose header cannot be read, or
    that states no time, gives none: its planner reads the same header and fails it with that
    reason."""
    path = sorted(element[1])[0]
    try:
        with local_copy(path) as local:
            timed = timed_scenes(path, local, layout)
    except Exception:  # the planner's outcome for this input reports the error
        return
    for grid, ref, start in timed:
        yield grid, (ref, start)


def input_windows(
    element: tuple[str, Iterable[tuple[SceneRef, str]]], window: int
) -> Iterator[tuple[str, SceneWindow]]:
    """(input, window) of every scene of one grid (grid, [(scene, start time), ...])."""
    for found in scene_windows(element[1], window):
        yield found.centre.path, found


class SeriesWindows(beam.PTransform):
    """(output name, [inputs]) -> (input, SceneWindow) for every scene of the planned inputs:
    the k scenes before and after it among every input's scenes on its grid."""

    def __init__(self, layout: GriddedConfig, window: int) -> None:
        super().__init__()
        self._layout = layout
        self._window = window

    def expand(self, named: beam.PCollection) -> beam.PCollection:
        return (
            named
            | "Times" >> beam.FlatMap(grid_scenes, self._layout)
            | "GroupByGrid" >> beam.GroupByKey()
            | "Windows" >> beam.FlatMap(input_windows, self._window)
        )


class SeriesNeighbours:
    """The neighbours of one series' scenes, read from the inputs as the scenes' windows ask;
    use as a context manager (it holds local copies of the other gs:// inputs it reads).

    Args:
        path: the series (an input of the job); local: its local copy.
        layout: the layout that reads the model's bands.
        windows: the windows of its scenes (`SeriesWindows`' for `path`).

    Raises:
        GriddedError: naming the file, when a scene of it states no time.
    """

    def __init__(self, path: str, local: Path, layout: GriddedConfig,
                 windows: Iterable[SceneWindow]) -> None:  # fmt: skip
        timed_scenes(path, local, layout)
        self._path = path
        self._layout = layout
        self._windows = {w.centre.index: w for w in windows}
        self._files: dict[str, Path] = {path: local}
        self._copies = ExitStack()  # local copies of other gs:// inputs
        self._scenes: dict[SceneRef, np.ndarray] = {}

    def __enter__(self) -> SeriesNeighbours:
        return self

    def __exit__(self, *exc) -> None:
        self._copies.close()

    def around(self, index: int, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Scene `index`'s neighbours: (2k, rows, columns, bands) float32, NaN where a
        neighbour is not valid (its own gaps, masked pixels; all of a missing one), and their
        offsets (2k,) in days.

        Raises:
            ValueError: the scene has no window (its header could not be read when the
                windows were made).
            GriddedError: a neighbour cannot be read, naming its file.
        """
        window = self._windows.get(index)
        if window is None:
            raise ValueError(f"{self._path}: scene {index} has no window in time: the series' "
                             "header could not be read when the windows were made")  # fmt: skip
        wanted = {ref for ref in window.neighbours if ref is not None}
        self._scenes = {ref: v for ref, v in self._scenes.items() if ref in wanted}
        for ref in sorted(wanted - set(self._scenes), key=str):
            self._scenes[ref] = self._read(ref, shape)
        empty = np.full((*shape, len(self._layout.variables)), np.nan, np.float32)
        values = np.stack([empty if ref is None else self._scenes[ref]
                           for ref in window.neighbours])  # fmt: skip
        return values, np.asarray(window.offsets, np.float32)

    def _read(self, ref: SceneRef, shape: tuple[int, int]) -> np.ndarray:
        """A neighbour's bands (rows, columns, bands), NaN where it is not valid."""
        if ref.path not in self._files:
            self._files[ref.path] = self._copies.enter_context(local_copy(ref.path))
        try:
            scene = open_scene(self._files[ref.path], self._layout, ref.index)
        except ProductError as error:  # name the input, not its local copy
            raise type(error)(ref.path, f"{error.problem} (read as a neighbour in time of "
                                        f"{self._path})") from None  # fmt: skip
        values, valid = neighbour_arrays([scene], self._layout.variables, shape)
        return np.where(valid[0, ..., np.newaxis], values[0], np.float32(np.nan))
