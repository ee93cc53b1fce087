"""Benchmark batch inpainting of one scene: wall time, peak RSS, share of the wall in the model.

Run as `python benchmarks/inpaint_scene.py [--size H W] [--width W] [--tile T] [--halo H]
[--block-tile-rows N] [--batch-size B] [--quicklook] [--output DIR]`. A sample product of
`--size` (default a full scene, 4091 x 4865; 16 bands, its seeded cloud cover) is written once
under the output folder (default `benchmarks/output/`); a cmunet generator with `--width` (the
production default is 32) is exported untrained (the forward pass costs the same) with the
scene's band statistics. The job runs in a fresh child process as `s3inpaint inpaint` runs it
(`pipelines.inpaint.job.run`, DirectRunner, quiet). The job's model handler times every call of
the serving signature (a Beam distribution metric), so the time in the model is measured inside
the job: the share is that time over the job's wall time (`run` from start to summary), and over
the child process's wall (imports included). Peak RSS is the child's own (VmHWM). Goals: share
of the job's wall >= 85 %, peak RSS <= 2.5 GB. Other processes on the machine change the times
(and the share less): give the machine's load with the figures. Figures go to `inpaint.json`
in the output folder. A small run (tests use `--size 128 128 --width 4 --tile 64 --halo 8`)
checks that the benchmark still runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from pipelines.environment import quiet_libraries, use_keras_3

use_keras_3()
quiet_libraries()

import numpy as np  # noqa: E402

from components.olci import BAND_NAMES, open_product  # noqa: E402
from components.sample.products import write_sample_product  # noqa: E402
from model.config import ModelConfig  # noqa: E402

OUTPUT = Path(__file__).resolve().parent / "output"
FULL_SIZE = (4091, 4865)
GOAL_SHARE, GOAL_RSS_GB = 0.85, 2.5
GB = 2**30


def scene(shape: tuple[int, int], output: Path) -> Path:
    """The cached sample product of `shape` (seed 2024) under `output`."""
    folder = output / f"inpaint_scene_{shape[0]}x{shape[1]}"
    found = sorted(folder.glob("*.SEN3"))
    if found:
        return found[0]
    print(f"writing a {shape[0]}x{shape[1]} sample product under {folder} ...", flush=True)
    return write_sample_product(folder, shape, seed=2024)


def export(product: Path, width: int, output: Path) -> Path:
    """An untrained cmunet of `width`, exported with the scene's per-band mean and std."""
    # Deferred: TensorFlow (seconds) loads only to export the model.
    from model.export import export_model
    from model.gan import build_networks

    path = output / f"inpaint_model_w{width}"
    if path.exists():
        return path
    with open_product(product) as ds:
        sample = ds.isel(y=slice(None, None, 16), x=slice(None, None, 16))
        valid = sample["valid"].values
        values = np.stack([sample[b].values[valid] for b in BAND_NAMES], axis=-1)
    config = ModelConfig(width=width)
    generator, _ = build_networks(config, len(BAND_NAMES))
    metadata = {"kind": config.kind, "steps": 0, "band_names": list(BAND_NAMES)}
    untransformed = ("none",) * len(BAND_NAMES)
    export_model(str(path), generator, None, values.mean(0), values.std(0), untransformed, metadata)
    return path


