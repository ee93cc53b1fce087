"""Every benchmark's small mode runs as `make bench` runs it (a script in a fresh interpreter)
and writes its figures, so a benchmark broken by a change fails here; the full-size figures
stay out of the tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each starts interpreters that import TensorFlow or Beam
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _bench(script: str, *args: str, output: Path, figures: str = "") -> dict:
    """Run benchmarks/`script` with `args` writing under `output`; the JSON it saved there
    (`figures`, by default named after the script)."""
    command = [sys.executable, str(BENCHMARKS / script), *args, "--output", str(output)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((output / (figures or script.replace(".py", ".json"))).read_text())


def test_read_product_small(tmp_path: Path) -> None:
    figures = _bench("read_product.py", "--size", "64", "64", "--repeat", "1", output=tmp_path)
    assert figures["shape"] == [64, 64]
    assert all(run["seconds"] > 0 for run in figures["runs"].values())
    assert figures["time_ratio"] > 0 and figures["memory_ratio"] > 0


def test_ingest_small(tmp_path: Path) -> None:
    figures = _bench("ingest.py", "--products", "1", "--size", "512", "512", "--repeat", "1",
                     "--modes", "in_memory", output=tmp_path)  # fmt: skip
    assert set(figures["runs"]) == {"raw read", "in_memory"}
    assert figures["runs"]["in_memory"]["patches"] > 0  # records written, checked against counters


def test_train_step_small(tmp_path: Path) -> None:
    figures = _bench("train_step.py", "--batch", "1", "--size", "32", "--steps", "1",
                     "--warmup", "1", "--kinds", "unet", output=tmp_path)  # fmt: skip
    (result,) = figures["results"]
    assert result["kind"] == "unet" and result["ms_per_step"] > 0


def test_inpaint_scene_small(tmp_path: Path) -> None:
    figures = _bench("inpaint_scene.py", "--size", "128", "128", "--width", "4", "--tile", "64",
                     "--halo", "8", output=tmp_path, figures="inpaint.json")  # fmt: skip
    assert figures["filled_pixels"] > 0 and figures["tiles"]["fill"] > 0
    # Time in the model is measured inside the job: some, and less than the job's wall.
    assert 0 < figures["model_seconds"] < figures["job_seconds"] < figures["process_seconds"]
    assert 0 < figures["share_in_model"] < 1 and figures["peak_rss_gb"] > 0


def test_inpaint_series_small(tmp_path: Path) -> None:
    figures = _bench("inpaint_series.py", "--days", "3", "--size", "64", "64", "--width", "4",
                     "--tile", "32", output=tmp_path)  # fmt: skip
    assert figures["filled_pixels"] > 0 and figures["tiles"]["fill"] > 0
    assert 0 < figures["model_seconds"] < figures["job_seconds"] < figures["process_seconds"]
    assert figures["model_scenes_per_second"] > figures["scenes_per_second"] > 0
    assert figures["peak_rss_gb"] > 0
