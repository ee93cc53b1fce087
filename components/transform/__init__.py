"""tf.Transform: per-band normalisation of patches, and its inverse for the model."""
