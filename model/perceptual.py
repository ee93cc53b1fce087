"""Perceptual and style losses on a VGG16-BN feature extractor fed a true-colour composite.

The extractor is the VGG16 architecture with batch normalisation (torchvision's `vgg16_bn`);
its weights come from a local `.npz` in torchvision's `state_dict` naming, never from the
network. Convert torchvision's published weights once, on a machine with PyTorch::

    import numpy as np, torchvision
    sd = torchvision.models.vgg16_bn(weights="IMAGENET1K_V1").state_dict()
    np.savez("vgg16_bn.npz", **{k: v.numpy() for k, v in sd.items()})

Only the `features.*` arrays are read (`classifier.*` may be left in or out).
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

# (convolutions, filters) of the five blocks; a 2x2 max-pool closes each block.
BLOCKS: tuple[tuple[int, int], ...] = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))
DEFAULT_LAYERS = ("block1_relu2", "block2_relu2", "block3_relu3", "block4_relu3")
BN_EPSILON = 1e-5  # torchvision's BatchNorm2d default (Keras' is 1e-3)

# torchvision's ImageNet normalisation of RGB in 0..1.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Reflectance shown as white in the true-colour composite: water-leaving reflectance (rho_w) of
# bright turbid water reaches ~0.2 in Oa08. For Rrs (sr-1) use about DEFAULT_SCALE / pi.
DEFAULT_SCALE = 0.2


class VggWeightsError(ValueError):
    """A VGG16-BN weights file that cannot be used; the message starts with its path."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: {problem}")


class VggWeightsNotFoundError(VggWeightsError, FileNotFoundError):
    """The VGG16-BN weights file does not exist."""


@dataclass(frozen=True)
class VggLayer:
    """One layer of VGG16-BN and its place in torchvision's `features` Sequential."""

    name: str  # block{b}_conv{i}, block{b}_bn{i}, block{b}_relu{i} or block{b}_pool
    kind: str  # "conv", "bn", "relu" or "pool"
    index: int  # torchvision's index: the state_dict keys are features.{index}.*
    channels_in: int
    channels_out: int


def vgg16_bn_layers() -> tuple[VggLayer, ...]:
    """Every layer of VGG16-BN's feature part, in order."""
    layers = []
    index, channels = 0, 3
    for block, (convs, filters) in enumerate(BLOCKS, start=1):
        for i in range(1, convs + 1):
            layers.append(VggLayer(f"block{block}_conv{i}", "conv", index, channels, filters))
            layers.append(VggLayer(f"block{block}_bn{i}", "bn", index + 1, filters, filters))
            layers.append(VggLayer(f"block{block}_relu{i}", "relu", index + 2, filters, filters))
            index, channels = index + 3, filters
        layers.append(VggLayer(f"block{block}_pool", "pool", index, filters, filters))
        index += 1
    return tuple(layers)


LAYER_NAMES = tuple(layer.name for layer in vgg16_bn_layers())


def torchvision_shapes(layer: VggLayer) -> dict[str, tuple[int, ...]]:
    """The state_dict keys of `layer` and their shapes (PyTorch layout); {} for no weights."""
    prefix = f"features.{layer.index}"
    if layer.kind == "conv":
        return {
            f"{prefix}.weight": (layer.channels_out, layer.channels_in, 3, 3),
            f"{prefix}.bias": (layer.channels_out,),
        }
    if layer.kind == "bn":
        names = ("weight", "bias", "running_mean", "running_var")
        return {f"{prefix}.{name}": (layer.channels_out,) for name in names}
    return {}


def _keras_layer(layer: VggLayer) -> keras.layers.Layer:
    # float32 whatever the global policy: Gram sums over H*W can overflow float16.
    if layer.kind == "conv":
        return keras.layers.Conv2D(
            layer.channels_out, 3, padding="same", name=layer.name, dtype="float32"
        )
    if layer.kind == "bn":
        return keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=layer.name, dtype="float32")
    if layer.kind == "relu":
        return keras.layers.ReLU(name=layer.name, dtype="float32")
    return keras.layers.MaxPooling2D(2, strides=2, name=layer.name, dtype="float32")


