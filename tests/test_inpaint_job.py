"""The batch-inpainting Beam job end to end: DirectRunner, local and gs:// (emulator)."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import rasterio
from damage import (
    all_fill_band,
    all_fill_latitude,
    corrupt_chunk,
    float_band_without_fill,
    nan_scale_factor,
)

from components.olci import BAND_NAMES, open_product, verify_product
from components.olci.format import BANDS, FILL_FILE
from components.olci.storage import materialise
from components.sample.products import write_sample_product
from pipelines.cli import main
from pipelines.environment import TF_LOG_ENV
from pipelines.inpaint.job import InpaintConfig, run
from pipelines.inpaint.lease import LEASE_FILE, Lease, LeaseHeldError
from pipelines.inpaint.outputs import output_problems
from pipelines.inpaint.scene import fill_mask

pytestmark = pytest.mark.slow
CONSTANT = 0.0123  # what the constant model puts in every gap pixel
SIGMA = 0.002  # the uncertainty the offset model gives every gap pixel
SMALL = dict(tile=32, halo=4, block_tile_rows=1, batch_size=4)
MARKER = 0.3  # a reflectance no sample ocean reaches: the failing models fail on it


def _save_model(
    path: Path,
    constant: float | None,
    offset: bool = False,
    sigma: float | None = None,
    on_marker: str | None = None,
) -> Path:
    """A SavedModel with the serving contract: identity, `constant` in the gap, or (`offset`)
    each band's mean over the tile's observed pixels plus `constant` in the gap; with `sigma`,
    that uncertainty in the gap too. With `on_marker`, a tile holding a reflectance above
    MARKER makes it fail: "raise" an error, "crop" a prediction smaller than the tiles."""
    # Deferred: TensorFlow takes seconds to import; collecting this module skips it.
    import tensorflow as tf

    class Model(tf.Module):
        @tf.function(
            input_signature=[
                tf.TensorSpec([None, None, None, len(BAND_NAMES)], tf.float32, "reflectance"),
                tf.TensorSpec([None, None, None, 1], tf.float32, "gap"),
            ]
        )
        def serve(self, reflectance, gap):
            if constant is None:
                return {"filled": reflectance}
            value = tf.fill(tf.shape(reflectance), constant)
            if offset:
                known = tf.math.is_finite(reflectance) & (gap < 0.5)
                total = tf.reduce_sum(tf.where(known, reflectance, 0.0), axis=[1, 2], keepdims=True)
                count = tf.reduce_sum(tf.cast(known, tf.float32), axis=[1, 2], keepdims=True)
                value += total / tf.maximum(count, 1.0)
            outputs = {"filled": tf.where(gap > 0.5, value, reflectance)}
            if sigma is not None:
                outputs["sigma"] = tf.where(gap > 0.5, tf.fill(tf.shape(reflectance), sigma), 0.0)
            marked = tf.reduce_any(reflectance > MARKER)
            if on_marker == "raise":
                check = tf.debugging.assert_equal(marked, False, message="a marked tile")
                with tf.control_dependencies([check]):
                    outputs = {k: tf.identity(v) for k, v in outputs.items()}
            elif on_marker == "crop":
                outputs = {k: tf.cond(marked, lambda v=v: v[:, 8:, 8:], lambda v=v: v)
                           for k, v in outputs.items()}  # fmt: skip
            return outputs

    module = Model()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
    meta = {"bands": len(BAND_NAMES), "band_names": list(BAND_NAMES), "stride": 8}
    if sigma is not None:
        meta["outputs"] = ["filled", "sigma"]
    (path / "s3inpaint_model.json").write_text(json.dumps(meta))
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    return {
        "identity": _save_model(root / "identity", None),
        "constant": _save_model(root / "constant", CONSTANT),
        "offset": _save_model(root / "offset", CONSTANT, offset=True, sigma=SIGMA),
        "raise": _save_model(root / "raise", CONSTANT, on_marker="raise"),
        "crop": _save_model(root / "crop", CONSTANT, on_marker="crop"),
    }


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """Three products (one zipped) and a product with a truncated band file."""
    base = tmp_path_factory.mktemp("archive")
    for seed in (41, 42):
        write_sample_product(base, (70, 90), seed, cloud_fraction=0.4)
    write_sample_product(base, (64, 64), 43, cloud_fraction=0.4, as_zip=True)
    good = write_sample_product(base / "tmp", (64, 64), 44, cloud_fraction=0.4)
    corrupt = base / good.name.replace("_MAR_", "_LN1_")
    shutil.move(good, corrupt)
    shutil.rmtree(base / "tmp")
    band = corrupt / "Oa07_reflectance.nc"
    band.write_bytes(band.read_bytes()[:2000])
    return base


def _raw(folder: Path, file: str, variable: str) -> np.ndarray:
    with netCDF4.Dataset(folder / file) as nc:
        nc.set_auto_maskandscale(False)
        return nc.variables[variable][:]


def _source(archive: Path, name: str) -> Path:
    candidates = [archive / name, archive / f"{name}.zip"]
    return materialise(next(p for p in candidates if p.exists())).folder


def test_identity_model_returns_the_input(models, archive, tmp_path) -> None:
    out = tmp_path / "out"
    summary = run(InpaintConfig(str(models["identity"]), (f"{archive}/*",), str(out), **SMALL))
    assert summary["counts"] == {"written": 3, "skipped": 0, "failed": 1}
    for outcome in summary["outcomes"]:
        if outcome["state"] != "written":
            continue
        product = Path(outcome["output"])
        assert verify_product(product) == []
        source = _source(archive, product.name)
        for band in BANDS:
            np.testing.assert_array_equal(
                _raw(product, band.file_name, band.variable),
                _raw(source, band.file_name, band.variable),
            )


def test_constant_model_fills_cloudy_water_only(models, archive, tmp_path) -> None:
    out = tmp_path / "out"
    config = InpaintConfig(str(models["constant"]), (f"{archive}/*",), str(out),
                           geotiff_bands=("Oa08", "Oa06"), quicklook=True, **SMALL)  # fmt: skip
    summary = run(config)
    written = [o for o in summary["outcomes"] if o["state"] == "written"]
    assert len(written) == 3
    for outcome in written:
        product = Path(outcome["output"])
        with open_product(_source(archive, product.name)) as before, open_product(product) as after:
            gap = fill_mask(before["valid"].values, before["land"].values, before["cloud"].values)
            filled = _raw(product, FILL_FILE, "filled").astype(bool)
            np.testing.assert_array_equal(filled, gap)  # every gap pixel, nothing else
            assert outcome["filled_pixels"] == int(gap.sum()) > 0
            for band in BAND_NAMES:
                a, b = before[band].values, after[band].values
                np.testing.assert_array_equal(a[~gap], b[~gap])  # observed, land, other invalid
                np.testing.assert_allclose(b[gap], CONSTANT, atol=1e-4)  # packed to uint16
        stem = product.name.removesuffix(".SEN3")
        assert (out / f"{stem}.png").is_file()
        with rasterio.open(out / f"{stem}.tif") as tif:
            assert tif.descriptions == ("Oa08", "Oa06", "filled") and tif.gcps[0]
            np.testing.assert_array_equal(tif.read(3).astype(bool), gap)
        assert outcome["tiles"]["fill"] > 0


def test_collections_003_and_004_are_filled_in_the_model_quantity(models, tmp_path) -> None:
    """The same scene stored as ρw (003) and Rrs = ρw/π (004) gets the same fill, by π apart:
    the job gives the model its own quantity (ρw) and converts the fill (and its uncertainty)
    back to each file's."""
    inputs = [write_sample_product(tmp_path / f"in{c}", (64, 64), 5, collection=c,
                                   cloud_fraction=0.4) for c in ("003", "004")]  # fmt: skip
    filled = []
    for product in inputs:
        out = tmp_path / f"out-{product.parent.name}"
        config = InpaintConfig(str(models["offset"]), (str(product),), str(out), **SMALL)
        assert run(config)["counts"]["written"] == 1
        with open_product(product) as before, open_product(out / product.name) as after:
            gap = fill_mask(before["valid"].values, before["land"].values, before["cloud"].values)
            assert gap.sum() > 0
            filled.append(np.stack([after[b].values[gap] for b in BAND_NAMES]))
            assert after.attrs["reflectance"] == before.attrs["reflectance"]
        for band in ("Oa01", "Oa08", "Oa21"):
            spread = _raw(out / product.name, FILL_FILE, f"{band}_uncertainty")
            assert np.isnan(spread[~gap]).all()
            expected = SIGMA if after.attrs["reflectance"] == "rho_w" else SIGMA / np.pi
            np.testing.assert_allclose(spread[gap], expected, rtol=1e-6)
    rho_w, rrs = filled
    assert not np.allclose(rho_w, CONSTANT, atol=1e-3)  # tile means + CONSTANT, not CONSTANT
    np.testing.assert_allclose(rrs * np.pi, rho_w, rtol=2e-3, atol=2e-5)


