"""Overview callbacks called as plain functions on the hand city (now frozen at 2026-11-20 15:00)."""
from __future__ import annotations

import pytest
from dash import no_update

from callbacks import overview as cb
from dashboard import maps
from layouts import overview as layout
from layouts import shell as shell_layout
from tests import handcity

EAST, WEST = "329902", "329903"
STREET = "329902001"
COMMUNITY = "329902001001"
BUILDING = handcity.A1 + "002"


def state(area=None, building=None) -> dict:
    return {"area": area, "building": building}


def view_of(area=None, building=None, lang="zh"):
    return cb.update_view({"area": area, "building": building}, None, lang)[0]


LIVE = (None, None, {"on": False})  # the live tick, the minute, the playback store (off): a live screen


def shown(outputs):
    """Return a live panel's outputs without its digest (one output alone, several as a tuple).

    Called with no digest of what the screen shows, a panel always answers, and its last output is the
    digest of what it answered.
    """
    *values, digest = outputs
    assert isinstance(digest, str) and len(digest) == 40, digest
    return values[0] if len(values) == 1 else tuple(values)


def update_map(requested, metric, lang):
    return shown(cb.update_map(requested, metric, *LIVE, lang, None))


def panel(fn, view, lang):
    return shown(fn(view, *LIVE, lang, None))


def text(component) -> str:
    """Return the text inside a Dash component tree."""
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return " ".join(filter(None, (text(c) for c in component)))
    return text(getattr(component, "children", None))


def tiles(children) -> dict[str, str]:
    return {tile.to_plotly_json()["props"]["data-kpi"]: text(tile.children[1]) for tile in children
            if "data-kpi" in tile.to_plotly_json()["props"]}


def test_city_view_fits_the_city_with_no_notice(in_app):
    view, viewport, crumbs, notice, title, context_url, context_hideout = cb.update_view({}, None, "zh")
    assert (view["code"], view["level"], view["name"], view["building"]) == (handcity.CITY, 0, "云州市", None)
    assert viewport["bounds"] == [[31.0, 120.0], [31.2, 120.4]]
    assert text(crumbs) == "云州市 市"
    assert notice == []
    assert context_url is None and context_hideout == {"focus": handcity.CITY}


def test_staying_on_an_area_does_not_move_the_map(in_app):
    previous = view_of(handcity.A1)
    result = cb.update_view({"area": handcity.A1, "building": BUILDING}, previous, "zh")
    assert result[1] is no_update
    assert result[0]["building"]["code"] == BUILDING
    assert text(result[2]).endswith("东街第01网格 网格 › 2号楼 楼栋")


@pytest.mark.parametrize("requested", ["329999", "320508", "abc", "329902001001001002", ""])
def test_unknown_or_out_of_scope_area_falls_back_to_the_top_with_a_notice(in_app, requested):
    view, _, _, notice, *_ = cb.update_view({"area": requested}, None, "zh")
    assert view["code"] == handcity.CITY
    assert (requested in text(notice)) if requested else notice == []


def test_a_building_outside_the_grid_is_refused_with_a_notice(in_app):
    view, _, _, notice, *_ = cb.update_view({"area": handcity.B1, "building": BUILDING}, None, "en")
    assert view["code"] == handcity.B1 and view["building"] is None
    assert f"Building {BUILDING} was not found" in text(notice)


def test_city_children_by_open_events(in_app):
    url, hideout, legend = update_map(state(), "open", "zh")
    assert url == "/geo/children/329900.json"
    assert hideout["values"] == {EAST: 3, WEST: 2}
    assert text(legend).startswith("在办 越高越差")


@pytest.mark.parametrize("metric, values", [
    ("open", {EAST: 3, WEST: 2}),
    ("overdue", {EAST: 1, WEST: 1}),
    ("per_1000_households", {EAST: 5.0, WEST: 3.3}),  # reported 6 / 1,200 and 2 / 600 households
    ("on_time_rate", {EAST: 25.0, WEST: 0.0}),
])
def test_city_children_by_each_metric(in_app, metric, values):
    assert update_map(state(), metric, "en")[1]["values"] == values


def test_a_grid_shows_its_buildings_and_the_selected_one(in_app):
    url, hideout, _ = update_map(state(handcity.A1, BUILDING), "open", "zh")
    assert url == f"/geo/children/{handcity.A1}.json"
    assert hideout["values"] == {handcity.A1 + "001": 0, BUILDING: 1}
    assert hideout["selected"] == BUILDING


def test_a_parent_open_count_equals_the_sum_of_its_children_at_every_level(in_app):
    pending, checked = [handcity.CITY], 0
    while pending:
        view = view_of(pending.pop())
        values = update_map(state(view["code"]), "open", "zh")[1]["values"]
        assert tiles(panel(cb.update_kpis, view, "zh"))["open"] == str(sum(values.values())), view["code"]
        if view["level"] < 4:
            pending.extend(values)
        checked += 1
    assert checked == 15  # the city, 2 districts, 3 streets, 3 communities, 6 grids


@pytest.mark.parametrize("area, expected", [
    (None, {"reported_today": "5", "open": "5", "overdue": "2", "closed": "3", "on_time_rate": "20.0%",
            "median_hours": "6.5 小时"}),
    (EAST, {"reported_today": "3", "open": "3", "overdue": "1", "closed": "3", "on_time_rate": "25.0%",
            "median_hours": "6.5 小时"}),
    (STREET, {"reported_today": "3", "open": "2", "overdue": "1", "closed": "2", "on_time_rate": "33.3%",
              "median_hours": "3.7 小时"}),
    (handcity.B2, {"reported_today": "0", "open": "0", "overdue": "0", "closed": "0", "on_time_rate": "—",
                   "median_hours": "—"}),
])
def test_kpi_tiles(in_app, area, expected):
    view = view_of(area)
    assert {**tiles(panel(cb.update_kpis, view, "zh")), **tiles(panel(cb.update_median, view, "zh"))} == expected


