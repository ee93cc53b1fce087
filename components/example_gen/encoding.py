"""Patches <-> tf.train.Example, with the feature names of `components.features`."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from components import features
from components.example_gen.patches import Patch


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def float_list(values: np.ndarray) -> tf.train.FloatList:
    """A FloatList from an array, parsed from its packed wire bytes.

    Field 1 of FloatList is packed little-endian float32, so the array's own bytes are the
    payload: about 20x faster than passing 262,144 Python floats one at a time.
    """
    payload = np.ascontiguousarray(values, dtype="<f4").tobytes()
    return tf.train.FloatList.FromString(b"\x0a" + _varint(len(payload)) + payload)


def flag_list(values: np.ndarray) -> tf.train.Int64List:
    """An Int64List of 0/1 flags from a boolean array (packed varints of one byte each)."""
    payload = np.ascontiguousarray(values, dtype=bool).astype(np.uint8).tobytes()
    return tf.train.Int64List.FromString(b"\x0a" + _varint(len(payload)) + payload)


def patch_example(patch: Patch) -> tf.train.Example:
    """The tf.Example of a patch: reflectance, valid mask, product, time, row, column, and its
    neighbours' values, validity and time offsets when it has them."""
    feature = {
        features.REFLECTANCE: tf.train.Feature(float_list=float_list(patch.reflectance)),
        features.VALID: tf.train.Feature(int64_list=flag_list(patch.valid)),
        features.PRODUCT: _bytes(patch.product),
        features.TIME: _bytes(patch.time),
        features.ROW: _int(patch.row),
        features.COLUMN: _int(patch.column),
    }
    if patch.neighbours is not None:
        feature[features.NEIGHBOURS] = tf.train.Feature(
            float_list=float_list(patch.neighbours.values)
        )
        feature[features.NEIGHBOUR_VALID] = tf.train.Feature(
            int64_list=flag_list(patch.neighbours.valid)
        )
        feature[features.NEIGHBOUR_OFFSET] = tf.train.Feature(
            float_list=float_list(patch.neighbours.offsets)
        )
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
