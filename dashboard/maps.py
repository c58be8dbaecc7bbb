"""Pure map builders: GeoJSON of an area's children, and the hideout that colours them by a metric.

Polygons travel once per area (a cacheable URL); a metric change or a refresh only sends the
hideout: values keyed by code plus the class bounds and colours. assets/gridcc-map.js reads it.
"""
from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from dashboard.i18n import t
from queries.areas import Area, Building
from queries.overview import Figures

# ColorBrewer YlOrRd, 5 classes: sequential and colour-blind safe; red reads as "needs attention".
PALETTE = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
NO_DATA = "#4b5563"
MAX_CLASSES = len(PALETTE)

# metric: (decimal digits shown, unit suffix, True when a low value is the bad one)
METRIC_FORMAT = {
    "open": (0, "", False),
    "overdue": (0, "", False),
    "per_1000_households": (1, "", False),
    "on_time_rate": (1, "%", True),
}


def _feature(geometry: dict, properties: dict) -> dict:
    return {"type": "Feature", "id": properties["code"], "geometry": geometry, "properties": properties}


def children_geojson(children: Iterable[tuple[Area, str]]) -> dict:
    """Return a FeatureCollection of child areas from (area, GeoJSON geometry text) pairs."""
    return {
        "type": "FeatureCollection",
        "features": [
            _feature(json.loads(geometry), {"code": area.code, "name": area.name, "level": area.level})
            for area, geometry in children
        ],
    }


def buildings_geojson(buildings: Iterable[Building]) -> dict:
    """Return a FeatureCollection of buildings as points (lon, lat), level 5."""
    return {
        "type": "FeatureCollection",
        "features": [
            _feature(
                {"type": "Point", "coordinates": [round(b.lon, 6), round(b.lat, 6)]},
                {"code": b.code, "name": b.name, "level": 5, "households": b.households, "floors": b.floors},
            )
            for b in buildings
        ],
    }


def metric_value(figures: Figures, metric: str, households: int | None = None) -> float | int | None:
    """Return ``metric`` of one area as shown on the map (rates in percent, 0.1 precision), or None."""
    if metric == "open":
        return figures.open
    if metric == "overdue":
        return figures.overdue
    if metric == "per_1000_households":  # events reported in the window per 1,000 households (千户上报率)
        return round(figures.reported * 1000 / households, 1) if households else None
    if metric == "on_time_rate":
        rate = figures.on_time_rate
        return None if rate is None else round(rate * 100, 1)
    raise ValueError(f"unknown map metric {metric!r}")


def metric_values(figures: Iterable[Figures], metric: str,
                  households: Mapping[str, int]) -> dict[str, float | int | None]:
    """Return {code: value} of ``metric`` for each area's figures; ``households`` by code."""
    return {f.code: metric_value(f, metric, households.get(f.code)) for f in figures}


