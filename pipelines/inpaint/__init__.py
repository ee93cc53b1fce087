"""The Beam batch-inpainting job: products -> tiles with gaps -> RunInference -> blend -> write."""
