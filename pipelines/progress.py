"""Progress of a LocalDagRunner run: a line per component from the runner's own log records,
and the Trainer's progress lines (step, losses, steps/s, ETA) as it trains."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

# LocalDagRunner logs these (through absl) around every component it launches.
RUNNING, FINISHED = "Component %s is running.", "Component %s is finished."
TRAINER_LOGGER = "model.trainer"  # the Trainer's run_fn logs its progress here


class _ComponentProgress(logging.Handler):
    def __init__(self, names: Sequence[str], stream: TextIO) -> None:
        super().__init__(logging.INFO)
        self._index = {name: i + 1 for i, name in enumerate(names)}
        self._total = len(names)
        self._stream = stream
        self._started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg not in (RUNNING, FINISHED) or not record.args:
            return
        name = str(record.args[0])
        step = f"[{self._index.get(name, '?')}/{self._total}] {name}"
        if record.msg == RUNNING:
            self._started[name] = time.monotonic()
            print(f"{step} ...", file=self._stream, flush=True)
        else:
            seconds = time.monotonic() - self._started.pop(name, time.monotonic())
            print(f"{step} done in {seconds:.0f} s", file=self._stream, flush=True)


class _TrainerLines(logging.Handler):
    """The Trainer's own lines (progress: step, losses, steps/s, ETA; resume; warm start)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(logging.INFO)
        self._stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        print(f"    {record.getMessage()}", file=self._stream, flush=True)


class _Forward(logging.Handler):
    """Passes warnings and errors on to the root logger's handlers."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger().handle(record)


@contextmanager
def component_progress(names: Sequence[str], stream: TextIO | None = None) -> Iterator[None]:
    """Print a line as each of the pipeline's components (`names`, in order) starts and ends."""
    handler = _ComponentProgress(names, stream or sys.stderr)
    trainer, trainer_lines = logging.getLogger(TRAINER_LOGGER), _TrainerLines(stream or sys.stderr)
    trainer_level, trainer_propagate = trainer.level, trainer.propagate
    trainer.addHandler(trainer_lines)
    trainer.setLevel(logging.INFO)
    trainer.propagate = False  # printed once, here
    forward = _Forward()
    logger = logging.getLogger("absl")
    previous, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.addHandler(forward)
    logger.propagate = False  # the runner's INFO records stop here; warnings go on
    if previous == logging.NOTSET or previous > logging.INFO:
        logger.setLevel(logging.INFO)
    # Components call absl.logging.set_verbosity (tf.Transform sets WARNING), which would
    # silence the runner's records: hold the level for the run.
    logger.setLevel = lambda level: None
    try:
        yield
    finally:
        del logger.setLevel
        logger.removeHandler(handler)
        logger.removeHandler(forward)
        logger.propagate = propagate
        logger.setLevel(previous)
        trainer.removeHandler(trainer_lines)
        trainer.setLevel(trainer_level)
        trainer.propagate = trainer_propagate
