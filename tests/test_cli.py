"""The s3inpaint command line: fast help, info with quicklooks, sample data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import netCDF4
import numpy as np
import pytest

from components.olci import BAND_NAMES, open_product
from pipelines.cli import main


def test_help_imports_no_tensorflow() -> None:
    code = (
        "import sys; from pipelines.cli import build_parser; build_parser().format_help();"
        "heavy = [m for m in ('tensorflow', 'tfx', 'xarray', 'apache_beam') if m in sys.modules];"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_console_script_help() -> None:
    exe = Path(sys.executable).with_name("s3inpaint")
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True)
    assert "info" in out.stdout and "sample-data" in out.stdout


def test_main_pins_keras_3(monkeypatch) -> None:
    monkeypatch.delenv("TF_USE_LEGACY_KERAS", raising=False)
    with pytest.raises(SystemExit):
        main(["--help"])
    assert os.environ["TF_USE_LEGACY_KERAS"] == "0"


def test_info_text_and_quicklook(product: Path, tmp_path: Path, capsys) -> None:
    png = tmp_path / "look.png"
    assert main(["info", str(product), "--quicklook", str(png)]) == 0
    out = capsys.readouterr().out
    assert product.name in out
    assert "64 rows x 80 columns" in out
    assert " ".join(BAND_NAMES) in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_info_json_fractions_match_the_flags(product: Path, capsys) -> None:
    assert main(["info", "--json", str(product)]) == 0
    summary = json.loads(capsys.readouterr().out)
    with open_product(product) as ds:
        assert summary["valid_fraction"] == pytest.approx(float(ds.valid.mean()))
        assert summary["cloud_fraction"] == pytest.approx(float(ds.cloud.mean()))
        assert summary["land_fraction"] == pytest.approx(float(ds.land.mean()))
        gap = (~ds.valid.values & ~ds.land.values).mean()
        assert summary["gap_fraction"] == pytest.approx(float(gap))
        assert summary["rows"] == 64 and summary["columns"] == 80
        assert summary["start_time"] == ds.attrs["start_time"]


def test_info_says_a_product_without_water_has_no_gap(product: Path, tmp_path: Path,
                                                      capsys) -> None:  # fmt: skip
    """All flags cleared: no pixel is land, none is water; nothing is a gap (not "100 %")."""
    dry = Path(shutil.copytree(product, tmp_path / product.name))
    with netCDF4.Dataset(dry / "wqsf.nc", "a") as nc:
        nc["WQSF"][:] = 0
    assert main(["info", str(dry)]) == 0
    out = capsys.readouterr().out
    assert "water         0.0%" in out
    assert "gap           none  no water pixels: nothing to fill" in out
    assert main(["info", "--json", str(dry)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["water_fraction"] == summary["gap_fraction"] == 0.0


@pytest.mark.parametrize("target", ["folder", "no_suffix"])
def test_info_quicklook_reports_the_file_it_wrote(product: Path, tmp_path: Path, capsys,
                                                  target: str) -> None:  # fmt: skip
    given = tmp_path / "s003"
    if target == "folder":
        given.mkdir()
        written = given / product.name.replace(".SEN3", ".png")
    else:
        written = tmp_path / "s003.png"
    assert main(["info", str(product), "--quicklook", str(given)]) == 0
    assert f"quicklook   {written}\n" in capsys.readouterr().out
    assert written.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.rglob("*.png")) == [written.name]


def test_info_reports_bad_products_and_goes_on(product: Path, tmp_path: Path, capsys) -> None:
    code = main(["info", str(tmp_path / "missing.SEN3"), str(product)])
    captured = capsys.readouterr()
    assert code == 1
    assert f"{tmp_path / 'missing.SEN3'}: no such file or folder" in captured.err
    assert product.name in captured.out


def test_info_on_gcs(gcs, upload_folder, product: Path, capsys) -> None:
    gcs.create_bucket("cli-info")
    url = upload_folder(gcs, "cli-info", product, "p")
    assert main(["info", url]) == 0
    assert product.name in capsys.readouterr().out


def test_sample_data_is_deterministic(tmp_path: Path) -> None:
    args = ["--products", "2", "--size", "48", "40", "--seed", "3"]
    assert main(["sample-data", str(tmp_path / "a"), *args]) == 0
    assert main(["sample-data", str(tmp_path / "b"), *args]) == 0
    names_a = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names_a == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert len(names_a) == 2
    for name in names_a:
        with open_product(tmp_path / "a" / name) as a, open_product(tmp_path / "b" / name) as b:
            assert a.sizes == {"y": 48, "x": 40}
            for var in [*BAND_NAMES, "wqsf", "latitude", "longitude"]:
                np.testing.assert_array_equal(a[var].values, b[var].values, err_msg=var)
    assert main(["sample-data", str(tmp_path / "c"), "--products", "1", "--size", "48", "40",
                 "--seed", "4"]) == 0  # fmt: skip
    other = next((tmp_path / "c").iterdir())
    with open_product(other) as c, open_product(tmp_path / "a" / names_a[0]) as a:
        assert not np.array_equal(c.Oa04.values, a.Oa04.values, equal_nan=True)


def test_sample_data_zip_and_004(tmp_path: Path) -> None:
    args = ["--products", "1", "--size", "32", "32", "--collection", "004", "--zip"]
    assert main(["sample-data", str(tmp_path), *args]) == 0
    (archive,) = tmp_path.iterdir()
    assert archive.name.endswith("_004.SEN3.zip")
    with open_product(archive) as ds:
        assert ds.attrs["reflectance"] == "Rrs"


def test_history_before_any_run_names_the_missing_metadata(tmp_path: Path, capsys) -> None:
    config = tmp_path / "train.yaml"
    config.write_text("pipeline_name: p\npipeline_root: runs\ninput_base: products\n")
    assert main(["history", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "runs" / "metadata.sqlite") in err and "has the pipeline run?" in err