def test_a_quiet_area_shows_zeros_and_a_note(in_app):
    children = panel(cb.update_kpis, view_of(handcity.B2), "en")
    assert "No events in this area in the last 30 days" in text(children)
    assert "No events" not in text(panel(cb.update_kpis, view_of(EAST), "en"))


def test_top_categories_and_trend_of_the_city(in_app):
    bar = panel(cb.update_categories, view_of(), "zh")["data"][0]
    assert list(bar["y"])[-1] == "机动车乱停放" and list(bar["x"])[-1] == 4
    assert sorted(bar["x"]) == [1, 1, 1, 1, 4]
    reported, closed = panel(cb.update_trend, view_of(), "zh")["data"]
    assert sum(reported["y"]) == 8 and sum(closed["y"]) == 3
    assert len(reported["x"]) == 31  # local days from 10-21 to 11-20


def test_a_quiet_area_charts_say_so(in_app):
    assert panel(cb.update_categories, view_of(handcity.B2), "zh")["layout"]["annotations"][0]["text"] == "近30日无上报"


def test_the_selected_building_replaces_the_categories(in_app):
    children, building_hidden, categories_hidden = panel(cb.update_building, view_of(handcity.A1, BUILDING), "zh")
    assert (building_hidden, categories_hidden) == (False, True)
    body = text(children)
    assert "2号楼" in body and "道路破损" in body and "超期" in body
    assert panel(cb.update_building, view_of(handcity.A1), "zh") == ([], True, False)


def test_panels_wait_for_a_view(in_app):
    # No view yet: nothing is drawn and the digest is left alone.
    assert cb.update_kpis(None, *LIVE, "zh", None) == (no_update, no_update)
    assert cb.update_trend(None, *LIVE, "zh", None) == (no_update, no_update)


@pytest.mark.parametrize("requested", [None, "329999", "abc"])
def test_the_map_falls_back_to_the_top_like_the_view(in_app, requested):
    url, hideout, _ = update_map(state(requested), "open", "zh")
    assert url == "/geo/children/329900.json" and hideout["values"] == {EAST: 3, WEST: 2}


def test_the_data_time_label(in_app):
    # The frame renders the badge with the server's now (frozen at 15:00); assets/gridcc-live.js then
    # keeps it in the page's language from the labels the frame sends it.
    frame = shell_layout.layout()
    badge = next(c for c in frame._traverse() if getattr(c, "id", None) == shell_layout.AS_OF)
    assert badge.children == "数据截至 15:00:00"
    labels = next(c for c in frame._traverse() if getattr(c, "id", None) == shell_layout.LABELS).data
    assert labels["langs"]["en"]["clock.as_of"] == "Data as of"


def test_layout_reads_the_query_string(in_app):
    page = layout.layout(area=EAST, metric="bogus", lang="en", building=None, extra="ignored")
    stores = {c.id: c.data for c in page.children if getattr(c, "id", None) in (layout.STATE, layout.LANG)}
    assert stores == {layout.STATE: {"area": EAST, "building": None}, layout.LANG: "en"}
    assert "Colour by" in str(page)
    metric = next(c for c in page._traverse() if getattr(c, "id", None) == layout.METRIC)
    assert metric.value == "open"
    assert next(c for c in layout.layout(metric="overdue")._traverse()
                if getattr(c, "id", None) == layout.METRIC).value == "overdue"
    assert "着色指标" in str(layout.layout())
    assert maps.children_url(EAST) == "/geo/children/329902.json"


def lights(component) -> list[str]:
    """Return the data-light values in a component tree, in order."""
    if isinstance(component, (list, tuple)):
        return [light for child in component for light in lights(child)]
    if component is None or isinstance(component, (str, int, float)):
        return []
    found = [component._prop_data_light] if hasattr(component, "_prop_data_light") else []
    found += [v for k, v in getattr(component, "__dict__", {}).items() if k == "data-light"]
    return found + lights(getattr(component, "children", None))


def test_open_events_of_a_building_carry_their_traffic_light(in_app):
    # A1's 2号楼: event 3, 0110 dispatched 11-10 09:30, deadline 11-17 09:30, not handled at 11-20 15:00: red.
    children, _, _ = panel(cb.update_building, view_of(handcity.A1, BUILDING), "zh")
    assert lights(children) == ["red"] and "超时" in text(children)
    # A2's 1号楼: event 4, 0505 (2 work hours) dispatched 14:05, deadline 16:05; at 15:00 55 of 120 minutes
    # are used (46 %): green. Event 5 there is void, so not listed.
    children, _, _ = panel(cb.update_building, view_of(handcity.A2, handcity.A2 + "001"), "en")
    assert lights(children) == ["green"] and "On track" in text(children)


def test_building_event_times_carry_their_year(in_app):
    # Event 3 was reported 2026-11-10 09:30 with deadline 2026-11-17 09:30: an old open case must not
    # read like a date to come, so the year is written out.
    children, _, _ = panel(cb.update_building, view_of(handcity.A1, BUILDING), "zh")
    assert "2026-11-10 09:00" in text(children) and "2026-11-17 09:30" in text(children)
