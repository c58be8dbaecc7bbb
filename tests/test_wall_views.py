"""The wall's SLA, rankings and backlog views (layouts/wall_views.py) on the hand cities, against the pages' and the
API's numbers for the same scope.

By hand, tests/handcity.py at NOW 2026-11-20 15:00 (tests/callbacks/test_sla_page.py works the SLA sets):
  /sla, the city, 30 days: 按期结案率 1/4 = 25.0 % (closed 1 on time, 2 and 7 late, + 3 overdue with its deadline in
    the window), 按期处置率 2/5 = 40.0 %; lights red 2 (3, 9), yellow 0, green 2 (4, 6), none 1 (10); turning red
    within 2 h 1 (4). By district: 东城区 1/4 = 25.0 %; 西城区 0/0 (9's deadline, 09-04, is before the window): left out.
  /sla?area=329902&period=7d ([11-13 15:00, 11-20 15:00)): closed 1 (on time), 2 (late) + overdue 3 → 1/3 = 33.3 %;
    handled 1, 2, 6 + overdue 3 → 2/4 = 50.0 %; lights red 1 (3), green 2 (4, 6). By street: 东街街道 1/3; 南苑街道
    (6 handled, not closed) 0/0: left out.
  /backlog, the city: the desk's frame holds 3, 4, 6, 8 (parked), 9, 10 → 6 open; red 2 (9 since 09-04 09:30, 3 since
    11-17 09:30), yellow 0; 东城区 3 open (3, 4, 6), 1 late; 西城区 3 open (8, 9, 10), 1 late. The most overdue:
    9 矛盾纠纷 · 西湖第02网格 · 77 days (09-04 09:30 → 11-20 15:00 = 77 d 5 h 30 m: "77天"), then
    3 · 东街第01网格 · 3 d 5 h 30 m ("3天5时"). ?quick=soon: only 4 (65 minutes left): 1 open, none red or yellow.
tests/rankcity.py (NOW the same; tests/api/test_rankings_api.py works the scores): streets, October, minimum volume 1:
  329903001 1 100.00 A, 329902001 2 83.39 B, 329902002 3 66.67 C; November: 329902002 80.00 ▲2, 329902001 65.00 =,
  329903001 unranked. September (the change's reference): 329902001 handled 90 on time → 100.00 (1st), 329902002
  handled 91 late → 30 + 0 + 20 + 20 + 10 = 80.00 (2nd), 329903001 nothing: so October's changes are —, ▼1, ▼1.
  Grid workers: 1 张伟 and 2 李强 in A1 (东街第01网格), 3 王敏 B1, 4 赵磊 C1.
"""
from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import urlencode

import flask
import plotly
import pytest

from dashboard import data
from dashboard.views import View, parse
from layouts import wall_views as wv
from tests.callbacks.test_overview import text
from tests.conftest import principal_for, signed_in
from tests.rankapp import rank_app, rank_app_packaged, rank_store_template  # noqa: F401  (fixtures)


@pytest.fixture
def city(hand_app):
    """Run the test inside a request to the hand city by its city leader; return the app."""
    with hand_app.server.test_request_context():
        flask.g.gridcc_principal = principal_for(hand_app, "leader")
        yield hand_app


def draw(url: str | View, lang: str = "zh"):
    view = parse(url) if isinstance(url, str) else url
    return wv.RENDERERS[view.path](view, scope=data.request_scope(), lang=lang)


