"""`make demo`: run what s3inpaint does, end to end, on built-in sample data.

Makes sample products, describes them with quicklooks, writes a training configuration and runs
`s3inpaint train --config` on it: OlciExampleGen -> MaskGen -> StatisticsGen -> SchemaGen ->
Transform -> Trainer (a small two-stage GAN for a few dozen steps) -> SsimEvaluator (against
biharmonic and mean fills) -> Pusher, on the LocalDagRunner, and lists the models trained so
far (`s3inpaint history`). The model corrects an in-graph biharmonic first guess and is blessed
only when it beats the mean and biharmonic fills. Then fills a held-out product with the pushed
model (or, when none is blessed, with this run's candidate, said so): `s3inpaint inpaint` (the
Beam job, DirectRunner), with its quicklook.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipelines.cli import main as cli
from pipelines.outputs import latest_artifact

# The demo model trains for about a minute on two cores. It corrects an in-graph biharmonic
# first guess, so it is blessed only when it beats both classical fills on the evaluation masks.
FILL_TILE = 128  # the batch job's tile for the held-out product (see `run`)
DEMO_CONFIG = """\
# s3inpaint training configuration (fields of pipelines.config.PipelineConfig)
pipeline_name: s3inpaint-demo
pipeline_root: pipeline
input_base: products
input_pattern: "*.SEN3"
ingest: {{patch_size: {patch_size}, min_valid: 0.99}}
train_buckets: 2
eval_buckets: 1
model: {{width: 8, discriminator_width: 8, batch_size: 4, log_every: 10, generator_lr: 0.001}}
train_steps: {steps}
evaluator:
  must_beat: [mean, biharmonic]
  panels_per_bucket: 2
"""


def run(
    out: Path, products: int, size: tuple[int, int], seed: int, patch_size: int, steps: int
) -> int:
    product_dir, look_dir = out / "products", out / "quicklooks"
    code = cli(["sample-data", str(product_dir), "--products", str(products),
                "--size", str(size[0]), str(size[1]), "--seed", str(seed)])  # fmt: skip
    if code:
        return code
    paths = sorted(str(p) for p in product_dir.glob("*.SEN3"))
    code = cli(["info", *paths, "--quicklook", str(look_dir)])
    if code:
        return code
    config = out / "train.yaml"
    config.write_text(DEMO_CONFIG.format(patch_size=patch_size, steps=steps))
    print(f"\n$ s3inpaint train --config {config}")
    code = cli(["train", "--config", str(config)])
    if code:
        return code
    print(f"\n$ s3inpaint history --config {config}")  # a second `make demo` adds a warm start
    code = cli(["history", "--config", str(config)])
    if code:
        return code
    held_out, filled = out / "held-out", out / "filled"
    cli(["sample-data", str(held_out), "--products", "1", "--size", str(size[0]), str(size[1]),
         "--seed", str(seed + 1000), "--cloud-fraction", "0.4"])  # fmt: skip
    model = _model_to_apply(out / "pipeline")
    # The job's default tile is the training patch (32 here); the held-out product's clouds are
    # wider, and tiles of FILL_TILE see more of their edges than anchored borders give.
    print(f"\n$ s3inpaint inpaint --model {model} --input '{held_out}/*' --output {filled} "
          f"--tile {FILL_TILE} --quicklook")  # fmt: skip
    code = cli(["inpaint", "--model", str(model), "--input", f"{held_out}/*",
                "--output", str(filled), "--tile", str(FILL_TILE), "--quicklook"])  # fmt: skip
    if code:
        return code
    print(f"\nSample products: {product_dir}\nQuicklooks:      {look_dir}")
    print(f"Filled product:  {filled} (before/after picture: {filled}/*.png)")
    print(f"TensorBoard:     tensorboard --logdir {out / 'pipeline' / 'Trainer'}")
    return 0


def _model_to_apply(root: Path) -> Path:
    """The newest pushed model (this run's, or an earlier blessed one); without one, this
    run's candidate, said to be unblessed, so the demo still shows the batch job."""
    serving = root / "serving"
    versions = sorted(p for p in serving.iterdir() if p.name.isdigit()) if serving.is_dir() else []
    if versions:
        return versions[-1]
    candidate = latest_artifact(root, "Trainer", "model") / "Format-Serving"
    print(f"\nNo model is blessed yet (it must beat the mean and biharmonic fills): filling "
          f"with this run's candidate {candidate} to show the batch job.")  # fmt: skip
    return candidate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("demo-output"))
    parser.add_argument("--products", type=int, default=4)
    parser.add_argument("--size", type=int, nargs=2, default=(384, 448), metavar=("H", "W"))
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--patch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=60, help="training steps of the demo model")
    args = parser.parse_args()
    return run(args.out, args.products, tuple(args.size), args.seed, args.patch_size, args.steps)


if __name__ == "__main__":
    sys.exit(main())
