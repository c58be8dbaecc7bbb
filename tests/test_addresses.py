"""Every view has an address (issue 8 §2): a page's URL → its layout's controls → its callbacks → the same numbers as
the API at that as_of; hostile URLs fall back to the defaults (never an error page).

Hand city (tests/handcity.py), now frozen at 2026-11-20 15:00. By hand, from tests/api/test_areas.py and
tests/callbacks/test_sla_page.py: the city at 12:00 has 3 open cases and 6 reported in its 30 days (5 and 8 at
15:00); its open cases at 12:00 are 3, 6, 9 → lights red 2 (3, 9), green 1 (6); the red cases now are 3 and 9,
9 the older (overdue since 09-04).
"""
from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from callbacks import backlog as backlog_cb
from callbacks import overview as overview_cb
from callbacks import sla as sla_cb
from dashboard import addresses, views
from layouts import backlog as backlog_ids
from layouts import overview as overview_ids
from layouts import sla as sla_ids
from tests.callbacks.test_overview import text, tiles
from tests.callbacks.test_sla_page import tiles as light_tiles
from tests.callbacks.test_sla_page import triggered
from tests.conftest import signed_in

NOON = "2026-11-20T12:00"
NOON_API = "2026-11-20T12:00:00+08:00"
EAST = "329902"


def props(component) -> dict:
    return component.to_plotly_json()["props"]


def find(tree, wanted):
    """Return the component with id ``wanted`` in a layout tree (None when there is none)."""
    if isinstance(tree, (list, tuple)):
        for child in tree:
            if (found := find(child, wanted)) is not None:
                return found
        return None
    if not hasattr(tree, "to_plotly_json"):
        return None
    if getattr(tree, "id", None) == wanted:
        return tree
    return find(getattr(tree, "children", None), wanted)


def open_url(module, url: str):
    """Return the page layout for ``url`` as Dash pages calls it: the query as keyword arguments (a repeated key
    arrives as a list)."""
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    query: dict = {}
    for key, value in pairs:
        query[key] = [*query[key], value] if key in query and isinstance(query[key], list) else \
            [query[key], value] if key in query else value
    return module.layout(**query)


def find_class(tree, name):
    """Return the first component whose className has ``name``."""
    if isinstance(tree, (list, tuple)):
        return next((found for child in tree if (found := find_class(child, name)) is not None), None)
    if not hasattr(tree, "to_plotly_json"):
        return None
    if name in (getattr(tree, "className", None) or "").split():
        return tree
    return find_class(getattr(tree, "children", None), name)


@pytest.fixture
def in_app(hand_app):
    """Run the test inside a request to the hand-city app by its city leader."""
    import flask

    from tests.conftest import principal_for

    with hand_app.server.test_request_context():
        flask.g.gridcc_principal = principal_for(hand_app, "leader")
        yield hand_app


@pytest.fixture
def api(hand_app):
    return signed_in(hand_app, "leader")


# -- the overview ------------------------------------------------------------------------------------------------

def overview_kpis(page) -> dict[str, str]:
    """Run the overview's callbacks on a layout's stores as the browser would: view, then the KPI tiles."""
    state = find(page, overview_ids.STATE).data
    frozen = find(page, overview_ids.FROZEN).data
    view = overview_cb.update_view(state, None, "zh")[0]
    playback = {"on": False}
    kpis = overview_cb.update_kpis(view, None, None, playback, "zh", None, frozen)[0]
    median = overview_cb.update_median(view, None, None, playback, "zh", None, frozen)[0]
    return {"code": view["code"], **tiles(kpis), **tiles(median)}


def api_tiles(api, code: str, as_of: str | None) -> dict[str, str]:
    """Return the API's figures of ``code`` formatted as the overview's tiles."""
    query = "?" + urlencode({"as_of": as_of}) if as_of else ""
    figures = api.get(f"/api/v1/areas/{code}{query}").get_json()["area"]["figures"]
    rate = figures["on_time_rate"]
    hours = figures["median_handling_hours"]
    return {"open": f"{figures['open']:,}", "overdue": f"{figures['overdue']:,}", "closed": f"{figures['closed']:,}",
            "on_time_rate": "—" if rate is None else f"{rate * 100:,.1f}%",
            "median_hours": "—" if hours is None else f"{hours:,.1f} 小时"}