def nodes(tree):
    """Yield every component of a tree."""
    yield tree
    children = getattr(tree, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and not isinstance(child, (str, int, float)):
            yield from nodes(child)


def by_class(tree, name: str) -> list:
    return [n for n in nodes(tree) if name in (getattr(n, "className", None) or "").split()]


def texts(tree, name: str) -> list[str]:
    return [text(n) for n in by_class(tree, name)]


def attr(node, key: str):
    return node.to_plotly_json()["props"].get(key)


def dump(tree) -> str:
    """Return every prop of a tree as JSON (titles, image sources and all)."""
    return json.dumps(tree, cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)


def lights(tree) -> dict[str, str]:
    return {attr(n, "data-light"): text(by_class(n, "wv-light-value")[0]) for n in by_class(tree, "wv-light")}


def test_wv001_every_view_fills_its_slot_with_wall_panels(city):
    for url, kind in (("/sla", "sla"), ("/rankings", "rankings"), ("/backlog", "backlog")):
        tree = draw(url)
        assert tree.className == f"wall-view wall-view-{kind}"
        panels = by_class(tree, "wall-panel")
        assert len(panels) >= 2 and all(p in tree.children for p in panels)  # boxes side by side, none nested
    assert set(wv.RENDERERS) == {"/sla", "/rankings", "/backlog"}


def test_wv002_sla_of_the_city_equals_the_page_and_the_api(city):
    tree = draw("/sla")
    assert texts(tree, "wv-big") == ["25.0%"] and texts(tree, "wv-second-value") == ["40.0%"]
    assert "按期结案 1 / 结案及超期未处置 4" in text(tree) and texts(tree, "wv-second-parts") == ["2/5"]
    assert lights(tree) == {"red": "2", "yellow": "0", "green": "2", "none": "1"}
    assert texts(tree, "wv-soon-value") == ["1"]
    assert texts(tree, "wv-bar") == ["东城区 25.0%  1/4"]
    # The API for the same area and window: the split's parts add up to the headline, the lights are the same.
    reply = signed_in(city, "leader").get("/api/v1/sla?area=329900").get_json()
    by_area = reply["on_time"]["by_area"]
    assert sum(r["close"]["numerator"] for r in by_area) == 1 and sum(r["close"]["denominator"] for r in by_area) == 4
    assert sum(r["handle"]["numerator"] for r in by_area) == 2 and sum(r["handle"]["denominator"] for r in by_area) == 5
    assert {k: reply["lights"][k]["count"] for k in ("red", "yellow", "green", "none", "turning_red_2h")} == {
        "red": 2, "yellow": 0, "green": 2, "none": 1, "turning_red_2h": 1}
    # The trend's days add up to the period too (docs/sla.md): the headline is no other count.
    trend = reply["on_time"]["trend"]
    assert (sum(p["close"]["numerator"] for p in trend), sum(p["close"]["denominator"] for p in trend)) == (1, 4)


def test_wv003_sla_drilled_to_a_district_over_seven_days_in_english(city):
    tree = draw("/sla?area=329902&period=7d")
    assert attr(tree, "data-area") == "329902"
    assert texts(tree, "wv-big") == ["33.3%"] and texts(tree, "wv-second-value") == ["50.0%"]
    assert lights(tree) == {"red": "1", "yellow": "0", "green": "2", "none": "0"}
    assert texts(tree, "wv-bar") == ["东街街道 33.3%  1/3"]
    assert "近7天" in text(tree) and "各街道按期结案率" in text(tree)
    english = text(draw("/sla?area=329902&period=7d", "en"))
    assert "Closed on time" in english and "1 on time of 3 closed or overdue" in english and "7 days" in english
    # Outside the caller's scope, an area is the caller's own (as the page does), never someone else's figures.
    flask.g.gridcc_principal = principal_for(city, "xicheng")
    data.flush_marks()
    west = draw("/sla?area=329902")
    assert attr(west, "data-area") == "329903" and lights(west)["red"] == "1"


def test_wv004_sla_hostile_values_fall_back_and_an_empty_period_says_so(city):
    hostile = View("/sla", (("area", "329900' OR 1=1 --"), ("end", "9999-99-99"), ("period", "<b>x</b>" * 20),
                            ("start", "\u202e2026")))
    tree = draw(hostile)
    assert attr(tree, "data-area") == "329900" and texts(tree, "wv-big") == ["25.0%"]  # the defaults: 30 days
    assert "<b>" not in dump(tree)
    empty = draw("/sla?period=custom&start=2025-01-01&end=2025-01-31")
    assert texts(empty, "wv-big") == ["—"] and "该时段无数据" in text(empty)
    assert texts(empty, "wv-bar") == [] and lights(empty)["red"] == "2"  # the lights are now, whatever the period


def test_wv005_sla_scale_and_trend_drawing():
    assert wv.scale_floor([]) == 0.0 and wv.scale_floor([None]) == 0.0
    assert wv.scale_floor([0.25]) == 0.0  # far from 100 %: from zero
    assert wv.scale_floor([0.907, 0.914]) == 0.85  # 0.907 − 0.0465 = 0.8605 → down to 85 %
    assert wv.scale_floor([1.0]) == 0.95
    from queries.sla import Rate, TrendPoint

    def point(day, n, d):
        return TrendPoint(datetime(2026, 11, day).date(), Rate("", "", n, d), Rate("", "", n, d))

    svg = wv.trend_svg([point(1, 1, 2), point(2, 0, 0), point(3, 2, 2), point(4, 1, 1)])
    # Two lines each (a gap where nothing counts), on a 0–100 % scale in a viewBox: 50 % at mid-height.
    assert svg.count("<polyline") == 4 and 'viewBox="0 0 300 100"' in svg and "width=" not in svg.split(">")[0]
    assert 'points="4.0,50.0 4.0,50.0"' in svg and 'points="198.7,4.0 296.0,4.0"' in svg  # step (300 − 8) / 3


def rank_rows(tree) -> list[tuple]:
    return [(attr(r, "data-code"), *[text(c) for c in r.children]) for r in by_class(tree, "wv-rank-row")
            if attr(r, "data-code")]


@pytest.fixture
def ranks(rank_app):  # noqa: F811
    with rank_app.server.test_request_context():
        flask.g.gridcc_principal = principal_for(rank_app, "leader")
        yield rank_app


def test_wv006_the_streets_ranking_equals_the_api(ranks):
    tree = draw("/rankings?level=street&period=2026-10")
    assert rank_rows(tree) == [("329903001", "1", "西湖街道", "100.00", "A", "—"),
                               ("329902001", "2", "东街街道", "83.39", "B", "▼1"),
                               ("329902002", "3", "南苑街道", "66.67", "C", "▼1")]
    assert "单位太少，不列末位" in text(tree) and "2026年10月" in text(tree) and "处置考核" in text(tree)
    november = draw("/rankings?level=street&period=2026-11")
    assert [(c, no, score, change) for c, no, _, score, _, change in rank_rows(november)] == [
        ("329902002", "1", "80.00", "▲2"), ("329902001", "2", "65.00", "=")]
    up = by_class(november, "wv-change-up")[0]
    assert attr(up, "title") == "比上期上升 2 名（上期第 3 名）"  # the arrow's words
    reply = signed_in(ranks, "leader").get("/api/v1/rankings?" + urlencode(
        {"level": "street", "period": "2026-11"})).get_json()
    api = [(r["code"], str(r["rank"]), f"{r['score']:.2f}") for r in reply["rows"] if r["rank"] and not r["apart"]]
    assert api == [(c, no, score) for c, no, _, score, _, _ in rank_rows(november)]


def test_wv007_grid_workers_are_named_by_their_grid_and_masked(ranks):
    tree = draw("/rankings?level=worker&period=2026-10")
    top = by_class(tree, "wv-rank-top")[0]
    names = [name for _, _, name, *_ in rank_rows(top)]
    assert sorted(names) == ["东街第01网格 网格员 张*", "东街第01网格 网格员 李*", "南苑第01网格 网格员 王*",
                             "西湖第01网格 网格员 赵*"]
    everything = dump(tree)
    for full in ("张伟", "李强", "王敏", "赵磊", "138000"):
        assert full not in everything
    # Four workers: the last three are listed apart under 需关注, each also marked in the first ten.
    assert len(by_class(by_class(tree, "wv-rank-tail")[0], "wv-rank-row")) == 3
    assert len(by_class(by_class(tree, "wv-rank-top")[0], "wv-attention")) == 3
    reply = signed_in(ranks, "leader").get("/api/v1/rankings?level=worker&period=2026-10").get_json()
    assert sorted((r["code"], f"{r['score']:.2f}") for r in reply["rows"] if r["rank"] and not r["apart"]) == sorted(
        (code, score) for code, _, _, score, _, _ in rank_rows(top))
    english = [name for _, _, name, *_ in rank_rows(draw("/rankings?level=worker&period=2026-10", "en"))]
    assert len(english) == 4 + 3
    assert "东街第01网格 Grid worker 张*" in english


def test_wv008_rankings_refused_and_empty_in_words(ranks):
    assert "无法排名" in text(draw("/rankings?level=street&period=2026-13"))
    assert "无法排名" in text(draw("/rankings?level=street&period=2026-10&scheme=worker"))
    hostile = draw(View("/rankings", (("area", "1" * 200), ("level", "<script>"), ("period", "2026-10"))))
    assert rank_rows(hostile) and "<script>" not in dump(hostile)  # the caller's own area and first level
    flask.g.gridcc_principal = principal_for(ranks, "dongcheng")
    data.flush_marks()
    assert "无法排名" not in text(draw("/rankings?level=district&period=2026-10"))  # a level it may not: its own


def test_wv009_a_period_with_every_unit_below_the_minimum_has_no_ranking(rank_app_packaged):  # noqa: F811
    with rank_app_packaged.server.test_request_context():
        flask.g.gridcc_principal = principal_for(rank_app_packaged, "leader")
        tree = draw("/rankings?level=street&period=2026-10")
    words = text(tree)
    assert rank_rows(tree) == [] and "本期暂无排名" in words and "另有 3 个单位样本量低于 20，单独排名" in words


def counts(tree) -> dict[str, str]:
    return {attr(n, "data-light"): text(by_class(n, "wv-big")[0]) for n in by_class(tree, "wv-count")}


def test_wv010_backlog_equals_the_desk(city):
    from callbacks import backlog as desk

    tree = draw("/backlog")
    assert counts(tree) == {"red": "2", "yellow": "0"} and "在办案件 6 件" in text(tree)
    assert texts(tree, "wv-bar") == ["■ 东城区 超期 1 / 在办 3", "■ 西城区 超期 1 / 在办 3"]
    assert texts(tree, "wv-late") == ["■ 矛盾纠纷 西湖第02网格 已超期 77天", "■ 道路破损 东街第01网格 已超期 3天5时"]
    # The desk's own answer for the same caller: all its cases, and its red quick filter.
    everything = desk.update_rows({"startRow": 0, "endRow": 100}, "", [], None, "zh")[0]
    red = desk.update_rows({"startRow": 0, "endRow": 100}, "", ["red"], None, "zh")[0]
    assert (everything["rowCount"], red["rowCount"]) == (6, 2)
    assert [r["id"] for r in red["rowData"]] == [9, 3]
    # Nothing personal: no reporter, phone number or description.
    for secret in ("李娜", "王芳", "1381234", "1391234", "手工事件"):
        assert secret not in dump(tree)


def test_wv011_backlog_filters_from_the_view_and_hostile_ones(city):
    soon = draw("/backlog?quick=soon")
    assert counts(soon) == {"red": "0", "yellow": "0"} and "在办案件 1 件" in text(soon) and "2小时内超期" in text(soon)
    assert texts(soon, "wv-late") == [] and "当前无超期案件" in text(soon)
    searched = draw("/backlog?q=矛盾")
    assert counts(searched)["red"] == "1" and texts(searched, "wv-bar") == ["■ 西城区 超期 1 / 在办 2"]  # 9, 10
    filtered = draw('/backlog?filter={"category":["contains","道路"]}')
    assert counts(filtered)["red"] == "1" and len(texts(filtered, "wv-late")) == 1
    hostile = draw(View("/backlog", (("filter", '{"category": [1, 2'), ("q", "\"><script>" + "x" * 150),
                                     ("quick", "red,<img src=x>,soon,red"), ("sort", "-nonsense"))))
    # Only the known quick filters, each once; the search as plain text (React escapes it), cut for the wall.
    assert texts(hostile, "wv-tag") == ["筛选：红灯 · 2小时内超期 · “\"><script>xxxxxx…”"]
    assert "在办案件 0 件" in text(hostile) and "当前无在办案件" in text(hostile)
    none = draw("/backlog?quick=supervised")
    assert "当前无在办案件" in text(none) and counts(none) == {"red": "0", "yellow": "0"}


def test_wv012_a_grid_scope_is_split_by_building_and_by_category(city):
    from queries.scope import Scope
    from tests.handcity import A1

    grid = Scope(A1, 4)  # inside a grid there is no child area: buildings for the rates, categories for the backlog
    sla = wv.sla(parse("/sla"), scope=grid, lang="zh")
    assert texts(sla, "wv-big") == ["33.3%"]  # 1 on time; 2 late; 3 overdue (deadline 11-17)
    assert [v for b in by_class(sla, "wv-bar") for v in texts(b, "wv-bar-value")] == ["0.0%  0/1", "50.0%  1/2"]
    desk = wv.backlog_view(parse("/backlog"), scope=grid, lang="zh")
    assert counts(desk) == {"red": "1", "yellow": "0"} and texts(desk, "wv-bar") == ["■ 道路破损 超期 1 / 在办 1"]
    assert "各小类在办案件" in text(desk)
