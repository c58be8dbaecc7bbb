"""Live push (dashboard/live.py): the hub, the poll and the stream, on the hand city.

The hand city's events take ids 1–11 and its data version starts where build_hand_city left it;
every event posted here goes to grid A1 (东城区 › 东街街道), so a 西城区 user is told the version
moved but never which grid.
"""
from __future__ import annotations

import json
import threading
import time
from datetime import datetime

import pytest
import requests

from dashboard import live
from queries import tokens
from queries.scope import Scope
from tests.conftest import signed_in
from tests.handcity import A1, B1, C1, NOW

CITY = Scope("329900", 0)
WEST = Scope("329903", 1)


def report(n: int = 1, grid_lat: float = 31.1, lon: float = 120.01) -> dict:
    return {"id": f"LIVE-{n}", "source": "hotline", "category": "0505", "reported_at": "2026-11-20T14:30:00+08:00",
            "lat": grid_lat, "lon": lon, "description": "井盖缺失"}


# -- the hub, alone ---------------------------------------------------------------------------------------

def test_liv001_hub_folds_changes_since_a_version():
    hub = live.Hub()
    hub.version = 10
    hub.publish(live.Change(11, NOW, (A1,)))
    hub.publish(live.Change(12, NOW, (B1, A1)))
    assert hub.since(10) == (12, NOW, {A1, B1})
    assert hub.since(11) == (12, NOW, {A1, B1})
    assert hub.since(12) == (12, NOW, set())
    # Older than anything remembered: the screen is told everything may have changed.
    assert hub.since(3) == (12, NOW, {live.EVERYTHING})


def test_liv002_hub_ignores_an_older_or_repeated_version():
    hub = live.Hub()
    hub.version = 5
    hub.publish(live.Change(5, NOW, (A1,)))
    hub.publish(live.Change(4, NOW, (A1,)))
    assert hub.version == 5 and hub.since(4) == (5, None, {live.EVERYTHING})


def test_liv003_wait_returns_at_once_on_a_change_and_after_the_timeout_without():
    hub = live.Hub()
    hub.version = 1
    started = time.monotonic()
    assert hub.wait(1, 0.2) == (1, None, set())
    assert 0.15 < time.monotonic() - started < 1.0
    threading.Timer(0.1, hub.publish, args=(live.Change(2, NOW, (C1,)),)).start()
    started = time.monotonic()
    assert hub.wait(1, 5.0) == (2, NOW, {C1})
    assert time.monotonic() - started < 1.0


def test_liv004_hub_remembers_only_the_last_changes():
    hub = live.Hub()
    hub.version = 0
    for v in range(1, live.KEEP + 10):
        hub.publish(live.Change(v, NOW, (f"g{v}",)))
    assert hub.since(5) == (live.KEEP + 9, NOW, {live.EVERYTHING})
    assert hub.since(live.KEEP + 7)[2] == {f"g{live.KEEP + 8}", f"g{live.KEEP + 9}"}


def test_liv005_message_names_only_grids_inside_the_scope():
    now = datetime(2026, 11, 20, 15, 0, 1)
    assert live.message(7, NOW, {A1, C1}, CITY, now) == {
        "v": 7, "at": "2026-11-20T15:00:00", "now": "2026-11-20T15:00:01", "areas": [A1, C1]}
    assert live.message(7, NOW, {A1, C1}, WEST, now)["areas"] == [C1]
    assert live.message(7, NOW, {A1}, WEST, now)["areas"] == []
    assert live.message(7, None, {live.EVERYTHING}, WEST, now)["areas"] == ["*"]
    many = {f"3299020010010{i:02d}" for i in range(live.MAX_AREAS + 1)}
    assert live.message(7, NOW, many, CITY, now)["areas"] == ["*"]


# -- the poll ---------------------------------------------------------------------------------------------

@pytest.fixture
def auth(hand_app) -> dict:
    with hand_app.server.extensions["gridcc"].engine.begin() as conn:
        return {"Authorization": f"Bearer {tokens.create_token(conn, name='hotline-gw', now=NOW)}"}


def _version(client) -> int:
    return client.get("/api/v1/live/poll?wait=0").get_json()["v"]


def test_liv010_poll_answers_the_next_write_with_its_grid(hand_app, auth):
    leader, west = signed_in(hand_app, "leader"), signed_in(hand_app, "xicheng")
    v = _version(leader)
    assert hand_app.server.test_client().post("/api/v1/events", json=report(), headers=auth).status_code == 201
    told = leader.get(f"/api/v1/live/poll?v={v}&wait=0").get_json()
    assert told["v"] == v + 1 and told["areas"] == [A1]
    # The other district hears that something changed, never where.
    other = west.get(f"/api/v1/live/poll?v={v}&wait=0").get_json()
    assert other["v"] == v + 1 and other["areas"] == []