def test_addr001_a_frozen_overview_url_shows_the_apis_numbers_at_its_as_of(in_app, api):
    page = open_url(overview_ids, f"/?area={EAST}&metric=overdue&heat=1&heat_window=7d&heat_source=hotline"
                                  f"&heat_urgent=1&as_of={NOON}&lang=zh")
    assert props(page)["data-frozen-at"] == "2026-11-20 12:00"
    assert find(page, overview_ids.FROZEN).data == NOON
    assert find(page, overview_ids.MINUTE).disabled is True  # nothing moves a frozen page
    assert (find(page, overview_ids.METRIC).value, find(page, overview_ids.HEAT_ON).value,
            find(page, overview_ids.HEAT_WINDOW).value, find(page, overview_ids.HEAT_CLASS).value,
            find(page, overview_ids.HEAT_SOURCE).value, find(page, overview_ids.HEAT_URGENT).value) == (
        "overdue", True, "7d", "all", "hotline", True)
    shown = overview_kpis(page)
    assert shown["code"] == EAST
    expected = api_tiles(api, EAST, NOON_API)
    assert {key: shown[key] for key in expected} == expected
    # The city by hand: 3 open at noon (5 now) — the freeze is what makes the numbers differ from live.
    city = overview_kpis(open_url(overview_ids, f"/?as_of={NOON}"))
    live = overview_kpis(open_url(overview_ids, "/"))
    assert (city["open"], live["open"]) == ("3", "5")
    assert {k: city[k] for k in expected} == api_tiles(api, "329900", NOON_API)
    assert {k: live[k] for k in expected} == api_tiles(api, "329900", None)


def test_addr002_a_frozen_overview_shows_no_alerts_and_no_playback(in_app, monkeypatch):
    page = open_url(overview_ids, f"/?as_of={NOON}")
    assert find_class(page, "ovw-playback").hidden is True
    assert find_class(overview_ids.layout(), "ovw-playback").hidden is False
    asked = []
    monkeypatch.setattr(overview_cb.data, "open_alerts", lambda scope, as_of: asked.append(as_of) or [])
    with triggered(""):
        banner, pulses, alert_ids, _ = overview_cb.update_alerts(None, None, [], [], "zh", None, NOON)
        assert (banner, pulses, alert_ids) == ([], [], []) and asked == []  # what needs doing now is not asked
        overview_cb.update_alerts(None, None, [], [], "zh", None, None)
    assert asked == [datetime(2026, 11, 20, 15, 0)]  # live, it is
    # The ticker stops at the frozen minute too: nothing reported after noon.
    view = overview_cb.update_view({"area": None}, None, "zh")[0]
    ticker = overview_cb.update_ticker(view, None, None, {"on": False}, "zh", None, NOON)[0]
    times = [li.children[0].children[0].title for li in ticker[0].children]
    assert times and max(times) <= "2026-11-20 12:00:00"


@pytest.mark.parametrize("as_of", [
    "2099-01-01T00:00",  # the future
    "1999-12-31T23:59", "0001-01-01T00:00",  # before 2000
    "2026-11-20T12:00+08:00",  # an offset: the URL's as_of is the city's naive minute
    "yesterday", "<script>alert(1)</script>", "2026-11-20T12:00\x00", "２０２６-11-20", "9" * 5000,
    ["2026-11-20T12:00", "2026-11-20T13:00"],  # a repeated key
])
def test_addr003_a_bad_as_of_leaves_the_overview_live(in_app, as_of):
    page = overview_ids.layout(as_of=as_of)
    assert "data-frozen-at" not in props(page) and find(page, overview_ids.FROZEN).data is None
    assert find(page, overview_ids.MINUTE).disabled is False
    assert overview_kpis(page)["open"] == "5"  # live: now's count
    # A forged store is checked again by every callback.
    assert overview_cb.frozen(as_of if isinstance(as_of, str) else None) is None


