"""A synthetic but physically plausible OLCI L2 WFR scene, as the product reader would return it.

`sample_dataset` is the entry point. A seed fixes a site (region, satellite, geolocation, the
coastline and the water's persistent structure); `index` picks one scene of that site's series:
a later date with its own clouds, eddies, glint and noise. Everything is drawn from
`numpy.random.SeedSequence` streams, so the same arguments give bit-identical datasets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from components.olci import flags, format
from components.sample import artefacts, clouds, geometry, metadata, wqsf
from components.sample.bio_optical import WAVELENGTHS_NM, water_leaving_reflectance
from components.sample.constituents import constituent_fields
from components.sample.fields import eddy_flow
from components.sample.regions import REGIONS, Region

DIMS = ("y", "x")
MIN_SIDE = 8
LAND_FRACTION = (0.05, 0.3)
COASTAL_SCALE_PX = 60.0  # e-folding distance of coastal influence: 18 km at 300 m
PRODUCT_TYPE = "OL_2_WFR___"


def sample_dataset(
    shape: tuple[int, int],
    seed: int,
    *,
    collection: str = "003",
    index: int = 0,
    cloud_fraction: float | None = None,
) -> xr.Dataset:
    """A sample OLCI L2 WFR scene in the product contract's layout.

    Args:
        shape: (rows, columns) of the scene, each at least 8; (4091, 4865) is a full product.
        seed: non-negative integer fixing the site (region, geolocation, coastline).
        collection: "003" (ρw, dimensionless) or "004" (Rrs, sr-1), which also fixes the WQSF
            bit layout (`flags.WQSF_LAYOUTS`).
        index: the scene's position in the site's series: `index` days after the first scene.
        cloud_fraction: share of the scene under any cloud flag (CLOUD, CLOUD_AMBIGUOUS or
            CLOUD_MARGIN); drawn between 0.1 and 0.7 when not given.

    Returns:
        Dataset with dims (y, x): one float32 variable per band (`format.BAND_NAMES`, NaN on
        land, thick cloud and invalid pixels, with the collection's uint16 encoding attached),
        `wqsf` (uint64), boolean `valid`, `land` and `cloud` decoded from it as the reader does,
        float32 `latitude`/`longitude` coordinates, and product attributes.

    Raises:
        ValueError: an argument is out of range.
    """
    shape = checked_shape(shape)
    if collection not in format.REFLECTANCE_QUANTITY:
        raise ValueError(
            f"collection {collection!r} is not one of {sorted(format.REFLECTANCE_QUANTITY)}"
        )
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed {seed!r} is not a non-negative integer")
    if not isinstance(index, (int, np.integer)) or index < 0:
        raise ValueError(f"index {index!r} is not a non-negative integer")
    if cloud_fraction is not None and not 0.0 <= cloud_fraction <= 1.0:
        raise ValueError(f"cloud fraction {cloud_fraction} is not in [0, 1]")

    streams = _Streams.of(int(seed), int(index))
    site = _site(shape, streams)
    name = metadata.sample_product_name(
        streams.site_name,
        streams.name,
        index=int(index),
        collection=collection,
        first_row_latitude=float(site.latitude[0, shape[1] // 2]),
        longitude=site.centre[1],
    )
    reflectance = _water_reflectance(site, streams)
    if cloud_fraction is None:
        cloud_fraction = clouds.default_cloud_fraction(streams.clouds)
    conditions = _conditions(
        site,
        streams,
        cloud_fraction=float(cloud_fraction),
        day_of_year=name.start.timetuple().tm_yday,
    )
    layout = flags.WQSF_LAYOUTS[collection]
    bits = wqsf.encode_flags(conditions.flags, layout, shape)
    _observe(reflectance, conditions, streams.noise, collection=collection, bits=bits)
    return _dataset(reflectance, bits, site.latitude, site.longitude, collection, name)


@dataclass(frozen=True)
class _Streams:
    """Independent random streams for one scene.

    The `site_*` streams are shared by every scene of a seed and the rest are the scene's own,
    so a later scene of the same site keeps its place and coastline.
    """

    site_place: np.random.Generator
    site_land: np.random.Generator
    site_water: np.random.Generator
    site_name: np.random.Generator
    flow: np.random.Generator
    water: np.random.Generator
    clouds: np.random.Generator
    artefacts: np.random.Generator
    noise: np.random.Generator
    name: np.random.Generator

    @classmethod
    def of(cls, seed: int, index: int) -> _Streams:
        site = np.random.SeedSequence(seed, spawn_key=(0,)).spawn(4)
        scene = np.random.SeedSequence(seed, spawn_key=(1, index)).spawn(6)
        return cls(*(np.random.default_rng(s) for s in (*site, *scene)))


@dataclass(frozen=True)
class _Site:
    """Where a scene lies: its region, geolocation, place in the swath and land."""

    region: Region
    centre: tuple[float, float]
    latitude: np.ndarray
    longitude: np.ndarray
    first_column: int
    land: np.ndarray


def _site(shape: tuple[int, int], streams: _Streams) -> _Site:
    """A region, the swath window over it, and a coastline."""
    rng = streams.site_place
    region = REGIONS[int(rng.integers(len(REGIONS)))]
    centre = (region.latitude + rng.uniform(-0.5, 0.5), region.longitude + rng.uniform(-0.5, 0.5))
    heading = geometry.descending_heading(centre[0]) + rng.uniform(-0.5, 0.5)
    latitude, longitude = geometry.swath_coordinates(shape, centre, heading)
    first_column = int(rng.integers(0, max(1, geometry.SWATH_COLUMNS - shape[1] + 1)))
    fraction = streams.site_land.uniform(*LAND_FRACTION)
    land = geometry.land_mask(shape, streams.site_land, fraction=fraction)
    return _Site(region, centre, latitude, longitude, first_column, land)


def _water_reflectance(site: _Site, streams: _Streams) -> np.ndarray:
    """Clear-sky water-leaving reflectance (16, rows, columns): constituents stirred by eddies."""
    shape = site.land.shape
    constituents = constituent_fields(
        site.region,
        geometry.land_proximity(site.land, COASTAL_SCALE_PX),
        eddy_flow(shape, streams.flow),
        streams.site_water,
        streams.water,
    )
    return water_leaving_reflectance(constituents.chl, constituents.tsm, constituents.adg443)


@dataclass(frozen=True)
class _Conditions:
    """What lies between the water and the sensor, and what the processor flags.

    Attributes:
        flags: WQSF flag name -> boolean mask (all but the RWNEG flags).
        hidden: pixels whose bands are NaN (land, thick cloud, invalid).
        haze: thin-cloud thickness, 0 to 1 (see `clouds.CloudMasks.haze`).
        haze_spectrum: thin-cloud brightening per band, in ρw, at full thickness.
        glint: sun glint left in the reflectance after correction, ρw.
    """

    flags: dict[str, np.ndarray]
    hidden: np.ndarray
    haze: np.ndarray
    haze_spectrum: np.ndarray
    glint: np.ndarray


def _conditions(
    site: _Site, streams: _Streams, *, cloud_fraction: float, day_of_year: int
) -> _Conditions:
    """Clouds, sun glint, invalid pixels and failed corrections over the site."""
    shape = site.land.shape
    water = ~site.land
    sky = clouds.cloud_masks(
        shape, streams.clouds, fraction=cloud_fraction, real_masks=clouds.load_real_masks()
    )
    rng = streams.artefacts
    glint = artefacts.sun_glint(
        shape,
        rng,
        latitude=site.centre[0],
        day_of_year=day_of_year,
        first_column=site.first_column,
    )
    medium_glint = water & (glint > artefacts.GLINT_MEDIUM)
    high_glint = water & (glint > artefacts.GLINT_HIGH)
    invalid = artefacts.invalid_pixels(shape, rng)
    failed = artefacts.correction_failures(water, rng)
    haze_spectrum = rng.uniform(0.01, 0.05) * artefacts.thin_cloud_spectrum(
        WAVELENGTHS_NM, rng.uniform(0.2, 1.0)
    )
    return _Conditions(
        flags={
            "WATER": water,
            "LAND": site.land,
            "CLOUD": sky.cloud,
            "CLOUD_AMBIGUOUS": sky.ambiguous,
            "CLOUD_MARGIN": sky.margin,
            "INVALID": invalid,
            "MEGLINT": medium_glint,
            "HIGHGLINT": high_glint,
            "AC_FAIL": failed,
        },
        hidden=site.land | sky.cloud | invalid,
        haze=sky.haze,
        haze_spectrum=haze_spectrum,
        glint=artefacts.glint_residual(glint),
    )


def _observe(
    reflectance: np.ndarray,
    conditions: _Conditions,
    rng: np.random.Generator,
    *,
    collection: str,
    bits: np.ndarray,
) -> None:
    """Turn clear-sky ρw into the observed product values in place, and flag negative ones.

    Band by band: thin-cloud brightening, glint residual, atmospheric-correction residual and
    noise are added; the values are converted to the collection's quantity and clipped to what
    its uint16 encoding holds; hidden pixels become NaN; RWNEG flags are set in `bits`.
    """
    shape = reflectance.shape[1:]
    layout = flags.WQSF_LAYOUTS[collection]
    quantity = format.REFLECTANCE_QUANTITY[collection]
    low, high = _encodable_range(format.reflectance_encoding(collection))
    residual = artefacts.correction_residual(shape, rng)
    for i, band in enumerate(format.BANDS):
        values = reflectance[i]
        values += np.float32(conditions.haze_spectrum[i]) * conditions.haze
        values += conditions.glint
        values += np.float32(artefacts.correction_residual_amplitude(band.wavelength_nm)) * residual
        noise = rng.standard_normal(shape, dtype=np.float32)
        noise *= np.float32(artefacts.noise_sigma(band.wavelength_nm))
        values += noise
        del noise
        if quantity == format.RRS:
            values /= np.float32(np.pi)
        np.clip(values, low, high, out=values)
        values[conditions.hidden] = np.nan
        wqsf.set_flag(bits, layout, wqsf.negative_flag(band.name), values < 0)


def checked_shape(shape: tuple[int, int], min_side: int = MIN_SIDE) -> tuple[int, int]:
    """`shape` as a pair of ints, each at least `min_side`."""
    try:
        rows, columns = (int(n) for n in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape {shape!r} is not a (rows, columns) pair") from None
    if rows < min_side or columns < min_side:
        raise ValueError(f"shape {shape!r}: each side must be at least {min_side}")
    return rows, columns


def _encodable_range(encoding: dict[str, object]) -> tuple[np.float32, np.float32]:
    """Smallest and largest physical values that `encoding`'s uint16 holds (fill excluded)."""
    scale = float(encoding["scale_factor"])
    offset = float(encoding["add_offset"])
    largest = int(format.UINT16_FILL) - 1
    return np.float32(offset), np.float32(offset + largest * scale)


def _dataset(
    reflectance: np.ndarray,
    bits: np.ndarray,
    latitude: np.ndarray,
    longitude: np.ndarray,
    collection: str,
    name: format.ProductName,
) -> xr.Dataset:
    """Wrap the arrays in the product contract's Dataset, with its attributes and encodings."""
    quantity = format.REFLECTANCE_QUANTITY[collection]
    units = format.REFLECTANCE_UNITS[quantity]
    title = (
        "Water-leaving reflectance" if quantity == format.RHO_W else "Remote sensing reflectance"
    )
    product_name = name.folder_name()
    data_vars: dict[str, xr.Variable] = {}
    for i, band in enumerate(format.BANDS):
        variable = xr.Variable(
            DIMS,
            reflectance[i],
            attrs={
                "units": units,
                "standard_name": format.REFLECTANCE_STANDARD_NAME[quantity],
                "long_name": f"{title} at {band.wavelength_nm:g} nm",
                "wavelength": float(band.wavelength_nm),
                "bandwidth": float(band.bandwidth_nm),
            },
        )
        variable.encoding.update(format.reflectance_encoding(collection))
        data_vars[band.name] = variable
    attrs = flags.layout_attributes(flags.WQSF_LAYOUTS[collection])
    attrs["long_name"] = "Water quality and science flags"
    data_vars["wqsf"] = xr.Variable(DIMS, bits, attrs=attrs)
    table = flags.flag_table(attrs, product_name)
    data_vars["valid"] = xr.Variable(DIMS, flags.valid_mask(bits, table))
    data_vars["land"] = xr.Variable(
        DIMS, flags.any_set(bits, flags.combined_mask(table, flags.LAND_ANY))
    )
    data_vars["cloud"] = xr.Variable(
        DIMS, flags.any_set(bits, flags.combined_mask(table, flags.CLOUD_ANY))
    )
    coords = {
        "latitude": xr.Variable(
            DIMS,
            latitude,
            attrs={"units": "degrees_north", "standard_name": "latitude", "long_name": "Latitude"},
        ),
        "longitude": xr.Variable(
            DIMS,
            longitude,
            attrs={"units": "degrees_east", "standard_name": "longitude", "long_name": "Longitude"},
        ),
    }
    return xr.Dataset(
        data_vars,
        coords=coords,
        attrs={
            "product_name": product_name,
            "platform": name.platform,
            "product_type": PRODUCT_TYPE,
            "start_time": metadata.iso_time(name.start),
            "stop_time": metadata.iso_time(name.stop),
            "collection": collection,
            "reflectance": quantity,
            "units": units,
        },
    )
