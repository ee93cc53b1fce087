"""Patches <-> tf.train.Example, with the feature names of `components.features`."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from components import features
from components.example_gen.patches import Patch


def patch_example(patch: Patch) -> tf.train.Example:
    """The tf.Example of a patch: reflectance, valid mask, product, time, row, column."""
    feature = {
        features.REFLECTANCE: tf.train.Feature(
            float_list=tf.train.FloatList(value=patch.reflectance.reshape(-1))
        ),
        features.VALID: tf.train.Feature(
            int64_list=tf.train.Int64List(value=patch.valid.reshape(-1).astype(np.int64))
        ),
        features.PRODUCT: _bytes(patch.product),
        features.TIME: _bytes(patch.time),
        features.ROW: _int(patch.row),
        features.COLUMN: _int(patch.column),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature))


def example_key(example: tf.train.Example) -> str:
    """The identity of a patch example: "product|row|column"."""
    f = example.features.feature
    product = f[features.PRODUCT].bytes_list.value[0].decode()
    row, column = f[features.ROW].int64_list.value[0], f[features.COLUMN].int64_list.value[0]
    return f"{product}|{row}|{column}"


def _bytes(text: str) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[text.encode()]))


def _int(value: int) -> tf.train.Feature:
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))
