"""Networks, losses, the GAN training step, the Trainer's run_fn and the export."""
