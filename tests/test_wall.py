"""The wall (issue 8 §1): playlist files checked at start-up, the slots' callback, the overview's wall view.

The callback tests run on the hand city (tests/handcity.py, now = 2026-11-20 15:00) and check the wall's
numerals against both the hand-worked figures and GET /api/v1/areas.
"""
from __future__ import annotations

import json
from pathlib import Path

import flask
import pytest
from dash import no_update

from callbacks import wall as cb
from dashboard import access, wall
from dashboard.views import View
from layouts import wall as ids
from layouts import wall_overview
from tests.conftest import principal_for, signed_in

GOOD = """
[[playlist]]
name = "city"
title = "城市运行态势"
resume_s = 45

[[playlist.view]]
url = "/?metric=open"
dwell_s = 30
title = "在办案件分布"

[[playlist.view]]
url = "http://wall.example/?area=329902&metric=on_time_rate&lang=en&as_of=2026-11-01T00:00"
dwell_s = 5

[[playlist]]
name = "east-1"
title = "东城区"

[[playlist.view]]
url = "/?area=329902"
dwell_s = 3600

[[playlist.view]]
url = "/backlog"
dwell_s = 20
"""


def write(tmp_path: Path, text: str, name: str = "wall.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def one_view(view: str, playlist: str = 'name = "p"\ntitle = "T"') -> dict:
    """A parsed document with one playlist whose one view is the TOML fragment ``view``."""
    import tomllib

    return tomllib.loads(f"[[playlist]]\n{playlist}\n[[playlist.view]]\n{view}\n")


# -- the playlist file (pure) ------------------------------------------------------------------------------

def test_wall101_a_good_file_reads_in_order_with_its_defaults(tmp_path):
    found = wall.load_file(write(tmp_path, GOOD))
    assert list(found) == ["city", "east-1"]
    city = found["city"]
    assert (city.title, city.resume_s, len(city.views)) == ("城市运行态势", 45.0, 2)
    assert city.views[0] == wall.WallView(View("/", (("metric", "open"),)), 30.0, "在办案件分布")
    # The host, the cut-off and the language of a pasted link are not part of the view: a wall is live.
    assert city.views[1].view == View("/", (("area", "329902"), ("metric", "on_time_rate")))
    assert found["east-1"].resume_s == wall.DEFAULT_RESUME_S == 60
    assert found["east-1"].views[1].label("zh") == "待办案件" and found["east-1"].views[1].label("en") == "Backlog desk"
    assert city.at(2) == (0, city.views[0]) and city.at(-1) == (1, city.views[1]) and city.at("x")[0] == 0


def test_wall102_the_packaged_file_is_good():
    found = wall.load_file(str(wall.PACKAGED))
    assert "city" in found and all(5 <= v.dwell_s <= 3600 for p in found.values() for v in p.views)


@pytest.mark.parametrize("dwell, why", [
    ("4", "between 5 and 3600"), ("3601", "between 5 and 3600"), ("0", "between 5 and 3600"),
    ("-30", "between 5 and 3600"), ('"30"', "number of seconds"), ("true", "number of seconds"),
    ("nan", "number of seconds"), ("inf", "number of seconds"),
])
def test_wall103_dwell_out_of_range_names_the_entry(dwell, why):
    with pytest.raises(wall.ConfigError) as caught:
        wall.parse(one_view(f'url = "/"\ndwell_s = {dwell}'))
    assert caught.value.key == "playlist[1].view[1].dwell_s" and why in str(caught.value)


@pytest.mark.parametrize("url, why", [
    ("/admin/users", "not a page a view can show"),
    ("/wall?playlist=city", "not a page a view can show"),
    ("javascript:alert(1)", "not a javascript: link"),
    ("file:///etc/passwd", "not a file: link"),
    ("/?evil=1", "has no setting 'evil'"),
    ("/?metric=open&metric=overdue", "appears twice"),
    ("/?area=" + "9" * 201, "longer than 200"),
    ("/" + "x" * 2001, "at most 2000 characters"),
    ("/?area=3299\\u0000", "control characters"),
    ("", "empty"),
])
def test_wall104_a_hostile_or_unknown_url_names_the_entry(url, why):
    document = one_view(f'url = "{url}"\ndwell_s = 30')
    with pytest.raises(wall.ConfigError) as caught:
        wall.parse(document)
    assert caught.value.key == "playlist[1].view[1].url" and why in str(caught.value), str(caught.value)


@pytest.mark.parametrize("document, key, why", [
    ({}, "playlist", "at least one [[playlist]]"),
    ([], "", "[[playlist]] tables"),
    ({"playlist": [], "x": 1}, "", "unknown key(s) 'x'"),
    ({"playlist": "city"}, "playlist", "at least one"),
    ({"playlist": ["city"]}, "playlist[1]", "must be a table"),
    ({"playlist": [{"name": "a", "title": "T"}]}, "playlist[1].view", "at least one [[playlist.view]]"),
    ({"playlist": [{"name": "a", "title": "T", "view": [{"url": "/"}]}]}, "playlist[1].view[1].dwell_s", "missing"),
    ({"playlist": [{"name": "a", "title": "T", "view": [{"dwell_s": 9}]}]}, "playlist[1].view[1].url", "missing"),
    ({"playlist": [{"name": "a", "title": "T", "view": [{"url": "/", "dwell_s": 9, "sound": 1}]}]},
     "playlist[1].view[1]", "unknown key(s) 'sound'"),
    ({"playlist": [{"name": "a", "title": "T", "view": [{"url": "/", "dwell_s": 9, "title": "x" * 41}]}]},
     "playlist[1].view[1].title", "longer than 40"),
    ({"playlist": [{"name": "a", "title": "T\u202e", "view": [{"url": "/", "dwell_s": 9}]}]},
     "playlist[1].title", "control characters"),
    ({"playlist": [{"name": "a", "title": "", "view": [{"url": "/", "dwell_s": 9}]}]},
     "playlist[1].title", "non-empty"),
    ({"playlist": [{"name": "../etc", "title": "T", "view": [{"url": "/", "dwell_s": 9}]}]},
     "playlist[1].name", "letters, digits"),
    ({"playlist": [{"name": "a b", "title": "T", "view": [{"url": "/", "dwell_s": 9}]}]},
     "playlist[1].name", "letters, digits"),
    ({"playlist": [{"name": "a", "title": "T", "resume_s": 2, "view": [{"url": "/", "dwell_s": 9}]}]},
     "playlist[1].resume_s", "between 5 and 3600"),
    ({"playlist": [{"name": "a", "title": "T", "view": [{"url": "/", "dwell_s": 9}] * 51}]},
     "playlist[1].view", "at most 50 views"),
    ({"playlist": [{"name": f"p{i}", "title": "T", "view": [{"url": "/", "dwell_s": 9}]} for i in range(51)]},
     "playlist", "at most 50 playlists"),
])
def test_wall105_a_malformed_document_names_the_entry(document, key, why):
    with pytest.raises(wall.ConfigError) as caught:
        wall.parse(document)
    assert caught.value.key == key and why in str(caught.value), str(caught.value)


def test_wall106_duplicate_names_are_refused():
    entry = {"title": "T", "view": [{"url": "/", "dwell_s": 9}]}
    with pytest.raises(wall.ConfigError, match=r"playlist\[2\]\.name: the name 'a' is used twice"):
        wall.parse({"playlist": [{"name": "a", **entry}, {"name": "a", **entry}]})


def test_wall107_bad_files_name_the_file_and_the_problem(tmp_path):
    with pytest.raises(wall.ConfigError, match="not valid TOML"):
        wall.load_file(write(tmp_path, "[[playlist]\nname = "))
    with pytest.raises(wall.ConfigError, match="cannot read the file"):
        wall.load_file(str(tmp_path / "missing.toml"))
    with pytest.raises(wall.ConfigError, match="larger than"):
        wall.load_file(write(tmp_path, "#" * 1_100_000, "big.toml"))
    bad = write(tmp_path, GOOD.replace("dwell_s = 5\n", "dwell_s = 2\n"), "bad.toml")
    with pytest.raises(wall.ConfigError) as caught:
        wall.load_file(bad)
    assert str(caught.value).startswith(f"GRIDCC_WALL_PLAYLISTS={bad}: playlist[1].view[2].dwell_s: ")
    # JSON works the same way.
    as_json = write(tmp_path, json.dumps({"playlist": [{"name": "j", "title": "J", "view": [
        {"url": "/sla?period=7d", "dwell_s": 10}]}]}), "wall.json")
    assert wall.load_file(as_json)["j"].views[0].view == View("/sla", (("period", "7d"),))


def test_wall108_a_missing_playlist_is_a_clear_error(tmp_path):
    found = wall.load_file(write(tmp_path, GOOD))
    assert wall.find(found, None).name == "city" and wall.find(found, "").name == "city"
    assert wall.find(found, "east-1").name == "east-1"
    for asked in ("nope", "x" * 5000, ["city"], 3):
        with pytest.raises(LookupError, match=r"no playlist named .* \(there are: city, east-1\)"):
            wall.find(found, asked)


def test_wall109_the_browser_gets_titles_and_dwell_times_but_no_addresses(tmp_path):
    client = wall.client_config(wall.load_file(write(tmp_path, GOOD))["east-1"], "en")
    assert client == {"name": "east-1", "title": "东城区", "resume_s": 60.0, "views": [
        {"title": "Overview", "dwell_s": 3600.0, "page": "/"}, {"title": "Backlog desk", "dwell_s": 20.0, "page": "/backlog"}]}


# -- the app: start-up, the page, the slots' callback on the hand city -------------------------------------

@pytest.fixture
def wall_app(hand_settings, tmp_path):
    """The hand-city app with the GOOD playlists."""
    from dashboard.app import create_app

    app = create_app(hand_settings.with_(wall_playlists=write(tmp_path, GOOD)))
    yield app
    app.server.extensions["gridcc_live"].stop()
    app.server.extensions["gridcc"].engine.dispose()


@pytest.fixture
def as_leader(wall_app):
    with wall_app.server.test_request_context():
        flask.g.gridcc_principal = principal_for(wall_app, "leader")
        yield wall_app


def test_wall110_a_bad_playlist_file_stops_create_app(hand_settings, tmp_path):
    from dashboard.app import create_app

    bad = write(tmp_path, GOOD.replace('url = "/backlog"', 'url = "/admin/audit"'))
    with pytest.raises(wall.ConfigError, match=r"playlist\[2\]\.view\[2\]\.url: '/admin/audit' is not a page"):
        create_app(hand_settings.with_(wall_playlists=bad))


def walk(component):
    """Yield every component of a Dash tree."""
    if isinstance(component, (list, tuple)):
        for child in component:
            yield from walk(child)
    elif hasattr(component, "to_plotly_json"):
        yield component
        yield from walk(getattr(component, "children", None))


def text(component) -> str:
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return " ".join(filter(None, (text(c) for c in component)))
    return text(getattr(component, "children", None)) if component is not None else ""


def numerals(tree) -> dict[str, str]:
    """Return {kpi: shown value} of the wall's numerals."""
    found = {}
    for c in walk(tree):
        key = getattr(c, "data-kpi", None) if hasattr(c, "data-kpi") else c.to_plotly_json()["props"].get("data-kpi")
        if key:
            found[key] = text([x for x in walk(c) if "wall-kpi-value" in (getattr(x, "className", "") or "")][0])
    return found


def drawn(content):
    digest = content.to_plotly_json()["props"]["data-digest"]
    assert isinstance(digest, str) and len(digest) == 40
    return content


def config(playlist="city", lang="zh"):
    return {"playlist": playlist, "lang": lang}


def test_wall111_the_overview_view_shows_the_apis_figures(as_leader):
    content = drawn(cb.update_slot({"i": 0}, config()))
    props = content.to_plotly_json()["props"]
    assert (props["data-index"], props["data-page"]) == ("0", "/")
    shown = numerals(content)
    # By hand (tests/handcity.py): the city at 2026-11-20 15:00 over the last 30 days.
    assert shown == {"reported_today": "5", "open": "5", "overdue": "2", "closed": "3", "on_time_rate": "20.0%",
                     "median_hours": "6.5"}
    api = signed_in(as_leader, "leader").get("/api/v1/areas").get_json()["areas"][0]["figures"]
    assert (shown["open"], shown["overdue"], shown["closed"]) == (str(api["open"]), str(api["overdue"]),
                                                                    str(api["closed"]))
    assert shown["on_time_rate"] == f"{api['on_time_rate'] * 100:.1f}%"
    assert shown["median_hours"] == f"{api['median_handling_hours']:.1f}"
    words = text(content)
    assert "在办案件分布" in words and "云州市" in words
    # The top categories, most first (0505 ×4), and the map's values: the districts' open cases.
    bars = [text(c) for c in walk(content) if getattr(c, "className", "") == "wall-bar-row"]
    assert bars[0].endswith(" 4") and len(bars) == 5
    geo = next(c for c in walk(content) if type(c).__name__ == "GeoJSON")
    assert geo.url == "/geo/children/329900.json"
    assert geo.hideout["values"] == {"329902": 3, "329903": 2} and geo.hideout["metric"] == "open"
    assert set(geo.hideout["colours"]) <= set(wall_overview.PALETTE)  # viridis, not the page's red scale


def test_wall112_a_drilled_view_is_its_areas_and_matches_the_api(as_leader):
    content = drawn(cb.update_slot({"i": 1}, config(lang="en")))
    shown = numerals(content)
    api = signed_in(as_leader, "leader").get("/api/v1/areas/329902").get_json()["area"]["figures"]
    assert (shown["open"], shown["overdue"], shown["on_time_rate"]) == ("3", "1", "25.0%")
    assert shown["open"] == str(api["open"]) and shown["on_time_rate"] == f"{api['on_time_rate'] * 100:.1f}%"
    geo = next(c for c in walk(content) if type(c).__name__ == "GeoJSON")
    assert geo.hideout["metric"] == "on_time_rate" and geo.url == "/geo/children/329902.json"
    assert "Open" in text(content) and "Overview" in text(content)  # no title in the file: the page's, in English


def test_wall113_a_view_outside_the_callers_scope_shows_the_callers_area(wall_app):
    with wall_app.server.test_request_context():
        flask.g.gridcc_principal = principal_for(wall_app, "xicheng")
        content = drawn(cb.update_slot({"i": 0}, config("east-1")))  # asks for 东城区
        assert content.children[1].to_plotly_json()["props"]["data-area"] == "329903"
        assert numerals(content)["open"] == "2"


def test_wall114_an_unchanged_redraw_is_not_sent_and_the_caller_is_a_public_wall(as_leader):
    first = drawn(cb.update_slot({"i": 0, "t": 7}, config()))
    assert access.current().public_wall and not access.current().may("reveal")
    props = first.to_plotly_json()["props"]
    assert props["data-req"] == "7"
    # A hidden slot asked to redraw what it shows keeps it; the spare gets a small "unchanged" mark.
    assert cb.update_slot({"i": 0, "v": 10**6, "same": props["data-digest"]}, config()) is no_update
    same = cb.update_slot({"i": 0, "t": 8, "same": props["data-digest"], "spare": True}, config())
    assert same.className == "wall-built wall-same" and same.children is None
    assert same.to_plotly_json()["props"]["data-req"] == "8"
    # A change, or another stop, is drawn in full.
    other = drawn(cb.update_slot({"i": 1, "same": props["data-digest"], "spare": True}, config()))
    assert other.to_plotly_json()["props"]["data-digest"] != props["data-digest"]
    stale = drawn(cb.update_slot({"i": 0, "same": "0" * 40, "spare": True, "t": True}, config()))
    assert stale.to_plotly_json()["props"]["data-req"] == ""  # a forged stamp is not echoed


@pytest.mark.parametrize("request_, config_", [
    (None, config()), ({"i": "1"}, config()), ({"i": True}, config()), ({"i": 10**9}, config()), ({}, config()),
    ({"i": 0}, None), ({"i": 0}, config("nope")), ({"i": 0}, {"playlist": ["city"], "lang": "zh"}),
    ("<script>", config()),
])
def test_wall115_forged_requests_draw_nothing(as_leader, request_, config_):
    assert cb.update_slot(request_, config_) is no_update


def test_wall116_an_unknown_or_broken_view_is_a_card_not_a_dead_wall(as_leader, monkeypatch):
    monkeypatch.setattr(cb, "renderers", lambda: {"/": wall_overview.render})
    content = drawn(cb.update_slot({"i": 1}, config("east-1")))
    assert "此视图暂不支持上墙" in text(content) and content.to_plotly_json()["props"]["data-page"] == "/backlog"

    def broken(view, *, scope, lang):
        raise RuntimeError("boom")

    monkeypatch.setattr(cb, "renderers", lambda: {"/": broken})
    assert "此视图暂时无法显示" in text(drawn(cb.update_slot({"i": 0}, config())))


def test_wall117_the_page_and_its_problems(as_leader):
    page = ids.layout(playlist="east-1", lang="en")
    client = json.loads(page.to_plotly_json()["props"]["data-config"])
    assert client["name"] == "east-1" and [v["dwell_s"] for v in client["views"]] == [3600.0, 20.0]
    assert client["labels"]["bigwall.paused"] == "Paused" and client["timezone"] == "Asia/Shanghai"
    assert len([c for c in walk(page) if getattr(c, "className", "") and "wall-dot" in c.className.split()]) == 2
    assert ids.layout().to_plotly_json()["props"]["data-config"].count('"name": "city"') == 1
    for asked in ("nope", "<script>alert(1)</script>", "x" * 3000):
        problem = ids.layout(playlist=asked)
        assert "wall-problem" in problem.className and "there are: city, east-1" in text(problem)
        assert len(text(problem)) < 400


def test_wall118_the_wall_page_is_served(wall_app):
    client = signed_in(wall_app, "leader")
    page = client.get("/wall?playlist=city")
    assert page.status_code == 200
    layout = client.get("/_dash-layout").get_json()
    assert layout is not None


def test_wall119_numerals_are_formatted_as_the_overview_and_long_ones_get_a_smaller_size():
    from queries.overview import Figures, Kpis

    kpis = Kpis(figures=Figures(code="x", reported=9, open=1_234_567, overdue=0, closed=3, closed_on_time=2), reported_today=0)
    assert wall_overview.kpi_values(kpis, None) == [
        ("reported_today", "0"), ("open", "1,234,567"), ("overdue", "0"), ("closed", "3"), ("on_time_rate", "66.7%"),
        ("median_hours", "—")]
    assert wall_overview.kpi_values(None, 2.25)[-2:] == [("on_time_rate", "—"), ("median_hours", "2.2")]
    tiles = wall_overview._kpis(wall_overview.kpi_values(kpis, None), 0, "zh")
    classes = {c.children: c.className for c in walk(tiles)
               if "wall-kpi-value" in (getattr(c, "className", "") or "")}
    assert classes["1,234,567"] == "wall-kpi-value wall-kpi-long" and classes["66.7%"] == "wall-kpi-value"
    svg = wall_overview.trend_svg([])
    assert svg.startswith("<svg") and "viewBox" in svg
