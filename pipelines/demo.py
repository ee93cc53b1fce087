"""`make demo`: run what s3inpaint does today, end to end, on built-in sample data.

Today that is: make sample products, describe them with quicklooks, and run the pipeline on
them (OlciExampleGen -> MaskGen -> StatisticsGen -> SchemaGen -> Transform -> Trainer, a small
two-stage GAN for a few steps) on the LocalDagRunner. Evaluation against baselines, pushing and
batch inpainting join the demo as they land.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipelines.cli import main as cli

NOT_YET = (
    "Not in the demo yet: the SsimEvaluator (model vs baselines) and Pusher, and batch "
    "inpainting with Beam are still to be built; this demo runs what exists."
)


def run_training(product_dir: Path, out: Path, patch_size: int, steps: int) -> None:
    """Run the pipeline on the demo products with a small model and print what it made."""
    from components.example_gen.config import IngestConfig
    from model.config import ModelConfig
    from pipelines.config import PipelineConfig
    from pipelines.local_runner import run_local
    from pipelines.outputs import count_records, latest_artifact

    root = out / "pipeline"
    config = PipelineConfig(
        pipeline_name="s3inpaint-demo",
        pipeline_root=str(root),
        metadata_path=str(root / "metadata.sqlite"),
        input_base=str(product_dir),
        input_pattern="*.SEN3",
        ingest=IngestConfig(patch_size=patch_size, min_valid=0.99),
        train_buckets=2,
        eval_buckets=1,
        model=ModelConfig(width=8, discriminator_width=8, batch_size=4, log_every=10),
        train_steps=steps,
    )
    print("\nPipeline (LocalDagRunner, DirectRunner, SQLite ML Metadata) ...")
    run_local(config)
    examples = latest_artifact(root, "MaskGen", "masked_examples")
    library = latest_artifact(root, "MaskGen", "mask_library")
    summary = json.loads((library / "summary.json").read_text())
    for split in ("train", "eval"):
        print(f"  {split:5} patches {count_records(examples / f'Split-{split}'):6d}")
    print(f"  real cloud shapes   {summary['real_shapes']} from {summary['products']} products")
    print(f"  mask preview        {library / 'masks.png'}")
    print(f"  bad inputs          {latest_artifact(root, 'OlciExampleGen', 'examples')}"
          "/bad_products.jsonl")  # fmt: skip
    print(f"  transform graph     {latest_artifact(root, 'Transform', 'transform_graph')}")
    model = latest_artifact(root, "Trainer", "model") / "Format-Serving"
    metadata = json.loads((model / "s3inpaint_model.json").read_text())
    print(f"  model               {model} ({metadata['kind']}, {metadata['steps']} steps)")
    errors = ", ".join(f"{k} {v:.3f}" for k, v in metadata["eval"].items())
    print(f"  eval (normalised)   {errors}")
    run_dir = latest_artifact(root, "Trainer", "model_run")
    print(f"  TensorBoard         tensorboard --logdir {run_dir}")


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
    run_training(product_dir, out, patch_size, steps)
    print(f"\nSample products: {product_dir}\nQuicklooks:      {look_dir}\n\n{NOT_YET}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("demo-output"))
    parser.add_argument("--products", type=int, default=4)
    parser.add_argument("--size", type=int, nargs=2, default=(384, 448), metavar=("H", "W"))
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--patch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=40, help="training steps of the demo model")
    args = parser.parse_args()
    return run(args.out, args.products, tuple(args.size), args.seed, args.patch_size, args.steps)


if __name__ == "__main__":
    sys.exit(main())
