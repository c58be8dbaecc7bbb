"""The live overview's callbacks on the hand city (now frozen at 2026-11-20 15:00; tests/handcity.py).

Digests (a panel answers no_update when the screen shows its answer already), playback, the ticker,
the urgent alerts and their acknowledgement, the event detail, the heat layer, a heat click's drill,
and the live window of dashboard.data.window. Every expected number is worked out in the comments.
"""
from __future__ import annotations

import contextlib
import json
import math
from datetime import datetime

import flask
import pytest
from dash import no_update
from dash._callback_context import context_value
from dash._utils import AttributeDict
from sqlalchemy import select

from callbacks import overview as cb
from dashboard import data
from layouts import event_detail as detail_layout
from layouts import overview as ids
from queries.meta import data_version, set_meta
from queries.schema import alert_acks, audit_log
from tests import handcity
from tests.callbacks.test_overview import text, tiles, view_of
from tests.conftest import principal_for, signed_in
from tests.queries.test_alerts import add_events
from tests.security import common as c

LIVE = (None, None, {"on": False})  # tick, minute, playback off
EAST, WEST = "329902", "329903"


def engine_of(app):
    return app.server.extensions["gridcc"].engine


def as_user(app, name: str) -> None:
    """Make the current request's caller hand-city user ``name``, and forget what the request read."""
    flask.g.gridcc_principal = principal_for(app, name)
    data.flush_marks()


@contextlib.contextmanager
def clicked(component_id: dict, value=1):
    """Run a callback as if ``component_id`` was clicked (n_clicks = ``value``): Dash's trigger context, forged."""
    prop_id = json.dumps(component_id, sort_keys=True, separators=(",", ":")) + ".n_clicks"
    token = context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": value}]))
    try:
        yield
    finally:
        context_value.reset(token)


@contextlib.contextmanager
def untriggered():
    """Run a callback as on its first call (nothing clicked)."""
    token = context_value.set(AttributeDict(triggered_inputs=[]))
    try:
        yield
    finally:
        context_value.reset(token)


def ticker_ids(children) -> list[int]:
    return [int(item.to_plotly_json()["props"]["data-event"]) for item in children[0].children] \
        if children and hasattr(children[0], "children") and isinstance(children[0].children, list) else []


# -- (a) digests ------------------------------------------------------------------------------------------------
def test_lp001_a_panel_does_not_redraw_what_the_screen_shows(in_app):
    view = view_of()
    children, digest = cb.update_kpis(view, *LIVE, "zh", None)
    assert tiles(children)["open"] == "5"
    assert cb.update_kpis(view, *LIVE, "zh", digest) == (no_update, no_update)
    # Another digest (the screen shows something else, or a forged one): the panel answers in full.
    again, same = cb.update_kpis(view, *LIVE, "zh", "0" * 40)
    assert tiles(again) == tiles(children) and same == digest
    assert cb.update_kpis(view, *LIVE, "zh", 12345)[1] == digest
    # A change of language is a change of what is shown.
    assert cb.update_kpis(view, *LIVE, "en", digest)[1] != digest


def test_lp002_every_output_of_a_panel_waits_on_its_digest(in_app):
    first = cb.update_map({"area": None, "building": None}, "open", *LIVE, "zh", None)
    assert first[1]["values"] == {EAST: 3, WEST: 2}
    assert cb.update_map({"area": None, "building": None}, "open", *LIVE, "zh", first[-1]) == (no_update,) * 4
    building = cb.update_building(view_of(handcity.A1, handcity.A1 + "002"), *LIVE, "zh", None)
    assert cb.update_building(view_of(handcity.A1, handcity.A1 + "002"), *LIVE, "zh", building[-1]) == \
        (no_update,) * 4
    # Another metric: another answer.
    assert cb.update_map({"area": None, "building": None}, "overdue", *LIVE, "zh", first[-1])[1]["values"] == \
        {EAST: 1, WEST: 1}