def test_addr004_hostile_overview_controls_fall_back_to_the_defaults(in_app):
    hostile = {
        "area": "3" * 5000, "building": ["a", "b"], "metric": "<img src=x onerror=alert(1)>", "heat": "yes please",
        "heat_window": "1000y", "heat_class": "99", "heat_source": "\u202ehotline", "heat_urgent": "0",
        "playback": "1", "cursor": "2026-11-20T10:00", "unknown": "x" * 300,
    }
    page = overview_ids.layout(**hostile)
    assert find(page, overview_ids.STATE).data == {"area": None, "building": None}
    assert (find(page, overview_ids.METRIC).value, find(page, overview_ids.HEAT_ON).value,
            find(page, overview_ids.HEAT_WINDOW).value, find(page, overview_ids.HEAT_CLASS).value,
            find(page, overview_ids.HEAT_SOURCE).value, find(page, overview_ids.HEAT_URGENT).value) == (
        "open", False, "24h", "all", "all", False)
    # Unicode area codes are asked for as they are and refused in scope with the notice, not an error.
    page = overview_ids.layout(area="东城区😀")
    state = find(page, overview_ids.STATE).data
    outputs = overview_cb.update_view(state, None, "zh")
    assert outputs[0]["code"] == "329900" and "东城区😀" in text(outputs[3])


def test_addr005_what_the_overview_writes_back_parses_as_a_view():
    """The keys assets/gridcc-clientside.js mirrorUrl writes are the page's view keys (dashboard/views.py)."""
    url = ("/?area=329902&building=x&metric=overdue&heat=1&heat_window=7d&heat_class=01&heat_source=hotline"
           "&heat_urgent=1&as_of=2026-11-20T12:00&lang=en&embed=1")
    view = views.parse(url)
    assert view.get("heat_urgent") == "1" and views.as_of_of(url) == datetime(2026, 11, 20, 12, 0)
    assert set(addresses.OVERVIEW_DEFAULTS) | {"area", "building"} <= views.KEYS["/"]


# -- the SLA page -----------------------------------------------------------------------------------------------

def test_addr010_an_sla_url_with_every_control_shows_the_apis_numbers(in_app, api):
    url = (f"/sla?area={EAST}&period=custom&start=2026-11-01&end=2026-11-20&grain=week&split_by=street"
           f"&age_by=area&handling_by=department&exceptions_by=area&as_of={NOON}")
    assert views.parse(url).get("split_by") == "street"
    page = open_url(sla_ids, url)
    assert props(page)["data-frozen-at"] == "2026-11-20 12:00"
    period, start, end = (find(page, sla_ids.PERIOD).value, find(page, sla_ids.DATES).start_date,
                          find(page, sla_ids.DATES).end_date)
    assert (period, start, end) == ("custom", "2026-11-01", "2026-11-20")
    assert find(page, sla_ids.DATES_WRAP).hidden is False
    controls = {name: find(page, control).value for name, control in (
        ("grain", sla_ids.GRAIN), ("split", sla_ids.SPLIT_BY), ("age", sla_ids.AGE_BY),
        ("handling", sla_ids.HANDLING_BY), ("exceptions", sla_ids.EXCEPTIONS_BY))}
    assert controls == {"grain": "week", "split": "street", "age": "area", "handling": "department",
                        "exceptions": "area"}
    frozen = find(page, sla_ids.FROZEN).data
    with triggered(""):
        view = sla_cb.update_view(find(page, sla_ids.STATE).data, [], "", "zh")[0]
    assert view["code"] == EAST
    lights = light_tiles(sla_cb.update_lights(view, None, None, frozen, "zh", None)[0])
    split = sla_cb.update_split(view, period, start, end, controls["split"], None, None, frozen, "zh", None)[0]
    handle = split["data"][1]
    shown = dict(zip(handle["y"], handle["text"]))
    # The custom days end at the frozen minute: [11-01 00:00, 11-20 12:00).
    body = api.get("/api/v1/sla?" + urlencode({"area": EAST, "as_of": NOON_API, "from": "2026-11-01T00:00:00+08:00",
                                                "to": NOON_API, "grain": "week"})).get_json()
    assert lights == {key: str(value["count"]) for key, value in body["lights"].items()}
    expected = {}
    for row in body["on_time"]["by_street"]:
        rate = row["handle"]
        value = "—" if rate["value"] is None else f"{rate['value'] * 100:.1f}%"
        expected[row["name"]] = f"{value}  {rate['numerator']}/{rate['denominator']}"
    assert shown == expected and expected


