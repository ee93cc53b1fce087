"""The pushed model for batch inference: its description, and a keyed-ready Beam ModelHandler.

Beam's stock TensorFlow handler loads with Keras' `load_model`, which cannot read these
SavedModels (a `tf.Module` with a serving signature); this handler loads with
`tf.saved_model.load` and calls the signature on stacked tiles.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from apache_beam.io.filesystems import FileSystems
from apache_beam.ml.inference.base import ModelHandler, PredictionResult

from components.olci.format import BAND_NAMES

METADATA_FILE = "s3inpaint_model.json"  # model.export.METADATA, without importing TensorFlow
# A tile: (reflectance (size, size, bands) float32 with NaN where unknown, gap (size, size) bool)
TileInput = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class ModelInfo:
    """What the batch job needs to know about an exported model."""

    path: str
    bands: tuple[str, ...]  # the input channels, in order
    stride: int  # tile sides must be multiples of this


def read_model_info(path: str) -> ModelInfo:
    """Read `s3inpaint_model.json` of an exported (or pushed) model.

    Raises:
        FileNotFoundError: `path` holds no s3inpaint model.
        ValueError: the description does not name the model's bands.
    """
    meta_path = FileSystems.join(path, METADATA_FILE)
    if not FileSystems.exists(meta_path):
        raise FileNotFoundError(f"{path}: not an s3inpaint model (no {METADATA_FILE})")
    with FileSystems.open(meta_path) as f:
        meta = json.loads(f.read())
    names = meta.get("band_names")
    if names is None and meta.get("bands") == len(BAND_NAMES):
        names = list(BAND_NAMES)  # models exported before band names were recorded
    if not names or len(names) != meta.get("bands"):
        raise ValueError(f"{meta_path}: does not say which {meta.get('bands')} bands it takes")
    unknown = sorted(set(names) - set(BAND_NAMES))
    if unknown:
        raise ValueError(f"{meta_path}: bands {unknown} are not OLCI L2 WFR bands")
    return ModelInfo(path, tuple(names), int(meta["stride"]))


class ServingModelHandler(ModelHandler[TileInput, np.ndarray, Any]):
    """Runs batches of tiles through the serving signature; wrap in KeyedModelHandler."""

    def __init__(self, path: str, max_batch_size: int = 8) -> None:
        self._path = path
        self._max_batch_size = max_batch_size

    def load_model(self) -> Any:
        import tensorflow as tf

        return tf.saved_model.load(self._path)

    def run_inference(
        self, batch: Sequence[TileInput], model: Any, inference_args: dict | None = None
    ) -> Iterable[PredictionResult]:
        import tensorflow as tf

        reflectance = np.stack([tile[0] for tile in batch]).astype(np.float32)
        gap = np.stack([tile[1] for tile in batch]).astype(np.float32)[..., np.newaxis]
        serve = model.signatures["serving_default"]
        filled = serve(reflectance=tf.constant(reflectance), gap=tf.constant(gap))["filled"]
        return [PredictionResult(t, f) for t, f in zip(batch, filled.numpy(), strict=True)]

    def get_num_bytes(self, batch: Sequence[TileInput]) -> int:
        return sum(tile[0].nbytes + tile[1].nbytes for tile in batch)

    def batch_elements_kwargs(self) -> dict[str, int]:
        return {"min_batch_size": 1, "max_batch_size": self._max_batch_size}

    def get_metrics_namespace(self) -> str:
        return "s3inpaint"