def test_liv011_poll_waits_for_a_write(hand_app, auth):
    leader = signed_in(hand_app, "leader")
    v = _version(leader)
    poster = hand_app.server.test_client()
    threading.Timer(0.3, lambda: poster.post("/api/v1/events", json=report(2), headers=auth)).start()
    started = time.monotonic()
    told = leader.get(f"/api/v1/live/poll?v={v}&wait=10").get_json()
    assert told["v"] == v + 1 and told["areas"] == [A1]
    assert 0.25 < time.monotonic() - started < 2.0


def test_liv012_poll_without_a_change_answers_a_beat_after_the_wait(hand_app):
    leader = signed_in(hand_app, "leader")
    v = _version(leader)
    started = time.monotonic()
    told = leader.get(f"/api/v1/live/poll?v={v}&wait=0.3").get_json()
    assert told == {**told, "v": v, "areas": []}
    assert 0.25 < time.monotonic() - started < 2.0


@pytest.mark.parametrize("query", ["v=abc", "v=1e400", "v=%00", "v=1&wait=abc", "v=" + "9" * 5000])
def test_liv013_poll_refuses_a_malformed_version_clearly(hand_app, query):
    answer = signed_in(hand_app, "leader").get(f"/api/v1/live/poll?{query}")
    assert answer.status_code == 400
    assert "whole number" in answer.get_json()["message"] or "seconds" in answer.get_json()["message"]


@pytest.mark.parametrize("query", ["v=-5&wait=0", "v=999999999&wait=0", "wait=0"])
def test_liv014_poll_from_an_unknown_version_says_everything(hand_app, query):
    told = signed_in(hand_app, "leader").get(f"/api/v1/live/poll?{query}").get_json()
    assert told["areas"] == ["*"]


def test_liv015_poll_wait_is_capped(hand_app):
    leader = signed_in(hand_app, "leader")
    v = _version(leader)
    started = time.monotonic()
    assert leader.get(f"/api/v1/live/poll?v={v}&wait=-100").status_code == 200
    assert time.monotonic() - started < 1.0


def test_liv016_live_routes_need_a_caller(hand_app):
    client = hand_app.server.test_client()
    for path in ("/api/v1/live/poll?v=1", "/api/v1/live/stream"):
        answer = client.get(path, headers={"Accept": "text/event-stream"})
        assert answer.status_code == 401, path


# -- the stream, over a real socket ---------------------------------------------------------------------------

def _session(hand_app, base: str, name: str) -> requests.Session:
    client = signed_in(hand_app, name)
    cookie = client.get_cookie("gridcc_session")
    session = requests.Session()
    session.cookies.set("gridcc_session", cookie.value, domain="127.0.0.1")
    return session


def _events(response):
    """Yield (event name, data) from a server-sent event stream."""
    name, data = None, None
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data = json.loads(line[6:])
        elif line == "" and name:
            yield name, data
            name, data = None, None