# -- (b) playback -----------------------------------------------------------------------------------------------
def test_lp010_playback_shows_the_tiles_at_the_replayed_moment(in_app):
    view = view_of()
    live = tiles(cb.update_kpis(view, *LIVE, "zh", None)[0])
    assert live == {"reported_today": "5", "open": "5", "overdue": "2", "closed": "3", "on_time_rate": "20.0%"}
    replay = {"on": True, "cursor": "2026-11-20T10:00:00"}
    at_ten = tiles(cb.update_kpis(view, None, None, replay, "zh", None)[0])
    # At 10:00: reported today [00:00, 10:00], as_of included: 1 (09:00), 5 (08:00, void, counted as a report
    # as at 15:00) and 8 (10:00). Open: 1 (closed 10:30), 3, 6 (checked, never closed), 9; 8 is parked.
    # Overdue: 3 (due 11-17), 9 (due 09-04); 1 is due 11:10, 6 was handled in time.
    # Closed in [10-21 10:00, 11-20 10:00): 2 and 7, both late: on time 0 / (2 + 2) = 0.0 %.
    assert at_ten == {"reported_today": "3", "open": "4", "overdue": "2", "closed": "2", "on_time_rate": "0.0%"}


@pytest.mark.parametrize("playback", [
    {"on": "true", "cursor": "2026-11-20T10:00:00"},
    {"on": 1, "cursor": "2026-11-20T10:00:00"},
    {"on": False, "cursor": "2026-11-20T10:00:00"},
    {"on": True, "cursor": 1_763_604_000},
    {"on": True, "cursor": ["2026-11-20T10:00:00"]},
    {"on": True, "cursor": "2026-11-20T10:00:00+08:00"},
    {"on": True, "cursor": "1999-12-31T10:00:00"},
    {"on": True, "cursor": "2026-11-21T10:00:00"},  # tomorrow: after now
    {"on": True, "cursor": "2026-11-20T10:00:00" + " " * 4981},  # 5,000 characters
    {"on": True, "cursor": "x" * 5000},
    {"on": True, "cursor": "10:00"},
    {"on": True},
    ["2026-11-20T10:00:00"],
    "2026-11-20T10:00:00",
    None,
])
def test_lp011_a_forged_playback_is_live(in_app, playback):
    assert cb.replayed(playback) is None
    view = view_of()
    assert tiles(cb.update_kpis(view, None, None, playback, "zh", None)[0])["reported_today"] == "5"


def test_lp012_replayed_keeps_a_sane_moment(in_app):
    assert cb.replayed({"on": True, "cursor": "2026-11-20T10:00:00"}) == datetime(2026, 11, 20, 10, 0)
    assert cb.replayed({"on": True, "cursor": "2000-01-01T00:00:00"}) == datetime(2000, 1, 1)
    assert cb.replayed({"on": True, "cursor": "2026-11-20T15:00:00"}) == handcity.NOW  # now itself


# -- (c) the ticker ---------------------------------------------------------------------------------------------
def test_lp020_the_ticker_lists_the_newest_first(in_app):
    # The 7 days before 15:00: 10 (14:59:59), 4 (14:00), 8 (10:00), 1 (09:00), 5 (08:00), 2 (11-19), 6 (11-18).
    children, _ = cb.update_ticker(view_of(), *LIVE, "zh", None)
    assert ticker_ids(children) == [10, 4, 8, 1, 5, 2, 6]
    assert "14:59" in text(children) and "西湖社区 · 西湖第02网格" in text(children)
    assert ticker_ids(cb.update_ticker(view_of(WEST), *LIVE, "zh", None)[0]) == [10, 8]
    # Playback at 10:00: up to and including 10:00.
    replay = {"on": True, "cursor": "2026-11-20T10:00:00"}
    assert ticker_ids(cb.update_ticker(view_of(), None, None, replay, "zh", None)[0]) == [8, 1, 5, 2, 6]
    quiet, _ = cb.update_ticker(view_of(handcity.B2), *LIVE, "en", None)
    assert ticker_ids(quiet) == [] and text(quiet) != ""
    assert cb.update_ticker(None, *LIVE, "zh", None) == (no_update, no_update)


