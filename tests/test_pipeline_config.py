"""The training pipeline's configuration file and the `s3inpaint train` command's checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.evaluator.config import EvaluatorConfig
from components.example_gen.config import IngestConfig
from components.gridded import GriddedConfig
from model.config import ModelConfig
from pipelines.cli import main
from pipelines.config import PipelineConfig

YAML = """\
pipeline_name: sst-gaps
pipeline_root: runs/root
input_base: /archive
input_pattern: "span-{SPAN}/*.SEN3"
ingest: {patch_size: 64, bands: [Oa04, Oa06, Oa08]}
model: {kind: unet, width: 8, batch_size: 2}
evaluator: {margin: 0.02, must_beat: [mean]}
train_steps: 50
"""


def test_yaml_file_fills_nested_configs_and_defaults(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text(YAML)
    config = PipelineConfig.load(path)
    assert config.pipeline_root == str(tmp_path / "runs" / "root")  # relative to the file
    assert config.input_base == "/archive"
    assert config.metadata_path == str(tmp_path / "runs" / "root" / "metadata.sqlite")
    assert config.serving_dir == str(tmp_path / "runs" / "root" / "serving")
    assert config.ingest.patch_size == 64 and config.ingest.bands == ("Oa04", "Oa06", "Oa08")
    assert config.model == ModelConfig(kind="unet", width=8, batch_size=2)
    assert config.evaluator == EvaluatorConfig(margin=0.02, must_beat=("mean",))
    assert config.train_steps == 50 and config.mask_seed == 0
    assert PipelineConfig.load(path, train_steps=7).train_steps == 7


def test_json_round_trip(tmp_path: Path) -> None:
    config = PipelineConfig(
        pipeline_name="p", pipeline_root=str(tmp_path), input_base="gs://bucket/archive",
        model=None, serving_dir="gs://bucket/serving",
    )  # fmt: skip
    path = tmp_path / "config.json"
    path.write_text(config.to_json())
    assert PipelineConfig.load(path) == config


@pytest.mark.parametrize(
    "text, message",
    [
        ("- a list\n", "not a mapping"),
        ("pipeline_name: p\npipeline_root: r\ninput_base: b\ntrain_step: 3\n", "train_step"),
        ("pipeline_name: p\npipeline_root: r\ninput_base: b\nmodel: {kind: vit}\n", "vit"),
        ("pipeline_name: p\npipeline_root: r\n", "input_base"),
        ("pipeline_name: p\npipeline_root: r\ninput_base: b\ntrain_steps: 0\n", "train_steps"),
        ("pipeline_name: [unclosed\n", "train.yaml"),
        ("pipeline_name: p\npipeline_root: r\ninput_base: b\ningest: {bands: [Oa04, Oa06, Oa08]}"
         "\nmodel: {true_colour_bands: [Oa10, Oa06, Oa04]}\n",
         r"model.true_colour_bands names \['Oa10'\], not among ingest.bands \['Oa04', 'Oa06', "
         r"'Oa08'\]"),
        ("pipeline_name: p\npipeline_root: r\ninput_base: b\ningest: {bands: [Oa08]}\n"
         "evaluator: {primary: spectral_angle_deg}\n",
         r"evaluator.primary 'spectral_angle_deg' needs two or more bands"),

        ("pipeline_name: p\npipeline_root: r\ninput_base: b\ningest: {kind: netcdf, bands: "
         "[chlor_a, sst], gridded: {variables: [chlor_a, sst]}, transforms: {chl: log10}}\n",
         r"ingest: transforms name \['chl'\], which are not among bands \['chlor_a', 'sst'\]"),
        ("pipeline_name: p\npipeline_root: r\ninput_base: b\ningest: {bands: [Oa08], "
         "transforms: {Oa08: ln}}\n",
         r"ingest.transforms.Oa08: input should be 'none' or 'log10', got 'ln'"),
        # The one global flag has a single owner now: refused, naming what replaces it.
        ("pipeline_name: p\npipeline_root: r\ninput_base: b\ningest: {kind: netcdf, bands: "
         "[chlor_a, sst], gridded: {variables: [chlor_a, sst]}}\nlog_reflectance: true\n",
         r"log_reflectance has moved: set ingest.transforms.*log_reflectance: true was "
         r"ingest.transforms: \{chlor_a: log10, sst: log10\}"),
    ],
)  # fmt: skip
def test_bad_files_are_named_with_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "train.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as caught:
        PipelineConfig.load(path)
    assert str(path) in str(caught.value)


def test_train_command_reports_a_bad_file_without_running(tmp_path, capsys) -> None:
    assert main(["train", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml" in capsys.readouterr().err
    path = tmp_path / "nomodel.yaml"
    path.write_text("pipeline_name: p\npipeline_root: r\ninput_base: b\nmodel: null\n")
    assert main(["train", "--config", str(path)]) == 2
    assert "nothing to train" in capsys.readouterr().err


@pytest.mark.parametrize(
    "line, field, expected",
    [
        ('train_steps: "abc"', "train_steps", "valid integer, got 'abc' (str)"),
        ("train_steps: true", "train_steps", "valid integer, got True (bool)"),
        ("train_steps: 2.7", "train_steps", "valid integer, got 2.7 (float)"),
        ('ingest: {patch_size: "32"}', "ingest.patch_size", "valid integer, got '32' (str)"),
        ("pipeline_root: 123", "pipeline_root", "valid string, got 123 (int)"),
        ("warm_start: 1", "warm_start", "valid boolean, got 1 (int)"),
        ("model: {weights: {l1_gap: x}}", "model.weights.l1_gap", "valid number, got 'x'"),
        ("ingest: {bands: [Oa04, 6]}", "ingest.bands[1]", "valid string, got 6 (int)"),
        ("evaluator: {margin: true}", "evaluator.margin", "valid number, got True (bool)"),
        ("ingest: {kind: netcdf, gridded: {variables: [chl], y: 1}}", "unknown key",
         "'ingest.gridded.y'"),
    ],
)  # fmt: skip
def test_wrong_types_are_refused_naming_the_field(
    tmp_path: Path, line: str, field: str, expected: str
) -> None:
    fields = {"pipeline_name": "p", "pipeline_root": "r", "input_base": "b"}
    key = line.split(":")[0]
    text = "".join(f"{k}: {v}\n" for k, v in fields.items() if k != key) + line + "\n"
    path = tmp_path / "train.yaml"
    path.write_text(text)
    with pytest.raises(ValueError) as caught:
        PipelineConfig.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {field}"), message
    assert expected in message, message


def test_train_command_refuses_a_wrong_type_without_running(tmp_path: Path, capsys) -> None:
    path = tmp_path / "train.yaml"
    path.write_text("pipeline_name: p\npipeline_root: r\ninput_base: b\ntrain_steps: true\n")
    assert main(["train", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "train_steps: input should be a valid integer, got True (bool)" in err
    assert not (tmp_path / "r").exists()  # nothing ran


def test_sections_built_in_code_are_checked_too() -> None:
    with pytest.raises(ValueError, match=r"ModelConfig: width: .*got '8' \(str\)"):
        ModelConfig(width="8")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"PipelineConfig: train_steps: .*got True"):
        PipelineConfig(pipeline_name="p", pipeline_root="r", input_base="b", train_steps=True)


def test_gridded_section_is_typed_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text(
        "pipeline_name: p\npipeline_root: r\ninput_base: b\n"
        "ingest: {kind: netcdf, bands: [chl], gridded: {variables: [chlor_a], time_dim: t}}\n"
    )
    config = PipelineConfig.load(path)
    assert config.ingest.gridded == GriddedConfig(("chlor_a",), time_dim="t")
    assert PipelineConfig.from_json(config.to_json()) == config


def test_ingest_transforms_are_per_band_in_order() -> None:
    ingest = IngestConfig(kind="netcdf", bands=("sst", "chlor_a"), transforms={"chlor_a": "log10"},
                          gridded=GriddedConfig(variables=("sst", "chlor_a")))  # fmt: skip
    assert ingest.band_transforms == ("none", "log10")
    assert IngestConfig.from_json(ingest.to_json()) == ingest
    assert IngestConfig().band_transforms == ("none",) * 16
