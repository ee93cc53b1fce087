"""Inpainting metrics on (H, W, B) reflectance: SSIM, errors in and out of the gap, spectral angle.

`score` reduces one example to a `Tally` of sums; tallies add exactly across examples, and
`Tally.summary` turns the pooled sums into metrics. All arithmetic is float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage.metrics import structural_similarity


def _check_images(
    truth: np.ndarray, pred: np.ndarray, data_range: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`truth`, `pred` and `data_range` as float64, after checking their shapes."""
    truth, pred = np.asarray(truth, np.float64), np.asarray(pred, np.float64)
    data_range = np.asarray(data_range, np.float64)
    if truth.ndim != 3 or truth.shape != pred.shape:
        raise ValueError(f"truth {truth.shape} and pred {pred.shape} must be one (H, W, B) shape")
    if data_range.shape != truth.shape[-1:] or not np.all(data_range > 0):
        raise ValueError(f"data_range {data_range} must hold one positive value per band")
    return truth, pred, data_range


def _check_mask(mask: np.ndarray, shape: tuple[int, ...], name: str) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.dtype != bool or mask.shape != shape[:2]:
        raise ValueError(f"{name} must be a bool array of shape {shape[:2]}, got {mask.dtype} "
                         f"{mask.shape}")  # fmt: skip
    return mask


def ssim_map(
    truth: np.ndarray, pred: np.ndarray, data_range: np.ndarray, win_size: int = 7
) -> np.ndarray:
    """The SSIM of every pixel, averaged over bands.

    Each band's map is scikit-image's `structural_similarity(..., full=True)` with its defaults
    (a uniform `win_size` window reflected at the edges, K1 = 0.01, K2 = 0.03, sample
    covariances) and that band's `data_range`; it is called band by band because it takes one
    `data_range` for all channels. It knows no mask: `score` fills invalid pixels first.

    Args:
        truth: (H, W, B) reference reflectance.
        pred: (H, W, B) reflectance to compare.
        data_range: (B,) each band's value range.
        win_size: the odd side of the window, at most min(H, W).

    Returns:
        (H, W) float64 map.
    """
    truth, pred, data_range = _check_images(truth, pred, data_range)
    if win_size < 3 or win_size % 2 == 0 or win_size > min(truth.shape[:2]):
        raise ValueError(f"win_size {win_size} must be odd, >= 3 and fit in {truth.shape[:2]}")
    maps = [
        structural_similarity(
            truth[..., band], pred[..., band], win_size=win_size, data_range=band_range, full=True
        )[1]
        for band, band_range in enumerate(data_range)
    ]
    return np.mean(maps, axis=0)


def ssim(truth: np.ndarray, pred: np.ndarray, data_range: np.ndarray, win_size: int = 7) -> float:
    """The mean of `ssim_map` away from the edges, as scikit-image's mean SSIM."""
    return _interior_mean(ssim_map(truth, pred, data_range, win_size), win_size)


def _interior_mean(ssims: np.ndarray, win_size: int = 7) -> float:
    """The mean of an SSIM map cropped by half a window on each side, as scikit-image crops
    its map for the mean SSIM it returns."""
    pad = (win_size - 1) // 2
    return float(ssims[pad:-pad, pad:-pad].mean())


def gap_ssim(truth: np.ndarray, pred: np.ndarray, data_range: np.ndarray, gap: np.ndarray) -> float:
    """The mean of `ssim_map` over the `gap` (H, W) pixels; NaN when there are none."""
    gap = _check_mask(gap, np.shape(truth), "gap")
    if not gap.any():
        return float("nan")
    return float(ssim_map(truth, pred, data_range)[gap].mean())


