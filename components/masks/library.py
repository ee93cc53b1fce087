"""A library of real gap shapes harvested from products' cloud masks, and its file format."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from components.masks.checks import check_bool_array, check_positive
from components.masks.harvest import HarvestedShape

FORMAT_VERSION = 1


@dataclass(frozen=True, eq=False)
class MaskLibrary:
    """Real gap shapes of one size and where each came from.

    Attributes:
        shapes: bool (N, S, S) gap shapes, True = gap; held as a read-only view.
        sources: for each shape, "product|row|column" (or any label) naming where it was cut.
    """

    shapes: np.ndarray
    sources: tuple[str, ...]

    def __post_init__(self) -> None:
        shapes = check_bool_array("shapes", self.shapes, 3)
        if shapes.shape[1] != shapes.shape[2] or shapes.shape[1] < 1:
            raise ValueError(f"shapes must be square and not empty, got shape {shapes.shape}")
        sources = tuple(self.sources)
        if len(sources) != len(shapes):
            raise ValueError(f"{len(sources)} sources given for {len(shapes)} shapes")
        for source in sources:
            if not isinstance(source, str):
                raise ValueError(f"sources must be strings, got {source!r}")
        view = shapes.view()
        view.flags.writeable = False
        object.__setattr__(self, "shapes", view)
        object.__setattr__(self, "sources", sources)

    @classmethod
    def empty(cls, size: int) -> MaskLibrary:
        """A library of no shapes of side `size`."""
        size = check_positive("size", size)
        return cls(np.zeros((0, size, size), dtype=bool), ())

    @classmethod
    def from_harvest(
        cls, product_name: str, shapes: Sequence[HarvestedShape], *, size: int
    ) -> MaskLibrary:
        """The shapes harvested from one product, with sources "product_name|row|column".

        Args:
            product_name: name of the product the shapes were cut from.
            shapes: windows from `harvest_cloud_shapes`, possibly none.
            size: side of the windows, which an empty harvest cannot tell.

        Raises:
            ValueError: a shape is not size x size.
        """
        size = check_positive("size", size)
        for shape in shapes:
            if shape.mask.shape != (size, size):
                raise ValueError(
                    f"{product_name}: shape at row {shape.row}, column {shape.column} is "
                    f"{shape.mask.shape}, not ({size}, {size})"
                )
        if not shapes:
            return cls.empty(size)
        return cls(
            np.stack([shape.mask for shape in shapes]).astype(bool, copy=False),
            tuple(f"{product_name}|{shape.row}|{shape.column}" for shape in shapes),
        )

    @classmethod
    def merge(cls, libraries: Iterable[MaskLibrary]) -> MaskLibrary:
        """All shapes of `libraries`, in order, in one library.

        Raises:
            ValueError: no library is given, or their sizes differ.
        """
        libraries = list(libraries)
        if not libraries:
            raise ValueError("cannot merge no mask libraries: their size is unknown")
        sizes = sorted({library.size for library in libraries})
        if len(sizes) > 1:
            raise ValueError(f"cannot merge mask libraries of different sizes {sizes}")
        return cls(
            np.concatenate([library.shapes for library in libraries]),
            tuple(source for library in libraries for source in library.sources),
        )

    @property
    def size(self) -> int:
        """Side S of the shapes in pixels."""
        return self.shapes.shape[1]

    @cached_property
    def coverages(self) -> np.ndarray:
        """float64 (N,) share of gap pixels in each shape."""
        coverages = self.shapes.mean(axis=(1, 2))
        coverages.flags.writeable = False
        return coverages

    def __len__(self) -> int:
        return len(self.shapes)

    def to_bytes(self) -> bytes:
        """The library as a compressed .npz file (bit-packed shapes); see `from_bytes`."""
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            format_version=np.int64(FORMAT_VERSION),
            size=np.int64(self.size),
            shapes=np.packbits(self.shapes, axis=-1),
            sources=np.array(self.sources, dtype=np.str_).reshape(len(self)),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> MaskLibrary:
        """A library from the bytes `to_bytes` wrote.

        Raises:
            ValueError: the bytes are not a mask library of a known format version.
        """
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as archive:
                version = int(archive["format_version"])
                size = int(archive["size"])
                packed = archive["shapes"]
                sources = tuple(str(source) for source in archive["sources"])
        except (OSError, KeyError, EOFError, ValueError, zipfile.BadZipFile) as error:
            raise ValueError(f"not a mask library file: {error}") from error
        if version != FORMAT_VERSION:
            raise ValueError(f"mask library format version {version} is not {FORMAT_VERSION}")
        if packed.ndim != 3 or packed.shape[1] != size or len(packed) != len(sources):
            raise ValueError(
                f"mask library of packed shapes {packed.shape}, size {size} and "
                f"{len(sources)} sources is inconsistent"
            )
        shapes = np.unpackbits(packed, axis=-1, count=size).astype(bool)
        return cls(shapes, sources)
