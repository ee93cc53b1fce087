"""Maps of the optically active constituents of a sample scene: chlorophyll, sediment, CDOM.

Each constituent is log-normal around its region's median, rises towards the coast, shares
mesoscale structure with the others (one water mass carries all three) and is then stirred by the
same eddy flow, so fronts and filaments line up across bands as they do in real scenes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from components.sample.fields import Flow, advect, power_law_noise
from components.sample.regions import Region

# Natural-log standard deviations of the constituents about their regional medians.
SPREAD_CHL = 0.55
SPREAD_TSM = 0.6
SPREAD_ADG = 0.4

# Plausible limits for natural water.
CHL_RANGE = (0.01, 100.0)  # mg m-3
TSM_RANGE = (0.01, 200.0)  # g m-3
ADG443_RANGE = (0.001, 5.0)  # m-1


@dataclass(frozen=True)
class Constituents:
    """Constituent maps of one scene, float32 arrays of the scene's shape.

    Attributes:
        chl: chlorophyll-a concentration, mg m-3.
        tsm: total suspended matter, g m-3.
        adg443: absorption by CDOM and detritus at 443 nm, m-1.
    """

    chl: np.ndarray
    tsm: np.ndarray
    adg443: np.ndarray


def constituent_fields(
    region: Region,
    coast: np.ndarray,
    flow: Flow,
    site_rng: np.random.Generator,
    scene_rng: np.random.Generator,
) -> Constituents:
    """The constituent maps of one scene.

    Args:
        region: the water type's medians and coastal enrichment.
        coast: coastal influence, 0 offshore to about 1 at the shore (see
            `geometry.land_proximity`); its shape is the scene's.
        flow: the eddy flow that stirs the scene (see `fields.eddy_flow`).
        site_rng: draws the structure shared by every scene of the same site (its climatology).
        scene_rng: draws this scene's own anomalies.

    Returns:
        The stirred constituent maps.
    """
    shape = coast.shape
    side = min(shape)
    # One water-mass field shared by all constituents: a persistent part and this scene's part.
    water_mass = power_law_noise(shape, 3.8, site_rng, outer_scale=side / 2)
    water_mass *= np.float32(0.6)
    water_mass += np.float32(0.8) * power_law_noise(shape, 3.8, scene_rng, outer_scale=side / 3)
    # A second, independent field lets sediment and CDOM decouple from chlorophyll.
    other = power_law_noise(shape, 3.4, scene_rng, outer_scale=side / 4)
    coastal = np.float32(region.coastal) * coast

    ln_chl = np.float32(SPREAD_CHL) * water_mass + coastal
    ln_chl += np.float32(np.log(region.chl))
    ln_tsm = np.float32(SPREAD_TSM) * (0.5 * water_mass + 0.85 * other) + 1.3 * coastal
    ln_tsm += np.float32(np.log(region.tsm))
    ln_adg = np.float32(SPREAD_ADG) * (0.7 * water_mass - 0.5 * other) + 0.8 * coastal
    ln_adg += np.float32(np.log(region.adg443))
    del water_mass, other, coastal
    stirred = advect([ln_chl, ln_tsm, ln_adg], flow)
    del ln_chl, ln_tsm, ln_adg
    chl, tsm, adg443 = (
        np.clip(np.exp(field, out=field), *limits, out=field)
        for field, limits in zip(stirred, (CHL_RANGE, TSM_RANGE, ADG443_RANGE), strict=True)
    )
    return Constituents(chl=chl, tsm=tsm, adg443=adg443)
