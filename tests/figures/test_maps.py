"""Map builders: figures in, GeoJSON and hideout out."""
from __future__ import annotations

import json

import pytest

from dashboard import maps
from queries.areas import Area, Building
from queries.overview import Figures


def area(code: str, level: int, name: str, households: int = 300) -> Area:
    return Area(code=code, level=level, name=name, parent_code=None, kind=None, households=households,
                population=0, area_m2=0.0, centroid=(31.1, 120.1), bounds=((31.0, 120.0), (31.2, 120.2)))


@pytest.mark.parametrize("values, bounds", [
    ([], []),
    ([None, None], []),
    ([4], [4]),
    ([3, 2], [2, 3]),
    ([0, 0, 0, 0, 1, 5, 9], [0, 1, 5, 9]),  # no more distinct values than classes: one class each
    ([0, 0, 0, 0, 0, 0], [0]),
    (list(range(10)), [0, 2, 4, 6, 8]),
    # Rates near 100 %, in percent to 0.1: each tenth of a percent can make its own class.
    ([97.1, 99.9, 98.0, None, 100.0, 97.3, 99.4], [97.1, 97.3, 98.0, 99.4, 99.9]),
    # Many areas at 100.0 %: it is a class of its own and the others still split finely.
    ([95.0, 98.2, 99.1, 99.5, 99.8, 99.9] + [100.0] * 30, [95.0, 98.2, 99.5, 99.8, 100.0]),
    # Many areas with nothing open: zero is a class of its own.
    ([0] * 10 + [3.1, 3.3, 6.4, 7, 9, 12.6], [0, 3.1, 3.3, 7, 9]),
    # A heavy value in the middle closes its class at the next value.
    ([1, 2, 3] + [5] * 10 + [7, 8, 9, 10, 11, 12], [1, 5, 7, 8, 10]),
])
def test_quantile_bounds(values, bounds):
    assert maps.quantile_bounds(values) == bounds


@pytest.mark.parametrize("value, klass", [(None, None), (0, 0), (-1, 0), (1, 1), (4, 1), (5, 2), (90, 2)])
def test_class_of(value, klass):
    assert maps.class_of(value, [0, 1, 5]) == klass


def test_class_labels_use_the_values_in_each_class():
    values = [0, 0, 0, 0, 1, 3, 5, 9, 12, 14]
    bounds = maps.quantile_bounds(values)
    assert bounds == [0, 1, 3, 9, 12]
    assert maps.class_labels(bounds, values, "open") == ["0", "1", "3–5", "9", "12–14"]
    rates = [97.1, 97.3, 97.4, 99.9, 100.0]
    assert maps.class_labels(maps.quantile_bounds(rates), rates, "on_time_rate") == \
        ["97.1%", "97.3%", "97.4%", "99.9%", "100.0%"]


def test_hideout_of_the_hand_city_children_by_open_events():
    rows = [Figures("329902", open=3, overdue=1), Figures("329903", open=2, overdue=1)]
    hideout = maps.map_hideout(rows, "open", {}, "zh")
    assert hideout["values"] == {"329902": 3, "329903": 2}
    assert hideout["bounds"] == [2, 3]
    assert hideout["colours"] == [maps.PALETTE[0], maps.PALETTE[-1]]
    assert hideout["labels"] == ["2", "3"]
    assert hideout["label"] == "在办" and hideout["reverse"] is False
    assert maps.legend_rows(hideout) == [(maps.PALETTE[-1], "3"), (maps.PALETTE[0], "2")]
    assert maps.map_hideout(rows, "open", {}, "en")["label"] == "Open"


def test_on_time_rate_is_reversed_in_percent_with_no_data():
    rows = [
        Figures("a", closed=3, closed_on_time=1, overdue=1),  # 25.0 %
        Figures("b", overdue=1),  # 0.0 %
        Figures("c"),  # nothing closed, nothing late: no rate
        Figures("d", closed=1000, closed_on_time=999),  # 99.9 %
    ]
    hideout = maps.map_hideout(rows, "on_time_rate", {}, "en")
    assert hideout["values"] == {"a": 25.0, "b": 0.0, "c": None, "d": 99.9}
    assert hideout["bounds"] == [0.0, 25.0, 99.9]
    assert hideout["reverse"] is True
    # Low is bad: the lowest class gets the darkest red.
    assert hideout["colours"] == [maps.PALETTE[4], maps.PALETTE[2], maps.PALETTE[0]]
    assert hideout["labels"] == ["0.0%", "25.0%", "99.9%"]
    assert maps.legend_rows(hideout)[-1] == (maps.NO_DATA, "No data")
    assert hideout["label"] == "On-time rate, 30 d"


def test_reported_per_1000_households():
    rows = [Figures("a", reported=3, open=9), Figures("b", reported=1), Figures("c", reported=2)]
    hideout = maps.map_hideout(rows, "per_1000_households", {"a": 1200, "b": 300, "c": 0}, "zh")
    assert hideout["values"] == {"a": 2.5, "b": 3.3, "c": None}  # reported, not open; no households → no data
    assert hideout["labels"] == ["2.5", "3.3"]
    assert hideout["label"] == "30日每千户上报"


def test_unknown_metric_is_refused():
    with pytest.raises(ValueError):
        maps.metric_value(Figures("a"), "busiest")


def test_children_geojson_keeps_code_name_level_and_geometry():
    ring = [[120.0, 31.0], [120.2, 31.0], [120.2, 31.2], [120.0, 31.2], [120.0, 31.0]]
    geometry = json.dumps({"type": "Polygon", "coordinates": [ring]})
    collection = maps.children_geojson([(area("329902", 1, "东城区"), geometry)])
    assert collection["type"] == "FeatureCollection"
    (feature,) = collection["features"]
    assert feature["properties"] == {"code": "329902", "name": "东城区", "level": 1}
    assert feature["id"] == "329902"
    assert feature["geometry"]["coordinates"] == [ring]


def test_buildings_geojson_is_points_lon_lat():
    b = Building(code="329902001001001002", grid_code="329902001001001", name="2号楼", lat=31.12, lon=120.025,
                 households=150, floors=7)
    (feature,) = maps.buildings_geojson([b])["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [120.025, 31.12]}
    assert feature["properties"] == {"code": b.code, "name": "2号楼", "level": 5, "households": 150, "floors": 7}


def test_view_state_keeps_a_building_only_inside_the_grid_in_view():
    chain = [area("329900", 0, "云州市"), area("329902001001001", 4, "东街第01网格")]
    inside = Building("329902001001001002", "329902001001001", "2号楼", 31.1, 120.0, 150, 7)
    elsewhere = Building("329902002001001001", "329902002001001", "1号楼", 31.1, 120.1, 300, 6)
    view = maps.view_state(chain, inside)
    assert (view["code"], view["level"], view["top"]) == ("329902001001001", 4, "329900")
    assert view["building"] == {"code": inside.code, "name": "2号楼", "households": 150, "floors": 7}
    assert maps.view_state(chain, elsewhere)["building"] is None
    assert maps.view_state(chain[:1])["parent"] is None


def test_viewport_fits_the_bounds():
    vp = maps.viewport(((31.0, 120.0), (31.2, 120.4)))
    assert vp["bounds"] == [[31.0, 120.0], [31.2, 120.4]]
    assert vp["transition"] == "fitBounds" and vp["options"]["animate"] is False
