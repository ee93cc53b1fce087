"""The OLCI Level-2 WFR product format, described as data.

File names, variable names, dimension names and band properties live here and nowhere else, so the
reader, the writer and the sample generator agree by construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import numpy as np


@dataclass(frozen=True)
class Band:
    """One L2 WFR reflectance band."""

    name: str
    wavelength_nm: float
    bandwidth_nm: float

    @property
    def file_name(self) -> str:
        return f"{self.name}_reflectance.nc"

    @property
    def variable(self) -> str:
        return f"{self.name}_reflectance"


BANDS: tuple[Band, ...] = (
    Band("Oa01", 400.0, 15.0),
    Band("Oa02", 412.5, 10.0),
    Band("Oa03", 442.5, 10.0),
    Band("Oa04", 490.0, 10.0),
    Band("Oa05", 510.0, 10.0),
    Band("Oa06", 560.0, 10.0),
    Band("Oa07", 620.0, 10.0),
    Band("Oa08", 665.0, 10.0),
    Band("Oa09", 673.75, 7.5),
    Band("Oa10", 681.25, 7.5),
    Band("Oa11", 708.75, 10.0),
    Band("Oa12", 753.75, 7.5),
    Band("Oa16", 778.75, 15.0),
    Band("Oa17", 865.0, 20.0),
    Band("Oa18", 885.0, 10.0),
    Band("Oa21", 1020.0, 40.0),
)
BAND_NAMES: tuple[str, ...] = tuple(b.name for b in BANDS)
BANDS_BY_NAME: dict[str, Band] = {b.name: b for b in BANDS}

# The bands of a true-colour composite (red, green, blue).
TRUE_COLOUR = ("Oa08", "Oa06", "Oa04")

# Dimension names inside the files; renamed to (y, x) once, at the edge.
ROWS, COLUMNS = "rows", "columns"
TIE_ROWS, TIE_COLUMNS = "tie_rows", "tie_columns"

MANIFEST = "xfdumanifest.xml"
WQSF_FILE, WQSF_VARIABLE = "wqsf.nc", "WQSF"
GEO_FILE = "geo_coordinates.nc"
TIE_GEO_FILE = "tie_geo_coordinates.nc"
TIME_FILE = "time_coordinates.nc"
FILL_FILE = "s3inpaint_fill.nc"

GEO_SCALE = 1e-6  # latitude / longitude are int32 micro-degrees
UINT16_FILL = np.uint16(65535)

# What a collection stores in the reflectance files.
RHO_W, RRS = "rho_w", "Rrs"
REFLECTANCE_QUANTITY = {"003": RHO_W, "004": RRS}
REFLECTANCE_UNITS = {RHO_W: "dl", RRS: "sr-1"}
REFLECTANCE_STANDARD_NAME = {
    RHO_W: "surface_ratio_of_upwelling_radiance_emerging_from_sea_water_to_downwelling_irradiance"
    "_in_air_times_pi",
    RRS: "surface_ratio_of_upwelling_radiance_emerging_from_sea_water_to_downwelling_radiative_flux"
    "_in_air",
}


def reflectance_encoding(collection: str) -> dict[str, object]:
    """uint16 scale/offset/fill of the reflectance bands written for `collection`.

    The range covers -0.05..0.6 in water-leaving reflectance (divided by pi for Rrs), which holds
    turbid coastal water and the slightly negative values atmospheric correction produces.
    """
    quantity = REFLECTANCE_QUANTITY[collection]
    divisor = np.pi if quantity == RRS else 1.0
    return {
        "dtype": "uint16",
        "scale_factor": np.float32(1e-5 / divisor),
        "add_offset": np.float32(-0.05 / divisor),
        "_FillValue": UINT16_FILL,
    }


# Product names: mission, level, type, start, stop, creation, duration, cycle, relative orbit,
# frame, centre, mode, timeliness, collection, e.g. S3A_OL_2_WFR____20230615T101015_
# 20230615T101315_20230616T223016_0180_100_065_2160_MAR_O_NT_003.SEN3 (without the break).
PRODUCT_NAME = re.compile(
    r"^(?P<mission>S3[A-D])_OL_(?P<level>[0-2])_(?P<type>[A-Z]{3})_{4}"
    r"(?P<start>\d{8}T\d{6})_(?P<stop>\d{8}T\d{6})_(?P<created>\d{8}T\d{6})_"
    r"(?P<duration>\d{4})_(?P<cycle>\d{3})_(?P<orbit>\d{3})_(?P<frame>\d{4}|_{4})_"
    r"(?P<centre>[A-Z0-9]{3})_(?P<mode>[A-Z])_(?P<timeliness>[A-Z]{2})_(?P<collection>\d{3})"
    r"(?:\.SEN3)?(?:\.zip)?$"
)
TIME_FORMAT = "%Y%m%dT%H%M%S"


@dataclass(frozen=True)
class ProductName:
    """The fields of an OLCI product name."""

    mission: str
    level: str
    type: str
    start: datetime
    stop: datetime
    created: datetime
    duration: int
    cycle: int
    orbit: int
    frame: str
    centre: str
    mode: str
    timeliness: str
    collection: str

    @classmethod
    def parse(cls, name: str) -> ProductName | None:
        """The fields of `name` (a folder or zip name), or None if it is not an OLCI name."""
        match = PRODUCT_NAME.match(name)
        if match is None:
            return None
        g = match.groupdict()
        return cls(
            mission=g["mission"],
            level=g["level"],
            type=g["type"],
            start=datetime.strptime(g["start"], TIME_FORMAT),
            stop=datetime.strptime(g["stop"], TIME_FORMAT),
            created=datetime.strptime(g["created"], TIME_FORMAT),
            duration=int(g["duration"]),
            cycle=int(g["cycle"]),
            orbit=int(g["orbit"]),
            frame=g["frame"],
            centre=g["centre"],
            mode=g["mode"],
            timeliness=g["timeliness"],
            collection=g["collection"],
        )

    def folder_name(self) -> str:
        """The `.SEN3` folder name these fields spell."""
        return (
            f"{self.mission}_OL_{self.level}_{self.type}____"
            f"{self.start:{TIME_FORMAT}}_{self.stop:{TIME_FORMAT}}_{self.created:{TIME_FORMAT}}_"
            f"{self.duration:04d}_{self.cycle:03d}_{self.orbit:03d}_{self.frame}_"
            f"{self.centre}_{self.mode}_{self.timeliness}_{self.collection}.SEN3"
        )

    @property
    def platform(self) -> str:
        return f"Sentinel-3{self.mission[-1]}"


def quantity_factor(source: str, target: str) -> float:
    """What multiplies reflectance stored as `source` (RHO_W or RRS) to give `target`."""
    for quantity in (source, target):
        if quantity not in REFLECTANCE_UNITS:
            raise ValueError(f"reflectance quantity {quantity!r} is not {RHO_W!r} or {RRS!r}")
    if source == target:
        return 1.0
    return 1.0 / np.pi if target == RRS else np.pi


def quantity_from_units(units: str) -> str | None:
    """RRS for "sr-1"-like units, RHO_W for dimensionless ones, None if neither."""
    unit = units.replace(" ", "").replace("^", "")
    if unit in ("sr-1", "1/sr"):
        return RRS
    if unit in ("dl", "1", "", "dimensionless"):
        return RHO_W
    return None
