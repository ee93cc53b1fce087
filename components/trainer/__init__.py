"""Trainer: TFX's Trainer with MaskGen's mask library as an input channel."""
