"""OLCI Level-2 WFR products: read, write, describe."""

from components.olci.commit import remove_stale_temporaries
from components.olci.errors import (
    CorruptFileError,
    InconsistentProductError,
    MissingFileError,
    NotAProductError,
    ProductError,
    ProductNotFoundError,
    UnsafeArchiveError,
    WrongProductTypeError,
)
from components.olci.format import BAND_NAMES, BANDS
from components.olci.manifest import verify_product
from components.olci.reader import check_values, open_product, to_rrs
from components.olci.writer import ProductWriter, write_product

__all__ = [
    "BANDS",
    "BAND_NAMES",
    "CorruptFileError",
    "InconsistentProductError",
    "MissingFileError",
    "NotAProductError",
    "ProductError",
    "ProductNotFoundError",
    "ProductWriter",
    "UnsafeArchiveError",
    "WrongProductTypeError",
    "check_values",
    "open_product",
    "remove_stale_temporaries",
    "to_rrs",
    "verify_product",
    "write_product",
]
