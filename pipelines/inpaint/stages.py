"""What the batch job's stages share whatever the input format (OLCI products, gridded series):
the outcome of an input and its states, the names of tagged outputs, Beam counters, the
planners' shared handling of inputs, reading ahead, the clean-up of staged blocks and the
terminal's progress bar."""

from __future__ import annotations

import abc
import logging
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from tqdm import tqdm

from components.olci.errors import ProductError
from components.olci.storage import is_gcs
from pipelines.inpaint.model import NAMESPACE

log = logging.getLogger(__name__)

WRITTEN, SKIPPED, FAILED = "written", "skipped", "failed"
TILES, OUTCOMES, FAILURES = "tiles", "outcomes", "failures"
STALE_SECONDS = 6 * 3600  # a writer's temporary file or folder this old was left by a kill

T = TypeVar("T")


@dataclass
class Outcome:
    """How one input ended."""

    input: str
    state: str
    reason: str = ""
    output: str = ""
    filled_pixels: int = 0
    tiles: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def counter(name: str) -> Any:
    """The job's Beam counter `name`."""
    return beam.metrics.Metrics.counter(NAMESPACE, name)


class MatchInputs(beam.DoFn, metaclass=abc.ABCMeta):
    """A glob -> the inputs of the job's kind it matches (`match`); anything else it matches
    fails with `NOT_INPUT` as the reason, a glob that matches nothing or cannot be listed fails
    itself."""

    NOT_INPUT = "not an input of this job"

    def process(self, pattern: str) -> Iterator[Any]:
        try:
            found, others = self.match(pattern)
        except Exception as error:  # Beam raises BeamIOError for an unreadable location
            reason = f"cannot match: {error}"
            yield beam.pvalue.TaggedOutput(OUTCOMES, Outcome(pattern, FAILED, reason))
            return
        for other in others:
            yield beam.pvalue.TaggedOutput(OUTCOMES, Outcome(other, FAILED, self.NOT_INPUT))
        if not found and not others:
            yield beam.pvalue.TaggedOutput(OUTCOMES, Outcome(pattern, FAILED, "matches nothing"))
        yield from found

    @abc.abstractmethod
    def match(self, pattern: str) -> tuple[list[str], list[str]]:
        """(inputs, others): what `pattern` matches, split."""


class PlanInputs(beam.DoFn, metaclass=abc.ABCMeta):
    """What every planner does with an output name's inputs: the first (sorted) is planned, the
    others fail (their outputs would collide), and any error while planning an input is its
    failed outcome. Subclasses say how an input is skipped or planned (`plan`) and what its name
    is called in the collision's reason (`NAME`)."""

    NAME = "output name"

    def __init__(self, config: Any, model: Any) -> None:
        self._config = config  # pipelines.inpaint.job.InpaintConfig
        self._model = model  # pipelines.inpaint.model.ModelInfo

    # No hint on the side inputs: Beam's type check refuses a hinted *args when none are given.
    def process(self, element: tuple[str, list[str]], *side_inputs) -> Iterator[Any]:
        name, paths = element
        first, *others = sorted(paths)
        for other in others:
            counter(FAILED).inc()
            reason = f"another input has the same {self.NAME} {name}: {first}"
            yield beam.pvalue.TaggedOutput(OUTCOMES, Outcome(other, FAILED, reason))
        target = self._config.target(name)
        try:
            yield from self.plan(first, name, target, time.time(), *side_inputs)
        except Exception as error:
            counter(FAILED).inc()
            reason = f"{type(error).__name__}: {error}"
            yield beam.pvalue.TaggedOutput(OUTCOMES, Outcome(first, FAILED, reason, target))

    @abc.abstractmethod
    def plan(self, path: str, name: str, target: str, started: float,
             *side_inputs: Any) -> Iterator[Any]:  # fmt: skip
        """Skip `path` (an outcome tagged OUTCOMES) or emit its blocks' tiles (tagged TILES) and
        its job; `started` is when its planning began, `side_inputs` the ParDo's."""


