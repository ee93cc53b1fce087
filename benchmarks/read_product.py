"""Benchmark `open_product` against plain netCDF4 and h5py reads of the same 16 bands.

Run as `python benchmarks/read_product.py [--size H W] [--repeat N] [--output DIR]`. The sample
product is written once under the output folder (default `benchmarks/output/`) and reused. Every
measurement runs in a fresh subprocess, so its peak RSS (VmHWM, reset after the imports) is its
own and its timing excludes imports; the best of `--repeat` runs counts. Linux only (it reads
/proc/self). The figures are printed as a table and saved to `read_product.json` in the output
folder. A small `--size` (tests use 64 64) checks that the benchmark still runs.

Goals: reading all bands with s3inpaint takes at most 1.3x the time of the faster raw read, and
its peak memory (above the post-import baseline) is at most 1.5x the decoded float32 size.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import dask.array  # noqa: F401  (imported up front so the dask read's time excludes it)
import h5py
import netCDF4
import numpy as np
from page_cache import warm_page_cache

from components.olci import BAND_NAMES, BANDS, open_product
from components.sample.products import write_sample_product

OUTPUT = Path(__file__).resolve().parent / "output"
FULL_SIZE = (4091, 4865)
WINDOW = 512
DASK_CHUNKS = {"y": 1024, "x": 1024}
TIME_GOAL = 1.3  # s3inpaint time / raw time
MEMORY_GOAL = 1.5  # s3inpaint peak memory above baseline / decoded size
MB = 1e6


# --- the reads, each run in its own subprocess --------------------------------------------------


def read_s3inpaint(folder: Path) -> dict[str, np.ndarray]:
    """`open_product` and load the 16 bands (not the latitude/longitude coordinates)."""
    with open_product(folder) as ds:
        bands = ds[list(BAND_NAMES)].reset_coords(drop=True).load()
    return {name: bands[name].values for name in BAND_NAMES}


def read_s3inpaint_dask(folder: Path) -> dict[str, np.ndarray]:
    """`open_product` with dask chunks and compute the 16 bands."""
    with open_product(folder, chunks=DASK_CHUNKS) as ds:
        bands = ds[list(BAND_NAMES)].reset_coords(drop=True).compute()
    return {name: bands[name].values for name in BAND_NAMES}


def read_s3inpaint_window(folder: Path) -> dict[str, np.ndarray]:
    """`open_product` and load a WINDOW x WINDOW window of the 16 bands at the scene centre."""
    with open_product(folder) as ds:
        y0 = max(ds.sizes["y"] // 2 - WINDOW // 2, 0)
        x0 = max(ds.sizes["x"] // 2 - WINDOW // 2, 0)
        window = {"y": slice(y0, y0 + WINDOW), "x": slice(x0, x0 + WINDOW)}
        bands = ds[list(BAND_NAMES)].reset_coords(drop=True).isel(window).load()
    return {name: bands[name].values for name in BAND_NAMES}


def open_s3inpaint(folder: Path) -> dict[str, np.ndarray]:
    """`open_product` alone: metadata only, nothing decoded."""
    with open_product(folder):
        return {}


def read_netcdf4(folder: Path) -> dict[str, np.ndarray]:
    """netCDF4 with its default mask-and-scale, masked values filled with NaN."""
    out = {}
    for band in BANDS:
        with netCDF4.Dataset(folder / band.file_name) as nc:
            values = nc.variables[band.variable][:]
        out[band.name] = np.ma.filled(values.astype(np.float32, copy=False), np.nan)
    return out


def read_h5py(folder: Path) -> dict[str, np.ndarray]:
    """h5py reads of the packed integers, decoded to float32 with numpy."""
    out = {}
    for band in BANDS:
        with h5py.File(folder / band.file_name, "r") as f:
            var = f[band.variable]
            raw = var[...]
            scale = np.float32(var.attrs["scale_factor"].item())
            offset = np.float32(var.attrs["add_offset"].item())
            fill = var.attrs["_FillValue"].item()
        values = raw.astype(np.float32)
        values *= scale
        values += offset
        values[raw == fill] = np.nan
        out[band.name] = values
    return out


S3INPAINT, NETCDF4, H5PY = "s3inpaint", "netCDF4", "h5py"
DASK = f"s3inpaint dask {DASK_CHUNKS['y']}x{DASK_CHUNKS['x']} chunks"
READS: dict[str, Callable[[Path], dict[str, np.ndarray]]] = {
    S3INPAINT: read_s3inpaint,
    NETCDF4: read_netcdf4,
    H5PY: read_h5py,
    "s3inpaint open only": open_s3inpaint,
    f"s3inpaint {WINDOW}x{WINDOW} window": read_s3inpaint_window,
    DASK: read_s3inpaint_dask,
}
RAW_READS = (NETCDF4, H5PY)
FULL_READS = (S3INPAINT, NETCDF4, H5PY, DASK)  # these must decode the same values


@dataclass(frozen=True)
class Run:
    """One measured read.

    Wall time, peak RSS (absolute and above the post-import baseline), and the NaN count and sum
    of the decoded values, by which the reads are checked to agree.
    """

    seconds: float
    peak_mb: float
    peak_above_baseline_mb: float
    nan_count: int
    total: float


def memory_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status: VmRSS (now) or VmHWM (peak).

    Not `ru_maxrss`: on Linux a child's `ru_maxrss` starts at its parent's peak (the parent's
    memory is counted when the child execs), so it cannot show a child's own smaller peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024 / MB
    raise RuntimeError(f"/proc/self/status has no {field}")


def reset_peak_rss() -> None:
    """Lower this process's recorded peak RSS (VmHWM) to its current RSS, forgetting imports."""
    Path("/proc/self/clear_refs").write_text("5")


