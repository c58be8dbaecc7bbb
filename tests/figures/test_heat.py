"""The heat layer's pure builder (dashboard/heat.py) and its browser functions (assets/gridcc-heat.js).

Expected bounds are worked out by hand from maps.quantile_bounds (a value held by a fifth or more of
the cells is a class of its own; the rest split by quantiles) and then snapped down to 1–2–5 steps.
"""
from __future__ import annotations

import json
import math
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from dash._utils import to_json
from h3.api import basic_int

from dashboard.heat import (
    HEAT_PALETTE, MAX_CELLS, WINDOWS, cell_key, cell_of_key, count_bounds, count_labels, h3_cells, heat_hideout, legend_rows,
    nice_floor, resolution_for, resolution_for_zoom,
)
from dashboard.maps import NO_DATA

ROOT = Path(__file__).resolve().parents[2]
CENTRE = (31.3, 120.6)  # the demo city


def disk(resolution: int, count: int) -> list[int]:
    """Return ``count`` distinct cells of ``resolution`` around the demo city's centre, in a fixed order."""
    centre = basic_int.latlng_to_cell(*CENTRE, resolution)
    k = 1
    while 3 * k * (k + 1) + 1 < count:
        k += 1
    return sorted(basic_int.grid_disk(centre, k))[:count]


def test_heatfig001_windows():
    assert WINDOWS == {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7)}


@pytest.mark.parametrize("level, resolution", [(0, 8), (1, 9), (2, 10), (3, 11), (4, 11), (5, 11)])
def test_heatfig002_resolution_per_level(level, resolution):
    assert resolution_for(level) == resolution


@pytest.mark.parametrize("level", [-1, 6, 1.0, "1", None, True, [0]])
def test_heatfig003_resolution_for_hostile_levels(level):
    with pytest.raises(ValueError):
        resolution_for(level)


# A 1000×700 px map at latitude 31.3: zoom 12 shows 134,160·cos(31.3°)... ≈ 27.4 m a pixel, so
# 0.7 Mpx × 27.4² m² ≈ 525 km²: res 8 (0.737 km²) gives ≈ 710 cells, res 7 ≈ 100 → 8. Each zoom step
# quarters the area, each resolution step sevenths it.
@pytest.mark.parametrize("zoom, resolution", [(0, 5), (9.5, 6), (11, 7), (12, 8), (13, 8), (14, 9), (15, 10),
                                              (17, 11), (22, 11), (-3, 5), (99, 11)])
def test_heatfig004_resolution_for_zoom(zoom, resolution):
    assert resolution_for_zoom(zoom) == resolution


@pytest.mark.parametrize("zoom", [math.nan, math.inf, None, "12", True])
def test_heatfig005_resolution_for_hostile_zoom(zoom):
    with pytest.raises(ValueError):
        resolution_for_zoom(zoom)


@pytest.mark.parametrize("value, nice", [(0, 1), (1, 1), (1.9, 1), (2, 2), (4, 2), (5, 5), (9, 5), (10, 10),
                                         (19, 10), (20, 20), (49, 20), (50, 50), (120, 100), (999, 500)])
def test_heatfig006_nice_floor(value, nice):
    assert nice_floor(value) == nice


def test_heatfig007_bounds_for_skewed_counts():
    # 1 ×50 and 2 ×20 are heavy (≥ a fifth): classes of their own; 3, 7, 30 start the quantile classes of
    # the 30 others (3 ×10, 7 ×10, 30 ×5, 120 ×5 → cuts at the 0th, 10th, 20th) → [1, 2, 3, 7, 30],
    # snapped down: 3 → 2 (merges), 7 → 5, 30 → 20.
    counts = [1] * 50 + [2] * 20 + [3] * 10 + [7] * 10 + [30] * 5 + [120] * 5
    assert count_bounds(counts) == [1, 2, 5, 20]
    assert count_labels([1, 2, 5, 20], 120) == ["1", "2–4", "5–19", "≥ 20"]
    assert count_bounds([]) == [] and count_bounds([0, 0]) == []
    assert count_bounds([3, 3, 3]) == [2]  # one value: one class, from its 1–2–5 floor
    assert count_labels([2], 3) == ["≥ 2"] and count_labels([5], 5) == ["5"]
    # 11 values, none heavy: quantile cuts at indexes 0, 2, 4, 6, 8 → 1, 3, 5, 7, 9 → snapped 1, 2, 5, 5, 5.
    assert count_bounds([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1500]) == [1, 2, 5]
    assert count_labels([1, 1000], 1500) == ["1–999", "≥ 1,000"]


