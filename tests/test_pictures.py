"""Pictures of patches for any band set: true colour from three named bands, else a colour map."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pytest
import tensorflow as tf

from components.configuration import ConfigError
from components.evaluator.report import write_panels
from components.evaluator.scoring import Panel
from components.pictures import COLOUR_MAP, Picture, picture_bands
from model.config import ModelConfig
from pipelines.config import PipelineConfig

SUBSET = ("Oa04", "Oa06", "Oa08")


def panel(bands: int, rng: np.random.Generator, size: int = 12) -> Panel:
    truth = rng.uniform(0.001, 0.03, (size, size, bands))
    gap = np.zeros((size, size), bool)
    gap[3:8, 2:9] = True
    valid = np.ones((size, size), bool)
    valid[0, 0] = False
    filled = {"candidate": truth * 1.1, "biharmonic": truth * 0.9}
    return Panel("scene|0|0", float(gap.mean()), truth, valid, gap, filled)


def test_olci_subset_is_drawn_in_true_colour(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    bands = picture_bands(SUBSET)
    assert bands == (2, 1, 0)  # Oa08, Oa06, Oa04 as red, green, blue
    example = panel(3, rng)
    picture = Picture.of(example.truth, bands)
    rgb = picture.render(example.truth)
    assert rgb.shape == (12, 12, 3)
    expected_red = np.clip(example.truth[..., 2] / picture.high, 0, 1) ** (1 / 2.2)
    np.testing.assert_allclose(rgb[..., 0], expected_red, rtol=1e-5)
    png = write_panels([example, panel(3, rng)], SUBSET, tmp_path / "0.png")
    image = matplotlib.image.imread(png)
    assert image.ndim == 3 and image.shape[0] > 100


def test_trainer_grid_of_an_olci_subset(tmp_path: Path) -> None:
    # Deferred: model.trainer loads TensorFlow Transform (seconds); only this test needs it.
    from model.trainer import _image_grid

    rng = np.random.default_rng(1)
    truth = rng.normal(0.0, 1.0, (2, 8, 8, 3)).astype(np.float32)
    gap = np.zeros((2, 8, 8, 1), np.float32)
    gap[:, 2:5, 2:6] = 1.0
    batch = {"reflectance": tf.constant(truth), "gap": tf.constant(gap),
             "valid": tf.ones((2, 8, 8, 1))}  # fmt: skip
    mean, std = np.array([0.01, 0.02, 0.03], np.float32), np.full(3, 0.005, np.float32)
    grid, picture = _image_grid(batch, [tf.constant(truth)], mean, std, ("none",) * 3,
                                picture_bands(SUBSET))  # fmt: skip
    assert grid.shape == (2, 8, 32, 3)
    assert grid.min() >= 0.0 and grid.max() <= 1.0
    # The filled and truth columns are the same here; the gap column is the mask in grey.
    np.testing.assert_array_equal(grid[:, :, 16:24], grid[:, :, 24:])
    np.testing.assert_array_equal(grid[:, :, 8:16], np.repeat(gap, 3, axis=-1))
    assert picture.describe(SUBSET).startswith("Oa08, Oa06, Oa04 as red, green, blue")


def test_one_band_is_drawn_in_a_colour_map(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    assert picture_bands(("chlor_a",)) == (0,)
    assert picture_bands(("sst", "chlor_a"), ["chlor_a"]) == (1,)
    log_chl = np.linspace(-1.5, 0.5, 100).reshape(10, 10, 1)
    picture = Picture.of(log_chl, (0,))
    assert picture.colour_map and picture.low < -1.4 and picture.high > 0.4
    rgb = picture.render(np.array([[[-9.0], [9.0], [np.nan]]]))
    table = matplotlib.colormaps[COLOUR_MAP]
    np.testing.assert_allclose(rgb[0, 0], table(0.0)[:3], rtol=1e-6)
    np.testing.assert_allclose(rgb[0, 1], table(1.0)[:3], rtol=1e-6)
    np.testing.assert_array_equal(rgb[0, 2], 0.0)  # no value: black
    assert picture.describe(("chlor_a",)) == "chlor_a in viridis, -1.49 to 0.49"
    png = write_panels([panel(1, rng)], ("chlor_a",), tmp_path / "1.png")
    assert matplotlib.image.imread(png).ndim == 3


def test_three_named_bands_of_a_gridded_series_are_true_colour() -> None:
    names = ("Rrs_443", "Rrs_555", "Rrs_670")
    assert picture_bands(names) == (0,)  # not OLCI's: the first band in a colour map
    assert picture_bands(names, ["Rrs_670", "Rrs_555", "Rrs_443"]) == (2, 1, 0)


def test_a_band_the_data_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match=r"model.true_colour_bands names \['Oa10'\], not among "
                       r"the data's bands \['Oa04', 'Oa06', 'Oa08'\]"):  # fmt: skip
        picture_bands(SUBSET, ["Oa10", "Oa06", "Oa04"])
    with pytest.raises(ConfigError, match=r"model.true_colour_bands names \['Oa08', 'Oa06', "
                       r"'Oa04'\], not among ingest.bands \['chlor_a'\]"):  # fmt: skip
        PipelineConfig.from_dict(
            {"pipeline_name": "p", "pipeline_root": "runs", "input_base": "data",
             "ingest": {"kind": "netcdf", "bands": ["chlor_a"],
                        "gridded": {"variables": ["chlor_a"]}},
             "model": {"true_colour_bands": ["Oa08", "Oa06", "Oa04"]}}
        )  # fmt: skip
    with pytest.raises(ConfigError, match="true_colour_bands must name three bands"):
        ModelConfig(true_colour_bands=("Oa08", "Oa06"))
    with pytest.raises(ConfigError, match=r"true_colour_bands\[0\]: input should be a valid str"):
        ModelConfig.from_dict({"true_colour_bands": [7, 5, 3]})  # positions are names now
