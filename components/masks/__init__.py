"""Gap masks for training and evaluation pairs: real cloud shapes and synthetic ones."""

from components.masks.buckets import DEFAULT_EDGES, coverage_bucket, coverage_bucket_labels
from components.masks.harvest import HarvestedShape, harvest_cloud_shapes
from components.masks.library import MaskLibrary
from components.masks.sampler import DEFAULT_KINDS, KINDS, MaskDraw, MaskSampler, key_rng
from components.masks.synthetic import SYNTHETIC_KINDS, box_mask, fractal_mask, stroke_mask
from components.masks.transforms import adjust_coverage, dihedral

__all__ = [
    "DEFAULT_EDGES",
    "DEFAULT_KINDS",
    "KINDS",
    "SYNTHETIC_KINDS",
    "HarvestedShape",
    "MaskDraw",
    "MaskLibrary",
    "MaskSampler",
    "adjust_coverage",
    "box_mask",
    "coverage_bucket",
    "coverage_bucket_labels",
    "dihedral",
    "fractal_mask",
    "harvest_cloud_shapes",
    "key_rng",
    "stroke_mask",
]