def test_heatfig008_hideout():
    cells = disk(9, 100)
    counts = [1] * 50 + [2] * 20 + [3] * 10 + [7] * 10 + [30] * 5 + [120] * 5
    hideout = heat_hideout(list(zip(cells, counts)), "zh", 9)
    assert hideout["cells"] == {cell_key(c): n for c, n in zip(cells, counts)}
    assert hideout["bounds"] == [1, 2, 5, 20]
    # Four classes spread over the 5 inferno colours (dark to bright): indexes round(0), round(4/3), round(8/3), 4.
    assert hideout["colours"] == [HEAT_PALETTE[0], HEAT_PALETTE[1], HEAT_PALETTE[3], HEAT_PALETTE[4]]
    assert hideout["labels"] == ["1", "2–4", "5–19", "≥ 20"]
    assert hideout["total"] == 50 + 40 + 30 + 70 + 150 + 600 == 940
    assert (hideout["resolution"], hideout["truncated"]) == (9, 0)
    assert (hideout["label"], hideout["countLabel"], hideout["noneLabel"]) == ("事件密度", "{n} 件", "该时段无事件")
    assert heat_hideout([], "en", 9)["label"] == "Event density"
    assert legend_rows(hideout) == [(HEAT_PALETTE[4], "≥ 20"), (HEAT_PALETTE[3], "5–19"), (HEAT_PALETTE[1], "2–4"),
                                   (HEAT_PALETTE[0], "1")]


def test_heatfig009_cell_ids_round_trip():
    for resolution in range(5, 12):
        for cell in disk(resolution, 50):
            key = cell_key(cell)
            assert cell_of_key(key, resolution) == cell
            assert len(key) <= 13 and not key.endswith("f")
    assert cell_key(0x8B4196440151FFF) == "4196440151"


def test_heatfig010_empty_hideout():
    hideout = heat_hideout([], "en", 8)
    assert (hideout["cells"], hideout["bounds"], hideout["colours"], hideout["labels"], hideout["total"]) == (
        {}, [], [], [], 0)
    assert legend_rows(hideout) == [(NO_DATA, "No events in this period")]
    # Zero counts are no cells; repeated cells add up.
    cell = disk(8, 1)[0]
    assert heat_hideout([(cell, 0)], "zh", 8)["cells"] == {}
    assert heat_hideout([(cell, 2), (cell, 3)], "zh", 8)["cells"] == {cell_key(cell): 5}


@pytest.mark.parametrize("cells, resolution", [
    ([(disk(9, 1)[0], 1)], 8),  # a cell of another resolution
    ([(123, 1)], 8),  # not an H3 cell
    ([(-1, 1)], 8),
    ([("89419644017ffff", 1)], 9),  # a string, not an int
    ([(disk(9, 1)[0], 1.5)], 9),
    ([(disk(9, 1)[0], None)], 9),
    ([], 4), ([], 12), ([], "9"), ([], None), ([], True),
])
def test_heatfig011_hostile_hideout_inputs(cells, resolution):
    with pytest.raises(ValueError):
        heat_hideout(cells, "zh", resolution)


def test_heatfig012_payload_of_5000_cells_under_100_kb():
    # 5,000 cells at the finest resolution holding all of 10 M events (2,000 each): the worst case.
    cells = disk(11, MAX_CELLS)
    hideout = heat_hideout([(c, 2_000) for c in cells], "zh", 11)
    size = len(to_json(hideout).encode())  # how Dash serialises a callback's output
    assert len(hideout["cells"]) == 5_000 and hideout["total"] == 10_000_000
    assert size <= 100_000, size
    # More cells than that: the densest 5,000 go, the rest are counted in the total only.
    many = disk(11, MAX_CELLS + 10)
    hideout = heat_hideout([(c, 1 if i >= MAX_CELLS else 3) for i, c in enumerate(many)], "zh", 11)
    assert (len(hideout["cells"]), hideout["truncated"], hideout["total"]) == (5_000, 10, 15_010)
    assert set(hideout["cells"].values()) == {3}


