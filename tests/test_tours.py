"""dashboard/tours.py: every title, note, cut-off, address and id from a browser is checked; the writes are the
caller's own (someone else's tour is "not found"); the limits hold; create and delete are audited.

The hand city's NOW is 2026-11-20 15:00.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime

import flask
import pytest
from sqlalchemy import select

from dashboard import tours
from queries.schema import audit_log, tour_slides
from queries.schema import tours as tours_table
from tests import handcity
from tests.conftest import principal_for

NOW = handcity.NOW


# -- the checks (pure) -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, key", [
    (None, "tour.err.title_empty"), ("", "tour.err.title_empty"), ("   \n\t ", "tour.err.title_empty"),
    (42, "tour.err.title_empty"), (["a"], "tour.err.title_empty"),
    ("x" * 201, "tour.err.title_long"), ("标" * 201, "tour.err.title_long"),
    ("a\x00b", "tour.err.control"), ("a\u202eb", "tour.err.control"), ("a\x1bb", "tour.err.control"),
])
def test_tours001_bad_titles(value, key):
    with pytest.raises(tours.TourProblem) as caught:
        tours.clean_title(value)
    assert caught.value.key == key
    assert caught.value.message("zh") and caught.value.message("en") != caught.value.message("zh")


def test_tours002_titles_and_notes_kept_as_typed():
    assert tours.clean_title("  十一月  例会\n") == "十一月 例会"  # one line, spaces folded
    assert tours.clean_title("x" * 200) == "x" * 200
    assert tours.clean_title("<script>alert(1)</script>") == "<script>alert(1)</script>"  # text, drawn as text
    assert tours.clean_note(None) == ""
    assert tours.clean_note("第一行\r\n第二行\t缩进 ") == "第一行\n第二行\t缩进"
    assert tours.clean_note("n" * 2000) == "n" * 2000
    for bad, key in (("n" * 2001, "tour.err.note_long"), ("a\x07", "tour.err.control"), (5, "tour.err.control")):
        with pytest.raises(tours.TourProblem) as caught:
            tours.clean_note(bad)
        assert caught.value.key == key


def test_tours003_cut_offs():
    assert tours.clean_as_of("2026-11-20T14:59", NOW) == datetime(2026, 11, 20, 14, 59)
    assert tours.clean_as_of("2026-11-20T15:00:59", NOW) == NOW  # to the minute
    assert tours.clean_as_of(datetime(2000, 1, 1), NOW) == datetime(2000, 1, 1)
    for bad, key in (("2026-11-20T15:01", "tour.err.as_of_range"), ("1999-12-31T23:59", "tour.err.as_of_range"),
                     ("2026-11-20T15:00+08:00", "tour.err.as_of"), ("yesterday", "tour.err.as_of"),
                     ("2026-13-01T00:00", "tour.err.as_of"), ("9" * 40, "tour.err.as_of"), (None, "tour.err.as_of"),
                     (1763622000, "tour.err.as_of"), ("", "tour.err.as_of")):
        with pytest.raises(tours.TourProblem) as caught:
            tours.clean_as_of(bad, NOW)
        assert caught.value.key == key, bad


def test_tours004_views():
    view = tours.clean_view("http://evil.example/sla?area=329902&period=30d&as_of=2026-11-01T00:00&lang=en&embed=1")
    assert view.path == "/sla" and view.query == (("area", "329902"), ("period", "30d"))  # host, as_of, lang dropped
    assert tours.query_of(view) == "area=329902&period=30d"
    assert tours.clean_view("/").path == "/"
    for bad, key in (("/backlog?q=x", "tour.err.live_page"), ("/admin/users", "tour.err.view"),
                     ("/sla?password=1", "tour.err.view"), ("/sla?area=1&area=2", "tour.err.view"),
                     ("javascript:alert(1)", "tour.err.view"), ("/sla?area=" + "9" * 201, "tour.err.view"),
                     ("/" + "a" * 2001, "tour.err.view"), (None, "tour.err.view"), ("", "tour.err.view"),
                     ("/sla?area=32%0A9902", "tour.err.view")):
        with pytest.raises(tours.TourProblem) as caught:
            tours.clean_view(bad)
        assert caught.value.key == key, bad


def test_tours005_ids_and_default_cut_off():
    assert tours.clean_id(7) == 7 and tours.clean_id(" 12 ") == 12
    for bad in (0, -1, True, 2 ** 63, "1e3", "12a", None, 1.5, "9" * 30, {"id": 1}):
        with pytest.raises(tours.TourProblem):
            tours.clean_id(bad)
    assert tours.default_as_of("/sla?area=1&as_of=2026-11-01T08:30", datetime(2026, 11, 20, 15, 7, 42)) == \
        datetime(2026, 11, 1, 8, 30)
    assert tours.default_as_of("/sla?area=1", datetime(2026, 11, 20, 15, 7, 42)) == datetime(2026, 11, 20, 15, 7)
    assert tours.default_as_of("/sla?as_of=2030-01-01T00:00", NOW) == NOW  # the future is not a frozen page


# -- the writes -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def app(hand_store_template, tmp_path_factory):
    """One hand-city app for the module (each test starts with no tours: ``as_user``)."""
    import shutil

    from dashboard.app import create_app
    from dashboard.settings import Settings

    folder = tmp_path_factory.mktemp("tours-writes")
    shutil.copy(hand_store_template, folder / "gridcc.duckdb")
    dash_app = create_app(Settings(data_dir=folder, frozen_now=NOW, cache_type="NullCache"))
    yield dash_app
    dash_app.server.extensions["gridcc_live"].stop()
    dash_app.server.extensions["gridcc"].engine.dispose()


@pytest.fixture
def hand_app(app):
    with app.server.extensions["gridcc"].engine.begin() as conn:
        conn.execute(tour_slides.delete())
        conn.execute(tours_table.delete())
        conn.execute(audit_log.delete())
    return app


@pytest.fixture
def as_user(hand_app):
    """Return a function that runs the body as hand-city user ``name`` (a request to the hand-city app)."""
    def run(name, fn, *args, **kw):
        with hand_app.server.test_request_context():
            flask.g.gridcc_principal = principal_for(hand_app, name)
            return fn(*args, **kw)
    return run


def rows(hand_app, table):
    with hand_app.server.extensions["gridcc"].engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table))]


def test_tours010_owner_writes_and_forged_ids(hand_app, as_user):
    mine = as_user("dongcheng", tours.create_tour, "东城区例会", "2026-11-01T09:00")
    slide = as_user("dongcheng", tours.add_slide, mine, url="/sla?area=329902001&period=30d", title="东街",
                    note="看红灯")
    before = (rows(hand_app, tours_table), rows(hand_app, tour_slides))
    for action in (lambda: tours.update_tour(mine, title="x"), lambda: tours.delete_tour(mine),
                   lambda: tours.add_slide(mine, url="/", title="x"), lambda: tours.update_slide(slide, note="x"),
                   lambda: tours.move_slide(slide, 1), lambda: tours.delete_slide(slide)):
        with pytest.raises(tours.TourProblem) as caught:
            as_user("xicheng", action)
        assert caught.value.key == "tour.err.not_found"
    assert (rows(hand_app, tours_table), rows(hand_app, tour_slides)) == before
    assert as_user("xicheng", tours.my_tour, mine) is None
    assert as_user("xicheng", tours.my_tours) == []
    found, slides = as_user("dongcheng", tours.my_tour, str(mine))
    assert (found.title, found.as_of, found.owner) == ("东城区例会", datetime(2026, 11, 1, 9, 0), "dongcheng")
    assert [(s.title, s.note, s.path, s.query) for s in slides] == [("东街", "看红灯", "/sla", "area=329902001&period=30d")]
    as_user("dongcheng", tours.delete_tour, mine)
    audits = [(r.actor, r.action, r.outcome, r.target) for r in (
        tuple_row for tuple_row in _audits(hand_app))]
    assert audits == [("dongcheng", "tour.create", "ok", f"tour:{mine}"), ("dongcheng", "tour.delete", "ok", f"tour:{mine}")]


def _audits(hand_app):
    with hand_app.server.extensions["gridcc"].engine.connect() as conn:
        return list(conn.execute(select(audit_log.c.actor, audit_log.c.action, audit_log.c.outcome, audit_log.c.target)
                                 .where(audit_log.c.action.like("tour.%")).order_by(audit_log.c.id)))


def test_tours011_limits(hand_app, as_user, monkeypatch):
    monkeypatch.setattr(tours, "MAX_SLIDES", 3)
    monkeypatch.setattr(tours, "MAX_TOURS", 2)
    first = as_user("leader", tours.create_tour, "一", NOW)
    for n in range(3):
        as_user("leader", tours.add_slide, first, url=f"/rankings?level=2&period=2026-{n + 9:02d}", title=f"s{n}")
    with pytest.raises(tours.TourProblem) as caught:
        as_user("leader", tours.add_slide, first, url="/", title="one too many")
    assert caught.value.key == "tour.err.too_many_slides"
    as_user("leader", tours.create_tour, "二", NOW)
    with pytest.raises(tours.TourProblem) as caught:
        as_user("leader", tours.create_tour, "三", NOW)
    assert caught.value.key == "tour.err.too_many_tours"
    as_user("viewer", tours.create_tour, "another person's count is theirs", NOW)
    # A refused slide makes no empty tour on the way.
    with pytest.raises(tours.TourProblem):
        as_user("viewer", tours.new_tour_with_slide, tour_title="t", as_of=NOW, url="/backlog", title="x")
    assert [r.tour.title for r in as_user("viewer", tours.my_tours)] == ["another person's count is theirs"]
    assert len(as_user("leader", tours.my_slides, first)) == 3


def test_tours012_who_may_keep_tours(hand_app, as_user):
    principal = principal_for(hand_app, "leader")
    assert tours.may_tour(principal)
    assert not tours.may_tour(None)
    assert not tours.may_tour(dataclasses.replace(principal, public_wall=True))
    assert not tours.may_tour(dataclasses.replace(principal, role="wall_display"))
    assert not tours.may_tour(dataclasses.replace(principal, kind="token"))
    with hand_app.server.test_request_context():
        flask.g.gridcc_principal = dataclasses.replace(principal, public_wall=True)
        with pytest.raises(tours.TourProblem) as caught:
            tours.create_tour("t", NOW)
        assert caught.value.key == "tour.err.not_allowed"
    assert rows(hand_app, tours_table) == []


def test_tours013_moves(hand_app, as_user):
    tid = as_user("leader", tours.create_tour, "t", NOW)
    ids = [as_user("leader", tours.add_slide, tid, url=f"/?area={code}", title=code)
           for code in ("329902", "329903", "329900")]
    assert as_user("leader", tours.move_slide, ids[2], -1) is True
    assert as_user("leader", tours.move_slide, ids[0], -1) is False  # already first
    with pytest.raises(tours.TourProblem):
        as_user("leader", tours.move_slide, ids[0], 5)  # one place at a time
    assert [s.title for s in as_user("leader", tours.my_slides, tid)] == ["329902", "329900", "329903"]