def quantile_bounds(values: Iterable[float | int | None], classes: int = MAX_CLASSES) -> list[float]:
    """Return the lower bounds of up to ``classes`` quantile classes over the non-empty ``values``.

    A value held by a fifth or more of the areas (many zeros, many 100.0 %) is a class of its own, so it
    never swallows its neighbours; the other values are split by quantiles into the classes left.
    """
    ordered = sorted(v for v in values if v is not None)
    distinct = sorted(set(ordered))
    if len(distinct) <= classes:
        return distinct
    counts = Counter(ordered)
    heavy = {v for v in distinct if counts[v] * classes >= len(ordered)}
    light = [v for v in ordered if v not in heavy]
    left = classes - len(heavy)
    cuts = {light[(i * len(light)) // left] for i in range(left)} if light and left else set()
    # The first value above a heavy one starts a class, closing the heavy value's own class.
    closing = {distinct[distinct.index(v) + 1] for v in heavy if v != distinct[-1]}
    bounds = sorted(heavy | cuts | closing | {distinct[0]})
    keep = heavy | closing | {distinct[0]}
    while len(bounds) > classes:
        # Merge the smallest class that starts at a quantile cut into the class below it.
        sizes = {b: bisect_left(ordered, nxt) - bisect_left(ordered, b)
                 for b, nxt in zip(bounds, [*bounds[1:], float("inf")]) if b not in keep}
        bounds.remove(min(sizes, key=sizes.get))
    return bounds


def class_of(value: float | None, bounds: Sequence[float]) -> int | None:
    """Return the index of the class ``value`` falls in (None for no value or no classes)."""
    if value is None or not bounds:
        return None
    return max(0, bisect_right(bounds, value) - 1)


def class_colours(count: int, reverse: bool = False, palette: tuple[str, ...] | list[str] | None = None) -> list[str]:
    """Return ``count`` colours spread over ``palette`` (the choropleth's), first to last (last to first when ``reverse``)."""
    palette = palette or PALETTE
    if count <= 0:
        return []
    if count == 1:
        colours = [palette[0]]
    else:
        colours = [palette[round(i * (len(palette) - 1) / (count - 1))] for i in range(count)]
    return colours[::-1] if reverse else colours


def format_value(value: float | None, metric: str) -> str:
    """Return ``value`` of ``metric`` as shown in legends and tooltips ("—" when missing)."""
    if value is None:
        return "—"
    digits, unit, _ = METRIC_FORMAT[metric]
    return f"{value:,.{digits}f}{unit}"


def class_labels(bounds: Sequence[float], values: Iterable[float | None], metric: str) -> list[str]:
    """Return one label per class from the smallest to the largest value in it, e.g. "3–5" or "97.3%–98.0%"."""
    members: dict[int, list[float]] = {}
    for value in values:
        index = class_of(value, bounds)
        if index is not None:
            members.setdefault(index, []).append(value)
    labels = []
    for i in range(len(bounds)):
        low, high = min(members[i]), max(members[i])
        text = format_value(low, metric)
        labels.append(text if high == low else f"{text}–{format_value(high, metric)}")
    return labels


def map_hideout(figures: Iterable[Figures], metric: str, households: Mapping[str, int], lang: str,
                selected: str | None = None) -> dict:
    """Return the GeoJSON hideout colouring the children by ``metric``: values by code and the classes."""
    digits, unit, reverse = METRIC_FORMAT[metric]
    values = metric_values(figures, metric, households)
    bounds = quantile_bounds(values.values())
    return {
        "metric": metric,
        "label": t(f"metric.{metric}", lang),
        "values": values,
        "bounds": bounds,
        "colours": class_colours(len(bounds), reverse),
        "labels": class_labels(bounds, values.values(), metric),
        "reverse": reverse,
        "digits": digits,
        "unit": unit,
        "noData": NO_DATA,
        "noDataLabel": t("legend.no_data", lang),
        "selected": selected,
    }


def legend_rows(hideout: Mapping) -> list[tuple[str, str]]:
    """Return (colour, label) per legend row, the highest class first, "no data" last when present."""
    rows = list(zip(hideout["colours"], hideout["labels"]))[::-1]
    if any(v is None for v in hideout["values"].values()):
        rows.append((hideout["noData"], hideout["noDataLabel"]))
    return rows


def viewport(bounds: tuple[tuple[float, float], tuple[float, float]]) -> dict:
    """Return the dl.Map viewport that fits ``bounds`` ((south, west), (north, east)) at once.

    No fly animation: measured in headless Chromium, animating the jump doubled click-to-paint time.
    """
    (south, west), (north, east) = bounds
    return {"bounds": [[south, west], [north, east]], "transition": "fitBounds",
            "options": {"animate": False, "padding": [24, 24]}}


def building_state(building: Building) -> dict:
    """Return what the view store and the building card keep of a building."""
    return {"code": building.code, "name": building.name, "households": building.households,
            "floors": building.floors}


def view_state(chain: Sequence[Area], building: Building | None = None) -> dict:
    """Return the view store for the last area of ``chain`` (and a building when it lies in that area)."""
    area = chain[-1]
    inside = building is not None and building.grid_code == area.code
    return {
        "code": area.code,
        "level": area.level,
        "name": area.name,
        "top": chain[0].code,
        "parent": area.parent_code if len(chain) > 1 else None,
        "building": building_state(building) if inside else None,
    }


def children_url(code: str) -> str:
    """Return the URL of the GeoJSON of ``code``'s children (dashboard/geo.py)."""
    return f"/geo/children/{code}.json"


def context_layer(view: Mapping) -> tuple[str | None, dict]:
    """Return (url, hideout) of the faint layer of the area's siblings, the area itself outlined."""
    return (children_url(view["parent"]) if view["parent"] else None), {"focus": view["code"]}