def test_lp021_only_the_urgent_event_is_marked(in_app):
    children, _ = cb.update_ticker(view_of(EAST), *LIVE, "zh", None)
    marked = [int(li.to_plotly_json()["props"]["data-event"]) for li in children[0].children
              if "gcc-urgent" in li.className]
    assert marked == [6]


# -- (d) urgent alerts ------------------------------------------------------------------------------------------
@pytest.fixture
def alert_app(in_app):
    """The hand city with the urgent events of tests/queries/test_alerts.py: open at 15:00 are 13 (C1, 12:00),
    12 (B2, 11:00) and 15 (A2, 11-19 15:00)."""
    with engine_of(in_app).begin() as conn:
        add_events(conn)
    data.flush_marks()
    return in_app


def banner_ids(result) -> list[int]:
    return result[2]


def audit(app) -> list[tuple]:
    with engine_of(app).connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(audit_log.c.actor, audit_log.c.action, audit_log.c.outcome, audit_log.c.target, audit_log.c.detail)
            .where(audit_log.c.action == "alert.ack").order_by(audit_log.c.id))]


def acks(app) -> list[tuple]:
    with engine_of(app).connect() as conn:
        return [tuple(r) for r in conn.execute(select(alert_acks.c.event_id, alert_acks.c.user_name))]


def version(app) -> int:
    with engine_of(app).connect() as conn:
        return data_version(conn)


def test_lp030_the_banner_shows_the_newest_urgent_event(alert_app):
    with untriggered():
        banner, pulses, shown, digest = cb.update_alerts(None, None, [], [], "zh", None)
    assert shown == [13, 12, 15]
    assert "自来水管破裂" in text(banner) and "12:00" in text(banner)  # 13: 0402 at 12:00
    assert len(pulses) == 3  # each has the hand city's point
    as_user(alert_app, "dongcheng")
    with untriggered():
        assert banner_ids(cb.update_alerts(None, None, [], [], "zh", None)) == [12, 15]
    as_user(alert_app, "xicheng")
    with untriggered():
        assert banner_ids(cb.update_alerts(None, None, [], [], "zh", None)) == [13]


def test_lp031_acknowledging_records_audits_and_drops_the_alert(alert_app):
    as_user(alert_app, "dongcheng")  # a district manager may act: 东城区's alerts are 12 and 15
    before = version(alert_app)
    with clicked({"type": ids.ACK, "event": 12}):
        after = cb.update_alerts(None, None, [1], [], "zh", None)
    assert banner_ids(after) == [15]
    assert acks(alert_app) == [(12, "dongcheng")]
    assert audit(alert_app) == [("dongcheng", "alert.ack", "ok", "12", "ok")]
    assert version(alert_app) == before + 1
    # A second click on the same alert: already signed for, refused in the audit, nothing else changes.
    with clicked({"type": ids.ACK, "event": 12}):
        assert banner_ids(cb.update_alerts(None, None, [2], [], "zh", None)) == [15]
    assert acks(alert_app) == [(12, "dongcheng")] and version(alert_app) == before + 1
    assert audit(alert_app)[-1] == ("dongcheng", "alert.ack", "refused", "12", "already")


@pytest.mark.parametrize("user", ["leader", "viewer"])
def test_lp035_a_role_that_may_not_act_cannot_sign(alert_app, user):
    # The city leader and a viewer watch the banner; signing is the duty operator's (the "act" right).
    as_user(alert_app, user)
    before = version(alert_app)
    event = 13  # 西城区's: in both scopes
    with clicked({"type": ids.ACK, "event": event}):
        banner, _, shown, _ = cb.update_alerts(None, None, [1], [], "zh", None)
    assert event in shown and acks(alert_app) == [] and version(alert_app) == before
    assert audit(alert_app) == [(user, "alert.ack", "refused", str(event), "role may not act")]
    assert "确认签收" not in text(banner)  # no button for them


