"""Water-leaving reflectance at the OLCI bands from a semi-analytical bio-optical model.

Inherent optical properties are built from three constituents (chlorophyll-a, total suspended
matter, CDOM-plus-detritus absorption) and turned into reflectance with the quasi-analytical
relation of Lee et al. (2002):

    a(λ)   = a_w(λ) + a_ph(λ) + a_dg(λ) + a_nap(λ)
    b_b(λ) = b_bw(λ) + b_bp,ph(λ) + b_bp,min(λ)
    u      = b_b / (a + b_b)
    r_rs   = g0·u + g1·u²                       (subsurface, g0 = 0.089, g1 = 0.125)
    R_rs   = 0.52·r_rs / (1 − 1.7·r_rs)         (above water, sr-1)
    ρ_w    = π·R_rs                             (dimensionless)

Sources of the coefficients:

- a_w: Pope & Fry (1997) from 400 to 690 nm; above 700 nm the WOPP v3 compilation of Röttgers
  et al. (2011, 2016), which draws on Segelstein (1981), Kou et al. (1993) and others. Values are
  read at the band centres, not averaged over the band.
- b_bw: half of the seawater scattering coefficient of Morel (1974),
  b_w(λ) = 0.00288·(λ/500)^-4.32 m-1.
- a_ph: Bricaud et al. (1998), a_ph(λ) = A(λ)·Chl^E(λ), with A and E read at the band centres
  from their 2 nm table; beyond 700 nm A is extrapolated to zero.
- a_dg: exponential in wavelength, slope 0.0176 nm-1 (the mean CDOM slope of Babin et al., 2003).
- a_nap: mineral particles, 0.031 m2 g-1 at 443 nm with slope 0.0123 nm-1 (Babin et al., 2003).
- b_bp,ph: particle scattering b_p(550) = 0.416·Chl^0.766 with the chlorophyll-dependent
  backscattering ratio and spectral slope of Morel & Maritorena (2001).
- b_bp,min: 0.01 m2 g-1 times TSM at 550 nm, spectral slope 0.5; a typical mass-specific
  backscattering of mineral-dominated coastal water (cf. Neukermans et al., 2012).
- Sun-induced chlorophyll fluorescence: a Gaussian emission at 685 nm (25 nm wide at half
  height) added to R_rs, scaled to give fluorescence line heights of the order reported for
  MERIS and OLCI (about 1e-4 sr-1 at 1 mg m-3).
"""

from __future__ import annotations

import numpy as np

from components.olci.format import BANDS

WAVELENGTHS_NM: tuple[float, ...] = tuple(b.wavelength_nm for b in BANDS)

# Pure-water absorption (m-1) at the band centres, Oa01..Oa21 (see the module docstring).
PURE_WATER_ABSORPTION: tuple[float, ...] = (
    0.00663, 0.00454, 0.00696, 0.0150, 0.0325, 0.0619, 0.2755, 0.429,
    0.448, 0.4705, 0.815, 2.625, 2.30, 5.15, 6.02, 29.3,
)  # fmt: skip

# Bricaud et al. (1998) phytoplankton absorption a_ph = A·Chl^E at the band centres.
PHYTOPLANKTON_A: tuple[float, ...] = (
    0.0241, 0.0299, 0.0373, 0.0254, 0.0162, 0.00568, 0.00609, 0.0142,
    0.0182, 0.0150, 0.0011, 0.0, 0.0, 0.0, 0.0, 0.0,
)  # fmt: skip
PHYTOPLANKTON_E: tuple[float, ...] = (
    0.688, 0.680, 0.617, 0.607, 0.721, 0.935, 0.870, 0.820,
    0.813, 0.838, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
)  # fmt: skip

WATER_SCATTERING_500 = 0.00288  # m-1, Morel (1974)
WATER_SCATTERING_EXPONENT = 4.32
ADG_SLOPE = 0.0176  # nm-1
NAP_SPECIFIC_ABSORPTION_443 = 0.031  # m2 g-1
NAP_SLOPE = 0.0123  # nm-1
MINERAL_SPECIFIC_BACKSCATTER_550 = 0.01  # m2 g-1
MINERAL_BACKSCATTER_EXPONENT = 0.5
G0, G1 = 0.089, 0.125  # Lee et al. (2002)
FLUORESCENCE_PEAK_NM = 685.0
FLUORESCENCE_SIGMA_NM = 25.0 / 2.3548
FLUORESCENCE_HEIGHT = 1.0e-4  # sr-1 at 1 mg m-3 chlorophyll
FLUORESCENCE_EXPONENT = 0.8


def pure_water_backscatter(wavelength_nm: float) -> float:
    """Backscattering coefficient of seawater (m-1): half of Morel's (1974) scattering."""
    return 0.5 * WATER_SCATTERING_500 * (wavelength_nm / 500.0) ** -WATER_SCATTERING_EXPONENT


