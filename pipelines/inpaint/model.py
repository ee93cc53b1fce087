"""The pushed model for batch inference: its description, and a keyed-ready Beam ModelHandler.

Beam's stock TensorFlow handler loads with Keras' `load_model`, which cannot read these
SavedModels (a `tf.Module` with a serving signature); this handler loads with
`tf.saved_model.load` and calls the signature on a row block's stacked tiles.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.ml.inference.base import ModelHandler, PredictionResult
from google.protobuf.message import DecodeError
from pydantic import BaseModel, Field, StrictInt, StrictStr, ValidationError

from components.features import (
    INPUT_GAP,
    INPUT_REFLECTANCE,
    MODEL_DESCRIPTION,
    OUTPUT_FILLED,
    OUTPUT_SIGMA,
    SIGNATURE,
)
from components.gridded.config import GriddedConfig
from components.inpaint.anchors import spread_to_anchored
from components.olci.format import BAND_NAMES, RHO_W, RRS
from components.transforms import NONE, Transform
from model.signature import neighbour_inputs, signature_inputs

SAVED_MODEL_FILE = "saved_model.pb"
NAMESPACE = "s3inpaint"  # the job's Beam metrics
# A Beam distribution of the microseconds each call of the serving signature took, its outputs
# copied to numpy included: summed over the job, the time spent in the model.
MODEL_MICROSECONDS = "model_microseconds"


@dataclass(frozen=True)
class Tiles:
    """A row block's tiles that go through the model.

    Attributes:
        values: (n, size, size, bands) float32, NaN where unknown.
        gaps: (n, size, size) bool, the pixels to fill.
        indices: each tile's (tile row, tile column) in the scene's plan.
        neighbours: for a model with a temporal window k, the same tiles of the scene's k
            previous and k next scenes (n, 2k, size, size, bands) float32, oldest first, NaN
            where unobserved; None for a model without.
        offsets: (2k,) the neighbours' times minus the scene's, in days (0 for a missing one).
        anchored: (n, size, size) bool, the gap pixels whose `values` hold a wider first guess
            (`components.inpaint.anchors`): given to the model as known, and still filled
            (their fill is that guess, blended); None when no tile has one.
    """

    values: np.ndarray
    gaps: np.ndarray
    indices: tuple[tuple[int, int], ...]
    neighbours: np.ndarray | None = None
    offsets: np.ndarray | None = None
    anchored: np.ndarray | None = None

    @property
    def model_gaps(self) -> np.ndarray:
        """The gaps as the model is given them: without the anchored pixels."""
        return self.gaps if self.anchored is None else self.gaps & ~self.anchored

    @property
    def nbytes(self) -> int:
        arrays = (self.values, self.gaps, self.neighbours, self.offsets, self.anchored)
        return sum(a.nbytes for a in arrays if a is not None)


@dataclass(frozen=True)
class ModelInfo:
    """What the batch job needs to know about an exported model."""

    path: str
    bands: tuple[str, ...]  # the input channels, in order
    stride: int  # tile sides must be multiples of this
    quantity: str = RHO_W  # the reflectance it was trained on and fills in (RHO_W or RRS)
    uncertainty: bool = False  # its signature also returns `sigma`, per band
    gridded: GriddedConfig | None = None  # the layout of the NetCDF series it was trained on
    temporal_window: int = 0  # neighbouring scenes on each side it takes as context
    patch_size: int | None = None  # the side of its training patches, when it records one
    transforms: tuple[str, ...] = ()  # each band's transform ("none", "log10"); () for none

    @property
    def band_transforms(self) -> tuple[str, ...]:
        """Each band's transform ("none" for all when the model records none)."""
        return self.transforms or (NONE,) * len(self.bands)

    @property
    def channels(self) -> int:
        """Values per pixel of a prediction: the bands, then their sigmas when it has them."""
        return len(self.bands) * (2 if self.uncertainty else 1)