@pytest.mark.parametrize("query, expected", [
    ({"period": "custom", "start": "2026-11-20", "end": "2026-11-01"}, ("30d", None, None)),  # backwards
    ({"period": "custom", "start": "2026-02-30", "end": "2026-03-01"}, ("30d", None, None)),  # no such day
    ({"period": "custom"}, ("30d", None, None)),
    ({"period": "7d", "start": "2026-11-01", "end": "2026-11-02"}, ("7d", None, None)),  # days only with custom
    ({"period": ["7d", "month"]}, ("30d", None, None)),
    ({"period": "<script>", "start": "1" * 3000}, ("30d", None, None)),
])
def test_addr011_hostile_sla_urls_fall_back(in_app, query, expected):
    page = sla_ids.layout(grain="year", split_by="😀", age_by=["class", "area"], as_of="2999-01-01T00:00", **query)
    dates = find(page, sla_ids.DATES)
    assert (find(page, sla_ids.PERIOD).value, dates.start_date, dates.end_date) == expected
    assert (find(page, sla_ids.GRAIN).value, find(page, sla_ids.SPLIT_BY).value,
            find(page, sla_ids.AGE_BY).value) == ("day", "class", "class")
    assert "data-frozen" not in props(page)  # a future as_of: the page is live (and ticks)


# -- the backlog desk --------------------------------------------------------------------------------------------

def desk_rows(page) -> list[int]:
    """Return the case ids the desk's first block shows for a layout's grid, search and quick filters."""
    grid = find(page, backlog_ids.GRID)
    sort = [{"colId": c["colId"], "sort": c["sort"], "sortIndex": c["sortIndex"]} for c in grid.columnState or []
            if c.get("sort")]
    request = {"startRow": 0, "endRow": 100, "sortModel": sort, "filterModel": grid.filterModel}
    response, _, _ = backlog_cb.update_rows(request, find(page, backlog_ids.SEARCH).value,
                                            find(page, backlog_ids.QUICK_FILTERS).value, None, "zh")
    return [row["id"] for row in response["rowData"]]


def test_addr020_a_desk_url_sets_quick_filters_search_sort_and_column_filters(in_app):
    everything = desk_rows(backlog_ids.layout())
    assert len(everything) > 2
    red = backlog_ids.layout(quick="red", sort="-age")
    assert find(red, backlog_ids.QUICK_FILTERS).value == ["red"]
    assert desk_rows(red) == [9, 3]  # red now: 3 and 9; the older first
    assert desk_rows(backlog_ids.layout(quick="red", sort="age")) == [3, 9]
    grid = find(red, backlog_ids.GRID)
    assert [c["colId"] for c in grid.columnState] == list(__import__("dashboard.backlog").backlog.COLUMNS)
    compact = json.dumps({"id": ["equals", 9]})
    only = backlog_ids.layout(filter=compact, q="")
    assert find(only, backlog_ids.GRID).filterModel == {"id": {"filterType": "number", "type": "equals",
                                                               "filter": 9.0}}
    assert desk_rows(only) == [9]
    # What the page writes back is the same address, and a view (keys known, values ≤ 200 characters).
    written = find(red, backlog_ids.ADDRESS).data
    assert written == {"quick": "red", "q": None, "sort": "-age", "filter": None}
    view = views.parse("/backlog?" + urlencode({k: v for k, v in written.items() if v}))
    assert dict(view.query) == {"quick": "red", "sort": "-age"}


