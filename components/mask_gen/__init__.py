"""MaskGen: the gap-shape library and a fixed, seeded gap mask on every example."""