def test_lp032_another_districts_alert_cannot_be_acknowledged(alert_app):
    as_user(alert_app, "xicheng")
    before = version(alert_app)
    with clicked({"type": ids.ACK, "event": 12}):  # 12 is 东城区's (B2)
        assert banner_ids(cb.update_alerts(None, None, [1], [], "zh", None)) == [13]
    assert acks(alert_app) == [] and version(alert_app) == before
    assert audit(alert_app) == [("xicheng", "alert.ack", "refused", "12", "unknown")]


@pytest.mark.parametrize("trigger, value", [
    ({"type": ids.ACK, "event": True}, 1),
    ({"type": ids.ACK, "event": -13}, 1),
    ({"type": ids.ACK, "event": 0}, 1),
    ({"type": ids.ACK, "event": 2 ** 70}, 1),
    ({"type": ids.ACK, "event": "13"}, 1),
    ({"type": ids.ACK, "event": 13.0}, 1),
    ({"type": ids.ACK, "event": 13}, 0),  # rendered, never clicked
    ({"type": ids.ACK, "event": 13}, None),
    ({"type": ids.EVENT, "event": 13}, 1),  # another button's click
])
def test_lp033_forged_acknowledgements_do_nothing(alert_app, trigger, value):
    before = version(alert_app)
    with clicked(trigger, value):
        assert banner_ids(cb.update_alerts(None, None, [value], [], "zh", None)) == [13, 12, 15]
    assert acks(alert_app) == [] and audit(alert_app) == [] and version(alert_app) == before


def test_lp034_acknowledging_through_a_real_post(hand_app):
    with engine_of(hand_app).begin() as conn:
        add_events(conn)
    client = signed_in(hand_app, "dongcheng")
    key = next(k for k in c.server_callbacks(hand_app) if k.startswith("..overview-alerts.children..."))
    spec = c.server_callbacks(hand_app)[key]

    def value_of(cid, prop):
        return "zh" if cid == ids.LANG else (1 if prop in ("n_clicks", "n_intervals") else None)

    before = version(hand_app)
    answer = c.post_callback(client, c.callback_payload(key, spec, value_of, {"event": 12}, fill_all=True))
    assert answer.status_code == 200, answer.data[:300]
    assert answer.get_json()["response"][ids.ALERT_IDS]["data"] == [15]
    assert acks(hand_app) == [(12, "dongcheng")]
    assert audit(hand_app) == [("dongcheng", "alert.ack", "ok", "12", "ok")]
    assert version(hand_app) == before + 1
    # Another screen of the district opens: the banner shows 15 alone.
    again = c.post_callback(signed_in(hand_app, "dongcheng"), c.callback_payload(key, spec, value_of))
    assert again.get_json()["response"][ids.ALERT_IDS]["data"] == [15]


# -- (e) the event detail ---------------------------------------------------------------------------------------
def test_lp040_the_detail_opens_for_an_event_in_scope(in_app):
    with clicked({"type": ids.EVENT, "event": 3}):
        is_open, body = cb.open_detail([1], "zh")
    assert is_open is True
    shown = text(body)
    assert "道路破损" in shown and "李* 138****5678" in shown and "李娜" not in shown
    with untriggered():
        assert cb.open_detail([0], "zh") == (no_update, no_update)
    with clicked({"type": ids.EVENT, "event": 3}, 0):
        assert cb.open_detail([0], "zh") == (no_update, no_update)