def test_liv020_stream_says_hello_then_each_write_within_a_second(hand_app, live_url, auth):
    session = _session(hand_app, live_url, "dongcheng")
    with session.get(live_url + "/api/v1/live/stream", stream=True, timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert response.headers["Cache-Control"] == "no-store"
        events = _events(response)
        name, hello = next(events)
        assert name == "hello" and hello["areas"] == []
        posted = time.monotonic()
        assert requests.post(live_url + "/api/v1/events", json=report(3), headers=auth, timeout=10).status_code == 201
        name, told = next(events)
        assert time.monotonic() - posted < 1.0
        assert name == "change" and told["v"] == hello["v"] + 1 and told["areas"] == [A1]


def test_liv021_stream_beats_when_nothing_happens(hand_app, live_url, monkeypatch):
    monkeypatch.setattr(live, "BEAT_S", 0.3)
    session = _session(hand_app, live_url, "leader")
    with session.get(live_url + "/api/v1/live/stream", stream=True, timeout=10) as response:
        events = _events(response)
        assert next(events)[0] == "hello"
        started = time.monotonic()
        name, beat = next(events)
        assert name == "beat" and beat["areas"] == [] and time.monotonic() - started < 2.0


def test_liv022_stream_ends_when_the_session_is_signed_out(hand_app, live_url, monkeypatch):
    monkeypatch.setattr(live, "BEAT_S", 0.3)
    session = _session(hand_app, live_url, "leader")
    with session.get(live_url + "/api/v1/live/stream", stream=True, timeout=10) as response:
        events = _events(response)
        assert next(events)[0] == "hello"
        csrf = session.cookies.get("_csrf_token")
        headers = {"X-CSRFToken": csrf} if csrf else {}
        # Sign out from another request of the same session.
        out = session.post(live_url + "/auth/sign-out", headers=headers, allow_redirects=False, timeout=10)
        assert out.status_code in (200, 303)
        names = [name for name, _ in events]
        assert names[-1] == "ended"


def test_liv023_a_stream_past_the_limit_is_refused_with_503(hand_app, live_url):
    hub = hand_app.server.extensions["gridcc_live"]
    hub.listeners = hand_app.server.extensions["gridcc"].settings.live_max_streams
    try:
        answer = _session(hand_app, live_url, "leader").get(live_url + "/api/v1/live/stream", timeout=10)
        assert answer.status_code == 503 and "poll" in answer.json()["message"]
        assert answer.headers["Retry-After"] == "30"
    finally:
        hub.listeners = 0


def test_liv024_a_write_by_another_process_reaches_the_screens_through_the_watcher(hand_app):
    from queries.meta import bump_data_version

    hub = hand_app.server.extensions["gridcc_live"]
    before = hub.version
    with hand_app.server.extensions["gridcc"].engine.begin() as conn:
        bump_data_version(conn)  # as an area import or another process's write would
    hub.check_store()
    assert hub.since(before) == (before + 1, hub.at, {live.EVERYTHING})


# -- the cache a live refresh may use ------------------------------------------------------------------------

def test_liv030_a_refresh_takes_a_cached_answer_as_new_as_the_change_it_was_told(hand_settings):
    from dashboard import data
    from dashboard.app import create_app
    from queries.meta import bump_data_version

    app = create_app(hand_settings.with_(cache_type="SimpleCache"))
    calls = []

    @data.cached
    def probe(x):
        calls.append(x)
        return len(calls)

    engine = app.server.extensions["gridcc"].engine
    try:
        with app.server.test_request_context():
            first = data._version(app.server.extensions["gridcc"])
            assert probe("a") == 1 and probe("a") == 1  # same version: computed once
        with engine.begin() as conn:
            bump_data_version(conn)  # first + 1
        with app.server.test_request_context():
            data.told({"v": first})  # told of the version the answer was computed at: the cache will do
            assert probe("a") == 1
        with app.server.test_request_context():
            assert probe("a") == 2  # a page load or drill: the store's version, so computed again
        with engine.begin() as conn:
            bump_data_version(conn)  # first + 2
        with app.server.test_request_context():
            data.told({"v": first + 2})  # told of a newer change than the cached answer: computed again
            assert probe("a") == 3
        with app.server.test_request_context():
            for forged in ({"v": True}, {"v": -1}, {"v": "1"}, [first], None, {"v": 1.5}):
                data.told(forged)  # ignored: the store's version stands
            assert probe("a") == 3  # computed at first + 2, the current version
        assert calls == ["a"] * 3
    finally:
        app.server.extensions["gridcc_live"].stop()
        engine.dispose()


@pytest.mark.parametrize("v", ["abc", "-1", "1.5", "١٢", "9" * 40, ""])
def test_liv031_api_refuses_a_malformed_told_version(hand_app, auth, v):
    answer = hand_app.server.test_client().get(f"/api/v1/areas/329900?v={v}", headers=auth)
    assert answer.status_code == 400 and "data version" in answer.get_json()["message"]


def test_liv032_api_answers_with_a_told_version(hand_app, auth):
    client = hand_app.server.test_client()
    plain = client.get("/api/v1/areas/329900", headers=auth).get_json()
    told = client.get("/api/v1/areas/329900?v=0", headers=auth).get_json()
    assert told == plain  # the same figures (NullCache here: the hint only widens what the cache may answer)


def test_liv006_hub_data_time_moves_forward_only():
    hub = live.Hub()
    hub.version = 1
    later = datetime(2026, 11, 20, 16, 0)
    hub.publish(live.Change(2, later, (A1,)))
    hub.publish(live.Change(3, NOW, (A1,)))  # a write stamped earlier (a frozen clock behind the store)
    assert (hub.version, hub.at) == (3, later)


def test_liv033_screens_missing_the_same_entry_at_once_wait_for_one_computation(hand_settings):
    from dashboard import data
    from dashboard.app import create_app

    app = create_app(hand_settings.with_(cache_type="SimpleCache"))
    calls = []
    started = threading.Event()

    @data.cached
    def slow(x):
        calls.append(x)
        started.set()
        time.sleep(0.3)
        return x * 2

    answers = []

    def ask():
        with app.server.test_request_context():
            answers.append(slow(21))

    try:
        threads = [threading.Thread(target=ask) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert answers == [42] * 8 and calls == [21]  # one computed, seven waited for it
        assert not data._computing  # nothing left behind
    finally:
        app.server.extensions["gridcc_live"].stop()
        app.server.extensions["gridcc"].engine.dispose()