def build_vgg16_bn(layers: Sequence[str] = DEFAULT_LAYERS) -> keras.Model:
    """VGG16-BN on (B, H, W, 3) ImageNet-normalised RGB, returning the named layers' outputs.

    The network is built up to the deepest named layer, not trainable, with fresh weights (see
    `load_vgg16_bn_weights`).

    Args:
        layers: names from `LAYER_NAMES`; the model's outputs follow their order.

    Raises:
        ValueError: `layers` is empty or names a layer VGG16-BN does not have.
    """
    wanted = list(layers)
    if not wanted:
        raise ValueError("layers is empty: name at least one VGG16-BN layer")
    unknown = [name for name in wanted if name not in LAYER_NAMES]
    if unknown:
        raise ValueError(f"unknown VGG16-BN layers {unknown}; choose from {list(LAYER_NAMES)}")
    deepest = max(LAYER_NAMES.index(name) for name in wanted)
    inputs = keras.Input((None, None, 3), name="rgb")
    x, outputs = inputs, {}
    for layer in vgg16_bn_layers()[: deepest + 1]:
        x = _keras_layer(layer)(x)
        outputs[layer.name] = x
    model = keras.Model(inputs, [outputs[name] for name in wanted], name="vgg16_bn")
    model.trainable = False
    return model


def _read_features(path: Path) -> dict[str, np.ndarray]:
    """The `features.*` arrays of the npz at `path`."""
    if not path.is_file():
        raise VggWeightsNotFoundError(path, "no such file (VGG16-BN weights, .npz)")
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise VggWeightsError(path, f"not a readable .npz file ({error})") from error
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise VggWeightsError(path, "holds a single array (.npy), not an .npz of named arrays")
    try:
        with data:
            return {key: data[key] for key in data.files if key.startswith("features.")}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise VggWeightsError(path, f"not a readable .npz file ({error})") from error


