"""Exceptions raised for products that cannot be read or written.

Every message starts with the offending path (a file inside a product where one is at fault), so
a batch job can report it as is.
"""

from __future__ import annotations


class ProductError(ValueError):
    """A product, or a file inside one, cannot be used; the message names the path."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ProductNotFoundError(ProductError, FileNotFoundError):
    """The product path (local or gs://) does not exist."""


class MissingCredentialsError(ProductError, PermissionError):
    """A gs:// path, and no Google Cloud credentials to read or write it with."""


class NotAProductError(ProductError):
    """The path exists but is not an OLCI product folder or zip."""


class WrongProductTypeError(ProductError):
    """The path is an OLCI product, but not a Level-2 WFR one (e.g. a Level-1 EFR product)."""


class MissingFileError(ProductError):
    """A file the product needs (a band, wqsf.nc, geo_coordinates.nc) is absent."""


class CorruptFileError(ProductError):
    """A file inside the product is truncated, not NetCDF, or lacks a required variable."""


class InconsistentProductError(ProductError):
    """The files of a product disagree with each other (e.g. band dimensions)."""


class UnsafeArchiveError(ProductError):
    """A zip member would be extracted outside its target folder."""
