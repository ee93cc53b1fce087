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

from components.configuration import ConfigError
from components.features import (
    INPUT_GAP,
    INPUT_REFLECTANCE,
    MODEL_DESCRIPTION,
    OUTPUT_FILLED,
    OUTPUT_SIGMA,
    SIGNATURE,
)
from components.gridded.config import GriddedConfig
from components.olci.format import BAND_NAMES, RHO_W, RRS

SAVED_MODEL_FILE = "saved_model.pb"
INPUTS = (INPUT_REFLECTANCE, INPUT_GAP)  # the signature's inputs the job gives
NAMESPACE = "s3inpaint"  # the job's Beam metrics
# A Beam distribution of the microseconds each call of the serving signature took, its outputs
# copied to numpy included: summed over the job, the time spent in the model.
MODEL_MICROSECONDS = "model_microseconds"
# A row block's tiles: reflectance (n, size, size, bands) float32 with NaN where unknown, gap
# (n, size, size) bool, and the tiles' (tile row, tile column) indices.
Block = tuple[np.ndarray, np.ndarray, tuple[tuple[int, int], ...]]


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
    gridded: dict | None = None  # GriddedConfig's dict form, for a model of a NetCDF series
    temporal_window: StrictInt = Field(0, ge=0)
    patch_size: StrictInt | None = Field(None, gt=0)
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
    gridded = None
    if meta.gridded is not None:
        try:
            gridded = GriddedConfig.from_dict(meta.gridded)
        except ConfigError as error:
            raise ValueError(f"{meta_path}: gridded: {error}") from None
    # Models exported before quantities were recorded were trained on what ingest read: ρw for
    # collection 003, the archive's mainstay.
    quantity = meta.quantity or RHO_W
    if quantity not in (RHO_W, RRS):
        raise ValueError(f"{meta_path}: quantity {quantity!r} is not {RHO_W!r} or {RRS!r}")
    uncertainty = OUTPUT_SIGMA in meta.outputs
    return ModelInfo(path, tuple(names), meta.stride, quantity, uncertainty, gridded,
                     _temporal_window(meta), meta.patch_size)  # fmt: skip


def check_saved_model(path: str) -> None:
    """Raise unless `path/saved_model.pb` parses and has the signature the job calls.

    Reads the graph's description only (no variables), so a truncated or foreign file is found
    before any product is read rather than when a worker loads the model.

    Raises:
        FileNotFoundError: there is no saved_model.pb.
        ValueError: it is not a SavedModel, or lacks the serving signature or its inputs; the
            message names the file.
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
    if missing := sorted(set(INPUTS) - set(signature.inputs)):
        raise ValueError(f"{pb_path}: signature {SIGNATURE!r} lacks the inputs {missing}")


class BlockModelHandler(ModelHandler[Block, PredictionResult, Any]):
    """One row block's stacked tiles per element, through the serving signature `batch_size`
    tiles per call; wrap in KeyedModelHandler. Each result's example is (gaps, tile indices),
    its inference the filled bands followed, when the model has them, by their sigmas. Every
    call's time goes to the `MODEL_MICROSECONDS` distribution."""

    def __init__(self, path: str, batch_size: int = 8) -> None:
        self._path = path
        self._batch_size = batch_size

    def load_model(self) -> Any:
        # Deferred: TensorFlow is imported where the model runs (the workers), never by the
        # job's launcher.
        import tensorflow as tf

        return tf.saved_model.load(self._path)

    def run_inference(
        self, batch: Sequence[Block], model: Any, inference_args: dict | None = None
    ) -> Iterable[PredictionResult]:
        # Deferred: as in load_model.
        import tensorflow as tf

        serve = model.signatures[SIGNATURE]
        timing = Metrics.distribution(NAMESPACE, MODEL_MICROSECONDS)
        results = []
        for reflectance, gaps, indices in batch:
            filled = []
            for start in range(0, len(reflectance), self._batch_size):
                part = slice(start, start + self._batch_size)
                gap = gaps[part].astype(np.float32)[..., np.newaxis]
                called = time.perf_counter()
                outputs = serve(reflectance=tf.constant(reflectance[part]), gap=tf.constant(gap))
                predicted = [outputs[OUTPUT_FILLED].numpy()]
                if OUTPUT_SIGMA in outputs:
                    predicted.append(outputs[OUTPUT_SIGMA].numpy())
                timing.update(round((time.perf_counter() - called) * 1e6))
                filled.append(np.concatenate(predicted, axis=-1))
            results.append(PredictionResult((gaps, indices), np.concatenate(filled)))
        return results

    def get_num_bytes(self, batch: Sequence[Block]) -> int:
        return sum(reflectance.nbytes + gaps.nbytes for reflectance, gaps, _ in batch)

    def batch_elements_kwargs(self) -> dict[str, int]:
        return {"min_batch_size": 1, "max_batch_size": 1}  # a block already holds many tiles

    def get_metrics_namespace(self) -> str:
        return NAMESPACE
