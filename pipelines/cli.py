"""The `s3inpaint` command line: the runner layer's top, above the local runner, the batch job
and the Kubeflow compiler and scheduler, which it calls.

Each subcommand imports what it runs (xarray, TensorFlow, TFX, Beam, the KFP and Vertex
clients: seconds each) when it runs, so `s3inpaint --help` answers at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from pipelines.environment import quiet_libraries, use_keras_3

# InpaintConfig's fields that `s3inpaint inpaint` options set only when given, so that the
# defaults are InpaintConfig's own.
JOB_SETTINGS = (
    "tile",
    "halo",
    "block_tile_rows",
    "batch_size",
    "geotiff_bands",
    "quicklook",
    "overwrite",
    "eof",
)


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return value


def _parameter(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"must be NAME=VALUE, not {text}")
    return name, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="s3inpaint",
        description="Fill cloud gaps in Sentinel-3 OLCI Level-2 WFR ocean-colour products.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    info = sub.add_parser(
        "info",
        help="describe products: bands, size, time, valid / cloud / land fractions",
        description="Describe OLCI L2 WFR products (folders or zips, local or gs://).",
    )
    info.add_argument("products", nargs="+", metavar="PRODUCT")
    info.add_argument(
        "--quicklook",
        metavar="PNG",
        help=(
            "write a true-colour picture with the cloud mask: to PNG (.png is added when "
            "missing), or as <name>.png into PNG when it is a folder or several products are given"
        ),
    )
    info.add_argument("--json", action="store_true", help="print one JSON object per product")
    info.set_defaults(func=_info)

    sample = sub.add_parser(
        "sample-data",
        help="write synthetic, physically plausible L2 WFR products or a gridded series",
        description=(
            "Write synthetic OLCI L2 WFR products: ocean fields with fronts and eddies, "
            "bio-optical reflectance in all 16 bands, land, clouds with rims, consistent WQSF. "
            "With --series, write a daily gridded NetCDF series instead (see below). "
            "Deterministic for a seed."
        ),
    )
    sample.add_argument("out", metavar="OUT", help="output folder (with --series: the .nc file)")
    sample.add_argument("--products", type=_positive, default=None, metavar="N",
                        help="products to write (default 3)")  # fmt: skip
    sample.add_argument(
        "--size", type=_positive, nargs=2, default=None, metavar=("H", "W"),
        help="rows and columns (default 256 256, with --series 96 128; a full OLCI scene is "
        "4091 4865)",
    )  # fmt: skip
    sample.add_argument("--seed", type=int, default=0, metavar="S")
    sample.add_argument("--collection", choices=("003", "004"), default=None,
                        help="default 003")  # fmt: skip
    sample.add_argument(
        "--cloud-fraction", type=_fraction, default=None, metavar="F",
        help="share of the scene under cloud (default: drawn per product; with --series, the "
        "series' mean, default 0.4)",
    )  # fmt: skip
    sample.add_argument("--zip", action="store_true", help="write .SEN3.zip files")
    series = sample.add_argument_group(
        "gridded time series",
        "A CF NetCDF file on (time, lat, lon), 4 km cells: advected fronts and eddies, a bloom, "
        "drifting real and synthetic clouds, a land mask `land`, and for each variable V its "
        "gap-free truth V_truth. Read it with ingest kind netcdf, gridded: {variables: [V], "
        "mask_variable: land}.",
    )
    series.add_argument("--series", action="store_true", help="write the series to OUT")
    series.add_argument("--days", type=_positive, default=None, metavar="N",
                        help="daily time steps (default 30)")  # fmt: skip
    series.add_argument(
        "--variables", nargs="+", default=None, metavar="V",
        help="chlor_a, sst, Rrs_<nm> at an OLCI band, e.g. Rrs_443 (default chlor_a)",
    )  # fmt: skip
    sample.set_defaults(func=_sample_data)

    train = sub.add_parser(
        "train",
        help="run the training pipeline locally: train, evaluate against baselines, push",
        description=(
            "Run the TFX training pipeline on the LocalDagRunner (SQLite ML Metadata, Beam "
            "DirectRunner, local pipeline root): ExampleGen, MaskGen, StatisticsGen, SchemaGen, "
            "Transform, Trainer, SsimEvaluator, Pusher. The configuration file (YAML or JSON) "
            "holds the fields of pipelines.config.PipelineConfig; see the README."
        ),
    )
    train.add_argument("--config", required=True, metavar="FILE", help="YAML or JSON file")
    train.add_argument(
        "--steps", type=_positive, metavar="N", help="override train_steps of the file"
    )
    train.set_defaults(func=_train)

    history = sub.add_parser(
        "history",
        help="the models a local pipeline trained: data, warm start, comparison, push",
        description=(
            "List every model the pipeline's Trainer produced, from its ML Metadata: the spans "
            "it was trained on, the model it was warm-started from, the blessed model it was "
            "compared with, the verdict, and the serving version it was pushed to."
        ),
    )
    history.add_argument("--config", required=True, metavar="FILE", help="YAML or JSON file")
    history.add_argument("--json", action="store_true", help="print one JSON object per model")
    history.set_defaults(func=_history)

    inpaint = sub.add_parser(
        "inpaint",
        help="fill the cloudy water of whole products with a pushed model (Beam)",
        description=(
            "Fill cloudy water in OLCI L2 WFR products with a pushed model, as a Beam job: "
            "DirectRunner by default, Dataflow with --runner DataflowRunner --project P "
            "--region R --temp_location gs://... and --setup_file ./setup.py or "
            "--sdk_container_image. Unknown options go to Beam. Writes <name>.SEN3 (with "
            "s3inpaint_fill.nc), optionally <name>.png and <name>.tif, and each run's "
            "runs/<run id>/summary.json and dead_letter.jsonl (the latest also as summary.json "
            "and dead_letter.jsonl) under OUTPUT. One job at a time per OUTPUT (a lease). "
            "Re-runs skip complete outputs. A model trained on a gridded NetCDF series fills "
            "NetCDF series (--input 'series/*.nc'), each written as OUTPUT/<file name> with "
            "the gaps of its variables filled, a `filled` flag and <var>_uncertainty; the "
            "layout is the one the model was trained on, or --gridded-config. The same job "
            "fills GeoTIFFs (--input 'scenes/*.tif', one scene per file, bands named as "
            "training names them), each written as OUTPUT/<file name> with its georeferencing, "
            "type, nodata, descriptions and tags, beside <stem>.filled.tif (the flag) and "
            "<stem>.uncertainty.tif."
        ),
    )
    inpaint.add_argument("--model", required=True, metavar="DIR", help="pushed model folder")
    inpaint.add_argument(
        "--input", required=True, action="append", metavar="GLOB",
        help="products (folders or zips), NetCDF series or GeoTIFFs, local or gs://; repeatable",
    )  # fmt: skip
    inpaint.add_argument("--output", required=True, metavar="DIR", help="local or gs:// folder")
    # The job's settings default to InpaintConfig's (SUPPRESS: an option not given is absent).
    job = {"default": argparse.SUPPRESS}
    inpaint.add_argument(
        "--tile", type=_positive, metavar="PIXELS", **job,
        help="model window side (default: the model's training patch size, else 256)",
    )  # fmt: skip
    inpaint.add_argument(
        "--halo", type=int, metavar="PIXELS", **job,
        help="overlap per side, blended (default: tile / 8)",
    )  # fmt: skip
    inpaint.add_argument(
        "--block-tile-rows", type=_positive, metavar="N", **job,
        help="tile rows per row block (memory grows with it)",
    )  # fmt: skip
    inpaint.add_argument("--batch-size", type=_positive, **job, help="tiles per model call")
    inpaint.add_argument(
        "--geotiff-bands", nargs="+", metavar="BAND", **job,
        help="also write a GeoTIFF of these bands (with the filled flag), georeferenced by GCPs",
    )  # fmt: skip
    inpaint.add_argument(
        "--quicklook", action="store_true", **job, help="also write a before/after PNG"
    )
    inpaint.add_argument(
        "--gridded-config", metavar="FILE",
        help="YAML or JSON layout of gridded NetCDF inputs (the keys of ingest.gridded: "
        "variables, time_dim, y_dim, x_dim, mask_variable) or GeoTIFFs (variables: the "
        "model's bands; band_names: the names of the file's bands in order, else its band "
        "descriptions); default: the model's own",
    )  # fmt: skip
    inpaint.add_argument(
        "--overwrite", action="store_true", **job, help="redo complete outputs too"
    )
    inpaint.add_argument(
        "--eof", action="store_true", **job,
        help="NetCDF series: blend the model's fill with a DINEOF fill of the whole series, "
        "weighted by their uncertainties (the series must fit in memory)",
    )  # fmt: skip
    inpaint.add_argument(
        "--verbose", action="store_true",
        help="show TensorFlow's, CUDA's and Beam's start-up log and libraries' FutureWarnings",
    )  # fmt: skip
    inpaint.set_defaults(func=_inpaint)

    kubeflow = sub.add_parser(
        "kubeflow",
        help="Kubeflow Pipelines: compile the training pipeline",
        description="Compile the training pipeline for Kubeflow Pipelines v2 / Vertex.",
    )
    kfp_sub = kubeflow.add_subparsers(dest="kubeflow_command", required=True, metavar="ACTION")
    compile_ = kfp_sub.add_parser(
        "compile",
        help="write the PipelineSpec YAML of a training configuration",
        description=(
            "Compile the pipeline of a training configuration (as for `s3inpaint train`, with a "
            "gs:// pipeline_root) into a KFP v2 PipelineSpec YAML for the kfp Client or Vertex."
        ),
    )
    compile_.add_argument("--config", required=True, metavar="FILE", help="YAML or JSON file")
    compile_.add_argument("--image", required=True, help="the image built from kubeflow/Dockerfile")
    compile_.add_argument("--output", default="pipeline.yaml", metavar="YAML")
    compile_.add_argument("--trainer-gpus", type=int, default=1, metavar="N")
    compile_.add_argument("--gpu-type", default="NVIDIA_TESLA_T4", metavar="TYPE")
    compile_.set_defaults(func=_kubeflow_compile)

    schedule = kfp_sub.add_parser(
        "schedule",
        help="create a recurring (cron) run of a compiled pipeline on a KFP endpoint",
        description=(
            "Create a recurring run of a compiled PipelineSpec on a Kubeflow Pipelines endpoint "
            "(--host), or with --dry-run write the request it would send. Cron: crontab's five "
            "fields, or KFP's six (seconds first)."
        ),
    )
    schedule.add_argument("--pipeline", required=True, metavar="YAML", help="compiled spec")
    schedule.add_argument("--cron", required=True, help='e.g. "0 3 1 * *" (monthly)')
    schedule.add_argument("--name", required=True, help="the recurring run's display name")
    schedule.add_argument("--experiment", default="s3inpaint", help="experiment (by name)")
    schedule.add_argument("--pipeline-root", metavar="GS", help="default: the spec's")
    schedule.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", type=_parameter,
        help="a runtime parameter for every run, e.g. train_args='{\"num_steps\": 5000}'",
    )  # fmt: skip
    target = schedule.add_mutually_exclusive_group()
    target.add_argument("--host", metavar="URL", help="the KFP API endpoint")
    target.add_argument(
        "--vertex", metavar="PARENT",
        help="create a Vertex AI schedule in projects/PROJECT/locations/REGION instead",
    )  # fmt: skip
    schedule.add_argument(
        "--dry-run", metavar="JSON",
        help="write the request (KFP's, or Vertex's with --vertex) here; send nothing",
    )  # fmt: skip
    schedule.set_defaults(func=_kubeflow_schedule)
    return parser


def _info(args: argparse.Namespace) -> int:
    # Deferred (fast --help): reading products imports xarray.
    from components.olci import ProductError, open_product
    from components.olci.quicklook import write_quicklook
    from components.olci.summary import summarise

    several = len(args.products) > 1
    failures = 0
    for product in args.products:
        try:
            with open_product(product) as ds:
                summary = summarise(ds)
                if args.quicklook:
                    target = _quicklook_path(args.quicklook, summary.product_name, several)
                    out = write_quicklook(ds, target)
        except ProductError as err:
            failures += 1
            print(f"error: {err}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps({"path": product, **summary.as_dict()}))
        else:
            print(summary.text())
            if args.quicklook:
                print(f"quicklook   {out}")
            if several:
                print()
    return 1 if failures else 0


def _quicklook_path(target: str, product_name: str, several: bool) -> Path:
    """Where `info --quicklook target` writes a product's picture: `target/<name>.png` for a
    folder (or several products), else `target` with `.png` added when it has another suffix."""
    out = Path(target)
    if several or out.is_dir():
        return out / (Path(product_name).stem + ".png")
    return out if out.suffix.lower() == ".png" else out.with_name(out.name + ".png")


def _sample_data(args: argparse.Namespace) -> int:
    if args.series:
        return _sample_series(args)
    misplaced = [
        flag
        for flag, value in (("--days", args.days), ("--variables", args.variables))
        if value is not None
    ]
    if misplaced:
        print(f"s3inpaint sample-data: {', '.join(misplaced)} needs --series", file=sys.stderr)
        return 2
    # Deferred (fast --help): writing products imports xarray.
    from components.sample.products import write_sample_product

    for index in tqdm(range(args.products or 3), desc="sample products", unit="product"):
        path = write_sample_product(
            args.out,
            tuple(args.size or (256, 256)),
            args.seed,
            index=index,
            collection=args.collection or "003",
            cloud_fraction=args.cloud_fraction,
            as_zip=args.zip,
        )
        tqdm.write(str(path))
    return 0


def _sample_series(args: argparse.Namespace) -> int:
    given = (
        ("--products", args.products is not None),
        ("--collection", args.collection is not None),
        ("--zip", args.zip),
    )
    misplaced = [flag for flag, present in given if present]
    if misplaced:
        print(
            f"s3inpaint sample-data: {', '.join(misplaced)} is for products, not --series",
            file=sys.stderr,
        )
        return 2
    # Deferred (fast --help): writing a series imports xarray.
    from components.sample import series

    try:
        path = series.write_sample_series(
            args.out,
            tuple(args.size or series.DEFAULT_SHAPE),
            args.days or series.DEFAULT_DAYS,
            args.seed,
            variables=tuple(args.variables or (series.CHLOROPHYLL,)),
            cloud_fraction=(
                series.DEFAULT_CLOUD_FRACTION
                if args.cloud_fraction is None
                else args.cloud_fraction
            ),
        )
    except (OSError, ValueError) as error:
        print(f"s3inpaint sample-data: {error}", file=sys.stderr)
        return 2
    print(path)
    return 0


def _train(args: argparse.Namespace) -> int:
    # Deferred (fast --help): the configuration imports xarray, the pipeline TensorFlow and TFX.
    from components.olci.errors import MissingCredentialsError
    from pipelines.config import PipelineConfig

    overrides = {"train_steps": args.steps} if args.steps else {}
    try:
        config = PipelineConfig.load(args.config, **overrides)
    except (OSError, ValueError) as error:
        print(f"s3inpaint train: {error}", file=sys.stderr)
        return 2
    if config.model is None:
        print(f"s3inpaint train: {args.config}: model is null; nothing to train", file=sys.stderr)
        return 2
    # Deferred: as above.
    from components.evaluator.report import bucket_table, text_table
    from pipelines.local_runner import run_local
    from pipelines.outputs import training_outcome
    from pipelines.preflight import InputError

    try:
        run_local(config, progress=True)
    except (InputError, MissingCredentialsError) as error:
        print(f"s3inpaint train: {args.config}: {error}", file=sys.stderr)
        return 2
    outcome = training_outcome(config.pipeline_root, config.metadata_path)
    print(f"\n{text_table(outcome.metrics)}\n\ngap RMSE by mask coverage:")
    print(bucket_table(outcome.metrics))
    verdict = "BLESSED" if outcome.blessed else "NOT BLESSED"
    print(f"\n{verdict}: " + "; ".join(outcome.metrics["reasons"]))
    print(f"pushed to: {outcome.pushed_to}" if outcome.pushed_to else "not pushed")
    print(f"report: {outcome.report}")
    return 0


def _history(args: argparse.Namespace) -> int:
    # Deferred (fast --help): the configuration imports xarray, the lineage ML Metadata.
    from pipelines.config import PipelineConfig
    from pipelines.lineage import history_table, model_history

    try:
        config = PipelineConfig.load(args.config)
        records = model_history(config.metadata_path)
    except (OSError, ValueError) as error:
        print(f"s3inpaint history: {error}", file=sys.stderr)
        return 2
    if args.json:
        for record in records:
            print(json.dumps(record.to_dict(), sort_keys=True))
    elif records:
        print(history_table(records))
    else:
        print(f"{config.metadata_path}: no trained models yet")
    return 0


def _inpaint(args: argparse.Namespace) -> int:
    if not args.verbose:
        quiet_libraries()  # before TensorFlow is imported, here and in Beam's workers
    # Deferred (fast --help, and after quiet_libraries): the job imports Beam and xarray.
    from components.gridded import GriddedConfig
    from components.olci.storage import require_credentials
    from pipelines.inpaint.job import FAILED, InpaintConfig, run

    try:
        layout = GriddedConfig.load(args.gridded_config) if args.gridded_config else None
    except (OSError, ValueError) as error:
        print(f"s3inpaint inpaint: --gridded-config: {error}", file=sys.stderr)
        return 2
    given = {name: getattr(args, name) for name in JOB_SETTINGS if name in args}
    if "geotiff_bands" in given:
        given["geotiff_bands"] = tuple(given["geotiff_bands"])
    config = InpaintConfig(
        model=args.model, inputs=tuple(args.input), output=args.output, gridded=layout, **given
    )
    try:
        require_credentials(*config.inputs, config.output, config.model)
        summary = run(config, list(args.beam_args))
    except (OSError, ValueError) as error:
        print(f"s3inpaint inpaint: {error}", file=sys.stderr)
        return 2
    counts, seconds = summary["counts"], summary["seconds"]
    print(", ".join(f"{n} {state}" for state, n in counts.items()) + f" -> {args.output}")
    share = seconds["model"] / seconds["wall"]
    print(f"{seconds['wall']:.1f} s, {seconds['model']:.1f} s of them in the model ({share:.0%})")
    for outcome in summary["outcomes"]:
        if outcome["state"] == FAILED:
            print(f"failed: {outcome['input']}: {outcome['reason']}", file=sys.stderr)
    return 1 if counts[FAILED] else 0


def _kubeflow_compile(args: argparse.Namespace) -> int:
    # Deferred (fast --help): the compiler imports the KFP spec, the configuration xarray.
    from kubeflow.compile import KubeflowSettings, compile_pipeline
    from pipelines.config import PipelineConfig

    try:
        config = PipelineConfig.load(args.config)
        settings = KubeflowSettings(args.image, args.trainer_gpus, args.gpu_type)
        path = compile_pipeline(config, settings, args.output)
    except (OSError, ValueError) as error:
        print(f"s3inpaint kubeflow compile: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


def _kubeflow_schedule(args: argparse.Namespace) -> int:
    # Deferred (fast --help): the scheduler imports the KFP API client's types.
    from kubeflow import schedule

    if not (args.host or args.vertex or args.dry_run):
        print("s3inpaint kubeflow schedule: give --host, --vertex or --dry-run", file=sys.stderr)
        return 2
    common = {"name": args.name, "cron": args.cron, "pipeline_root": args.pipeline_root,
              "parameters": dict(args.param)}  # fmt: skip
    try:
        if args.vertex:
            request = schedule.vertex_schedule_request(args.pipeline, parent=args.vertex, **common)
            text = schedule.vertex_request_json(request)
        else:
            # The experiment's name is replaced by its id when sent.
            request = schedule.recurring_run_request(
                args.pipeline, experiment_id=args.experiment, **common
            )
            text = schedule.request_json(request)
    except (OSError, ValueError) as error:
        print(f"s3inpaint kubeflow schedule: {error}", file=sys.stderr)
        return 2
    if args.dry_run:
        Path(args.dry_run).write_text(text)
        print(f"wrote the request to {args.dry_run} (nothing sent)")
        return 0
    if args.vertex:
        created = schedule.create_vertex_schedule(request)
        print(f"created Vertex schedule {created.name} ({args.cron})")
        return 0
    created = schedule.create_schedule(args.host, args.experiment, request, args.pipeline)
    print(f"created recurring run {created.recurring_run_id} ({args.cron})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    use_keras_3()
    args, extra = build_parser().parse_known_args(argv)
    if extra and args.command != "inpaint":
        build_parser().error(f"unrecognized arguments: {' '.join(extra)}")
    args.beam_args = extra
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
