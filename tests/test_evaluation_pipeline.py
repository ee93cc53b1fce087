"""End to end: train, evaluate against baselines, push; a crippled retrain is not pushed."""

from __future__ import annotations

import contextlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from components.evaluator.config import EvaluatorConfig
from components.example_gen.config import IngestConfig
from components.sample.products import write_sample_product
from model.config import CG_ITERATIONS, ModelConfig
from pipelines.cli import main
from pipelines.config import PipelineConfig
from pipelines.local_runner import run_local
from pipelines.outputs import latest_artifact

pytestmark = pytest.mark.slow

CRIPPLED = """\
pipeline_name: s3inpaint-eval-test
pipeline_root: {root}
input_base: {base}
input_pattern: "*"
ingest: {{patch_size: 16, min_valid: 0.99}}
train_buckets: 3
eval_buckets: 2
model: {{width: 4, discriminator_width: 4, batch_size: 4, generator_lr: 0.0, log_every: 1,
         classical_iterations: 0}}
train_steps: 2
warm_start: false
evaluator: {{must_beat: [], panels_per_bucket: 1}}
"""


@dataclass(frozen=True)
class Runs:
    root: Path
    serving: Path
    first_evaluation: Path
    first_model: Path
    cli_output: str
    cli_evaluation: Path  # the crippled run's evaluation
    warm_evaluation: Path  # a third run, warm-started from the blessed model, that learns nothing
    warm_model: Path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """A good first run (pushed), then `s3inpaint train` with a crippled config on the same
    metadata: its generator never learns (learning rate 0) and corrects the rough push-pull
    first guess (no biharmonic iterations); then the same config warm-started from the blessed
    model."""
    base = tmp_path_factory.mktemp("products")
    for seed in (31, 32, 33, 34, 35, 36):
        write_sample_product(base, (64, 64), seed, cloud_fraction=0.2)
    root = tmp_path_factory.mktemp("pipeline")
    run_local(
        PipelineConfig(
            pipeline_name="s3inpaint-eval-test",
            pipeline_root=str(root),
            input_base=str(base),
            ingest=IngestConfig(patch_size=16, min_valid=0.99),
            train_buckets=3,
            eval_buckets=2,
            model=ModelConfig(
                width=4, discriminator_width=4, batch_size=4, generator_lr=3e-3, log_every=10
            ),
            train_steps=40,
            evaluator=EvaluatorConfig(must_beat=(), panels_per_bucket=1),
        )
    )
    first_evaluation = latest_artifact(root, "SsimEvaluator", "evaluation")
    first_model = latest_artifact(root, "Trainer", "model")
    config = root / "crippled.yaml"
    config.write_text(CRIPPLED.format(root=root, base=base))
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        assert main(["train", "--config", str(config)]) == 0
    cli_evaluation = latest_artifact(root, "SsimEvaluator", "evaluation")
    warm = root / "warm.yaml"
    iterations = f"classical_iterations: {CG_ITERATIONS}"  # the first run's, its default
    warm.write_text(config.read_text().replace("warm_start: false", "warm_start: true")
                    .replace("classical_iterations: 0", iterations))  # fmt: skip
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["train", "--config", str(warm), "--steps", "1"]) == 0
    return Runs(
        root, root / "serving", first_evaluation, first_model, out.getvalue(), cli_evaluation,
        latest_artifact(root, "SsimEvaluator", "evaluation"),
        latest_artifact(root, "Trainer", "model"),
    )  # fmt: skip


def test_first_run_is_judged_against_baselines_and_pushed(runs: Runs) -> None:
    metrics = json.loads((runs.first_evaluation / "metrics.json").read_text())
    assert metrics["blessed"] is True
    assert metrics["blessed_model"] is None
    assert set(metrics["scores"]) == {"candidate", "biharmonic", "mean"}
    overall = metrics["scores"]["candidate"]["all"]
    assert overall["examples"] > 0 and overall["gap_rmse"] > 0
    assert overall["observed_rmse"] == 0.0  # observed pixels pass through the model unchanged
    # The model's sigma is scored for calibration, overall and by bucket; a baseline has none.
    assert 0.0 <= overall["within_1_sigma"] <= overall["within_2_sigma"] <= 1.0
    assert overall["z_std"] > 0
    assert metrics["scores"]["mean"]["all"]["within_1_sigma"] is None
    filled_buckets = [
        b for b in metrics["buckets"] if metrics["scores"]["candidate"][b]["examples"]
    ]
    assert all(metrics["scores"]["candidate"][b]["z_std"] for b in filled_buckets)
    assert (
        sum(metrics["scores"]["mean"][b]["examples"] for b in metrics["buckets"])
        == (overall["examples"])
    )
    # The deciding masks are real clouds of the other products (six of them, all cloudy).
    assert metrics["masks"]["transplanted"] == overall["examples"]
    synthetic = metrics["synthetic_masks"]
    assert set(synthetic["scores"]) == set(metrics["scores"])
    assert synthetic["masks"]["synthetic"] == synthetic["scores"]["candidate"]["all"]["examples"]
    assert synthetic["scores"]["mean"]["all"] != metrics["scores"]["mean"]["all"]
    report = (runs.first_evaluation / "report.html").read_text()
    assert "BLESSED" in report and "biharmonic" in report
    assert "real clouds of other scenes" in report and "Synthetic masks" in report
    assert list((runs.first_evaluation / "panels").glob("*.png"))

    versions = [p for p in runs.serving.iterdir() if p.is_dir()]
    assert len(versions) == 1
    pushed = versions[0]
    assert (pushed / "saved_model.pb").is_file() and (pushed / "s3inpaint_model.json").is_file()
    assert (runs.first_model / "Format-Serving" / "saved_model.pb").is_file()