def test_undecodable_products_fail_with_their_reason(models, tmp_path, capfd) -> None:
    """Values that cannot be decoded or read fail their product, naming the file and the
    variable, in the summary and the dead-letter file; nothing is written for them and no
    traceback is printed."""
    source = write_sample_product(tmp_path / "source", (64, 64), 8, cloud_fraction=0.4)
    culprits = {}
    for i, (damage, variable) in enumerate((
        (nan_scale_factor, "Oa05_reflectance"),
        (all_fill_band, "Oa05_reflectance"),
        (all_fill_latitude, "latitude"),
        (corrupt_chunk, "Oa06_reflectance"),
        (float_band_without_fill, "Oa07_reflectance"),
    )):  # fmt: skip
        copy = tmp_path / "in" / source.name.replace("_MAR_", f"_D{i:02d}_")
        shutil.copytree(source, copy)
        culprits[str(copy)] = (damage(copy), variable)
    out = tmp_path / "out"
    summary = run(InpaintConfig(str(models["constant"]), (f"{tmp_path}/in/*",), str(out),
                                geotiff_bands=("Oa08",), **SMALL))  # fmt: skip
    assert summary["counts"] == {"written": 0, "skipped": 0, "failed": len(culprits)}
    dead = [json.loads(line) for line in (out / "dead_letter.jsonl").read_text().splitlines()]
    assert {d["input"] for d in dead} == set(culprits)
    for letter in dead:
        culprit, variable = culprits[letter["input"]]
        assert letter["reason"].startswith(f"CorruptFileError: {culprit}: variable {variable!r} ")
    assert not list(out.glob("*.SEN3")) and not list(out.glob("*.tif"))
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda data: data[: len(data) // 2], "not a readable SavedModel, truncated or corrupt"),
        (lambda data: b"", "no 'serving_default' signature"),
        (lambda data: b"not a protocol buffer\n" * 20, "not a readable SavedModel"),
    ],
    ids=["truncated", "empty", "garbage"],
)
def test_a_damaged_saved_model_is_refused_before_any_product_is_read(
    models, product, tmp_path, damage, problem
) -> None:
    model = Path(shutil.copytree(models["constant"], tmp_path / "model"))
    pb = model / "saved_model.pb"
    pb.write_bytes(damage(pb.read_bytes()))
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=f"^{pb}: {problem}"):
        run(InpaintConfig(str(model), (str(product),), str(out), **SMALL))
    assert not out.exists()