def measure_here(read: str, folder: Path) -> Run:
    """Run `read` on `folder` in this process; the caller is a fresh interpreter."""
    reset_peak_rss()
    baseline = memory_mb("VmRSS")
    start = time.perf_counter()
    bands = READS[read](folder)
    seconds = time.perf_counter() - start
    peak = memory_mb("VmHWM")
    for values in bands.values():
        if values.dtype != np.float32:
            raise TypeError(f"{read}: decoded {values.dtype}, expected float32")
    return Run(
        seconds=seconds,
        peak_mb=peak,
        peak_above_baseline_mb=peak - baseline,
        nan_count=sum(int(np.isnan(v).sum()) for v in bands.values()),
        total=sum(float(np.nansum(v, dtype=np.float64)) for v in bands.values()),
    )


def measure(read: str, folder: Path, repeat: int) -> Run:
    """The best time and the lowest peak of `repeat` runs, each in a fresh subprocess."""
    runs = []
    for _ in range(repeat):
        child = subprocess.run(
            [sys.executable, __file__, "--child", read, str(folder)],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(Run(**json.loads(child.stdout.splitlines()[-1])))
    best = min(runs, key=lambda r: r.seconds)
    lowest = min(runs, key=lambda r: r.peak_above_baseline_mb)
    return Run(
        seconds=best.seconds,
        peak_mb=lowest.peak_mb,
        peak_above_baseline_mb=lowest.peak_above_baseline_mb,
        nan_count=best.nan_count,
        total=best.total,
    )


# --- the product and the report ------------------------------------------------------------------


def sample_product(shape: tuple[int, int], output: Path) -> Path:
    """The cached sample product of `shape` (seed 0) under `output`, written on first use."""
    cache = output / f"product_{shape[0]}x{shape[1]}"
    found = sorted(cache.glob("*.SEN3"))
    if found:
        return found[0]
    print(f"writing a {shape[0]}x{shape[1]} sample product under {cache} ...", flush=True)
    return write_sample_product(cache, shape, seed=0)


def check_agreement(runs: dict[str, Run]) -> None:
    """Full-scene reads must decode the same values; raise naming the one that does not."""
    reference = runs[H5PY]
    for name in FULL_READS:
        run = runs[name]
        same_total = np.isclose(run.total, reference.total, rtol=1e-6)
        if run.nan_count != reference.nan_count or not same_total:
            raise RuntimeError(
                f"{name} decoded {run.nan_count} NaN and sum {run.total}; "
                f"{H5PY} decoded {reference.nan_count} NaN and sum {reference.total}"
            )


def summarise(shape: tuple[int, int], runs: dict[str, Run]) -> dict[str, object]:
    """The figures and the two goals."""
    decoded_mb = shape[0] * shape[1] * 4 * len(BAND_NAMES) / MB
    raw = min(RAW_READS, key=lambda name: runs[name].seconds)
    time_ratio = runs[S3INPAINT].seconds / runs[raw].seconds
    memory_ratio = runs[S3INPAINT].peak_above_baseline_mb / decoded_mb
    return {
        "shape": list(shape),
        "bands": len(BAND_NAMES),
        "decoded_mb": decoded_mb,
        "raw": raw,
        "time_ratio": time_ratio,
        "time_goal": TIME_GOAL,
        "time_pass": time_ratio <= TIME_GOAL,
        "memory_ratio": memory_ratio,
        "memory_goal": MEMORY_GOAL,
        "memory_pass": memory_ratio <= MEMORY_GOAL,
        "runs": {name: asdict(run) for name, run in runs.items()},
    }


def print_table(product: Path, summary: dict[str, object]) -> None:
    """The figures as a small text table."""
    rows, cols = summary["shape"]
    print(f"\n{product.name}\n{rows} x {cols}, {summary['bands']} bands, "
          f"decoded float32 size {summary['decoded_mb']:.1f} MB\n")  # fmt: skip
    print(f"{'read':<32} {'time (s)':>9} {'peak (MB)':>10} {'above baseline (MB)':>20}")
    for name, run in summary["runs"].items():
        print(f"{name:<32} {run['seconds']:>9.3f} {run['peak_mb']:>10.1f} "
              f"{run['peak_above_baseline_mb']:>20.1f}")  # fmt: skip
    verdict = {True: "PASS", False: "MISS"}
    print(f"\ntime s3inpaint / raw ({summary['raw']}): {summary['time_ratio']:.2f}x "
          f"(goal <= {TIME_GOAL}x) {verdict[summary['time_pass']]}")  # fmt: skip
    print(f"peak memory above baseline / decoded size: {summary['memory_ratio']:.2f}x "
          f"(goal <= {MEMORY_GOAL}x) {verdict[summary['memory_pass']]}")  # fmt: skip


def benchmark(shape: tuple[int, int], repeat: int, output: Path) -> dict[str, object]:
    """Measure every read on the sample product of `shape`, print and save the summary."""
    product = sample_product(shape, output)
    warm_page_cache(product)
    runs = {}
    for read in READS:
        runs[read] = measure(read, product, repeat)
        print(f"  {read}: {runs[read].seconds:.3f} s", flush=True)
    check_agreement(runs)
    summary = summarise(shape, runs)
    print_table(product, summary)
    output.mkdir(parents=True, exist_ok=True)
    (output / "read_product.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", nargs=2, type=int, default=FULL_SIZE, metavar=("H", "W"),
                        help="scene rows and columns (default: a full OLCI FR scene)")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3, help="runs per read; the best counts")
    parser.add_argument("--output", type=Path, default=OUTPUT, metavar="DIR",
                        help="sample product, read_product.json (default %(default)s)")  # fmt: skip
    parser.add_argument("--child", nargs=2, metavar=("READ", "PRODUCT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        read, folder = args.child
        print(json.dumps(asdict(measure_here(read, Path(folder)))))
        return
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, not {args.repeat}")
    benchmark(tuple(args.size), args.repeat, args.output)


if __name__ == "__main__":
    main()