def test_addr021_the_address_follows_the_grid(in_app):
    columns = [{"colId": "deadline", "sort": "asc", "sortIndex": 1}, {"colId": "age", "sort": "desc", "sortIndex": 0}]
    filters = {"category": {"filterType": "text", "type": "contains", "filter": "市容"},
               "reported": {"filterType": "date", "operator": "OR", "conditions": [
                   {"filterType": "date", "type": "equals", "dateFrom": "2026-11-01 00:00:00"},
                   {"filterType": "date", "type": "lessThan", "dateFrom": "2026-10-01 00:00:00"}]}}
    query = backlog_cb.address(columns, filters, "  水管 ", ["soon", "red", "bogus"], None)
    assert query["quick"] == "red,soon" and query["q"] == "水管" and query["sort"] == "-age,deadline"
    assert json.loads(query["filter"]) == {"category": ["contains", "市容"],
                                           "reported": ["OR", ["equals", "2026-11-01"], ["lessThan", "2026-10-01"]]}
    # … and reading it back gives the same grid.
    page = backlog_ids.layout(**{k: v for k, v in query.items() if v})
    grid = find(page, backlog_ids.GRID)
    assert grid.filterModel == addresses.desk_filter_from_url(query["filter"])
    assert addresses.desk_to_url(grid.columnState, grid.filterModel, find(page, backlog_ids.SEARCH).value,
                                 find(page, backlog_ids.QUICK_FILTERS).value) == query
    # The grid has not reported its columns yet: the sort in the address stays.
    assert backlog_cb.address(None, {}, "", [], {"sort": "-age"})["sort"] == "-age"
    # Nothing changed: no new address.
    assert backlog_cb.address(columns, filters, "  水管 ", ["soon", "red"], query) is backlog_cb.no_update


def test_addr022_a_filter_too_long_for_an_address_is_cut_to_fit():
    filters = {col: {"filterType": "text", "type": "contains", "filter": "长" * 90}
               for col in ("category", "place", "department")}
    written = addresses.desk_filter_to_url(filters)
    assert written is not None and len(written) <= views.MAX_VALUE
    assert list(json.loads(written)) == ["category"]  # the first column that fits, the rest left out


@pytest.mark.parametrize("query", [
    {"filter": "{" * 5000},  # oversized
    {"filter": "<script>alert(1)</script>"},
    {"filter": json.dumps({"evil": ["contains", "x"], "id": ["drop table", 1], "age": ["inRange", "a", None]})},
    {"filter": json.dumps(["id", "equals", 1])},
    {"filter": json.dumps({"id": [["equals", 1]] * 50})},
    {"quick": ["red", "soon"], "sort": ["age", "-age"], "q": ["a", "b"]},  # repeated keys
    {"quick": "red" * 100, "sort": "-" * 300, "q": "\x00\x07"},
    {"sort": "bogus,-nothing,;drop", "quick": "😀"},
])
def test_addr023_hostile_desk_urls_fall_back_to_an_unfiltered_desk(in_app, query):
    page = backlog_ids.layout(**query)
    grid = find(page, backlog_ids.GRID)
    assert grid.filterModel == {}
    assert find(page, backlog_ids.QUICK_FILTERS).value == [] and find(page, backlog_ids.SEARCH).value == ""
    assert not any(c.get("sort") for c in grid.columnState)
    assert len(desk_rows(page)) == len(desk_rows(backlog_ids.layout()))


def test_addr024_the_desk_is_always_live(in_app):
    page = backlog_ids.layout(as_of=NOON)
    assert "data-frozen" not in props(page) and "data-frozen-at" not in props(page)
    with pytest.raises(ValueError):
        views.parse("/backlog?quick=red&bogus=1")


# -- the frozen verdict on every freezable page ------------------------------------------------------------------

def test_addr030_sla_and_rankings_mark_only_a_sane_as_of(in_app):
    from layouts import rankings

    for module in (sla_ids, rankings):
        assert props(module.layout(as_of=NOON))["data-frozen-at"] == "2026-11-20 12:00"
        assert props(module.layout(as_of="2026-11-20T12:34:56"))["data-frozen-at"] == "2026-11-20 12:34"
        for bad in ("2099-01-01T00:00", "nonsense", [NOON, NOON]):
            assert "data-frozen" not in props(module.layout(as_of=bad))


def test_addr031_the_shell_has_copy_link_back_to_live_and_embed(in_app):
    from callbacks import shell as shell_cb  # noqa: F401  (its callbacks name these ids)
    from layouts import shell

    frame = shell.layout()
    assert props(frame)["id"] == shell.ROOT
    copy = find(frame, shell.COPY)
    assert "复制链接" in text(copy) and "Copy link" in text(copy)
    assert find(frame, shell.BACK_LIVE).hidden is True and props(find(frame, shell.BACK_LIVE))["data-drop-as-of"]
    assert find(frame, shell.TOAST).hidden is True and find(frame, shell.COPY_BOX).hidden is True
    for key in ("link.copy_hint", "link.frozen", "link.back_live"):
        assert key in shell.SHELL_KEYS
