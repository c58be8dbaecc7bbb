"""Pure builders of the event-density (heat) layer: H3 cells of points, resolutions, the hideout.

The server counts events per H3 cell (queries/heat.py); this module turns the counts into what the
browser needs: counts keyed by cell, class bounds on 1–2–5 steps, colours from the choropleth's
palette and the labels. assets/gridcc-heat.js draws the hexagons. How it all fits: docs/heat.md.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta

import numpy as np
from h3.api import basic_int

from dashboard.i18n import t
from dashboard.maps import MAX_CLASSES, NO_DATA, class_colours, quantile_bounds
from queries.schema import BUILDING, CITY, COMMUNITY, DISTRICT, GRID, H3_RESOLUTION, STREET

WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}

# The drill level in view → the H3 resolution drawn. Checked against the demo city (dashboard/seed,
# FULL): city 390 km² / res 8 (0.74 km²) ≈ 530 cells; district 49 km² / res 9 (0.105 km²) ≈ 460;
# street 6.5 km² / res 10 (0.015 km²) ≈ 430; community 0.65 km² / res 11 (0.0021 km²) ≈ 300; a grid
# (0.078 km²) has ≈ 36 cells of res 11, the finest the store keeps.
LEVEL_RESOLUTIONS = {CITY: 8, DISTRICT: 9, STREET: 10, COMMUNITY: 11, GRID: 11, BUILDING: 11}
MIN_RESOLUTION, MAX_RESOLUTION = 5, H3_RESOLUTION
# Average cell area per resolution (km², h3.average_hexagon_area), to size cells to a screen.
CELL_KM2 = {5: 252.9, 6: 36.13, 7: 5.161, 8: 0.7373, 9: 0.1053, 10: 0.01505, 11: 0.00215}
SCREEN_PX = 1000 * 700  # the map's size in pixels the resolutions are chosen for
CELLS_ON_SCREEN = 500  # aim: some hundreds of cells in view
EQUATOR_M_PER_PX = 156_543.03  # Web Mercator metres per pixel at zoom 0 on the equator
CITY_LAT = 31.3  # the demo city's latitude, where the Mercator scale is taken
MAX_CELLS = 5_000  # the densest cells sent in one update: keeps it under 100 KB
NICE_STEPS = (1, 2, 5)
# Dark to bright (inferno, colour-blind safe): on the dark map the densest cells are the brightest. The
# choropleth's light-to-dark YlOrRd would make the busiest cells the darkest, i.e. the least visible.
HEAT_PALETTE = ("#420a68", "#932667", "#dd513a", "#fca50a", "#fcffa4")


def h3_cells(lat: Sequence[float] | np.ndarray, lon: Sequence[float] | np.ndarray) -> np.ndarray:
    """Return the H3 cell (resolution 11, as int64) of each point (degrees, WGS 84); NaN points raise ValueError."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    if lat.shape != lon.shape:
        raise ValueError("lat and lon differ in length")
    if not (np.isfinite(lat).all() and np.isfinite(lon).all()):
        raise ValueError("every point needs a finite lat and lon")
    cell = basic_int.latlng_to_cell
    return np.fromiter((cell(a, b, H3_RESOLUTION) for a, b in zip(lat.tolist(), lon.tolist())),
                       dtype=np.int64, count=len(lat))


def resolution_for(level: int) -> int:
    """Return the H3 resolution that shows the area of drill ``level`` (0 city … 4 grid, 5 building)."""
    if isinstance(level, bool) or not isinstance(level, (int, np.integer)) or int(level) not in LEVEL_RESOLUTIONS:
        raise ValueError(f"no drill level {level!r}: levels are 0 (city) to 5 (building)")
    return LEVEL_RESOLUTIONS[int(level)]


def resolution_for_zoom(zoom: float) -> int:
    """Return the H3 resolution giving some hundreds of cells on a 1000×700 px map at Leaflet ``zoom``."""
    if isinstance(zoom, bool) or not isinstance(zoom, (int, float, np.integer, np.floating)) or not math.isfinite(zoom):
        raise ValueError(f"a zoom is a finite number, not {zoom!r}")
    zoom = min(max(float(zoom), 0.0), 24.0)
    m_per_px = EQUATOR_M_PER_PX * math.cos(math.radians(CITY_LAT)) / 2 ** zoom
    screen_km2 = SCREEN_PX * m_per_px ** 2 / 1e6
    return min(CELL_KM2, key=lambda r: abs(math.log(screen_km2 / CELL_KM2[r] / CELLS_ON_SCREEN)))