class _Description(BaseModel):
    """The fields of `s3inpaint_model.json` the job reads (model.export writes more)."""

    bands: StrictInt = Field(gt=0)
    band_names: list[StrictStr] | None = None
    stride: StrictInt = Field(gt=0)
    quantity: StrictStr | None = None
    outputs: list[StrictStr] = []
    gridded: GriddedConfig | None = None  # the layout of a model of a NetCDF series
    temporal_window: StrictInt = Field(0, ge=0)
    patch_size: StrictInt | None = Field(None, gt=0)
    transforms: list[Transform] | None = None
    config: dict = {}  # the ModelConfig it was trained with


def _temporal_window(meta: _Description) -> int:
    """The temporal context the model takes: stated at the top of the description or in the
    ModelConfig it records (`config`)."""
    window = meta.config.get("temporal_window", 0)
    return max(meta.temporal_window, window if isinstance(window, int) else 0)


def read_model_info(path: str) -> ModelInfo:
    """Read `s3inpaint_model.json` of an exported (or pushed) model.

    Raises:
        FileNotFoundError: `path` holds no s3inpaint model.
        ValueError: the description is not JSON, lacks a field or gives a wrong one; the message
            names the file.
    """
    meta_path = FileSystems.join(path, MODEL_DESCRIPTION)
    if not FileSystems.exists(meta_path):
        raise FileNotFoundError(f"{path}: not an s3inpaint model (no {MODEL_DESCRIPTION})")
    with FileSystems.open(meta_path) as f:
        text = f.read()
    try:
        meta = _Description.model_validate_json(text)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'the file'}: {e['msg']}" for e in error.errors()
        )
        raise ValueError(f"{meta_path}: not a valid model description ({problems})") from None
    names = meta.band_names
    if names is None and meta.bands == len(BAND_NAMES):
        names = list(BAND_NAMES)  # models exported before band names were recorded
    if not names or len(names) != meta.bands:
        raise ValueError(f"{meta_path}: does not say which {meta.bands} bands it takes")
    # Models exported before quantities were recorded were trained on what ingest read: ρw for
    # collection 003, the archive's mainstay.
    quantity = meta.quantity or RHO_W
    if quantity not in (RHO_W, RRS):
        raise ValueError(f"{meta_path}: quantity {quantity!r} is not {RHO_W!r} or {RRS!r}")
    uncertainty = OUTPUT_SIGMA in meta.outputs
    transforms = tuple(meta.transforms or ())
    if transforms and len(transforms) != len(names):
        raise ValueError(f"{meta_path}: {len(transforms)} transforms for {len(names)} bands")
    return ModelInfo(path, tuple(names), meta.stride, quantity, uncertainty, meta.gridded,
                     _temporal_window(meta), meta.patch_size, transforms)  # fmt: skip


