"""Benchmark OlciExampleGen's ingest (products -> patch TFRecords) against a raw read.

Run as `python benchmarks/ingest.py [--products N] [--size H W] [--repeat R] [--modes M ...]
[--profile] [--output DIR]`. The sample products (seeds 0..N-1, cloud fraction 0.3) are written
once under `ingest/` of the output folder (default `benchmarks/output/`) and reused. The ingest
is a plain Beam pipeline on the DirectRunner: the ExampleGen executor's inputs resolved as its
`Do` resolves them, its `_InputToExamples`, then TFX's `WriteSplit` (serialize, reshuffle,
gzipped TFRecords), as the real ExampleGen writes a split. It runs `in_memory` and
`multi_processing` with 2 workers (`--modes` picks); only `pipeline.run()` is timed, not imports
nor construction. The raw reference is `open_product` + loading the 16 bands and the `valid` mask
of the same products. Every measurement runs in a fresh subprocess; the best of `--repeat` runs
counts. The figures are printed as a table and saved to `ingest.json` in the output folder. A
small run (tests use `--products 1 --size 256 256 --repeat 1 --modes in_memory`) checks that the
benchmark still runs.

Throughput is decoded input MB (16 float32 bands of every pixel) per second. Goal: the ingest's
throughput is at least 0.5x the raw read's.

`--profile` runs the in-memory ingest under cProfile and prints the top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from page_cache import warm_page_cache

from components.example_gen.config import IngestConfig
from components.olci import BAND_NAMES, open_product
from components.olci.storage import list_products
from components.sample.products import write_sample_product
from pipelines.environment import use_keras_3

OUTPUT = Path(__file__).resolve().parent / "output"
PROFILE = "profile.pstats"  # in the products' folder
PATTERN = "*.SEN3"
CLOUD_FRACTION = 0.3
PATCH_SIZE = 128
MULTI_WORKERS = 2
THROUGHPUT_GOAL = 0.5  # ingest MB/s / raw read MB/s
MB = 1e6

RAW = "raw read"
IN_MEMORY, MULTI = "in_memory", "multi_processing"
INGESTS = (IN_MEMORY, MULTI)  # the real code; the best of these is the figure
PROFILE_RUN = "profile"


@dataclass(frozen=True)
class Run:
    """One measured run: wall time, and what an ingest wrote (zero for the raw read)."""

    seconds: float
    pixels: int
    patches: int = 0
    output_bytes: int = 0


# --- the runs, each in its own subprocess ------------------------------------------------------


def read_raw(input_base: Path) -> Run:
    """`open_product` every product and load its 16 bands and `valid` mask into memory."""
    pixels = 0
    start = time.perf_counter()
    for path in list_products(str(input_base / PATTERN)):
        with open_product(path) as ds:
            loaded = ds[[*BAND_NAMES, "valid"]].reset_coords(drop=True).load()
        for name in BAND_NAMES:
            if loaded[name].dtype != np.float32:
                raise TypeError(f"{path}: {name} decoded as {loaded[name].dtype}, not float32")
        pixels += loaded.sizes["y"] * loaded.sizes["x"]
    return Run(seconds=time.perf_counter() - start, pixels=pixels)


def ingest_pipeline(input_base: Path, output: Path, mode: str) -> Any:
    """The Beam pipeline: `_InputToExamples` on `input_base`, one split written under `output`."""
    # Deferred: Beam and TFX (seconds) load only for the ingest, after main's use_keras_3().
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions
    from tfx.components.example_gen.write_split import WriteSplit
    from tfx.types import standard_component_specs
    from tfx.utils import proto_utils

    from components.example_gen import executor

    workers = MULTI_WORKERS if mode == MULTI else 1
    options = PipelineOptions(
        runner="DirectRunner", direct_running_mode=mode, direct_num_workers=workers
    )
    exec_properties = {
        standard_component_specs.INPUT_BASE_KEY: str(input_base),
        standard_component_specs.CUSTOM_CONFIG_KEY: proto_utils.proto_to_json(
            executor.pack_config(IngestConfig(patch_size=PATCH_SIZE))
        ),
        executor.OUTPUT_URI_KEY: str(output),
    }
    spans = executor.resolve_inputs(exec_properties, PATTERN)  # as the executor's Do
    exec_properties[executor.INPUTS_KEY] = sorted(p for paths in spans.values() for p in paths)
    pipeline = beam.Pipeline(options=options)
    _ = (
        pipeline
        | "InputToRecord" >> executor._InputToExamples(exec_properties, PATTERN)
        | "WriteSplit" >> WriteSplit(str(output / "Split-train"), "tfrecords_gzip")
    )
    return pipeline


def _patches_counted(result: Any) -> int:
    # Deferred: Beam and TFX (seconds) load only for the ingest, after main's use_keras_3().
    from apache_beam.metrics.metric import MetricsFilter

    from components.example_gen.executor import NAMESPACE

    query = MetricsFilter().with_namespace(NAMESPACE).with_name("patches")
    return sum(c.committed for c in result.metrics().query(query)["counters"])


def _check_output(output: Path, counted: int) -> tuple[int, int]:
    """The records and bytes written; raise if a product failed or the counts disagree."""
    # Deferred: TensorFlow (seconds) loads only to count the records, after main's use_keras_3().
    import tensorflow as tf

    from components.example_gen.executor import BAD_PRODUCTS

    failures = (output / BAD_PRODUCTS).read_text().splitlines()
    if failures:
        raise RuntimeError(f"{output / BAD_PRODUCTS}: {len(failures)} failed: {failures[0]}")
    files = sorted((output / "Split-train").glob("*.gz"))
    records = sum(1 for _ in tf.data.TFRecordDataset([str(f) for f in files], "GZIP"))
    if records != counted:
        raise RuntimeError(f"{output}: {records} records written, {counted} patches counted")
    return records, sum(f.stat().st_size for f in files)


def run_ingest(input_base: Path, mode: str, profile: bool = False) -> Run:
    """Build the ingest pipeline, time its run, and check what it wrote."""
    pixels = 0
    for path in list_products(str(input_base / PATTERN)):
        with open_product(path) as ds:
            pixels += ds.sizes["y"] * ds.sizes["x"]
    with tempfile.TemporaryDirectory(prefix="ingest-") as tmp:
        output = Path(tmp)
        pipeline = ingest_pipeline(input_base, output, MULTI if mode == MULTI else IN_MEMORY)
        profiler = cProfile.Profile() if profile else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        result = pipeline.run()
        result.wait_until_finish()
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - start
        if profiler:
            profiler.dump_stats(input_base / PROFILE)
        patches, output_bytes = _check_output(output, _patches_counted(result))
    return Run(seconds=seconds, pixels=pixels, patches=patches, output_bytes=output_bytes)


def measure_here(kind: str, input_base: Path) -> Run:
    """Run `kind` on the products under `input_base` in this process (a fresh interpreter)."""
    if kind == RAW:
        return read_raw(input_base)
    if kind == PROFILE_RUN:
        return run_ingest(input_base, IN_MEMORY, profile=True)
    return run_ingest(input_base, kind)


def measure(kind: str, input_base: Path, repeat: int) -> Run:
    """The fastest of `repeat` runs, each in a fresh subprocess."""
    runs = []
    for _ in range(repeat):
        child = subprocess.run(
            [sys.executable, __file__, "--child", kind, str(input_base)],
            capture_output=True,
            text=True,
        )
        if child.returncode:
            raise RuntimeError(f"{kind} on {input_base} failed:\n{child.stderr[-4000:]}")
        runs.append(Run(**json.loads(child.stdout.splitlines()[-1])))
    return min(runs, key=lambda r: r.seconds)


# --- the products and the report ---------------------------------------------------------------


def sample_products(count: int, shape: tuple[int, int], output: Path) -> Path:
    """The folder under `output` holding `count` cached sample products of `shape` (seeds
    0..count-1)."""
    folder = output / "ingest" / f"{count}x{shape[0]}x{shape[1]}"
    if len(list(folder.glob(PATTERN))) == count:
        return folder
    print(f"writing {count} {shape[0]}x{shape[1]} sample products under {folder} ...", flush=True)
    for seed in range(count):
        write_sample_product(folder, shape, seed=seed, cloud_fraction=CLOUD_FRACTION)
    found = len(list(folder.glob(PATTERN)))
    if found != count:
        raise RuntimeError(f"{folder}: {found} products, expected {count} (seeds name them alike?)")
    return folder


def summarise(count: int, shape: tuple[int, int], runs: dict[str, Run]) -> dict[str, object]:
    """Throughputs, ratios to the raw read, and the goal on the best real ingest."""
    pixels = runs[RAW].pixels
    decoded_mb = pixels * 4 * len(BAND_NAMES) / MB
    raw_mb_s = decoded_mb / runs[RAW].seconds
    table = {}
    for name, run in runs.items():
        mb_s = decoded_mb / run.seconds
        table[name] = {
            **asdict(run),
            "patches_per_s": run.patches / run.seconds,
            "mb_per_s": mb_s,
            "ratio": mb_s / raw_mb_s,
        }
    best = max((name for name in table if name != RAW), key=lambda name: table[name]["ratio"])
    return {
        "products": count,
        "shape": list(shape),
        "pixels": pixels,
        "bands": len(BAND_NAMES),
        "patch_size": PATCH_SIZE,
        "decoded_mb": decoded_mb,
        "best": best,
        "ratio": table[best]["ratio"],
        "goal": THROUGHPUT_GOAL,
        "pass": table[best]["ratio"] >= THROUGHPUT_GOAL,
        "runs": table,
    }


def print_table(summary: dict[str, object]) -> None:
    """The figures as a small text table."""
    rows, cols = summary["shape"]
    print(f"\n{summary['products']} products of {rows} x {cols}: {summary['pixels'] / 1e6:.2f} "
          f"Mpx, {summary['bands']} bands, decoded float32 {summary['decoded_mb']:.1f} MB; "
          f"{summary['patch_size']} px patches\n")  # fmt: skip
    print(f"{'run':<40} {'time (s)':>9} {'patches':>8} {'patches/s':>10} {'MB/s':>8} "
          f"{'vs raw':>7} {'TFRecord MB':>12}")  # fmt: skip
    for name, run in summary["runs"].items():
        if name == RAW:
            patches = per_s = written = "-"
        else:
            patches, per_s = str(run["patches"]), f"{run['patches_per_s']:.1f}"
            written = f"{run['output_bytes'] / MB:.1f}"
        print(f"{name:<40} {run['seconds']:>9.3f} {patches:>8} {per_s:>10} "
              f"{run['mb_per_s']:>8.1f} {run['ratio']:>7.2f} {written:>12}")  # fmt: skip
    verdict = "PASS" if summary["pass"] else "MISS"
    print(f"\ningest / raw read throughput ({summary['best']}): {summary['ratio']:.2f}x "
          f"(goal >= {summary['goal']}x) {verdict}")  # fmt: skip


def print_profile(path: Path, top: int = 25) -> None:
    """The functions of the profiled in-memory ingest (saved at `path`) that took the most time."""
    for key in ("tottime", "cumulative"):
        print(f"\n--- in-memory ingest under cProfile, top {top} by {key} ({path}) ---")
        pstats.Stats(str(path)).strip_dirs().sort_stats(key).print_stats(top)


def benchmark(
    count: int,
    shape: tuple[int, int],
    repeat: int,
    profile: bool,
    output: Path,
    modes: tuple[str, ...] = INGESTS,
) -> dict[str, object]:
    """Measure the raw read and every ingest on the sample products, print and save the summary."""
    input_base = sample_products(count, shape, output)
    warm_page_cache(input_base)
    runs = {}
    for kind in (RAW, *modes):
        runs[kind] = measure(kind, input_base, repeat)
        print(f"  {kind}: {runs[kind].seconds:.3f} s", flush=True)
    summary = summarise(count, shape, runs)
    print_table(summary)
    (output / "ingest.json").write_text(json.dumps(summary, indent=2) + "\n")
    if profile:
        measure(PROFILE_RUN, input_base, 1)
        print_profile(input_base / PROFILE)
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=4, help="sample products (default 4)")
    parser.add_argument("--size", nargs=2, type=int, default=(1024, 1024), metavar=("H", "W"),
                        help="scene rows and columns (default 1024 1024)")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; best counts")
    parser.add_argument("--profile", action="store_true", help="also profile the in-memory ingest")
    parser.add_argument("--modes", nargs="+", choices=INGESTS, default=list(INGESTS),
                        help="the DirectRunner modes to measure (default: both)")  # fmt: skip
    parser.add_argument("--output", type=Path, default=OUTPUT, metavar="DIR",
                        help="sample products and ingest.json (default %(default)s)")  # fmt: skip
    parser.add_argument("--child", nargs=2, metavar=("KIND", "INPUT_BASE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    use_keras_3()  # before anything imports TensorFlow, here and in every child
    if args.child:
        kind, input_base = args.child
        print(json.dumps(asdict(measure_here(kind, Path(input_base)))))
        return
    if args.products < 1:
        parser.error(f"--products must be at least 1, not {args.products}")
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, not {args.repeat}")
    if min(args.size) < PATCH_SIZE:
        parser.error(f"--size {args.size} is smaller than a {PATCH_SIZE} px patch")
    benchmark(args.products, tuple(args.size), args.repeat, args.profile, args.output,
              tuple(args.modes))  # fmt: skip


if __name__ == "__main__":
    main()