def cell_key(cell: int) -> str:
    """Return the compact id of an H3 cell: its hex less the "8" + resolution prefix and the trailing f's.

    Every cell's 15-digit hex starts with 8 (the cell mode) and its resolution digit, and ends with
    f's (the unused digits are 7s): ``cell_of_key`` puts both back. Saves 5 bytes a cell at res 11.
    """
    return format(cell, "x")[2:].rstrip("f")


def cell_of_key(key: str, resolution: int) -> int:
    """Return the H3 cell (int) at ``resolution`` of a compact id made by ``cell_key``."""
    return int(f"8{resolution:x}{key}".ljust(15, "f"), 16)


def nice_floor(value: float) -> int:
    """Return the largest of 1, 2, 5, 10, 20, 50 … that is at most ``value`` (1 below 1)."""
    if value < 1:
        return 1
    power = 10 ** int(math.floor(math.log10(value)))
    return max(step * power for step in NICE_STEPS if step * power <= value)


def count_bounds(counts: Iterable[int], classes: int = MAX_CLASSES) -> list[int]:
    """Return the lower bounds of up to ``classes`` classes of cell counts: quantiles snapped down to 1–2–5 steps.

    Counts per cell are skewed (most cells hold one or two events, a few hold hundreds): quantiles
    follow the skew, the 1–2–5 steps keep the legend readable and steady from one window to the next.
    """
    values = [c for c in counts if c > 0]
    if not values:
        return []
    return sorted({nice_floor(b) for b in quantile_bounds(values, classes)} | {nice_floor(min(values))})


def count_labels(bounds: Sequence[int], highest: int) -> list[str]:
    """Return one label per class: "1", "2–4", …, and "≥ 50" for the open top class ("50" when it is one value)."""
    labels = []
    for i, low in enumerate(bounds):
        if i + 1 < len(bounds):
            high = bounds[i + 1] - 1
            labels.append(f"{low:,}" if high == low else f"{low:,}–{high:,}")
        else:
            labels.append(f"{low:,}" if highest <= low else f"≥ {low:,}")
    return labels


def heat_hideout(cells: Iterable[tuple[int, int]], lang: str, resolution: int) -> dict:
    """Return the heat layer's hideout: counts by compact cell id, class bounds, colours and labels.

    ``cells`` are (H3 cell as int at ``resolution``, event count) pairs, as queries.heat.heat_cells
    returns them. Only the MAX_CELLS densest are kept ("truncated" says how many were left out).
    """
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or not (
            MIN_RESOLUTION <= resolution <= MAX_RESOLUTION):
        raise ValueError(f"the heat layer draws resolutions {MIN_RESOLUTION}–{MAX_RESOLUTION}, not {resolution!r}")
    kept: dict[int, int] = {}
    for cell, count in cells:
        if isinstance(cell, bool) or not isinstance(cell, (int, np.integer)) or not isinstance(count, (int, np.integer)):
            raise ValueError(f"a heat cell is (int cell, int count), not ({cell!r}, {count!r})")
        if not 0 < cell < 2 ** 63 or not basic_int.is_valid_cell(int(cell)) or basic_int.get_resolution(
                int(cell)) != resolution:
            raise ValueError(f"{cell!r} is not an H3 cell of resolution {resolution}")
        if count > 0:
            kept[int(cell)] = kept.get(int(cell), 0) + int(count)
    densest = sorted(kept.items(), key=lambda item: (-item[1], item[0]))
    shown = densest[:MAX_CELLS]
    bounds = count_bounds(count for _, count in shown)
    return {
        "cells": {cell_key(cell): count for cell, count in shown},
        "bounds": bounds,
        "colours": class_colours(len(bounds), palette=HEAT_PALETTE),
        "labels": count_labels(bounds, shown[0][1] if shown else 0),
        "label": t("heat.label", lang),
        "countLabel": t("heat.cell_count", lang, n="{n}"),
        "noneLabel": t("heat.none", lang),
        "noData": NO_DATA,
        "total": sum(kept.values()),
        "resolution": int(resolution),
        "truncated": len(densest) - len(shown),
    }


def legend_rows(hideout: Mapping) -> list[tuple[str, str]]:
    """Return (colour, label) per legend row, the densest class first; one "none" row when nothing counts."""
    if not hideout.get("bounds"):
        return [(hideout.get("noData", NO_DATA), hideout.get("noneLabel", ""))]
    return list(zip(hideout["colours"], hideout["labels"]))[::-1]


__all__ = ["WINDOWS", "LEVEL_RESOLUTIONS", "MAX_CELLS", "cell_key", "cell_of_key", "count_bounds", "count_labels",
           "h3_cells", "heat_hideout", "legend_rows", "nice_floor", "resolution_for", "resolution_for_zoom"]
