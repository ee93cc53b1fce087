"""Batch inpainting of whole scenes: tiling, skip rules and seam-free blending."""
