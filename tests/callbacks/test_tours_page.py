"""The /tours page's actions, the top bar's "Add to tour" dialog and /present, as their callbacks and layouts
see them: every action is the caller's own, and a forged id (another user's tour or slide) changes nothing and
shows nobody else's data. The hand city's NOW is 2026-11-20 15:00.
"""
from __future__ import annotations

import json
import shutil
from datetime import datetime

import flask
import pytest
from sqlalchemy import select

from callbacks import tour_tools as add_cb
from callbacks import tours as cb
from dashboard import tours
from dashboard.settings import Settings
from layouts import present
from layouts import tour_tools as add_ids
from layouts import tours as ids
from queries.schema import audit_log, tour_slides
from queries.schema import tours as tours_table
from tests import handcity
from tests.conftest import principal_for


@pytest.fixture(scope="module")
def app(hand_store_template, tmp_path_factory):
    from dashboard.app import create_app

    folder = tmp_path_factory.mktemp("tours-app")
    shutil.copy(hand_store_template, folder / "gridcc.duckdb")
    dash_app = create_app(Settings(data_dir=folder, frozen_now=handcity.NOW, cache_type="NullCache"))
    yield dash_app
    dash_app.server.extensions["gridcc_live"].stop()
    dash_app.server.extensions["gridcc"].engine.dispose()


@pytest.fixture
def as_user(app):
    """Start with no tours; return a function running the body as hand-city user ``name`` in a request."""
    with app.server.extensions["gridcc"].engine.begin() as conn:
        conn.execute(tour_slides.delete())
        conn.execute(tours_table.delete())
        conn.execute(audit_log.delete())

    def run(name, fn, *args, **kw):
        with app.server.test_request_context():
            flask.g.gridcc_principal = principal_for(app, name)
            return fn(*args, **kw)
    return run


def stored(app):
    with app.server.extensions["gridcc"].engine.connect() as conn:
        return ([tuple(r) for r in conn.execute(select(tours_table).order_by(tours_table.c.id))],
                [tuple(r) for r in conn.execute(select(tour_slides).order_by(tour_slides.c.id))])


def texts(component) -> str:
    """Return every string in a component tree, joined (what a reader of the page sees, and its attributes)."""
    return json.dumps(component.to_plotly_json() if hasattr(component, "to_plotly_json") else component,
                      default=lambda c: c.to_plotly_json(), ensure_ascii=False)


def test_tourpage001_the_dialog_from_a_page(app, as_user):
    found = as_user("dongcheng", add_cb.prefill, "http://127.0.0.1:8050/sla?area=329902001&period=7d&lang=en", "en")
    assert found["problem"] is None
    assert found["title"] == "SLA analysis · 东街街道" or found["title"].endswith("· 东街街道")
    assert found["options"] == [{"label": "+ New tour", "value": "new"}] and found["pick"] == "new"
    assert found["as_of"] == "2026-11-20T15:00"  # live page: now, to the minute
    frozen = as_user("dongcheng", add_cb.prefill, "/rankings?level=2&as_of=2026-10-31T23:59", "zh")
    assert frozen["as_of"] == "2026-10-31T23:59" and frozen["title"].endswith("· 东城区")  # no area: the caller's
    # An area outside the caller's scope is not named.
    assert as_user("dongcheng", add_cb.prefill, "/?area=329903", "zh")["title"].endswith("· 东城区")
    backlog = as_user("dongcheng", add_cb.prefill, "/backlog?q=x", "zh")
    assert backlog["problem"] == "待办案件页始终显示实时数据，不能加入讲稿"
    hostile = as_user("dongcheng", add_cb.prefill, "/sla?area=<script>&evil=1", "en")
    assert hostile["problem"].startswith("This page's address cannot be used")

    message, tour_id = as_user("dongcheng", add_cb.save, "new", "东城区例会", "2026-11-01T09:00", "东街 7天", "先看红灯",
                               "http://host/sla?area=329902001&period=7d&as_of=2026-11-05T00:00&lang=en", "zh")
    assert message == "已加入讲稿“东城区例会”，第 1 页"
    tour, slides = as_user("dongcheng", tours.my_tour, tour_id)
    assert tour.as_of == datetime(2026, 11, 1, 9, 0)  # the dialog's cut-off, not the page's
    assert [(s.title, s.note, s.path, s.query) for s in slides] == [("东街 7天", "先看红灯", "/sla",
                                                                    "area=329902001&period=7d")]
    options = as_user("dongcheng", add_cb.tour_options, "zh")
    assert options[0]["value"] == tour_id and options[0]["label"].startswith("东城区例会 · 数据截至 2026-11-01 09:00 · 1/60")
    message, again = as_user("dongcheng", add_cb.save, tour_id, None, None, "总览", "", "/?area=329902&metric=overdue",
                             "en")
    assert (message, again) == ("Added to “东城区例会” as slide 2", tour_id)


