"""The batch job's parts without a pipeline: matching, model description, scene rows, blocks."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import numpy as np
import pytest

from components.inpaint.tiling import block_layout, plan_tiles
from components.olci import BAND_NAMES, open_product
from components.sample.products import write_sample_product
from pipelines.cli import main
from pipelines.inpaint.job import (
    FAILED,
    WRITTEN,
    InpaintConfig,
    MatchProducts,
    Outcome,
    progress_line,
    run,
)
from pipelines.inpaint.model import ModelInfo, read_model_info
from pipelines.inpaint.scene import (
    block_tiles,
    decode_block,
    encode_block,
    fill_mask,
    output_name,
    read_rows,
    tile_counts,
    tile_input,
)
from pipelines.inpaint.stages import read_ahead


def _match(pattern: str) -> tuple[list[str], dict[str, str]]:
    found, failed = [], {}
    for item in MatchProducts().process(pattern):
        if hasattr(item, "tag"):
            outcome: Outcome = item.value
            assert outcome.state == FAILED
            failed[Path(outcome.input).name] = outcome.reason
        else:
            found.append(Path(item).name)
    return found, failed


def test_matching_finds_folders_and_zips_and_reports_the_rest(tmp_path: Path) -> None:
    folder = write_sample_product(tmp_path, (16, 16), 1)
    zipped = write_sample_product(tmp_path, (16, 16), 2, as_zip=True)
    (tmp_path / "notes.txt").write_text("not a product")
    (tmp_path / "empty.SEN3").mkdir()
    found, failed = _match(f"{tmp_path}/*")
    assert found == sorted([folder.name, zipped.name])
    assert set(failed) == {"notes.txt", "empty.SEN3"}
    assert "neither a .SEN3 folder with a manifest nor a .zip" in failed["notes.txt"]
    assert _match(str(folder)) == ([folder.name], {})  # a folder named directly
    assert _match(f"{tmp_path}/nothing-*") == ([], {"nothing-*": "matches nothing"})


def test_output_names() -> None:
    assert output_name("gs://b/in/S3A_X.SEN3.zip") == "S3A_X.SEN3"
    assert output_name("/in/S3A_X.SEN3/") == "S3A_X.SEN3"
    assert output_name("/in/S3A_X.zip") == "S3A_X.SEN3"


def test_model_description(tmp_path: Path) -> None:
    path = tmp_path / "model"
    path.mkdir()
    with pytest.raises(FileNotFoundError, match="not an s3inpaint model"):
        read_model_info(str(path))
    meta = path / "s3inpaint_model.json"
    meta.write_text(json.dumps({"bands": 16, "stride": 8}))
    assert read_model_info(str(path)) == ModelInfo(str(path), BAND_NAMES, 8)
    meta.write_text(json.dumps({"bands": 3, "stride": 16, "band_names": ["Oa08", "Oa06", "x"]}))
    # Any band names are read (a gridded series' variables); OLCI products refuse others.
    other = read_model_info(str(path))
    assert other.bands == ("Oa08", "Oa06", "x") and other.gridded is None
    with pytest.raises(ValueError, match=r"takes bands \['x'\] that are not OLCI"):
        InpaintConfig(str(path), ("in",), "out", tile=64, halo=8).check(other)
    meta.write_text(json.dumps({"bands": 3, "stride": 16}))
    with pytest.raises(ValueError, match="does not say which 3 bands"):
        read_model_info(str(path))


def test_the_tile_defaults_to_the_models_training_patch(tmp_path: Path) -> None:
    path = tmp_path / "model"
    path.mkdir()
    meta = path / "s3inpaint_model.json"
    meta.write_text(json.dumps({"bands": 16, "stride": 8, "patch_size": 64}))
    model = read_model_info(str(path))
    assert model.patch_size == 64
    config = InpaintConfig(str(path), ("in",), "out")
    assert (config.for_model(model).tile, config.for_model(model).halo) == (64, 8)
    explicit = InpaintConfig(str(path), ("in",), "out", tile=128, halo=4).for_model(model)
    assert (explicit.tile, explicit.halo) == (128, 4)
    meta.write_text(json.dumps({"bands": 16, "stride": 8}))  # a model without its patch size
    unrecorded = config.for_model(read_model_info(str(path)))
    assert (unrecorded.tile, unrecorded.halo) == (256, 32)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"bands": 16, "stride": ', "the file: Invalid JSON"),
        ("\x89PNG\x00\xff", "the file: Invalid JSON"),
        ('["Oa01"]', "the file: Input should be an object"),
        ('{"bands": 16}', "stride: Field required"),
        ('{"bands": 16, "stride": "8"}', "stride: Input should be a valid integer"),
        ('{"bands": 16, "stride": true}', "stride: Input should be a valid integer"),
        ('{"bands": 16, "stride": 0}', "stride: Input should be greater than 0"),
        ('{"stride": 8, "band_names": ["Oa08", 6]}', "bands: Field required; band_names.1: "),
    ],
)
def test_a_corrupt_model_description_names_its_file(tmp_path: Path, text, problem) -> None:
    (tmp_path / "s3inpaint_model.json").write_text(text)
    with pytest.raises(ValueError) as info:
        read_model_info(str(tmp_path))
    prefix = f"{tmp_path / 's3inpaint_model.json'}: not a valid model description ("
    assert str(info.value).startswith(prefix + problem)


def test_a_corrupt_model_description_stops_the_cli_before_any_product(product, tmp_path,
                                                                      capsys) -> None:  # fmt: skip
    model = tmp_path / "model"
    model.mkdir()
    (model / "s3inpaint_model.json").write_text('{"bands": 16, "stride": ')
    out = tmp_path / "out"
    assert main(["inpaint", "--model", str(model), "--input", str(product),
                 "--output", str(out)]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert f"{model / 's3inpaint_model.json'}: not a valid model description" in err
    assert "Traceback" not in err and not out.exists()


def test_a_model_lacking_bands_is_refused_before_any_product_is_read(product, tmp_path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    meta = {"bands": 3, "band_names": ["Oa04", "Oa06", "Oa08"], "stride": 8}
    (model / "s3inpaint_model.json").write_text(json.dumps(meta))
    out = tmp_path / "out"
    lacking = [b for b in BAND_NAMES if b not in meta["band_names"]]
    with pytest.raises(ValueError, match=re.escape(f"model {model} lacks bands {lacking}: ")):
        run(InpaintConfig(str(model), (str(product),), str(out)))
    assert not out.exists()


def test_settings_are_checked_against_the_model() -> None:
    model = ModelInfo("m", BAND_NAMES, 16)
    InpaintConfig("m", ("in",), "out", tile=64, halo=8).check(model)
    for bad, message in (
        ({"tile": 72}, "multiple of the model's stride 16"),
        ({"tile": 64, "halo": 32}, "halo"),
        ({"geotiff_bands": ("Oa99",)}, "Oa99"),
    ):
        with pytest.raises(ValueError, match=message):
            InpaintConfig("m", ("in",), "out", **bad).check(model)
    partial = ModelInfo("m", ("Oa08", "Oa06", "Oa04"), 16)
    with pytest.raises(ValueError, match=r"model m lacks bands \['Oa01', 'Oa02', 'Oa03', 'Oa05', "):
        InpaintConfig("m", ("in",), "out", tile=64, halo=8).check(partial)


def test_rows_mark_cloudy_water_as_the_gap_and_hide_other_invalid_pixels(product) -> None:
    with open_product(product) as ds:
        reflectance, gap, water = read_rows(ds, range(10, 40), ("Oa08", "Oa06"))
        window = ds.isel(y=slice(10, 40))
        valid, land, cloud = (window[v].values for v in ("valid", "land", "cloud"))
        stored = window["Oa08"].values
    np.testing.assert_array_equal(gap, fill_mask(valid, land, cloud))
    np.testing.assert_array_equal(water, ~land)
    assert not (gap & land).any() and not (gap & valid).any()
    other_invalid = ~valid & ~gap
    assert np.isnan(reflectance[..., 0][other_invalid]).all()
    np.testing.assert_array_equal(reflectance[..., 0][valid | gap], stored[valid | gap])


def test_tile_input_pads_past_the_scene_edge() -> None:
    plan = plan_tiles(20, 30, tile=32, halo=4)
    (tile,) = plan.rows[0]
    reflectance = np.ones((20, 30, 2), np.float32)
    gap = np.ones((20, 30), bool)
    refl, mask = tile_input(reflectance, gap, tile, 32, row_offset=0)
    assert refl.shape == (32, 32, 2) and mask.shape == (32, 32)
    assert np.isnan(refl[20:]).all() and not mask[20:].any() and not mask[:, 30:].any()
    assert mask[:20, :30].all()


def test_block_tiles_sends_only_tiles_with_a_gap_and_counts_every_tile() -> None:
    _, blocks = block_layout(40, 40, 16, 2, 1)
    block = blocks[1]  # the second row of tiles, read as rows 12.. of the scene
    start = block.rows.start
    rows = range(start, block.rows.stop)
    values = np.arange(len(rows) * 40 * 2, dtype=np.float32).reshape(len(rows), 40, 2)
    gap = np.zeros((len(rows), 40), bool)
    gap[2, 3] = True  # in the first tile only
    water = np.ones((len(rows), 40), bool)
    water[:, 24:] = False  # the last tile sees no water
    neighbours = np.stack([values + 1000.0, values + 2000.0])
    counts = tile_counts()
    tiles = block_tiles(values, gap, water, block, 16, start, counts, neighbours,
                        np.array([-1.0, 1.0], np.float32))  # fmt: skip
    assert counts == {"fill": 1, "no_gap": 1, "no_water": 1, "anchored": 0}
    first = block.tiles[0]
    assert tiles.indices == (first.index,)
    np.testing.assert_array_equal(tiles.values[0], values[first.slices(start)])
    assert tiles.gaps[0, 2, 3] and tiles.gaps.sum() == 1
    np.testing.assert_array_equal(tiles.neighbours[0, 1], values[first.slices(start)] + 2000.0)
    np.testing.assert_array_equal(tiles.offsets, [-1.0, 1.0])
    assert tiles.anchored is None
    assert block_tiles(values, np.zeros_like(gap), water, block, 16, start, counts) is None
    assert counts == {"fill": 1, "no_gap": 3, "no_water": 2, "anchored": 0}


def test_block_tiles_anchors_the_border_of_a_tile_inside_a_wide_gap() -> None:
    _, blocks = block_layout(40, 64, 16, 2, 1)
    block = blocks[1]
    start = block.rows.start
    rows = np.arange(start, block.rows.stop)[:, np.newaxis]
    values = np.broadcast_to(rows + np.arange(64.0), (len(rows), 64))[..., np.newaxis]
    values = values.astype(np.float32)
    gap = np.zeros(values.shape[:2], bool)
    gap[:, 10:54] = True  # the middle tiles' windows see no observed pixel
    counts = tile_counts()
    tiles = block_tiles(values, gap, np.ones_like(gap), block, 16, start, counts)
    sparse = [i for i, t in enumerate(block.tiles) if gap[t.slices(start)].all()]
    assert sparse and counts["anchored"] == len(sparse)
    ring = np.ones((16, 16), bool)
    ring[1:-1, 1:-1] = False
    for i, tile in enumerate(block.tiles):
        # Anchored pixels are still to fill; the model is given them as known.
        np.testing.assert_array_equal(tiles.gaps[i], gap[tile.slices(start)])
        model_gap, window_values = tiles.model_gaps[i], tiles.values[i, ..., 0]
        if i in sparse:
            np.testing.assert_array_equal(tiles.anchored[i], ring)
            assert not model_gap[ring].any() and model_gap[~ring].all()
            # The ring holds the block's push-pull fill: a smooth continuation, not one level.
            assert np.isfinite(window_values[ring]).all() and np.ptp(window_values[ring]) > 1.0
        else:
            assert not tiles.anchored[i].any()
            np.testing.assert_array_equal(model_gap, tiles.gaps[i])


def test_block_files_round_trip() -> None:
    index = np.array([0, 5, 17])
    sums = np.arange(6, dtype=np.float64).reshape(3, 2)
    weights = np.array([0.5, 1.0, 0.25])
    rows, index_back, sums_back, weights_back = decode_block(
        encode_block(range(8, 16), index, sums, weights)
    )
    assert rows == range(8, 16)
    np.testing.assert_array_equal(index_back, index)
    np.testing.assert_array_equal(sums_back, sums.astype(np.float32))
    np.testing.assert_array_equal(weights_back, weights.astype(np.float32))


def test_progress_lines_give_the_jobs_elapsed_time_not_a_count() -> None:
    written = Outcome("in/a.SEN3", WRITTEN, output="out/a.SEN3", filled_pixels=12, seconds=3.5)
    assert progress_line(written, 3725.4) == (
        "[1:02:05] written in/a.SEN3: 12 pixels filled in 3.5 s"
    )
    failed = Outcome("in/b.zip", FAILED, "ProductError: not a zip")
    assert progress_line(failed, 59.6) == "[0:01:00] failed  in/b.zip: ProductError: not a zip"


def test_read_ahead_makes_the_next_item_while_the_caller_holds_this_one() -> None:
    made = {i: threading.Event() for i in range(3)}

    def make(i: int) -> int:
        made[i].set()
        return i * 10

    seen = []
    for item in read_ahead(make, 3):
        position = item // 10
        if position + 1 < 3:  # made in the background, before the caller is done with this one
            assert made[position + 1].wait(timeout=10)
        seen.append(item)

    assert seen == [0, 10, 20]
    assert list(read_ahead(make, 0)) == []


def test_read_ahead_raises_a_failure_at_its_item() -> None:
    def make(i: int) -> int:
        if i == 1:
            raise ValueError("block 1 is unreadable")
        return i

    items = read_ahead(make, 3)
    assert next(items) == 0
    with pytest.raises(ValueError, match="block 1 is unreadable"):
        next(items)