def check_saved_model(path: str, temporal_window: int = 0) -> None:
    """Raise unless `path/saved_model.pb` parses and has the signature the job calls: the
    inputs of a model with a temporal window of `temporal_window` (its description's), no more
    and no fewer.

    Reads the graph's description only (no variables), so a truncated or foreign file is found
    before any product is read rather than when a worker loads the model.

    Raises:
        FileNotFoundError: there is no saved_model.pb.
        ValueError: it is not a SavedModel, or lacks the serving signature or takes other
            inputs; the message names the file.
    """
    # Deferred: TensorFlow's protobuf definitions import TensorFlow, which the job's launcher
    # (describing and checking a model) never needs.
    from tensorflow.core.protobuf import saved_model_pb2

    pb_path = FileSystems.join(path, SAVED_MODEL_FILE)
    if not FileSystems.exists(pb_path):
        raise FileNotFoundError(f"{path}: not a SavedModel (no {SAVED_MODEL_FILE})")
    with FileSystems.open(pb_path) as f:
        data = f.read()
    saved = saved_model_pb2.SavedModel()
    try:
        saved.ParseFromString(data)
    except DecodeError as error:
        raise ValueError(f"{pb_path}: not a readable SavedModel, truncated or corrupt "
                         f"({error})") from None  # fmt: skip
    signature = next(
        (g.signature_def[SIGNATURE] for g in saved.meta_graphs if SIGNATURE in g.signature_def),
        None,
    )
    if signature is None:
        raise ValueError(f"{pb_path}: no {SIGNATURE!r} signature (a truncated file, or not an "
                         "exported s3inpaint model)")  # fmt: skip
    expected = signature_inputs(temporal_window)
    context = (f"a model with a temporal window of {temporal_window}, as its {MODEL_DESCRIPTION} "
               f"says") if temporal_window else "a model without a temporal window"  # fmt: skip
    if missing := sorted(set(expected) - set(signature.inputs)):
        raise ValueError(f"{pb_path}: signature {SIGNATURE!r} lacks the inputs {missing} of "
                         f"{context}")  # fmt: skip
    if extra := sorted(set(signature.inputs) - set(expected)):
        raise ValueError(f"{pb_path}: signature {SIGNATURE!r} takes the inputs {extra}, which "
                         f"{context} does not")  # fmt: skip


class BlockModelHandler(ModelHandler[Tiles, PredictionResult, Any]):
    """One row block's `Tiles` per element, through the serving signature `batch_size` tiles
    per call (with their neighbours in time for a temporal model); wrap in KeyedModelHandler.
    Each result's example is (gaps, tile indices), its inference the filled bands followed,
    when the model has them, by their sigmas. Every call's time goes to the
    `MODEL_MICROSECONDS` distribution."""

    def __init__(self, path: str, batch_size: int = 2) -> None:
        self._path = path
        self._batch_size = batch_size

    def load_model(self) -> Any:
        # Deferred: TensorFlow is imported where the model runs (the workers), never by the
        # job's launcher.
        import tensorflow as tf

        return tf.saved_model.load(self._path)

    def run_inference(
        self, batch: Sequence[Tiles], model: Any, inference_args: dict | None = None
    ) -> Iterable[PredictionResult]:
        # Deferred: as in load_model.
        import tensorflow as tf

        serve = model.signatures[SIGNATURE]
        timing = Metrics.distribution(NAMESPACE, MODEL_MICROSECONDS)
        results = []
        for tiles in batch:
            filled, gaps = [], tiles.model_gaps
            for start in range(0, len(tiles.values), self._batch_size):
                part = slice(start, start + self._batch_size)
                gap = gaps[part].astype(np.float32)[..., np.newaxis]
                inputs = {INPUT_REFLECTANCE: tiles.values[part], INPUT_GAP: gap}
                if tiles.neighbours is not None:
                    inputs |= neighbour_inputs(tiles.neighbours[part], tiles.offsets)
                called = time.perf_counter()
                outputs = serve(**{name: tf.constant(value) for name, value in inputs.items()})
                predicted = [outputs[OUTPUT_FILLED].numpy()]
                if OUTPUT_SIGMA in outputs:
                    spread = outputs[OUTPUT_SIGMA].numpy()
                    if tiles.anchored is not None:
                        for one, anchored, given in zip(spread, tiles.anchored[part],
                                                        gaps[part], strict=True):  # fmt: skip
                            spread_to_anchored(one, anchored, given)
                    predicted.append(spread)
                timing.update(round((time.perf_counter() - called) * 1e6))
                filled.append(np.concatenate(predicted, axis=-1))
            results.append(PredictionResult((tiles.gaps, tiles.indices), np.concatenate(filled)))
        return results

    def get_num_bytes(self, batch: Sequence[Tiles]) -> int:
        return sum(tiles.nbytes for tiles in batch)

    def batch_elements_kwargs(self) -> dict[str, int]:
        return {"min_batch_size": 1, "max_batch_size": 1}  # a block already holds many tiles

    def get_metrics_namespace(self) -> str:
        return NAMESPACE
