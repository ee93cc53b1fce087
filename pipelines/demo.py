"""`make demo`: run what s3inpaint does today, end to end, on built-in sample data.

Today that is making sample products and describing them with quicklooks; the training pipeline
and batch inpainting join the demo as they land.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipelines.cli import main as cli

NOT_YET = (
    "Not in the demo yet: the training pipeline (ExampleGen -> Transform -> Trainer -> "
    "SsimEvaluator -> Pusher) and batch inpainting with Beam are still to be built; this demo "
    "runs what exists."
)


def run(out: Path, products: int, size: tuple[int, int], seed: int) -> int:
    product_dir, look_dir = out / "products", out / "quicklooks"
    code = cli(["sample-data", str(product_dir), "--products", str(products),
                "--size", str(size[0]), str(size[1]), "--seed", str(seed)])  # fmt: skip
    if code:
        return code
    paths = sorted(str(p) for p in product_dir.glob("*.SEN3"))
    code = cli(["info", *paths, "--quicklook", str(look_dir)])
    print(f"Sample products: {product_dir}\nQuicklooks:      {look_dir}\n\n{NOT_YET}")
    return code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("demo-output"))
    parser.add_argument("--products", type=int, default=3)
    parser.add_argument("--size", type=int, nargs=2, default=(384, 448), metavar=("H", "W"))
    parser.add_argument("--seed", type=int, default=2023)
    args = parser.parse_args()
    return run(args.out, args.products, tuple(args.size), args.seed)


if __name__ == "__main__":
    sys.exit(main())