def test_lp041_another_districts_event_reads_as_unknown(in_app):
    as_user(in_app, "xicheng")
    with clicked({"type": ids.EVENT, "event": 3}):  # 东城区's
        foreign = cb.open_detail([1], "zh")
    with clicked({"type": ids.EVENT, "event": 999_999}):
        nowhere = cb.open_detail([1], "zh")
    assert foreign[0] is True and str(foreign[1]) == str(nowhere[1]) == str(detail_layout.empty_body("zh"))
    assert "李" not in text(foreign[1]) and "东" not in text(foreign[1])
    with clicked({"type": ids.EVENT, "event": 10}):  # its own
        assert "矛盾纠纷" in text(cb.open_detail([1], "zh")[1])


# -- (f) the heat layer -----------------------------------------------------------------------------------------
def heat(view, on=True, window="7d", cls="all", source="all", urgent=False, playback=None, digest=None):
    return cb.update_heat(view, on, window, cls, source, urgent, None, None, playback or {"on": False}, "zh", digest)


def test_lp050_heat_off_sends_nothing(in_app):
    data_, legend, hidden, digest = heat(view_of(), on=False)
    assert (data_, legend, hidden) == (None, [], True) and isinstance(digest, str)
    assert heat(view_of(), on="true")[:3] == (None, [], True)  # only True turns it on
    assert heat(None) == (no_update,) * 4


def test_lp051_heat_counts_the_reports_of_the_window(in_app):
    # Every hand-city event is at (31.1, 120.0): one cell. Reported in [11-13 15:00, 11-20 15:00), not void:
    # 1, 2, 4, 6, 8, 10 = 6 (3 is older, 5 void, 11 later).
    hideout, legend, hidden, _ = heat(view_of())
    assert hidden is False and hideout["total"] == 6 and list(hideout["cells"].values()) == [6]
    assert hideout["resolution"] == 8  # the city level
    assert "6" in text(legend)
    # 24 h [11-19 15:00, 15:00): 1, 4, 8, 10; the last hour [14:00, 15:00): 4, 10.
    assert heat(view_of(), window="24h")[0]["total"] == 4
    assert heat(view_of(), window="1h")[0]["total"] == 2
    # Filters: class 04 or urgent only → 6; 西城区's 7 days: 8, 10.
    assert heat(view_of(), cls="04")[0]["total"] == 1
    assert heat(view_of(), urgent=True)[0]["total"] == 1
    assert heat(view_of(), source="grid_worker")[0]["total"] == 6
    assert heat(view_of(), source="hotline")[0]["total"] == 0
    assert heat(view_of(WEST))[0]["total"] == 2
    # Playback at 10:00: [11-13 10:00, 10:00): 1, 2, 6.
    assert heat(view_of(), playback={"on": True, "cursor": "2026-11-20T10:00:00"})[0]["total"] == 3


@pytest.mark.parametrize("window, cls, source, urgent, total", [
    ("30d", "all", "all", False, 4),  # an unknown window is the default 24 h
    (["7d"], "all", "all", False, 4),
    ("7d", "99", "all", False, 6),  # no such class: no filter
    ("7d", ["04"], "all", False, 6),
    ("7d", "04' OR 1=1", "all", False, 6),
    ("7d", "all", "twitter", False, 6),
    ("7d", "all", ["hotline"], False, 6),
    ("7d", "all", "all", "true", 6),  # only True filters
    ("7d", "all", "all", 1, 6),
])
def test_lp052_forged_heat_filters_are_ignored(in_app, window, cls, source, urgent, total):
    assert heat(view_of(), window=window, cls=cls, source=source, urgent=urgent)[0]["total"] == total


# -- (g) a click on the heat layer drills ---------------------------------------------------------------------
A1_POINT = [31.1, 120.02]  # inside grid A1 (120.00–120.05)