class WriteInputs(beam.DoFn, metaclass=abc.ABCMeta):
    """What every writer does with an output name's job, its blocks' staged files and the
    failures of its blocks: an input any block of which failed fails with that reason; else
    the subclass writes it (`write`), and an error there is its failed outcome. The staged
    files are removed whatever happens."""

    def __init__(self, config: Any, model: Any) -> None:
        self._config = config  # pipelines.inpaint.job.InpaintConfig
        self._model = model  # pipelines.inpaint.model.ModelInfo

    def process(self, element) -> Iterator[Outcome]:
        name, grouped = element
        blocks, failures = sorted(grouped["blocks"]), sorted(grouped[FAILURES])
        try:
            for job in grouped["job"]:  # none when planning failed after some blocks went out
                yield self._outcome(job, dict(blocks), failures)
        finally:
            remove_staged(self._config.output, self._config.work(name), name, blocks)

    def _outcome(self, job: Any, blocks: dict[int, str], failures: list[str]) -> Outcome:
        target = self._config.target(job.name)
        if failures:
            counter(FAILED).inc()
            reason = failures[0]
            if len(failures) > 1:
                reason += f" (and {len(failures) - 1} more row blocks)"
            return Outcome(job.input, FAILED, reason, target, tiles=job.tiles)
        try:
            filled = self.write(job, blocks)
        except Exception as error:
            if not isinstance(error, ProductError):  # a bad input's reason says it all
                log.exception("%s: failed", job.input)
            counter(FAILED).inc()
            return Outcome(job.input, FAILED, f"{type(error).__name__}: {error}", target,
                           tiles=job.tiles)  # fmt: skip
        counter(WRITTEN).inc()
        counter("filled_pixels").inc(filled)
        seconds = round(time.time() - job.started, 2)
        return Outcome(job.input, WRITTEN, "", target, filled, job.tiles, seconds)

    @abc.abstractmethod
    def write(self, job: Any, blocks: dict[int, str]) -> int:
        """Write the input of `job` from its blocks' staged files (block number -> path);
        return the pixels filled."""


def remove_staged(output: str, work: str, name: str, blocks: list[tuple[int, str]]) -> None:
    """Delete an input's block files and (for a local `output`) its work folder `work`,
    whatever became of it."""
    try:
        if blocks:
            FileSystems.delete([path for _, path in blocks])
    except Exception:  # the input's outcome stands; the run's end removes local leftovers
        log.exception("%s: could not delete its staged blocks", name)
    if not is_gcs(output):  # gs:// has no folders; a failed upload leaves no object
        shutil.rmtree(work, ignore_errors=True)


def read_ahead(make: Callable[[int], T], count: int) -> Iterator[T]:
    """make(0), ..., make(count - 1) in order, each made in a background thread while the caller
    works on the one before.

    A planner reads and tiles its next row block while the model runs on the block it yielded
    (the fused stages run in the planner's thread, and TensorFlow releases the GIL while it
    computes), so reading overlaps inference; at most two items are held at once. An exception
    in `make` is raised here, at its item.
    """
    if count < 1:
        return
    with ThreadPoolExecutor(1, thread_name_prefix="s3inpaint-read-ahead") as pool:
        pending = pool.submit(make, 0)
        for i in range(1, count + 1):
            item = pending.result()
            if i < count:
                pending = pool.submit(make, i)
            yield item


def block_progress(name: str, total: int, unit: str = "block") -> tqdm:
    """A progress bar of an input's `total` row blocks (or scenes), drawn on a terminal only:
    Dataflow's logs and redirected output get the outcome lines alone. The planner advances it
    as each block returns from the model (RunInference takes one block at a time), and it goes
    away when the input is planned, before the input's outcome line."""
    return tqdm(total=total, desc=name, unit=unit, leave=False, file=sys.stderr,
                disable=not sys.stderr.isatty(), dynamic_ncols=True)  # fmt: skip
