"""Real coastal ocean regions that sample scenes are centred on, with their water types.

The constituent levels are typical orders of magnitude for the season of highest interest in
each region, chosen so that the set spans clear oligotrophic, upwelling, CDOM-rich and
sediment-laden water; they are not a climatology.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    """A coastal ocean region and the water it typically holds.

    Attributes:
        name: the region's name.
        latitude: scene centre, degrees north.
        longitude: scene centre, degrees east.
        chl: median chlorophyll-a concentration offshore, mg m-3.
        tsm: median total suspended matter offshore, g m-3.
        adg443: median absorption by CDOM and detritus at 443 nm offshore, m-1.
        coastal: how much the constituents rise towards the coast, as a natural-log factor at
            the shoreline.
    """

    name: str
    latitude: float
    longitude: float
    chl: float
    tsm: float
    adg443: float
    coastal: float


REGIONS: tuple[Region, ...] = (
    Region("Southern North Sea", 53.8, 4.0, chl=2.0, tsm=4.0, adg443=0.15, coastal=1.6),
    Region("Baltic Proper", 57.0, 19.0, chl=3.0, tsm=1.5, adg443=0.6, coastal=0.8),
    Region("Bay of Biscay", 45.5, -3.5, chl=0.5, tsm=0.8, adg443=0.04, coastal=1.5),
    Region("Great Bahama Bank", 24.5, -77.0, chl=0.08, tsm=0.3, adg443=0.01, coastal=1.0),
    Region("Benguela upwelling", -29.0, 15.5, chl=3.0, tsm=1.0, adg443=0.08, coastal=1.2),
    Region("Ligurian Sea", 43.5, 9.0, chl=0.2, tsm=0.4, adg443=0.02, coastal=1.2),
    Region("Rio de la Plata", -35.5, -55.5, chl=3.0, tsm=20.0, adg443=0.8, coastal=2.0),
    Region("Yellow Sea", 35.5, 123.5, chl=2.0, tsm=10.0, adg443=0.3, coastal=1.8),
    Region("Gulf of Maine", 43.0, -68.5, chl=1.0, tsm=1.0, adg443=0.1, coastal=1.2),
    Region("Great Barrier Reef", -18.5, 147.5, chl=0.3, tsm=0.5, adg443=0.03, coastal=1.2),
    Region("Mauritanian upwelling", 20.0, -17.5, chl=2.5, tsm=1.5, adg443=0.1, coastal=1.0),
    Region("Arabian Sea off Oman", 21.0, 60.0, chl=1.5, tsm=0.8, adg443=0.05, coastal=1.0),
)