def water_leaving_reflectance(
    chl: np.ndarray | float,
    tsm: np.ndarray | float,
    adg443: np.ndarray | float,
    *,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Water-leaving reflectance ρw = π·Rrs at the 16 OLCI bands (see the module docstring).

    The shared inherent optical properties are computed once and the bands one at a time, so a
    full scene needs only a few band-sized float32 temporaries besides the output.

    Args:
        chl: chlorophyll-a concentration, mg m-3 (> 0).
        tsm: total suspended matter, g m-3 (>= 0).
        adg443: CDOM-plus-detritus absorption at 443 nm, m-1 (>= 0).
        out: optional float32 array of shape (16, *shape) to write into.

    Returns:
        float32 array of shape (16, *shape), bands in `format.BANDS` order, dimensionless.

    Raises:
        ValueError: a constituent is out of its domain, or `out` has the wrong shape or dtype.
    """
    chl, tsm, adg443 = (np.asarray(v, dtype=np.float32) for v in (chl, tsm, adg443))
    shape = np.broadcast_shapes(chl.shape, tsm.shape, adg443.shape)
    if np.any(chl <= 0):
        raise ValueError(f"chlorophyll must be positive, got minimum {chl.min()}")
    if np.any(tsm < 0) or np.any(adg443 < 0):
        raise ValueError(f"tsm and adg443 must be >= 0, got {tsm.min()} and {adg443.min()}")
    if out is None:
        out = np.empty((len(BANDS), *shape), dtype=np.float32)
    elif out.shape != (len(BANDS), *shape) or out.dtype != np.float32:
        raise ValueError(f"out has shape {out.shape} {out.dtype}, need {(len(BANDS), *shape)}")
    if not shape:  # scalars: compute on one-element arrays so the in-place steps apply
        column = water_leaving_reflectance(chl[None], tsm[None], adg443[None])
        out[...] = column[:, 0]
        return out

    ln_chl = np.log(chl)
    log10_chl = ln_chl / np.float32(np.log(10.0))
    # Morel & Maritorena (2001): particle scattering, backscattering ratio and spectral slope.
    scattering_550 = np.float32(0.416) * np.exp(np.float32(0.766) * ln_chl)
    ratio = np.float32(0.002) + np.float32(0.01) * (np.float32(0.5) - np.float32(0.25) * log10_chl)
    phyto_backscatter_550 = scattering_550 * np.maximum(ratio, np.float32(0.002))
    del scattering_550, ratio
    phyto_slope = np.clip(np.float32(0.5) * (log10_chl - np.float32(0.3)), -1.0, 0.0)
    del log10_chl
    mineral_backscatter_550 = np.float32(MINERAL_SPECIFIC_BACKSCATTER_550) * tsm
    nap_443 = np.float32(NAP_SPECIFIC_ABSORPTION_443) * tsm

    for i, wavelength in enumerate(WAVELENGTHS_NM):
        shift = wavelength - 443.0
        absorption = np.float32(PHYTOPLANKTON_A[i]) * np.exp(
            np.float32(PHYTOPLANKTON_E[i]) * ln_chl
        )
        absorption += np.float32(PURE_WATER_ABSORPTION[i])
        absorption += np.float32(np.exp(-ADG_SLOPE * shift)) * adg443
        absorption += np.float32(np.exp(-NAP_SLOPE * shift)) * nap_443
        backscatter = phyto_backscatter_550 * np.exp(
            np.float32(np.log(wavelength / 550.0)) * phyto_slope
        )
        backscatter += np.float32(pure_water_backscatter(wavelength))
        backscatter += (
            np.float32((550.0 / wavelength) ** MINERAL_BACKSCATTER_EXPONENT)
            * mineral_backscatter_550
        )
        absorption += backscatter
        u = np.divide(backscatter, absorption, out=backscatter)
        del absorption
        rrs = u * (np.float32(G0) + np.float32(G1) * u)
        above = np.float32(0.52) * rrs / (np.float32(1.0) - np.float32(1.7) * rrs)
        fluorescence = FLUORESCENCE_HEIGHT * np.exp(
            -0.5 * ((wavelength - FLUORESCENCE_PEAK_NM) / FLUORESCENCE_SIGMA_NM) ** 2
        )
        if fluorescence > 1e-9:
            above += np.float32(fluorescence) * np.exp(np.float32(FLUORESCENCE_EXPONENT) * ln_chl)
        np.multiply(above, np.float32(np.pi), out=out[i])
    return out


def remote_sensing_reflectance(
    chl: np.ndarray | float, tsm: np.ndarray | float, adg443: np.ndarray | float
) -> np.ndarray:
    """Remote-sensing reflectance Rrs = ρw/π (sr-1) at the 16 OLCI bands, float32 (16, *shape)."""
    reflectance = water_leaving_reflectance(chl, tsm, adg443)
    reflectance /= np.float32(np.pi)
    return reflectance