@pytest.mark.parametrize("where", ["is", "inside", "contains"])
def test_an_output_overlapping_an_input_is_refused(models, tmp_path, where) -> None:
    product = write_sample_product(tmp_path / "inout", (64, 64), 6, cloud_fraction=0.4)
    output = {"is": product, "inside": product / "filled", "contains": product.parent}[where]
    config = InpaintConfig(str(models["constant"]), (f"{product.parent}/*.SEN3",), str(output),
                           overwrite=True, **SMALL)  # fmt: skip
    with pytest.raises(ValueError, match=f"--output {output} .*the input {product}"):
        run(config)
    assert verify_product(product) == []  # the input is untouched
    assert not (output / "summary.json").exists()


def test_outcomes_dead_letter_and_resume(models, archive, tmp_path) -> None:
    out = tmp_path / "out"
    config = InpaintConfig(str(models["constant"]), (f"{archive}/*", f"{archive}/none*"),
                           str(out), quicklook=True, **SMALL)  # fmt: skip
    first = run(config)
    assert first["counts"] == {"written": 3, "skipped": 0, "failed": 2}
    reasons = {Path(o["input"]).name: o["reason"] for o in first["outcomes"]}
    corrupt = next(name for name in reasons if "_LN1_" in name)
    assert "Oa07_reflectance.nc" in reasons[corrupt]
    assert reasons["none*"] == "matches nothing"
    dead = [json.loads(line) for line in (out / "dead_letter.jsonl").read_text().splitlines()]
    assert sorted(Path(d["input"]).name for d in dead) == sorted([corrupt, "none*"])
    assert not (out / ".s3inpaint-work").exists()  # no staged blocks, no empty folders
    assert not (out / LEASE_FILE).exists()  # released

    # A re-run skips verified outputs; a torn one (a file cut short) is redone; a complete
    # product whose quicklook was deleted gets its quicklook again, not a second fill.
    torn, kept = sorted(out.glob("*.SEN3"))[:2]
    (torn / "Oa01_reflectance.nc").write_bytes(b"torn")
    quicklook = out / kept.name.replace(".SEN3", ".png")
    quicklook.unlink()
    kept_mtime = (kept / "Oa01_reflectance.nc").stat().st_mtime_ns
    again = run(config)
    outcomes = {Path(o["input"]).name.removesuffix(".zip"): o for o in again["outcomes"]}
    assert outcomes[torn.name]["state"] == "written"
    assert [o["state"] for o in outcomes.values()].count("skipped") == 2
    assert outcomes[kept.name]["state"] == "skipped"
    assert outcomes[kept.name]["reason"] == f"a complete output exists; made {quicklook.name} again"
    assert quicklook.is_file() and (kept / "Oa01_reflectance.nc").stat().st_mtime_ns == kept_mtime
    assert all(verify_product(p) == [] for p in out.glob("*.SEN3"))
    assert not (out / ".s3inpaint-work").exists()

    # Each run keeps its own record; summary.json beside the products is the latest run's.
    assert first["run"]["id"] != again["run"]["id"]
    for summary in (first, again):
        record = out / "runs" / summary["run"]["id"]
        timing = summary.pop("seconds")  # measured after the record is written: returned only
        assert 0 < timing["model"] < timing["wall"]
        assert json.loads((record / "summary.json").read_text()) == summary
        assert len((record / "dead_letter.jsonl").read_text().splitlines()) == 2
    assert json.loads((out / "summary.json").read_text()) == again
    assert first["counts"] == {"written": 3, "skipped": 0, "failed": 2}  # not overwritten