def test_pushed_model_fills_gaps_and_keeps_observed_pixels(runs: Runs) -> None:
    # Deferred: model.export imports TensorFlow, seconds that collecting this module skips.
    from model.export import load_serving

    serve = load_serving(str(next(p for p in runs.serving.iterdir() if p.is_dir())))
    rng = np.random.default_rng(0)
    reflectance = rng.uniform(0.001, 0.05, (1, 16, 16, 16)).astype(np.float32)
    gap = np.zeros((1, 16, 16, 1), np.float32)
    gap[:, 4:12, 4:12] = 1
    filled = serve(reflectance=reflectance, gap=gap)["filled"].numpy()
    inside = gap[..., 0] > 0
    np.testing.assert_array_equal(filled[~inside], reflectance[~inside])
    assert np.isfinite(filled[inside]).all()


def test_crippled_retrain_is_compared_with_the_blessed_model_and_not_pushed(runs: Runs) -> None:
    evaluation = runs.cli_evaluation
    assert evaluation != runs.first_evaluation
    metrics = json.loads((evaluation / "metrics.json").read_text())
    assert metrics["blessed"] is False
    assert metrics["blessed_model"] == str(runs.first_model)
    scores = metrics["scores"]
    assert scores["candidate"]["all"]["gap_rmse"] > scores["blessed"]["all"]["gap_rmse"]
    assert any("does not beat blessed" in r for r in metrics["reasons"])
    assert len([p for p in runs.serving.iterdir() if p.is_dir()]) == 1  # nothing new pushed

    blessing = evaluation.parents[1] / "blessing" / evaluation.name
    assert (blessing / "NOT_BLESSED").is_file()


def test_train_command_shows_progress_table_and_report(runs: Runs) -> None:
    out = runs.cli_output
    done = re.findall(r"\[(\d)/9\] (\w+) done in \d+ s", out)
    assert [int(i) for i, _ in done] == list(range(1, 10))
    names = [name for _, name in done]
    assert names[0] == "OlciExampleGen" and names[-2:] == ["SsimEvaluator", "Pusher"]
    assert {"MaskGen", "Transform", "Trainer", "latest_blessed_model_resolver"} <= set(names)
    assert "gap RMSE" in out and "biharmonic" in out and "blessed" in out
    assert "NOT BLESSED" in out and "not pushed" in out
    assert "report: " in out and Path(out.split("report: ")[1].split()[0]).is_file()


def test_blessings_are_recorded_in_ml_metadata_for_the_resolver(runs: Runs) -> None:
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(runs.root / "metadata.sqlite")
    store = metadata_store.MetadataStore(config)
    blessings = sorted(store.get_artifacts_by_type("ModelBlessing"), key=lambda a: a.id)
    models = sorted(store.get_artifacts_by_type("Model"), key=lambda a: a.id)
    assert [b.custom_properties["blessed"].int_value for b in blessings] == [1, 0, 0]
    first, second, _ = blessings
    assert first.custom_properties["current_model_id"].int_value == models[0].id
    assert second.custom_properties["current_model_id"].int_value == models[1].id
    assert second.custom_properties["baseline_model_id"].int_value == models[0].id


def test_a_retrain_warm_starts_from_the_blessed_model(runs: Runs) -> None:
    first_meta = json.loads(
        (runs.first_model / "Format-Serving" / "s3inpaint_model.json").read_text()
    )
    meta = json.loads((runs.warm_model / "Format-Serving" / "s3inpaint_model.json").read_text())
    assert first_meta["warm_start"] is None  # a first run starts from scratch
    assert meta["warm_start"] == str(runs.first_model / "Format-Serving")
    # Learning rate 0: the blessed weights, unchanged, score exactly as the blessed model ...
    scores = json.loads((runs.warm_evaluation / "metrics.json").read_text())
    assert scores["scores"]["candidate"]["all"] == scores["scores"]["blessed"]["all"]
    # ... which is not better by the margin, so nothing new is pushed.
    assert scores["blessed"] is False
    assert len([p for p in runs.serving.iterdir() if p.is_dir()]) == 1