def test_tourpage002_forged_tour_ids_in_the_dialog(app, as_user):
    _, theirs = as_user("xicheng", add_cb.save, "new", "西城区的", "2026-11-20T15:00", "x", "", "/sla", "zh")
    before = stored(app)
    for pick in (theirs, str(theirs), 10 ** 30, -1, "1; DROP TABLE tours", None, [theirs], {"id": theirs}):
        message, done = as_user("dongcheng", add_cb.save, pick, "t", "2026-11-20T15:00", "x", "", "/sla", "zh")
        assert done is None and message in ("找不到该讲稿或页面", "请选择一个讲稿，或新建一个"), pick
    assert stored(app) == before
    # Nobody else's tours are offered.
    assert as_user("dongcheng", add_cb.tour_options, "zh") == [{"label": "＋ 新建讲稿", "value": "new"}]
    # Hostile values are refused in words, storing nothing.
    for args, words in ((("new", "", "2026-11-20T15:00", "x", "", "/sla"), "请填写标题"),
                        (("new", "t", "2030-01-01T00:00", "x", "", "/sla"), "数据截至时间须在"),
                        (("new", "t", "2026-11-20T15:00", "x" * 201, "", "/sla"), "标题最多 200 个字符"),
                        (("new", "t", "2026-11-20T15:00", "x", "n" * 2001, "/sla"), "备注最多 2000 个字符"),
                        (("new", "t", "2026-11-20T15:00", "x", "", "/backlog"), "待办案件页始终显示实时数据"),
                        (("new", "t", "2026-11-20T15:00", "x", "", "/sla?" + "a" * 2100), "无法识别本页的地址")):
        message, done = as_user("dongcheng", add_cb.save, *args, "zh")
        assert done is None and message.startswith(words), (args, message)
    assert stored(app) == before


def test_tourpage003_actions_on_the_page(app, as_user):
    values = {(ids.NEW_TITLE, 0): "十一月例会", (ids.NEW_AS_OF, 0): "2026-11-01T00:00"}
    message, opened, ok = as_user("leader", cb.act, ids.CREATE, 0, values, None, "zh")
    assert (message, ok) == ("已新建讲稿“十一月例会”", True)
    slide_ids = [as_user("leader", tours.add_slide, opened, url=url, title=title) for url, title in (
        ("/?area=329902", "东城"), ("/sla?area=329903", "西城"), ("/rankings?level=4", "网格"))]
    # Move the last up, rename and note the first, delete the middle one.
    assert as_user("leader", cb.act, ids.SLIDE_UP, slide_ids[2], {}, opened, "en")[0] == "Order changed"
    message, _, ok = as_user("leader", cb.act, ids.SLIDE_SAVE, slide_ids[0], {
        (ids.SLIDE_TITLE, slide_ids[0]): "东城区总览", (ids.SLIDE_NOTE, slide_ids[0]): "红色为在办最多"}, opened, "zh")
    assert (message, ok) == ("已保存第 1 页", True)
    assert as_user("leader", cb.act, ids.SLIDE_DELETE, slide_ids[1], {}, opened, "zh")[0] == "已删除一页"
    assert [(s.title, s.note, s.position) for s in as_user("leader", tours.my_slides, opened)] == [
        ("东城区总览", "红色为在办最多", 0), ("网格", "", 1)]
    message, _, ok = as_user("leader", cb.act, ids.TOUR_SAVE, opened, {
        (ids.TOUR_TITLE, opened): "十一月例会（定稿）", (ids.TOUR_AS_OF, opened): "2026-11-20T15:01"}, opened, "zh")
    assert not ok and message.startswith("数据截至时间须在")
    message, _, ok = as_user("leader", cb.act, ids.TOUR_SAVE, opened, {
        (ids.TOUR_TITLE, opened): "十一月例会（定稿）", (ids.TOUR_AS_OF, opened): "2026-11-20T12:00"}, opened, "zh")
    assert ok and as_user("leader", tours.my_tour, opened)[0][2:4] == ("十一月例会（定稿）", datetime(2026, 11, 20, 12))
    # The redrawn page lists the tour and its slides in order.
    page, shown = as_user("leader", cb.redraw, opened, "zh")
    text = texts(page)
    assert shown == opened and text.index("东城区总览") < text.index("网格")
    assert f"/present?tour={opened}" in text and f"/tours/{opened}/export.pdf" in text
    assert f"/tours/{opened}/export.pptx" in text
    # Delete it: the list is empty, in words.
    message, opened_after, ok = as_user("leader", cb.act, ids.TOUR_DELETE, opened, {}, opened, "zh")
    assert (message, opened_after, ok) == ("已删除讲稿“十一月例会（定稿）”", None, True)
    page, shown = as_user("leader", cb.redraw, None, "en")
    assert shown is None and "No tours yet" in texts(page)