def _keras_weights(layer: VggLayer, arrays: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The Keras weights of `layer` from torchvision arrays (conv kernels OIHW -> HWIO)."""
    prefix = f"features.{layer.index}"
    if layer.kind == "conv":
        return [arrays[f"{prefix}.weight"].transpose(2, 3, 1, 0), arrays[f"{prefix}.bias"]]
    names = ("weight", "bias", "running_mean", "running_var")  # gamma, beta, moving mean/var
    return [arrays[f"{prefix}.{name}"] for name in names]


def load_vgg16_bn_weights(model: keras.Model, path: str | os.PathLike[str]) -> None:
    """Set the weights of `model` (from `build_vgg16_bn`) from a torchvision-layout npz.

    Only the layers `model` has are read, so a complete `vgg16_bn` state_dict fits any model.
    See the module docstring for converting torchvision's published weights.

    Raises:
        VggWeightsNotFoundError: `path` does not exist.
        VggWeightsError: `path` is not an npz, lacks keys (all listed) or holds an array of
            the wrong shape (key, expected and found shapes).
    """
    path = Path(path)
    arrays = _read_features(path)
    present = {layer.name for layer in model.layers}
    layers = [layer for layer in vgg16_bn_layers() if layer.name in present]
    expected = {key: shape for layer in layers for key, shape in torchvision_shapes(layer).items()}
    missing = [key for key in expected if key not in arrays]
    if missing:
        raise VggWeightsError(path, f"missing keys {missing}")
    for key, shape in expected.items():
        if arrays[key].shape != shape:
            raise VggWeightsError(
                path, f"{key} has shape {arrays[key].shape}, expected {shape} (PyTorch layout)"
            )
    for layer in layers:
        if layer.kind in ("conv", "bn"):
            weights = [w.astype(np.float32) for w in _keras_weights(layer, arrays)]
            model.get_layer(layer.name).set_weights(weights)


def _check_true_colour(band_indices: Sequence[int], scale: float) -> None:
    if len(band_indices) != 3 or any(int(i) != i or i < 0 for i in band_indices):
        raise ValueError(f"band_indices {band_indices} is not three channel indices (R, G, B)")
    if not scale > 0:
        raise ValueError(f"scale {scale} must be positive")


def true_colour(x, band_indices: tuple[int, int, int], scale: float):
    """VGG input from physical reflectance: (R, G, B) channels of `x`, x/scale in 0..1.

    Args:
        x: (B, H, W, C) reflectance (denormalise model outputs first).
        band_indices: channels of red, green and blue (Oa08, Oa06, Oa04).
        scale: reflectance shown as white; larger values are clipped.

    Returns:
        (B, H, W, 3) float32, normalised with ImageNet's per-channel mean and std.

    Raises:
        ValueError: bad `band_indices` (also when beyond the known channel count) or `scale`.
    """
    _check_true_colour(band_indices, scale)
    channels = x.shape[-1]
    if channels is not None and max(band_indices) >= channels:
        raise ValueError(f"band_indices {band_indices} beyond the {channels} channels of x")
    rgb = keras.ops.take(keras.ops.cast(x, "float32"), list(band_indices), axis=-1)
    rgb = keras.ops.clip(rgb / scale, 0.0, 1.0)
    mean = keras.ops.convert_to_tensor(IMAGENET_MEAN, "float32")
    std = keras.ops.convert_to_tensor(IMAGENET_STD, "float32")
    return (rgb - mean) / std


def gram_matrix(features):
    """(B, C, C) Gram matrices of (B, H, W, C) features, divided by H*W*C."""
    shape = keras.ops.shape(features)
    flat = keras.ops.reshape(features, (shape[0], -1, shape[3]))
    size = keras.ops.cast(shape[1] * shape[2] * shape[3], features.dtype)
    return keras.ops.einsum("bnc,bnd->bcd", flat, flat) / size


class PerceptualLoss:
    """Perceptual and style distances between VGG16-BN features of two reflectance batches.

    perceptual = mean over layers of mean |phi(pred) - phi(target)|;
    style = mean over layers of mean |Gram(phi(pred)) - Gram(phi(target))|.
    """

    def __init__(
        self,
        extractor: keras.Model,
        *,
        band_indices: tuple[int, int, int],
        scale: float = DEFAULT_SCALE,
        denormalise: Callable | None = None,
    ) -> None:
        """Wrap a built (and loaded) extractor.

        Args:
            extractor: from `build_vgg16_bn`, weights loaded.
            band_indices: channels of red, green and blue (Oa08, Oa06, Oa04).
            scale: reflectance shown as white in the true-colour composite.
            denormalise: maps the inputs to physical reflectance first (e.g. the inverse of
                the per-band normalisation); None when they already are reflectance.
        """
        _check_true_colour(band_indices, scale)
        self.extractor = extractor
        self.band_indices = tuple(band_indices)
        self.scale = scale
        self.denormalise = denormalise

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        layers: Sequence[str] = DEFAULT_LAYERS,
        *,
        band_indices: tuple[int, int, int],
        scale: float = DEFAULT_SCALE,
        denormalise: Callable | None = None,
    ) -> PerceptualLoss:
        """Build the extractor for `layers` and load its weights from the npz at `path`."""
        _check_true_colour(band_indices, scale)
        extractor = build_vgg16_bn(layers)
        load_vgg16_bn_weights(extractor, path)
        return cls(extractor, band_indices=band_indices, scale=scale, denormalise=denormalise)

    def features(self, x) -> list:
        """The extractor's outputs for (B, H, W, C) inputs, as a list."""
        if self.denormalise is not None:
            x = self.denormalise(x)
        outputs = self.extractor(true_colour(x, self.band_indices, self.scale), training=False)
        return list(outputs) if isinstance(outputs, list | tuple) else [outputs]

    def __call__(self, pred, target) -> tuple:
        """(perceptual, style) scalars; differentiable w.r.t. `pred`, not `target`."""
        batch = keras.ops.shape(pred)[0]
        both = keras.ops.concatenate(
            [keras.ops.cast(pred, "float32"), keras.ops.cast(target, "float32")], axis=0
        )
        perceptual, style = [], []
        for features in self.features(both):  # one pass over pred and target together
            fake = features[:batch]
            real = keras.ops.stop_gradient(features[batch:])
            perceptual.append(keras.ops.mean(keras.ops.abs(fake - real)))
            style.append(keras.ops.mean(keras.ops.abs(gram_matrix(fake) - gram_matrix(real))))
        return keras.ops.mean(keras.ops.stack(perceptual)), keras.ops.mean(keras.ops.stack(style))