def test_heatfig013_h3_cells():
    got = h3_cells([31.3, 31.08], [120.6, 120.025])
    assert got.dtype.name == "int64"
    assert got.tolist() == [basic_int.latlng_to_cell(31.3, 120.6, 11), basic_int.latlng_to_cell(31.08, 120.025, 11)]
    assert h3_cells([], []).tolist() == []
    for lat, lon in [([math.nan], [120.0]), ([31.0], [math.inf]), ([31.0, 31.1], [120.0])]:
        with pytest.raises(ValueError):
            h3_cells(lat, lon)


NODE_SCRIPT = r"""
const fs = require("fs"), vm = require("vm");
const window = {};
window.window = window;
vm.createContext(window);
for (const file of process.argv.slice(1)) vm.runInContext(fs.readFileSync(file, "utf8"), window, {filename: file});
const hideout = JSON.parse(fs.readFileSync(0, "utf8"));
const heat = window.gridcc.heat;
const out = {
  keys: Object.keys(window.gridcc).sort(),
  clientside: typeof window.dash_clientside.gridcc_heat.toGeojson,
  geojson: window.dash_clientside.gridcc_heat.toGeojson(hideout),
  empty: [null, {}, {cells: []}, {cells: {"zz": 1}, resolution: 9}, {cells: {"4196440151": 1}}, "x"]
    .map(h => window.dash_clientside.gridcc_heat.toGeojson(h).features.length),
};
out.styles = out.geojson.features.map(f => heat.style(f, {hideout}).fillColor);
let tip = null;
heat.onEachFeature(out.geojson.features[0], {bindTooltip: f => { tip = f(); }}, {hideout});
out.tip = tip;
process.stdout.write(JSON.stringify(out));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the map's JS")
def test_heatfig014_browser_functions():
    cells = disk(9, 3)
    hideout = heat_hideout([(cells[0], 7), (cells[1], 1), (cells[2], 2)], "zh", 9)
    hideout["label"] = "<b>密度</b>"  # escaped in the tooltip
    files = [ROOT / "assets" / "gridcc-heat.js", ROOT / "assets" / "gridcc-map.js",
             ROOT / "assets" / "vendor" / "h3-js" / "h3-js.umd.js"]  # Dash's load order: vendor/ last
    run = subprocess.run(["node", "-e", NODE_SCRIPT, *map(str, files)], input=json.dumps(hideout),
                         capture_output=True, text=True, timeout=60, check=True)
    out = json.loads(run.stdout)
    assert out["keys"] == ["heat", "map"] and out["clientside"] == "function"
    features = out["geojson"]["features"]
    # The hideout lists the densest first: 7, 2, 1.
    assert [f["properties"] for f in features] == [
        {"cell": format(c, "x"), "count": n} for c, n in ((cells[0], 7), (cells[2], 2), (cells[1], 1))]
    ring = features[0]["geometry"]["coordinates"][0]
    assert len(ring) == 7 and ring[0] == ring[-1]  # a closed hexagon, [lng, lat]
    assert basic_int.latlng_to_cell(sum(p[1] for p in ring[:6]) / 6, sum(p[0] for p in ring[:6]) / 6, 9) == cells[0]
    # Bounds [1, 2, 5] (1, 2 and 7 each a class): 7 → the top class, 1 → the first.
    assert hideout["bounds"] == [1, 2, 5]
    assert out["styles"] == hideout["colours"][::-1]
    assert out["tip"] == '<div class="gcc-tip-value"><span>&lt;b&gt;密度&lt;/b&gt;</span> <b>7 件</b></div>'
    assert out["empty"] == [0, 0, 0, 0, 0, 0]