def test_tourpage004_forged_ids_on_the_page(app, as_user):
    theirs = as_user("xicheng", tours.create_tour, "西城区的讲稿", "2026-11-20T15:00")
    their_slide = as_user("xicheng", tours.add_slide, theirs, url="/sla?area=329903", title="西城机密标题",
                          note="西城的备注")
    before = stored(app)
    values = {(ids.TOUR_TITLE, theirs): "hijacked", (ids.TOUR_AS_OF, theirs): "2026-11-01T00:00",
              (ids.SLIDE_TITLE, their_slide): "hijacked", (ids.SLIDE_NOTE, their_slide): "hijacked"}
    for kind, index in ((ids.TOUR_SAVE, theirs), (ids.TOUR_DELETE, theirs), (ids.SLIDE_SAVE, their_slide),
                        (ids.SLIDE_UP, their_slide), (ids.SLIDE_DOWN, their_slide), (ids.SLIDE_DELETE, their_slide),
                        (ids.SLIDE_DELETE, "1 OR 1=1"), (ids.TOUR_SAVE, 2 ** 70)):
        message, _, ok = as_user("dongcheng", cb.act, kind, index, values, theirs, "en")
        assert not ok and message in ("No such tour or slide", "A title has at most 200 characters"), (kind, message)
    assert stored(app) == before
    # The page asked for their tour by the address shows nothing of it; nor does the redraw of a forged store.
    page = as_user("dongcheng", ids.layout, lang="en", tour=str(theirs))
    assert "西城" not in texts(page) and "Tour not found" in texts(page)
    body, shown = as_user("dongcheng", cb.redraw, theirs, "zh")
    assert shown is None and "西城" not in texts(body)
    # Nor does presenter mode: the same words as a tour that is not there.
    for forged in (theirs, str(theirs), "abc", None, "-1", "99999999999999999999"):
        screen = as_user("dongcheng", present.layout, lang="zh", tour=forged)
        assert "找不到该讲稿" in texts(screen) and "西城" not in texts(screen), forged


def test_tourpage005_presenter_screen(app, as_user):
    tid = as_user("leader", tours.create_tour, "例会", "2026-11-10T08:30")
    for url, title, note in (("/?area=329902&metric=overdue", "一", "第一页备注"), ("/sla?area=329903&period=7d", "二", ""),
                             ("/rankings?level=2", "三", "")):
        as_user("leader", tours.add_slide, tid, url=url, title=title, note=note)
    screen = as_user("leader", present.layout, lang="en", tour=str(tid), slide="2")
    root = screen.to_plotly_json()["props"]
    deck = json.loads(root["data-slides"])
    assert [s["src"] for s in deck] == [
        "/?area=329902&metric=overdue&as_of=2026-11-10T08%3A30&lang=en&embed=1",
        "/sla?area=329903&period=7d&as_of=2026-11-10T08%3A30&lang=en&embed=1",
        "/rankings?level=2&as_of=2026-11-10T08%3A30&lang=en&embed=1"]
    assert root["data-n"] == "2" and [s["note"] for s in deck] == ["第一页备注", "", ""]
    text = texts(screen)
    assert "2 / 3" in text and "Data as of 2026-11-10 08:30" in text
    assert '"src": "/sla?area=329903&period=7d&as_of=2026-11-10T08%3A30&lang=en&embed=1"' in text  # frame A: slide 2
    for asked, shown in (("0", "1"), ("99", "3"), ("x", "1"), ("-5", "1"), (None, "1"), ("9" * 50, "1")):
        assert as_user("leader", present.layout, tour=tid, slide=asked).to_plotly_json()["props"]["data-n"] == shown
    # A slide whose stored view no longer parses is a notice, not an error.
    with app.server.extensions["gridcc"].engine.begin() as conn:
        conn.execute(tour_slides.update().where(tour_slides.c.title == "三").values(query="gone=1"))
    deck = json.loads(as_user("leader", present.layout, tour=tid).to_plotly_json()["props"]["data-slides"])
    assert deck[2]["src"] is None
    # A wall display may not present (nor keep) tours.
    wall = principal_for(app, "leader")
    with app.server.test_request_context():
        import dataclasses

        flask.g.gridcc_principal = dataclasses.replace(wall, public_wall=True)
        assert "此账号不能使用讲稿" in texts(present.layout(tour=tid))
        assert add_ids.tools() == []