def test_a_second_job_on_the_same_output_is_refused(models, archive, tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    config = InpaintConfig(str(models["constant"]), (f"{archive}/*",), str(out), **SMALL)
    with Lease(str(out), "the-first-run"):
        owner = rf"run the-first-run \(host .+, pid {os.getpid()}\) until 20"
        with pytest.raises(LeaseHeldError, match=f"--output {out} is in use by .*: {owner}"):
            run(config)
        assert [p.name for p in out.iterdir()] == [LEASE_FILE]  # nothing read, nothing written


@pytest.fixture(scope="module")
def marked_archive(tmp_path_factory) -> tuple[Path, Path]:
    """(an archive of three products, the one whose Oa01 holds MARKER and above everywhere)."""
    base = tmp_path_factory.mktemp("marked")
    for seed in (51, 52):
        write_sample_product(base, (64, 64), seed, cloud_fraction=0.4)
    marked = write_sample_product(base, (64, 64), 53, cloud_fraction=0.4)
    marked = marked.rename(base / marked.name.replace("_MAR_", "_BAD_"))
    with netCDF4.Dataset(marked / "Oa01_reflectance.nc", "a") as nc:
        var = nc.variables["Oa01_reflectance"]
        var.set_auto_maskandscale(False)
        raw = var[:]
        value = round((2 * MARKER - var.add_offset) / var.scale_factor)
        var[:] = np.where(raw == var._FillValue, raw, value).astype(raw.dtype)
    return base, marked


@pytest.mark.parametrize("failure", ["raise", "crop"])
def test_a_product_the_model_or_blend_fails_on_is_a_dead_letter_and_others_go_on(
    models, marked_archive, tmp_path, failure
) -> None:
    base, marked = marked_archive
    out = tmp_path / "out"
    summary = run(InpaintConfig(str(models[failure]), (f"{base}/*",), str(out), **SMALL))
    assert summary["counts"] == {"written": 2, "skipped": 0, "failed": 1}
    (failed,) = [o for o in summary["outcomes"] if o["state"] == "failed"]
    assert failed["input"] == str(marked)
    expected = {"raise": r"the model failed on row block \d+: .*a marked tile",
                "crop": r"blending row block \d+ failed: \w+Error"}[failure]  # fmt: skip
    assert re.match(expected, failed["reason"]), failed["reason"]
    dead = [json.loads(line) for line in (out / "dead_letter.jsonl").read_text().splitlines()]
    assert dead == [{"input": str(marked), "reason": failed["reason"]}]
    assert sorted(p.name for p in out.glob("*.SEN3")) == sorted(
        p.name for p in base.glob("*.SEN3") if p != marked
    )
    assert all(verify_product(p) == [] for p in out.glob("*.SEN3"))
    assert not (out / ".s3inpaint-work").exists()  # the failed product's staged blocks too


@pytest.fixture
def read_only_folder(tmp_path) -> Path:
    """A folder this process cannot write: a read-only tmpfs for root, else a mode-555 folder."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    mount = ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)]
    if subprocess.run(mount, capture_output=True).returncode:
        pytest.skip("root without the right to mount: no way to make a read-only folder")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize("case", ["file", "under_a_file", "read_only", "full"])
def test_an_unusable_output_is_refused_before_any_product_is_read(
    models, tmp_path, case, request
) -> None:
    product = write_sample_product(tmp_path / "in", (64, 64), 7, cloud_fraction=0.4)
    output = tmp_path / "out"
    if case == "file":
        output.write_text("not a folder")
        expected = f"--output {output} is a file, not a folder"
    elif case == "under_a_file":
        (tmp_path / "file").write_text("not a folder")
        output = tmp_path / "file" / "out"
        expected = f"--output {output} cannot be written: Not a directory"
    elif case == "read_only":
        output = request.getfixturevalue("read_only_folder")
        expected = f"--output {output} cannot be written: (Read-only file system|Permission denied)"
    else:  # a product larger than the disk's free space (a sparse file: it takes no room)
        with open(product / "padding.bin", "wb") as f:
            f.truncate(1 << 43)
        expected = rf"--output {output} has .* free; the first product needs about 13\.2 TB"
    config = InpaintConfig(str(models["constant"]), (f"{product.parent}/*",), str(output), **SMALL)
    with pytest.raises(ValueError, match=expected):
        run(config)
    assert not output.is_dir() or list(output.iterdir()) == []  # no summary, no product


def test_the_command_line_exits_2_on_an_unusable_output(models, tmp_path, capsys) -> None:
    product = write_sample_product(tmp_path / "in", (64, 64), 7, cloud_fraction=0.4)
    (tmp_path / "out").write_text("not a folder")
    code = main(["inpaint", "--model", str(models["constant"]), "--input", str(product),
                 "--output", str(tmp_path / "out")])  # fmt: skip
    assert code == 2
    assert f"--output {tmp_path / 'out'} is a file, not a folder" in capsys.readouterr().err


def test_a_killed_job_leaves_no_torn_output(models, archive, tmp_path) -> None:
    out = tmp_path / "out"
    command = [
        sys.executable, "-m", "pipelines.cli", "inpaint", "--model", str(models["constant"]),
        "--input", f"{archive}/*", "--output", str(out), "--tile", "32", "--halo", "4",
        "--block-tile-rows", "1",
    ]  # fmt: skip
    job = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)  # fmt: skip
    deadline = time.time() + 180
    while time.time() < deadline and not list(out.glob(".*.tmp-*")) and job.poll() is None:
        time.sleep(0.05)
    assert job.poll() is None, "the job ended before a product was being written"
    os.killpg(job.pid, signal.SIGKILL)
    job.wait()
    assert list(out.glob(".*.tmp-*"))  # killed while writing
    for product in out.glob("*.SEN3"):  # whatever exists under a final name is complete
        assert verify_product(product) == []
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr[-2000:]  # the corrupt product fails again
    assert len(list(out.glob("*.SEN3"))) == 3
    assert all(verify_product(p) == [] for p in out.glob("*.SEN3"))


def test_gcs_in_and_out(models, archive, gcs, upload_folder, tmp_path) -> None:
    gcs.create_bucket("inpaint")
    for product in sorted(archive.glob("*.SEN3")):
        if "_LN1_" not in product.name:
            upload_folder(gcs, "inpaint", product, "in")
    zipped = next(archive.glob("*.zip"))
    gcs.bucket("inpaint").blob(f"in/{zipped.name}").upload_from_filename(str(zipped))
    config = InpaintConfig(str(models["constant"]), ("gs://inpaint/in/*",), "gs://inpaint/out",
                           quicklook=True, **SMALL)  # fmt: skip
    summary = run(config, ["--no_auth"])
    assert summary["counts"] == {"written": 3, "skipped": 0, "failed": 0}
    for outcome in summary["outcomes"]:
        assert outcome["output"].startswith("gs://inpaint/out/")
        assert output_problems(outcome["output"], gcs) == []
        with open_product(outcome["output"], gcs_client=gcs) as ds:
            assert ds["Oa08"].shape[0] in (64, 70)
    names = {b.name for b in gcs.bucket("inpaint").list_blobs(prefix="out/")}
    assert "out/summary.json" in names and any(n.endswith(".png") for n in names)
    assert f"out/runs/{summary['run']['id']}/summary.json" in names
    assert f"out/{LEASE_FILE}" not in names  # released
    held = pytest.raises(LeaseHeldError, match=r"is in use by .*: run the-first-run")
    with Lease("gs://inpaint/out", "the-first-run", gcs_client=gcs), held:
        run(config, ["--no_auth"])
    assert run(config, ["--no_auth"])["counts"]["skipped"] == 3
    for output in ("gs://inpaint/in", "gs://inpaint/in/" + zipped.name, "gs://inpaint"):
        inside = InpaintConfig(str(models["constant"]), ("gs://inpaint/in/*",), output,
                               overwrite=True, **SMALL)  # fmt: skip
        with pytest.raises(ValueError, match="refusing to write outputs where inputs are read"):
            run(inside, ["--no_auth"])
    assert gcs.bucket("inpaint").blob(f"in/{zipped.name}").exists()


def test_multi_processing_workers_through_the_command(models, archive, tmp_path) -> None:
    """Two worker processes, as on Dataflow: every DoFn, the model handler and the outcomes are
    pickled into them; each input ends in one outcome and one progress line, without the
    start-up noise of TensorFlow, CUDA and Beam's workers."""
    out = tmp_path / "out"
    command = [
        sys.executable, "-m", "pipelines.cli", "inpaint", "--model", str(models["constant"]),
        "--input", f"{archive}/*", "--output", str(out), "--tile", "32", "--halo", "4",
        "--block-tile-rows", "1", "--direct_running_mode=multi_processing",
        "--direct_num_workers=2",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 1, result.stderr[-3000:]  # the corrupt product
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"] == {"written": 3, "skipped": 0, "failed": 1}
    for outcome in summary["outcomes"]:
        if outcome["state"] == "written":
            assert verify_product(Path(outcome["output"])) == []
            assert outcome["filled_pixels"] > 0
    lines = re.findall(r"^\[\d+:\d\d:\d\d\] (\w+) +(\S+): ", result.stderr, re.MULTILINE)
    assert sorted(lines) == sorted((o["state"], o["input"]) for o in summary["outcomes"])
    assert not re.search(r"cuda|tensorflow/|FutureWarning|semi_persistent", result.stderr, re.I)
    assert "block/s" not in result.stderr  # a progress bar is for terminals, not pipes
    assert re.search(r"s of them in the model \(\d+%\)", result.stdout)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_shows_a_bar_of_each_products_row_blocks(models, archive, tmp_path,
                                                             monkeypatch) -> None:  # fmt: skip
    product = next(p for p in archive.glob("*.SEN3") if "_LN1_" not in p.name)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    config = InpaintConfig(str(models["identity"]), (str(product),), str(tmp_path / "out"),
                           **SMALL)  # fmt: skip
    assert run(config)["counts"]["written"] == 1
    shown = terminal.getvalue()
    blocks = len(range(0, 64, 32 - 2 * 4))  # rows of 24-pixel tile cores, one row a block
    assert re.search(rf"{product.name}:\s+0%\|.*\| 0/{blocks} ", shown)
    # The bar is wiped (carriage return, blanks) before the product's outcome line.
    assert re.search(rf"\r\[\d+:\d\d:\d\d\] written +{product}: ", shown)


def test_verbose_shows_the_libraries_log(models, archive, tmp_path) -> None:
    product = next(p for p in archive.glob("*.SEN3") if "_LN1_" not in p.name)
    command = [
        sys.executable, "-m", "pipelines.cli", "inpaint", "--model", str(models["identity"]),
        "--input", str(product), "--output", str(tmp_path / "out"), "--tile", "32",
        "--halo", "4", "--verbose",
    ]  # fmt: skip
    # Without what an in-process `inpaint` of an earlier test left in this process's environment.
    env = {k: v for k, v in os.environ.items() if k not in (TF_LOG_ENV, "PYTHONWARNINGS")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(r"tensorflow/|FutureWarning", result.stderr)
