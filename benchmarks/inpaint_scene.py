"""Benchmark batch inpainting of one full-size scene: wall time, peak RSS, share in the model.

Run as `python benchmarks/inpaint_scene.py [--width W] [--tile T] [--halo H]
[--block-tile-rows N]`. A full-size sample product (4091 x 4865, 16 bands, its seeded cloud
cover) is written once under `benchmarks/output/`; a cmunet generator with `--width` (the
production default is 32) is exported untrained (the forward pass costs the same) with the
scene's band statistics. The job, `s3inpaint inpaint` on the DirectRunner, runs in a child
process; its wall time and peak RSS are measured from outside. The reference pushes the same
tiles that hold a gap through the serving signature in one loop, timing only the forward calls:
that time over the job's is the share of wall time in the model. Goals: share >= 85 %, peak RSS
<= 2.5 GB. Figures go to `benchmarks/output/inpaint.json`.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from pipelines.environment import use_keras_3

use_keras_3()

import numpy as np  # noqa: E402

OUTPUT = Path(__file__).resolve().parent / "output"
SHAPE = (4091, 4865)
GOAL_SHARE, GOAL_RSS_GB = 0.85, 2.5


def scene() -> Path:
    from components.sample.products import write_sample_product

    folder = OUTPUT / "inpaint_scene"
    found = sorted(folder.glob("*.SEN3"))
    if found:
        return found[0]
    print("writing a full-size sample product (about a minute) ...", flush=True)
    return write_sample_product(folder, SHAPE, seed=2024)


def export(product: Path, width: int) -> Path:
    """An untrained cmunet of `width`, exported with the scene's per-band mean and std."""
    from components.olci import BAND_NAMES, open_product
    from model.config import ModelConfig
    from model.export import export_model
    from model.gan import build_networks

    path = OUTPUT / f"inpaint_model_w{width}"
    if path.exists():
        return path
    with open_product(product) as ds:
        sample = ds.isel(y=slice(None, None, 16), x=slice(None, None, 16))
        valid = sample["valid"].values
        values = np.stack([sample[b].values[valid] for b in BAND_NAMES], axis=-1)
    config = ModelConfig(width=width)
    generator, _ = build_networks(config, len(BAND_NAMES))
    metadata = {"kind": config.kind, "steps": 0, "band_names": list(BAND_NAMES)}
    export_model(str(path), generator, None, values.mean(0), values.std(0), False, metadata)
    return path


def reference(product: Path, model: Path, tile: int, halo: int, batch: int) -> dict:
    """The tiles that hold a gap, through the serving signature alone; only the calls timed."""
    import tensorflow as tf

    from components.inpaint.tiling import TileReason, plan_tiles, tile_needs_model
    from components.olci import open_product
    from pipelines.inpaint.model import read_model_info
    from pipelines.inpaint.scene import read_rows, tile_input

    info = read_model_info(str(model))
    serve = tf.saved_model.load(str(model)).signatures["serving_default"]
    counts = {r.value: 0 for r in TileReason}
    seconds, pending = 0.0, []

    def flush() -> float:
        refl = tf.constant(np.stack([p[0] for p in pending]))
        gap = tf.constant(np.stack([p[1] for p in pending]).astype(np.float32)[..., None])
        start = time.perf_counter()
        serve(reflectance=refl, gap=gap)["filled"].numpy()
        pending.clear()
        return time.perf_counter() - start

    serve(reflectance=tf.zeros((1, tile, tile, len(info.bands))), gap=tf.zeros((1, tile, tile, 1)))
    with open_product(product) as ds:
        plan = plan_tiles(ds.sizes["y"], ds.sizes["x"], tile, halo)
        for row in plan.rows:
            rows = range(row[0].row0, row[0].row0 + row[0].rows)
            reflectance, gap, water = read_rows(ds, rows, info.bands)
            for t in row:
                window = t.slices(rows.start)
                reason = tile_needs_model(gap[window], water[window])
                counts[reason.value] += 1
                if reason is TileReason.FILL:
                    pending.append(tile_input(reflectance, gap, t, tile, rows.start))
                    if len(pending) == batch:
                        seconds += flush()
        if pending:
            seconds += flush()
    return {"model_seconds": seconds, "tiles": counts}


def job(product: Path, model: Path, args: argparse.Namespace) -> dict:
    """Run `s3inpaint inpaint` on the product in a child process; wall time and peak RSS."""
    out = OUTPUT / "inpaint_out"
    shutil.rmtree(out, ignore_errors=True)
    command = [
        sys.executable, "-m", "pipelines.cli", "inpaint", "--model", str(model),
        "--input", str(product), "--output", str(out), "--tile", str(args.tile),
        "--halo", str(args.halo), "--block-tile-rows", str(args.block_tile_rows),
        "--batch-size", str(args.batch_size),
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, check=True)
    wall = time.perf_counter() - start
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    summary = json.loads((out / "summary.json").read_text())
    (outcome,) = summary["outcomes"]
    return {"wall_seconds": wall, "product_seconds": outcome["seconds"], "peak_rss_gb": peak_gb,
            "filled_pixels": outcome["filled_pixels"], "job_tiles": outcome["tiles"]}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--width", type=int, default=32, help="generator width (default 32)")
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--halo", type=int, default=32)
    parser.add_argument("--block-tile-rows", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    product = scene()
    model = export(product, args.width)
    ref = reference(product, model, args.tile, args.halo, args.batch_size)
    run = job(product, model, args)
    share = ref["model_seconds"] / run["product_seconds"]
    share_wall = ref["model_seconds"] / run["wall_seconds"]
    figures = {"settings": vars(args), **ref, **run, "share_in_model": share,
               "share_in_model_of_wall": share_wall}  # fmt: skip
    (OUTPUT / "inpaint.json").write_text(json.dumps(figures, indent=2))
    total = sum(ref["tiles"].values())
    print(f"scene {SHAPE[0]}x{SHAPE[1]}, tiles {total}: {ref['tiles']} "
          f"(the job's count: {run['job_tiles']})")  # fmt: skip
    print(f"model alone (reference) {ref['model_seconds']:.1f} s")
    print(f"job: product {run['product_seconds']:.1f} s, process wall {run['wall_seconds']:.1f} s "
          f"(imports, model load), {run['filled_pixels']} pixels filled")  # fmt: skip
    print(f"share in model {share:.0%} of the product's time, {share_wall:.0%} of the wall "
          f"(goal >= {GOAL_SHARE:.0%}): {'PASS' if share >= GOAL_SHARE else 'MISS'}")  # fmt: skip
    rss_ok = run["peak_rss_gb"] <= GOAL_RSS_GB
    print(f"peak RSS {run['peak_rss_gb']:.2f} GB (goal <= {GOAL_RSS_GB} GB): "
          f"{'PASS' if rss_ok else 'MISS'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
