"""The TFX pipeline factory and runners, the Beam batch-inpainting job and the CLI."""