def peak_rss_bytes() -> int:
    """This process's peak resident memory (VmHWM): its own, unlike a child's `ru_maxrss`,
    which on Linux starts at the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("/proc/self/status has no VmHWM")


def run_job(settings: dict) -> dict:
    """The job of `settings` (InpaintConfig's fields) in this process; its figures."""
    # Deferred: Beam (seconds) loads only where the job runs, in the measured child.
    from pipelines.inpaint.job import InpaintConfig, run

    summary = run(InpaintConfig(**{**settings, "inputs": tuple(settings["inputs"])}))
    (outcome,) = summary["outcomes"]
    if outcome["state"] != "written":
        raise RuntimeError(f"{outcome['input']}: {outcome['state']}: {outcome['reason']}")
    return {"job_seconds": summary["seconds"]["wall"],
            "model_seconds": summary["seconds"]["model"], "product_seconds": outcome["seconds"],
            "filled_pixels": outcome["filled_pixels"], "tiles": outcome["tiles"],
            "peak_rss_gb": peak_rss_bytes() / GB}  # fmt: skip


def job(product: Path, model: Path, args: argparse.Namespace) -> dict:
    """Run the job on the product in a fresh child process; its figures and the process wall."""
    out = args.output / "inpaint_out"
    shutil.rmtree(out, ignore_errors=True)
    settings = {"model": str(model), "inputs": [str(product)], "output": str(out),
                "tile": args.tile, "halo": args.halo, "block_tile_rows": args.block_tile_rows,
                "batch_size": args.batch_size, "quicklook": args.quicklook}  # fmt: skip
    return in_child(__file__, settings)


def in_child(script: str, settings: dict) -> dict:
    """`script --child SETTINGS` (which prints `run_job`'s figures) in a fresh process; its
    figures and the process's wall time."""
    start = time.perf_counter()
    child = subprocess.run([sys.executable, script, "--child", json.dumps(settings)],
                           stdout=subprocess.PIPE, text=True, check=True)  # fmt: skip
    wall = time.perf_counter() - start
    return {**json.loads(child.stdout.splitlines()[-1]), "process_seconds": wall}


def report(figures: dict) -> None:
    """Print the figures and the goals."""
    rows, cols = figures["settings"]["size"]
    share, share_process = figures["share_in_model"], figures["share_in_model_of_process"]
    print(f"scene {rows}x{cols}, tiles {figures['tiles']}, "
          f"{figures['filled_pixels']} pixels filled")  # fmt: skip
    print(f"job {figures['job_seconds']:.1f} s (product {figures['product_seconds']:.1f} s), "
          f"of it in the model {figures['model_seconds']:.1f} s; process "
          f"{figures['process_seconds']:.1f} s (imports included)")  # fmt: skip
    print(f"share in model {share:.0%} of the job's wall, {share_process:.0%} of the process's "
          f"(goal >= {GOAL_SHARE:.0%}): {'PASS' if share >= GOAL_SHARE else 'MISS'}")  # fmt: skip
    rss_ok = figures["peak_rss_gb"] <= GOAL_RSS_GB
    print(f"peak RSS {figures['peak_rss_gb']:.2f} GB (goal <= {GOAL_RSS_GB} GB): "
          f"{'PASS' if rss_ok else 'MISS'}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", nargs=2, type=int, default=FULL_SIZE, metavar=("H", "W"),
                        help="scene rows and columns (default: a full OLCI FR scene)")  # fmt: skip
    parser.add_argument("--width", type=int, default=32, help="generator width (default 32)")
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--halo", type=int, default=32)
    parser.add_argument("--block-tile-rows", type=int, default=1, help="the job's default")
    parser.add_argument("--batch-size", type=int, default=2, help="the job's default")
    parser.add_argument("--quicklook", action="store_true", help="the job also writes its PNG")
    parser.add_argument("--output", type=Path, default=OUTPUT, metavar="DIR",
                        help="scene, model, job output, figures (default %(default)s)")  # fmt: skip
    parser.add_argument("--child", metavar="SETTINGS", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_job(json.loads(args.child))))
        return 0
    args.output.mkdir(parents=True, exist_ok=True)
    product = scene(tuple(args.size), args.output)
    model = export(product, args.width, args.output)
    run = job(product, model, args)
    settings = {k: str(v) if k == "output" else v for k, v in vars(args).items() if k != "child"}
    figures = {
        "settings": settings,
        **run,
        "share_in_model": run["model_seconds"] / run["job_seconds"],
        "share_in_model_of_process": run["model_seconds"] / run["process_seconds"],
    }
    (args.output / "inpaint.json").write_text(json.dumps(figures, indent=2) + "\n")
    report(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
