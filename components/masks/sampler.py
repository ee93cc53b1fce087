"""Drawing gap masks for training and evaluation pairs: real and synthetic shapes mixed."""

from __future__ import annotations

import hashlib
import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import cast

import numpy as np

from components.masks.checks import check_coverage, check_finite, check_positive
from components.masks.library import MaskLibrary
from components.masks.synthetic import SYNTHETIC_KINDS
from components.masks.transforms import adjust_coverage, dihedral

REAL = "real"
KINDS = (REAL, *SYNTHETIC_KINDS)
DEFAULT_COVERAGE = (0.1, 0.7)  # the coverage range of training and evaluation masks
DEFAULT_KINDS = {REAL: 0.5, "fractal": 0.2, "strokes": 0.2, "boxes": 0.1}


@dataclass(frozen=True, eq=False)
class MaskDraw:
    """One mask from a `MaskSampler` and how it was made.

    Attributes:
        kind: "real" or a synthetic kind ("fractal", "strokes", "boxes").
        target: the coverage drawn for it.
        mask: bool (size, size) gap mask, True = gap.
        coverage: the share of gap pixels it has.
    """

    kind: str
    target: float
    mask: np.ndarray
    coverage: float


@dataclass(frozen=True)
class MaskSampler:
    """Random gap masks of a size, with coverages drawn uniformly in a range.

    Attributes:
        size: side S of the masks in pixels.
        coverage: (low, high) range the target coverage is drawn from uniformly.
        kinds: relative weights of the kinds of shape, from `KINDS`; "real" is left out when the
            library is empty, and the rest are renormalised.
        library: real shapes of side `size`; an empty library when not given.
        tolerance: how far a real shape's coverage may lie from the target before it is
            dilated or eroded to meet the target exactly.
        candidates: library shapes drawn at random for each real mask, of which the one closest
            to the target coverage is used.
    """

    size: int
    coverage: tuple[float, float] = DEFAULT_COVERAGE
    kinds: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_KINDS))
    library: MaskLibrary | None = None
    tolerance: float = 0.03
    candidates: int = 8

    def __post_init__(self) -> None:
        check_positive("size", self.size)
        if len(self.coverage) != 2:
            raise ValueError(f"coverage range must be (low, high), got {self.coverage!r}")
        low, high = (check_coverage(value, "coverage range") for value in self.coverage)
        if low > high:
            raise ValueError(f"coverage range must have low <= high, got {self.coverage!r}")
        object.__setattr__(self, "coverage", (low, high))
        kinds = {}
        for kind, weight in dict(self.kinds).items():
            if kind not in KINDS:
                raise ValueError(f"unknown mask kind {kind!r}; known kinds are {KINDS}")
            kinds[kind] = check_finite(f"weight of mask kind {kind!r}", weight)
        object.__setattr__(self, "kinds", kinds)
        if self.library is None:
            object.__setattr__(self, "library", MaskLibrary.empty(self.size))
        elif self.library.size != self.size:
            raise ValueError(
                f"mask library of size {self.library.size} does not match sampler size {self.size}"
            )
        check_finite("tolerance", self.tolerance)
        check_positive("candidates", self.candidates)
        if not self.kind_weights:
            raise ValueError(
                f"no mask kind has a positive weight in {kinds}"
                + ("" if self._has_real_shapes else " (the mask library is empty)")
            )

    @property
    def _has_real_shapes(self) -> bool:
        return len(self._library) > 0

    @property
    def _library(self) -> MaskLibrary:
        return cast(MaskLibrary, self.library)  # never None after __post_init__

    @cached_property
    def _source_products(self) -> np.ndarray:
        """The scene each library shape was cut from."""
        return np.array([s.split("|")[0] for s in self._library.sources], dtype=np.str_)

    @property
    def kind_weights(self) -> dict[str, float]:
        """The probability of each kind that can be drawn, summing to 1."""
        usable = {
            kind: weight
            for kind, weight in self.kinds.items()
            if weight > 0 and (kind != REAL or self._has_real_shapes)
        }
        total = math.fsum(usable.values())
        return {kind: weight / total for kind, weight in usable.items()}

    def draw(self, rng: np.random.Generator) -> MaskDraw:
        """A random mask, with its kind and target coverage."""
        target = float(rng.uniform(*self.coverage))
        names = list(self.kind_weights)
        kind = names[int(rng.choice(len(names), p=list(self.kind_weights.values())))]
        if kind == REAL:
            mask = self._real_mask(target, rng)
        else:
            mask = SYNTHETIC_KINDS[kind]((self.size, self.size), target, rng)
        return MaskDraw(kind, target, mask, float(mask.mean()))

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, float]:
        """A random bool (size, size) mask and the coverage it achieved."""
        drawn = self.draw(rng)
        return drawn.mask, drawn.coverage

    def fixed_mask(self, key: str, seed: int) -> MaskDraw:
        """The mask of an evaluation example: the same for the same key and seed in any process.

        The mask is drawn as `draw` draws one, from a generator seeded by a SHA-256 of `key`
        and `seed` (see `key_rng`), so it is repeatable for the same sampler settings, library
        and numpy version.

        Args:
            key: what identifies the example, e.g. "product|row|column".
            seed: the evaluation set's seed.
        """
        return self.draw(key_rng(key, seed))

    def transplanted_mask(self, key: str, seed: int, product: str) -> tuple[np.ndarray, str] | None:
        """A real cloud of *another* scene laid as it is over the example `key` of `product`:
        (mask, the shape's source "product|row|column"), or None when the library holds no shape
        cut from another scene with a coverage in `coverage`.

        The transplant protocol (DINCAE; Stock et al.): the shape is only flipped and turned, never
        dilated or eroded, so the gaps scored are the archive's own. Repeatable like `fixed_mask`.
        """
        library = self._library
        low, high = self.coverage
        coverages = library.coverages
        eligible = np.flatnonzero(
            (coverages >= low) & (coverages <= high) & (self._source_products != product)
        )
        if not len(eligible):
            return None
        rng = key_rng(key, seed)
        pick = int(eligible[rng.integers(len(eligible))])
        return dihedral(library.shapes[pick], int(rng.integers(8))), library.sources[pick]

    def _real_mask(self, target: float, rng: np.random.Generator) -> np.ndarray:
        """A library shape near `target`, flipped and turned at random, then fitted to it."""
        library = self._library
        picks = rng.choice(len(library), size=min(self.candidates, len(library)), replace=False)
        best = int(picks[np.argmin(np.abs(library.coverages[picks] - target))])
        mask = dihedral(library.shapes[best], int(rng.integers(8)))
        if abs(library.coverages[best] - target) > self.tolerance:
            mask = adjust_coverage(mask, target, rng)
        return mask


def key_rng(key: str, seed: int) -> np.random.Generator:
    """A random generator seeded from a SHA-256 of `key` and `seed`, stable across processes.

    Raises:
        ValueError: `key` is not a string or `seed` is not an integer.
    """
    if not isinstance(key, str):
        raise ValueError(f"mask key must be a string, got {key!r}")
    try:
        seed = operator.index(seed)
    except TypeError:
        raise ValueError(f"mask seed must be an integer, got {seed!r}") from None
    digest = hashlib.sha256(f"s3inpaint.masks\x1f{seed}\x1f{key}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest, "big"))
