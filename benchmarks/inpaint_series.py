"""Benchmark filling a gridded NetCDF series: throughput in scenes/s and peak RSS.

Run as `python benchmarks/inpaint_series.py [--days N] [--size H W] [--width W] [--tile T]
[--output DIR]`. A daily series of one variable (`chlor_a`, float32, NaN under drifting cloud
fields covering ~40 % of each day; default one year of a 1000 x 1000 grid) is written once under
the output folder (default `benchmarks/output/`), one day at a time, so writing it holds one day
in memory. A cmunet generator of `--width` (the production default is 32) is exported untrained
(the forward pass costs the same) with the series' statistics, its gridded layout and `--tile`
as its training patch size, as the Trainer records them. The job runs in a fresh child process
as `s3inpaint inpaint` runs it (`pipelines.inpaint.job.run`: the model's layout, tiles of its
patch size), and the figures are the job's wall time, the time in the model (measured inside
the job's model handler), the throughput in scenes/s over the job's wall and over the model
time alone, and the child's peak RSS (goal: <= 2.5 GB, bounded whatever the series' length).
Figures go to `inpaint_series.json` in the output folder. A small run (tests use `--days 3
--size 64 64 --width 4 --tile 32`) checks that the benchmark still runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from pipelines.environment import quiet_libraries, use_keras_3

use_keras_3()
quiet_libraries()

import netCDF4  # noqa: E402
import numpy as np  # noqa: E402
from inpaint_scene import GOAL_RSS_GB, in_child, run_job  # noqa: E402

from components.sample.fields import power_law_noise, standardise, top_share  # noqa: E402
from model.config import ModelConfig  # noqa: E402

OUTPUT = Path(__file__).resolve().parent / "output"
VARIABLE = "chlor_a"
FILL = np.float32(-32767.0)
CLOUD_SHARE = 0.4
LAYOUT = {"variables": [VARIABLE], "time_dim": "time", "y_dim": "lat", "x_dim": "lon"}


def series(days: int, shape: tuple[int, int], output: Path) -> Path:
    """The cached series of `days` on a grid of `shape` under `output`, written day by day:
    a fixed log-normal field with a drifting daily part, under a drifting cloud field."""
    path = output / f"inpaint_series_{days}x{shape[0]}x{shape[1]}.nc"
    if path.exists():
        return path
    print(f"writing a {days}-day {shape[0]}x{shape[1]} series to {path} ...", flush=True)
    rng = np.random.default_rng(2024)
    base, weather = power_law_noise(shape, 3.5, rng), power_law_noise(shape, 3.0, rng)
    tmp = path.with_name(f".{path.name}.tmp")
    with netCDF4.Dataset(tmp, "w", format="NETCDF4") as nc:
        nc.createDimension("time", days)
        nc.createDimension("lat", shape[0])
        nc.createDimension("lon", shape[1])
        times = nc.createVariable("time", "i4", ("time",))
        times.setncatts({"units": "days since 2023-01-01", "standard_name": "time"})
        times[:] = np.arange(days)
        for name, size, units in (("lat", shape[0], "degrees_north"),
                                  ("lon", shape[1], "degrees_east")):  # fmt: skip
            coord = nc.createVariable(name, "f4", (name,))
            coord.units = units
            coord[:] = np.arange(size, dtype=np.float32) / 24
        var = nc.createVariable(VARIABLE, "f4", ("time", "lat", "lon"), zlib=True, complevel=4,
                                chunksizes=(1, *shape), fill_value=FILL)  # fmt: skip
        var.units = "mg m^-3"
        for day in range(days):
            drift = np.roll(weather, (3 * day, 5 * day), axis=(0, 1))
            field = 10 ** (0.5 * standardise(base + 0.3 * drift) - 0.5)
            field[top_share(np.roll(base, (7 * day, 11 * day), axis=(0, 1)) + drift,
                            CLOUD_SHARE)] = np.nan  # fmt: skip
            var[day] = field.astype(np.float32)
    tmp.replace(path)
    return path


def export(path: Path, width: int, tile: int, output: Path) -> Path:
    """An untrained one-band cmunet of `width` with the series' statistics, layout and patch."""
    # Deferred: TensorFlow (seconds) loads only to export the model.
    from model.export import export_model
    from model.gan import build_networks

    model = output / f"inpaint_series_model_w{width}_t{tile}"
    if model.exists():
        return model
    with netCDF4.Dataset(path) as nc:
        first = np.ma.filled(nc.variables[VARIABLE][0], np.nan)
    observed = first[np.isfinite(first)]
    config = ModelConfig(width=width)
    generator, _ = build_networks(config, 1)
    metadata = {"kind": config.kind, "steps": 0, "band_names": [VARIABLE], "patch_size": tile,
                "gridded": LAYOUT}  # fmt: skip
    export_model(str(model), generator, None, observed.mean(keepdims=True),
                 observed.std(keepdims=True), ("none",), metadata)  # fmt: skip
    return model


def job(path: Path, model: Path, output: Path) -> dict:
    """Run the job on the series in a fresh child process; its figures and the process wall."""
    out = output / "inpaint_series_out"
    shutil.rmtree(out, ignore_errors=True)
    settings = {"model": str(model), "inputs": [str(path)], "output": str(out)}
    return in_child(__file__, settings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365, help="scenes (default 365)")
    parser.add_argument("--size", nargs=2, type=int, default=(1000, 1000), metavar=("H", "W"),
                        help="grid rows and columns (default 1000 1000)")  # fmt: skip
    parser.add_argument("--width", type=int, default=32, help="generator width (default 32)")
    parser.add_argument(
        "--tile", type=int, default=128, help="the model's training patch: the job's tile"
    )
    parser.add_argument(
        "--output", type=Path, default=OUTPUT, metavar="DIR",
        help="series, model, job output, figures (default %(default)s)",
    )  # fmt: skip
    parser.add_argument("--child", metavar="SETTINGS", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_job(json.loads(args.child))))
        return 0
    args.output.mkdir(parents=True, exist_ok=True)
    path = series(args.days, tuple(args.size), args.output)
    model = export(path, args.width, args.tile, args.output)
    run = job(path, model, args.output)
    settings = {k: str(v) if k == "output" else v for k, v in vars(args).items() if k != "child"}
    figures = {
        "settings": settings,
        **run,
        "scenes_per_second": args.days / run["job_seconds"],
        "model_scenes_per_second": args.days / run["model_seconds"],
    }
    (args.output / "inpaint_series.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"series {args.days} x {args.size[0]}x{args.size[1]}, tiles {run['tiles']}, "
          f"{run['filled_pixels']} pixels filled")  # fmt: skip
    print(f"job {run['job_seconds']:.1f} s ({figures['scenes_per_second']:.3f} scenes/s), in the "
          f"model {run['model_seconds']:.1f} s ({figures['model_scenes_per_second']:.3f} "
          f"scenes/s); process {run['process_seconds']:.1f} s (imports included)")  # fmt: skip
    ok = run["peak_rss_gb"] <= GOAL_RSS_GB
    print(f"peak RSS {run['peak_rss_gb']:.2f} GB (goal <= {GOAL_RSS_GB} GB): "
          f"{'PASS' if ok else 'MISS'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