def _spectral_angles(truth: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Angles in degrees between (N, B) spectra, leaving out pixels with a zero spectrum."""
    norms = np.linalg.norm(truth, axis=-1) * np.linalg.norm(pred, axis=-1)
    keep = norms != 0
    cosine = np.einsum("nb,nb->n", truth[keep], pred[keep]) / norms[keep]
    return np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))


def _number(value: float) -> float | None:
    """`value` as a JSON-ready float, None when it is NaN or infinite."""
    return float(value) if np.isfinite(value) else None


def _ratio(total: float, count: int) -> float | None:
    return _number(total / count) if count else None


def _root(value: float | None) -> float | None:
    return None if value is None else float(np.sqrt(value))


def _psnr(normalised_squared: float, count: int) -> float | None:
    """PSNR in dB of a pooled MSE on data scaled to unit range; None for no data or MSE 0."""
    if not count or normalised_squared == 0:
        return None
    return _number(-10.0 * np.log10(normalised_squared / count))


@dataclass(frozen=True, eq=False)
class ErrorSums:
    """Sums of the error (pred - truth) over a set of pixels, per band, that pool exactly.

    Attributes:
        pixels: how many pixels were summed (each has every band).
        squared: (B,) sum of squared errors.
        absolute: (B,) sum of absolute errors.
        signed: (B,) sum of errors.
        normalised_squared: sum over pixels and bands of (error / data_range) ** 2.
    """

    pixels: int
    squared: np.ndarray
    absolute: np.ndarray
    signed: np.ndarray
    normalised_squared: float

    @classmethod
    def empty(cls, bands: int) -> ErrorSums:
        return cls(0, np.zeros(bands), np.zeros(bands), np.zeros(bands), 0.0)

    @classmethod
    def of(cls, error: np.ndarray, data_range: np.ndarray) -> ErrorSums:
        """The sums of (N, B) errors."""
        return cls(
            pixels=len(error),
            squared=np.sum(error**2, axis=0),
            absolute=np.sum(np.abs(error), axis=0),
            signed=np.sum(error, axis=0),
            normalised_squared=float(np.sum((error / data_range) ** 2)),
        )

    def add(self, other: ErrorSums) -> ErrorSums:
        return ErrorSums(
            self.pixels + other.pixels,
            self.squared + other.squared,
            self.absolute + other.absolute,
            self.signed + other.signed,
            self.normalised_squared + other.normalised_squared,
        )

    def pooled(self) -> dict[str, float | None]:
        """RMSE, MAE and bias over all pixels and bands."""
        values = self.pixels * len(self.squared)
        return {
            "rmse": _root(_ratio(self.squared.sum(), values)),
            "mae": _ratio(self.absolute.sum(), values),
            "bias": _ratio(self.signed.sum(), values),
        }

    def per_band(self) -> dict[str, list[float | None]]:
        """RMSE, MAE and bias of each band."""
        return {
            "rmse": [_root(_ratio(v, self.pixels)) for v in self.squared],
            "mae": [_ratio(v, self.pixels) for v in self.absolute],
            "bias": [_ratio(v, self.pixels) for v in self.signed],
        }


@dataclass(frozen=True)
class ZSums:
    """Sums over z = error / sigma (per pixel and band) that pool exactly: the calibration of a
    predicted uncertainty.

    Attributes:
        values: how many z were summed.
        within_1: how many have |z| <= 1.
        within_2: how many have |z| <= 2.
        total: sum of z.
        squared: sum of z ** 2.
    """

    values: int = 0
    within_1: int = 0
    within_2: int = 0
    total: float = 0.0
    squared: float = 0.0

    @classmethod
    def of(cls, z: np.ndarray) -> ZSums:
        z = np.asarray(z, np.float64).ravel()
        return cls(len(z), int(np.sum(np.abs(z) <= 1.0)), int(np.sum(np.abs(z) <= 2.0)),
                   float(z.sum()), float(np.sum(z**2)))  # fmt: skip

    def add(self, other: ZSums) -> ZSums:
        return ZSums(
            self.values + other.values,
            self.within_1 + other.within_1,
            self.within_2 + other.within_2,
            self.total + other.total,
            self.squared + other.squared,
        )

    def summary(self) -> dict[str, float | None]:
        """The shares of |z| within 1 and 2 (ideal for Gaussian errors: 0.683, 0.954) and the
        standard deviation of z (ideal 1); None without z."""
        mean = _ratio(self.total, self.values)
        mean_square = _ratio(self.squared, self.values)
        return {
            "within_1_sigma": _ratio(self.within_1, self.values),
            "within_2_sigma": _ratio(self.within_2, self.values),
            "z_std": None if mean is None else _root(max(mean_square - mean**2, 0.0)),
        }


@dataclass(frozen=True, eq=False)
class Tally:
    """Sums over scored examples from which every metric follows; add tallies to pool them.

    Attributes:
        examples: how many examples were scored.
        gap: error sums over gap pixels (gap and valid).
        observed: error sums over observed pixels (valid, not gap).
        angle_sum: sum of spectral angles (degrees) over gap pixels with non-zero spectra.
        angle_pixels: how many pixels `angle_sum` holds.
        ssim_sum: sum of each example's mean SSIM.
        ssim_examples: how many examples `ssim_sum` holds (those with a valid pixel).
        gap_ssim_sum: sum of each example's SSIM averaged over its gap pixels.
        gap_ssim_examples: how many examples `gap_ssim_sum` holds (those with gap pixels).
        z: the calibration sums over gap pixels of a fill that predicts its uncertainty (empty
            for one that does not).
    """

    examples: int
    gap: ErrorSums
    observed: ErrorSums
    angle_sum: float
    angle_pixels: int
    ssim_sum: float
    ssim_examples: int
    gap_ssim_sum: float
    gap_ssim_examples: int
    z: ZSums = ZSums()

    @classmethod
    def empty(cls, bands: int) -> Tally:
        """The tally of no examples."""
        return cls(0, ErrorSums.empty(bands), ErrorSums.empty(bands), 0.0, 0, 0.0, 0, 0.0, 0)

    @property
    def bands(self) -> int:
        return len(self.gap.squared)

    def add(self, other: Tally) -> Tally:
        """The tally of both tallies' examples."""
        if other.bands != self.bands:
            raise ValueError(f"cannot add a tally of {other.bands} bands to one of {self.bands}")
        return Tally(
            self.examples + other.examples,
            self.gap.add(other.gap),
            self.observed.add(other.observed),
            self.angle_sum + other.angle_sum,
            self.angle_pixels + other.angle_pixels,
            self.ssim_sum + other.ssim_sum,
            self.ssim_examples + other.ssim_examples,
            self.gap_ssim_sum + other.gap_ssim_sum,
            self.gap_ssim_examples + other.gap_ssim_examples,
            self.z.add(other.z),
        )

    def summary(self) -> dict:
        """The metrics as JSON-ready data; None wherever a metric is undefined or not finite.

        SSIMs are means over examples. Errors are in the data's units, pooled over every
        pixel and band (and per band under "per_band"); bias is pred - truth. The spectral
        angle is None with one band (the angle between two numbers is 0° or 180°). PSNRs pool the
        squared error of data scaled by each band's range, over all valid pixels ("psnr") or
        gap pixels ("gap_psnr"); a perfect fill (MSE 0) has an infinite PSNR, reported None.
        The calibration of the fill's uncertainty (`ZSums.summary`) is None without one.
        """
        gap, observed = self.gap.pooled(), self.observed.pooled()
        gap_bands, observed_bands = self.gap.per_band(), self.observed.per_band()
        valid_values = (self.gap.pixels + self.observed.pixels) * self.bands
        valid_squared = self.gap.normalised_squared + self.observed.normalised_squared
        return {
            "examples": self.examples,
            "ssim": _ratio(self.ssim_sum, self.ssim_examples),
            "gap_ssim": _ratio(self.gap_ssim_sum, self.gap_ssim_examples),
            "psnr": _psnr(valid_squared, valid_values),
            "gap_psnr": _psnr(self.gap.normalised_squared, self.gap.pixels * self.bands),
            **{f"gap_{name}": value for name, value in gap.items()},
            **{f"observed_{name}": value for name, value in observed.items()},
            "spectral_angle_deg": (
                _ratio(self.angle_sum, self.angle_pixels) if self.bands > 1 else None
            ),
            **self.z.summary(),
            "per_band": {
                **{f"gap_{name}": values for name, values in gap_bands.items()},
                **{f"observed_{name}": values for name, values in observed_bands.items()},
            },
        }


def score(
    truth: np.ndarray,
    pred: np.ndarray,
    valid: np.ndarray,
    gap: np.ndarray,
    data_range: np.ndarray,
    sigma: np.ndarray | None = None,
) -> Tally:
    """The tally of one example; pixels that are not `valid` are never scored.

    For the SSIMs, pixels that are not valid are first set, in both `truth` and `pred`, to
    each band's mean over the valid truth pixels, so that they neither reward nor penalise
    the fill; an example without valid pixels adds no SSIM. Non-finite predictions at scored
    pixels are not skipped: they make the sums, and so the metrics, undefined.

    Args:
        truth: (H, W, B) reference reflectance.
        pred: (H, W, B) filled reflectance.
        valid: (H, W) pixels with a trustworthy truth.
        gap: (H, W) pixels that were hidden from the fill.
        data_range: (B,) each band's value range, for SSIM and PSNR.
        sigma: (H, W, B) the fill's predicted standard deviation of its error, if it has one.
    """
    truth, pred, data_range = _check_images(truth, pred, data_range)
    valid = _check_mask(valid, truth.shape, "valid")
    in_gap = _check_mask(gap, truth.shape, "gap") & valid
    error = pred - truth
    angles = _spectral_angles(truth[in_gap], pred[in_gap])
    ssim_sum, ssim_examples, gap_ssim_sum, gap_ssim_examples = 0.0, 0, 0.0, 0
    if valid.any():
        fill = truth[valid].mean(axis=0)
        mask = valid[..., np.newaxis]
        ssims = ssim_map(np.where(mask, truth, fill), np.where(mask, pred, fill), data_range)
        ssim_sum, ssim_examples = _interior_mean(ssims), 1
        if in_gap.any():
            gap_ssim_sum, gap_ssim_examples = float(ssims[in_gap].mean()), 1
    return Tally(
        examples=1,
        gap=ErrorSums.of(error[in_gap], data_range),
        observed=ErrorSums.of(error[valid & ~in_gap], data_range),
        angle_sum=float(angles.sum()),
        angle_pixels=len(angles),
        ssim_sum=ssim_sum,
        ssim_examples=ssim_examples,
        gap_ssim_sum=gap_ssim_sum,
        gap_ssim_examples=gap_ssim_examples,
        z=ZSums() if sigma is None else ZSums.of(error[in_gap] / sigma[in_gap]),
    )


def calibration(z: np.ndarray) -> dict[str, float]:
    """`ZSums.summary` of the z = error / sigma given (per pixel and band); NaN for no z."""
    return {name: np.nan if value is None else value
            for name, value in ZSums.of(z).summary().items()}  # fmt: skip