def test_lp060_a_heat_click_drills_to_the_child_under_it(in_app):
    assert cb._requested({"area": handcity.CITY, "at": A1_POINT})["area"] == EAST
    assert cb._requested({"area": EAST, "at": A1_POINT})["area"] == "329902001"
    assert cb._requested({"area": "329902001001", "at": A1_POINT})["area"] == handcity.A1
    assert cb._requested({"area": handcity.A1, "at": A1_POINT})["area"] == handcity.A1  # a grid: no deeper
    assert cb.update_view({"area": handcity.CITY, "at": A1_POINT, "building": None}, None, "zh")[0]["code"] == EAST
    # A point in 西城区 while viewing 东城区 leaves the view where it is.
    assert cb._requested({"area": EAST, "at": [31.1, 120.25]})["area"] == EAST


def test_lp061_a_heat_click_stays_in_the_scope(in_app):
    as_user(in_app, "xicheng")
    assert cb._requested({"area": WEST, "at": A1_POINT})["area"] == WEST
    assert cb._requested({"area": WEST, "at": [31.1, 120.25]})["area"] == "329903001"


@pytest.mark.parametrize("at", [
    [math.nan, 120.02], [31.1, math.inf], ["31.1", "120.02"], [True, 120.02], [31.1, 120.02, 0], [31.1],
    [91, 120.02], [31.1, 181], [-91, 120.02], [30.0, 115.0],  # the last is on earth, but in no grid
    "31.1,120.02", {"lat": 31.1, "lon": 120.02}, None, [[31.1], [120.02]],
])
def test_lp062_forged_points_are_ignored(in_app, at):
    assert cb._requested({"area": handcity.CITY, "at": at})["area"] == handcity.CITY
    assert cb._requested({"area": None, "at": A1_POINT})["area"] is None  # no area asked: nothing to drill


# -- (h) the live window ----------------------------------------------------------------------------------------
@pytest.fixture
def app_at(hand_settings):
    """Return a function making an app whose clock is frozen at ``now`` and whose store's data time is ``data_time``."""
    from dashboard.app import create_app
    from dashboard.store import make_engine

    made = []

    def make(now: datetime, data_time: datetime):
        engine = make_engine(hand_settings)
        with engine.begin() as conn:
            set_meta(conn, "state_as_of", data_time.isoformat())
        engine.dispose()
        app = create_app(hand_settings.with_(frozen_now=now))
        made.append(app)
        return app

    yield make
    for app in made:
        app.server.extensions["gridcc_live"].stop()
        app.server.extensions["gridcc"].engine.dispose()


def window_of(app) -> tuple[datetime, datetime, datetime]:
    with app.server.test_request_context():
        return data.window()


@pytest.mark.parametrize("data_time, as_of", [
    ("16:00:12", "16:00:13"),  # an event came in this minute: one second past it
    ("16:00:30", "16:00:31"),  # at now itself
    ("16:00:35", "16:00:36"),  # 5 s ahead of the clock is still followed (LIVE_SKEW)
    ("16:00:36", "16:00:00"),  # further ahead: not followed
    ("16:00:00", "16:00:01"),  # the minute's first second
    ("15:59:59", "16:00:00"),  # before the minute began: the minute
])
def test_lp070_live_window_follows_the_data_time(app_at, data_time, as_of):
    day = "2026-11-20T"
    app = app_at(datetime.fromisoformat(day + "16:00:30"), datetime.fromisoformat(day + data_time))
    got = window_of(app)
    expected = datetime.fromisoformat(day + as_of)
    assert got == (expected, expected.replace(month=10, day=21), expected)


def test_lp071_the_hand_city_as_built_is_the_minute(in_app):
    # Its data time is 16:00, an hour after its frozen now (15:00): not followed.
    assert data.window() == (handcity.NOW, handcity.SINCE, handcity.NOW)
    # An explicit as_of (playback) is truncated to the minute, whatever the data time.
    assert data.window(datetime(2026, 11, 20, 10, 0, 42))[0] == datetime(2026, 11, 20, 10, 0)
