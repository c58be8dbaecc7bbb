"""The ingest API on the hand city: receipts, idempotency, all-or-nothing batches, refusals, the loop's steps.

Expected values are worked out by hand from tests/handcity.py (NOW = Friday 2026-11-20 15:00, frozen)
and the working hours 08:30–12:00 / 13:30–17:30; category 0505 has a limit of 2 work hours. The
hand city's events take ids 1–11, so the first event posted here is 12.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from queries import tokens
from queries.meta import data_version
from queries.schema import closures, event_log, events, open_events
from tests.handcity import A1, A2, B1, B2, C1, C2, NOW

TOKEN = "hotline-gw"
DISTRICT = "329902"  # 东城区: A1, A2, B1, B2
SQL = "'); DROP TABLE events;--"
HTML = "<img src=x onerror=alert(1)>"


def at(hhmm: str, day: int = 20) -> str:
    """Return 2026-11-<day> <hh:mm> in the city's time zone as the API writes it."""
    return f"2026-11-{day:02d}T{hhmm}:00+08:00"


def record(**changes) -> dict:
    """Return a good hotline report in grid A1 at 14:00 today, with ``changes`` (None drops a field)."""
    base = {"id": "HL-1", "source": "hotline", "category": "0505", "reported_at": at("14:00"),
            "lat": 31.1, "lon": 120.01, "description": "井盖缺失", "reporter": "张三"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def lifecycle(dispatched: str, handled: str, *, day: int = 20, **changes) -> dict:
    """Return a closed case in grid B2: reported 3 min before dispatch, checked +5 min, closed +10 min."""
    def minus(hhmm, m):
        h, mm = map(int, hhmm.split(":"))
        t = h * 60 + mm - m
        return f"{t // 60:02d}:{t % 60:02d}"

    def plus(hhmm, m):
        return minus(hhmm, -m)

    return record(lat=31.1, lon=120.17, reported_at=at(minus(dispatched, 3), day),
                  accepted_at=at(minus(dispatched, 2), day), registered_at=at(minus(dispatched, 1), day),
                  dispatched_at=at(dispatched, day), handled_at=at(handled), checked_at=at(plus(handled, 5)),
                  closed_at=at(plus(handled, 10)), status="closed", **changes)


@pytest.fixture
def engine(hand_app):
    return hand_app.server.extensions["gridcc"].engine


@pytest.fixture
def token(engine) -> str:
    with engine.begin() as conn:
        return tokens.create_token(conn, name=TOKEN, now=NOW)


@pytest.fixture
def auth(token) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(hand_app):
    return hand_app.server.test_client()


@pytest.fixture
def cached_client(hand_settings, token):
    """Return a client of an app that caches figures (SimpleCache) on the same store as ``token``."""
    from dashboard.app import create_app

    app = create_app(hand_settings.with_(cache_type="SimpleCache"))
    yield app.server.test_client()
    app.server.extensions["gridcc"].engine.dispose()


def post(client, auth, body):
    return client.post("/api/v1/events", json=body, headers=auth)


def step(client, auth, event_id, body):
    return client.post(f"/api/v1/events/{event_id}/transitions", json=body, headers=auth)


def figures(client, auth, code: str) -> dict:
    """Return an area's figures as the sending system reads them (with its token)."""
    return client.get(f"/api/v1/areas/{code}", headers=auth).get_json()["area"]["figures"]


def store_counts(engine) -> tuple[int, ...]:
    """Return (events, event_log, open_events, closures, data version): all unchanged by a refusal."""
    with engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar() for t in
                     (events, event_log, open_events, closures)) + (data_version(conn),)


def closure(engine, event_id: int) -> tuple:
    with engine.connect() as conn:
        return conn.execute(select(closures.c.on_time, closures.c.handling_minutes, closures.c.grid_code)
                            .where(closures.c.event_id == event_id)).one()


# -- one event ------------------------------------------------------------------------------------------

def test_ing001_one_event_gets_a_receipt(client, auth, engine):
    version = store_counts(engine)[-1]
    response = post(client, auth, record())
    assert response.status_code == 201
    # data_version: the version this write made (a live message at or past it includes the event).
    assert response.get_json() == {"created": 1, "existing": 0, "data_version": version + 1, "events": [
        {"index": 0, "event_id": 12, "id": "HL-1", "source": "hotline", "created": True, "status": "reported"}]}


def test_ing002_stored_event_reads_back_with_its_log(client, auth):
    # Building 001 of A1 stands at (31.08, 120.025): 0.0002° away, within the 50 m radius.
    post(client, auth, record(lat=31.0802, lon=120.0251, worker=1))
    body = client.get("/api/v1/events/12", headers=auth).get_json()
    assert {k: body[k] for k in ("event_id", "id", "source", "category", "status", "reported_at", "lat", "lon",
                                 "grid_code", "building_code", "description", "reporter", "worker",
                                 "department", "dispatched_at", "deadline_at", "extension_count")} == {
        "event_id": 12, "id": "HL-1", "source": "hotline", "category": "0505", "status": "reported",
        "reported_at": "2026-11-20T14:00:00+08:00", "lat": 31.0802, "lon": 120.0251, "grid_code": A1,
        "building_code": A1 + "001", "description": "井盖缺失", "reporter": "张三", "worker": 1,
        "department": None, "dispatched_at": None, "deadline_at": None, "extension_count": 0}
    assert body["sla"] == {"limit": {"value": 2.0, "unit": "work_hours"}, "used": None, "light": None}
    # The report row's actor is checked in test_ingest_bugs.py (it comes out None today).
    assert [{k: v for k, v in row.items() if k != "actor"} for row in body["log"]] == [
        {"at": "2026-11-20T14:00:00+08:00", "action": "report", "from": None, "to": "reported", "note": None,
         "department": None, "deadline_at": None}]


@pytest.mark.parametrize(
    "lat, lon, grid",
    [
        (31.1, 120.01, A1), (31.1, 120.07, A2), (31.1, 120.12, B1), (31.1, 120.17, B2), (31.1, 120.25, C1),
        (31.1, 120.35, C2),
        (31.1, 120.05, A1),  # on the A1|A2 border: the lower code
        (31.0, 120.4, C2),  # the city's south-east corner
    ],
)
def test_ing003_grid_is_located_from_lat_lon(client, auth, lat, lon, grid):
    post(client, auth, record(lat=lat, lon=lon))
    assert client.get("/api/v1/events/12", headers=auth).get_json()["grid_code"] == grid


def test_ing004_a_timestamp_in_utc_is_stored_in_local_time(client, auth):
    post(client, auth, record(reported_at="2026-11-20T06:00:00Z"))
    assert client.get("/api/v1/events/12", headers=auth).get_json()["reported_at"] == "2026-11-20T14:00:00+08:00"


def test_ing005_figures_count_the_new_event_at_once(cached_client, auth):
    # Before (handcity docstring): 东城区 reported 6, open 3; the city 8 and 5. A report at 14:00 in A1
    # lies in the window [10-21 15:00, 11-20 15:00) and is open at 15:00. The figures are cached: only
    # the data version bump can make the second read see the new event.
    before = figures(cached_client, auth, DISTRICT), figures(cached_client, auth, "329900")
    assert [(f["reported"], f["open"]) for f in before] == [(6, 3), (8, 5)]
    assert post(cached_client, auth, record()).status_code == 201
    after = figures(cached_client, auth, DISTRICT), figures(cached_client, auth, "329900")
    assert [(f["reported"], f["open"]) for f in after] == [(7, 4), (9, 6)]
    assert figures(cached_client, auth, "329903")["reported"] == 2  # 西城区 untouched


# -- idempotency -------------------------------------------------------------------------------------

def test_ing010_same_source_and_id_is_stored_once(client, auth, engine):
    first = post(client, auth, record())
    counts = store_counts(engine)
    second = post(client, auth, record(description="sent again, changed"))
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.get_json() == {"created": 0, "existing": 1, "data_version": None, "events": [
        {"index": 0, "event_id": 12, "id": "HL-1", "source": "hotline", "created": False, "status": "reported"}]}
    assert store_counts(engine) == counts  # not even the data version moves
    assert client.get("/api/v1/events/12", headers=auth).get_json()["description"] == "井盖缺失"


def test_ing011_same_id_from_another_source_is_another_event(client, auth):
    post(client, auth, record())
    response = post(client, auth, record(source="citizen"))
    assert response.status_code == 201
    assert response.get_json()["events"][0] == {
        "index": 0, "event_id": 13, "id": "HL-1", "source": "citizen", "created": True, "status": "reported"}


def test_ing012_batch_mixing_stored_and_new_events(client, auth):
    post(client, auth, record(id="old"))
    response = post(client, auth, [record(id="new-1"), record(id="old"), record(id="new-2")])
    assert response.status_code == 201
    body = response.get_json()
    assert (body["created"], body["existing"]) == (2, 1)
    assert [(r["index"], r["id"], r["event_id"], r["created"]) for r in body["events"]] == [
        (0, "new-1", 13, True), (1, "old", 12, False), (2, "new-2", 14, True)]


def test_ing013_status_of_an_existing_event_is_its_current_one(client, auth):
    post(client, auth, record())
    step(client, auth, 12, {"action": "accept", "at": at("14:01")})
    assert post(client, auth, record()).get_json()["events"][0]["status"] == "accepted"


# -- a lifecycle given as timestamps ---------------------------------------------------------------------

@pytest.mark.parametrize(
    "dispatched, handled, day, deadline_at, deadline, on_time, minutes",
    [
        # 14:03 + 2 work hours, all in the afternoon
        ("14:03", "14:30", 20, None, "2026-11-20T16:03:00+08:00", True, 27),
        # 11:00–12:00 is one hour, then lunch, then 13:30–14:30
        ("11:00", "14:20", 20, None, "2026-11-20T14:30:00+08:00", True, 200),
        # 10:00 + 2 h = 12:00; handled at 12:30 is late
        ("10:00", "12:30", 20, None, "2026-11-20T12:00:00+08:00", False, 150),
        # Thursday 16:30: one hour to 17:30, then Friday 08:30–09:30
        ("16:30", "09:20", 19, None, "2026-11-20T09:30:00+08:00", True, 1010),
        # the reporting system's own deadline is kept: 18:00, not 09:00 + 2 h = 11:00
        ("09:00", "12:30", 20, at("18:00"), "2026-11-20T18:00:00+08:00", True, 210),
        ("09:00", "12:30", 20, at("12:00"), "2026-11-20T12:00:00+08:00", False, 210),
    ],
)
def test_ing020_lifecycle_stamps_make_a_closed_case(client, auth, engine, dispatched, handled, day, deadline_at,
                                                    deadline, on_time, minutes):
    before = figures(client, auth, B2)
    assert (before["closed"], before["closed_on_time"]) == (0, 0)
    response = post(client, auth, lifecycle(dispatched, handled, day=day, deadline_at=deadline_at))
    assert response.status_code == 201 and response.get_json()["events"][0]["status"] == "closed"
    body = client.get("/api/v1/events/12", headers=auth).get_json()
    assert (body["deadline_at"], body["department"], body["grid_code"]) == (deadline, "329902-01", B2)
    assert [row["action"] for row in body["log"]] == ["report", "accept", "register", "dispatch", "handle", "check",
                                                      "close"]
    assert {row["actor"] for row in body["log"]} == {TOKEN}
    assert closure(engine, 12) == (on_time, minutes, B2)
    after = figures(client, auth, B2)
    assert (after["reported"], after["open"], after["closed"], after["closed_on_time"]) == (1, 0, 1, int(on_time))


@pytest.mark.parametrize(
    "stamps, status",
    [
        ({}, "reported"),
        ({"accepted_at": at("14:01")}, "accepted"),
        ({"accepted_at": at("14:01"), "verified_at": at("14:02")}, "verified"),
        ({"accepted_at": at("14:01"), "registered_at": at("14:02"), "dispatched_at": at("14:03")}, "dispatched"),
        ({"accepted_at": at("14:01"), "status": "void"}, "void"),
        ({"accepted_at": at("14:01"), "registered_at": at("14:02"), "status": "parked"}, "parked"),
    ],
)
def test_ing021_status_follows_the_stamps(client, auth, stamps, status):
    response = post(client, auth, record(**stamps))
    assert response.status_code == 201 and response.get_json()["events"][0]["status"] == status
    assert client.get("/api/v1/events/12", headers=auth).get_json()["status"] == status


# -- all or nothing ------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "batch, problems",
    [
        ([record(id="a"), record(id="b", category="9999"), record(id="c")],
         [(1, "category", "unknown category '9999'")]),
        ([record(id="a", lat="31.1"), record(id="b"), record(id="c", reported_at="2026-11-20T14:00:00")],
         [(0, "lat", "must be a number"), (2, "reported_at", "time zone offset")]),
        # found later than the field checks: the location, then the replay of the stamps
        ([record(id="a"), record(id="b", lat=10, lon=10), record(id="c", status="closed")],
         [(1, "lat", "outside every grid")]),
        ([record(id="a"), record(id="b"), record(id="c", accepted_at=at("14:01"), status="closed")],
         [(2, "status", "does not match the timestamps")]),
        ([record(id="a"), record(id="b"), record(id="a")], [(2, "id", "the same (source, id) as record 0")]),
    ],
)
def test_ing030_a_bad_record_refuses_the_whole_batch(client, auth, engine, batch, problems):
    counts = store_counts(engine)
    response = post(client, auth, batch)
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "refused"
    assert [(p["index"], p["field"]) for p in body["problems"]] == [(i, f) for i, f, _ in problems]
    for problem, (_, _, words) in zip(body["problems"], problems):
        assert words in problem["reason"]
    assert store_counts(engine) == counts


def test_ing031_every_problem_of_a_record_is_listed(client, auth):
    bad = record(lat=91, category="9999", source="twitter", colour="red")
    fields = {p["field"] for p in post(client, auth, [record(id="ok"), bad]).get_json()["problems"]}
    assert fields == {"colour", "source", "category", "lat"}


# -- refusals: never a 500, always JSON, nothing stored ------------------------------------------------

TOO_MANY = [{"id": str(i)} for i in range(10_001)]


@pytest.mark.parametrize(
    "body, status, field, words",
    [
        (b"{bad", 400, None, "not valid JSON"),
        (b"", 400, None, "not valid JSON"),
        (b"\xff\xfe{}", 400, None, "not valid JSON"),
        (b'{"id": "x"} trailing', 400, None, "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, 400, None, "not valid JSON"),  # deeply nested
        (b'"an event"', 422, "", "JSON object"),
        (b"42", 422, "", "JSON object"),
        (b"null", 422, "", "JSON object"),
        ([record(), "x"], 422, "", "JSON object"),
        (record(lat="31.1"), 422, "lat", "must be a number"),
        (record(lon=True), 422, "lon", "must be a number"),
        (record(id={"a": 1}), 422, "id", "must be a string"),
        (record(id=1.5), 422, "id", "must be a string"),
        (record(id="x" * 65), 422, "id", "longer than 64"),
        (record(id="a\nb"), 422, "id", "control characters"),
        (record(worker="x"), 422, "worker", "must be an integer"),
        (record(worker=99), 422, "worker", "unknown grid worker"),
        (record(id=None), 422, "id", "is required"),
        (record(id=""), 422, "id", "is required"),
        (record(source=None), 422, "source", "is required"),
        (record(category=None), 422, "category", "is required"),
        (record(reported_at=None), 422, "reported_at", "is required"),
        (record(lat=None, lon=None), 422, "lat", "a location is required"),
        (record(lon=None), 422, "lon", "is required with lat"),
        (record(colour="red"), 422, "colour", "unknown field"),
        (record(category="9999"), 422, "category", "unknown category"),
        (record(category=505), 422, "category", "unknown category"),
        (record(source="twitter"), 422, "source", "must be one of"),
        (record(lat=10, lon=10), 422, "lat", "outside every grid"),
        (record(lat=91), 422, "lat", "between -90 and 90"),
        (record(lon=-181), 422, "lon", "between -180 and 180"),
        (record(grid_code="329902001001009", lat=None, lon=None), 422, "grid_code", "unknown grid"),
        (record(department="nope"), 422, "department", "unknown department"),
        (record(status="lost"), 422, "status", "must be one of"),
        (record(description="x" * 4001), 422, "description", "longer than 4000"),
        (record(reporter=["张三"]), 422, "reporter", "must be a string"),
        (record(reported_at="2026-11-20T14:00:00"), 422, "reported_at", "time zone offset"),
        (record(reported_at="2026-11-20"), 422, "reported_at", "time zone offset"),
        (record(reported_at="yesterday"), 422, "reported_at", "not an ISO 8601"),
        (record(reported_at=1763618400), 422, "reported_at", "ISO 8601"),
        (record(reported_at="1999-12-31T23:00:00+08:00"), 422, "reported_at", "before 2000"),
        (record(reported_at=at("15:06")), 422, "reported_at", "in the future"),  # now + 6 min
        (record(accepted_at=at("15:30")), 422, "accepted_at", "in the future"),
        (record(accepted_at=at("13:59")), 422, "accepted_at", "earlier than reported_at"),
        (record(accepted_at=at("14:01"), registered_at=at("14:02"), dispatched_at=at("14:10"),
                handled_at=at("14:05")), 422, "handled_at", "earlier than dispatched_at"),
        (record(accepted_at=at("14:01"), status="closed"), 422, "status", "does not match"),
        (record(status="dispatched"), 422, "status", "does not match"),
        (record(deadline_at=at("16:00")), 422, "deadline_at", "needs dispatched_at"),
        (record(deadline_at="tomorrow"), 422, "deadline_at", "not an ISO 8601"),
        ([record(), record(description="again")], 422, "id", "the same (source, id) as record 0"),
        (TOO_MANY, 422, "", "at most 10000"),
    ],
)
def test_ing040_bad_input_is_refused_with_a_reason(client, auth, engine, body, status, field, words):
    counts = store_counts(engine)
    if isinstance(body, bytes):
        response = client.post("/api/v1/events", data=body, headers=auth, content_type="application/json")
    else:
        response = post(client, auth, body)
    assert response.status_code == status
    answer = response.get_json()
    assert answer is not None and answer["error"] in ("bad_request", "refused")
    if field is None:
        assert words in answer["message"]
    else:
        assert any(p["field"] == field and words in p["reason"] for p in answer["problems"]), answer["problems"]
    assert store_counts(engine) == counts


@pytest.mark.parametrize(
    "raw, field",
    [('{"lat": NaN}', "lat"), ('{"lon": Infinity}', "lon"), ('{"lat": -Infinity}', "lat")],
)
def test_ing041_nan_and_infinity_are_not_coordinates(client, auth, engine, raw, field):
    good = json.dumps(record())[:-1]  # the record without its closing brace
    counts = store_counts(engine)
    response = client.post("/api/v1/events", data=good + ", " + raw[1:], headers=auth,
                           content_type="application/json")
    assert response.status_code == 422
    assert [p["field"] for p in response.get_json()["problems"]] == [field]
    assert store_counts(engine) == counts


@pytest.mark.parametrize(
    "changes",
    [
        {"id": "x" * 64},  # the longest id
        {"id": 12345},  # an integer id is kept as its digits
        {"reported_at": at("15:05")},  # now + 5 min: a reporting clock may run that far ahead
        {"description": "x" * 4000, "reporter": "y" * 200},
        {"lat": None, "lon": None, "grid_code": C1},  # a grid instead of a point
        {"reported_at": "2026-11-20T14:00:00.123456+08:00"},
    ],
)
def test_ing042_edges_that_are_accepted(client, auth, changes):
    response = post(client, auth, record(**changes))
    assert response.status_code == 201
    body = client.get("/api/v1/events/12", headers=auth).get_json()
    for name, value in changes.items():
        if name == "id":
            assert body["id"] == str(value)
        elif name == "reported_at":
            assert body["reported_at"] == value[:19] + "+08:00"
        else:
            assert body[name] == value


def test_ing043_oversized_body_is_refused_before_it_is_read(client, auth, engine):
    counts = store_counts(engine)
    body = b"[" + b" " * (32 * 1024 * 1024) + b"]"  # 32 MB + 2 bytes of valid JSON
    response = client.post("/api/v1/events", data=body, headers=auth, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"] == "request_entity_too_large"
    assert store_counts(engine) == counts


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer nope", "Bearer " + "x" * 300, "Basic dXNlcjpwYXNz", "TOKEN", "revoked"],
)
@pytest.mark.parametrize("url", ["/api/v1/events", "/api/v1/events/4/transitions"])
def test_ing044_missing_invalid_or_revoked_token_is_401(client, engine, token, header, url):
    if header == "revoked":
        with engine.begin() as conn:
            assert tokens.revoke_token(conn, name=TOKEN, now=NOW)
        header = f"Bearer {token}"
    elif header == "TOKEN":
        header = token  # the token without its scheme
    counts = store_counts(engine)
    body = record() if url == "/api/v1/events" else {"action": "handle"}
    response = client.post(url, json=body, headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="gridcc"'
    assert response.get_json()["error"] == "unauthorized"
    assert store_counts(engine) == counts


def test_ing045_sql_and_html_are_stored_exactly_as_written(client, auth, engine):
    text = f"{SQL} {HTML} <script>alert('x')</script> 100% _ \\ \"q\" 😀"
    response = post(client, auth, record(id=SQL, description=text, reporter=HTML))
    assert response.status_code == 201
    body = client.get("/api/v1/events/12", headers=auth).get_json()
    assert (body["id"], body["description"], body["reporter"]) == (SQL, text, HTML)
    # The same id again is found again (the lookup binds it), and the table is still there.
    assert post(client, auth, record(id=SQL)).get_json()["events"][0]["event_id"] == 12
    assert store_counts(engine)[0] == 12


# -- transitions ---------------------------------------------------------------------------------------

@pytest.fixture
def dispatched(client, auth) -> int:
    """Post an event at 14:00 in A1 and walk it to dispatched at 14:03 (deadline 16:03); return its id."""
    post(client, auth, record())
    for action, hhmm in (("accept", "14:01"), ("register", "14:02"), ("dispatch", "14:03")):
        assert step(client, auth, 12, {"action": action, "at": at(hhmm)}).status_code == 200
    return 12


def test_ing050_walk_the_whole_loop(client, auth):
    post(client, auth, record())
    walk = [
        # action, at, status, deadline, light (used at 15:00)
        ("accept", at("14:01"), "accepted", None, None),
        ("register", at("14:02"), "registered", None, None),
        # 14:03 + 2 work hours = 16:03; at 15:00, 57 of 120 minutes are used: 0.475, green
        ("dispatch", at("14:03"), "dispatched", "2026-11-20T16:03:00+08:00", "green"),
        ("handle", None, "handled", "2026-11-20T16:03:00+08:00", "green"),  # at defaults to now, 15:00
        ("check", None, "checked", "2026-11-20T16:03:00+08:00", "green"),
        ("close", None, "closed", "2026-11-20T16:03:00+08:00", None),
    ]
    for number, (action, when, status, deadline, light) in enumerate(walk, start=2):
        body = {"action": action, "note": f"note {action}"} | ({"at": when} if when else {})
        response = step(client, auth, 12, body)
        assert response.status_code == 200, (action, response.get_json())
        event = response.get_json()
        assert (event["status"], event["deadline_at"], event["sla"]["light"]) == (status, deadline, light)
        assert len(event["log"]) == number
        last = event["log"][-1]
        assert (last["action"], last["to"], last["actor"], last["note"], last["at"]) == (
            action, status, TOKEN, f"note {action}", when or "2026-11-20T15:00:00+08:00")
    assert event["handled_at"] == event["closed_at"] == "2026-11-20T15:00:00+08:00"
    assert event["log"][3]["department"] == "329902-01"  # the dispatch went to the district's department


@pytest.mark.parametrize(
    "dispatch_at, deadline",
    [
        ("2026-11-20T14:03:00+08:00", "2026-11-20T16:03:00+08:00"),
        ("2026-11-20T11:00:00+08:00", "2026-11-20T14:30:00+08:00"),  # over lunch
        ("2026-11-20T12:30:00+08:00", "2026-11-20T15:30:00+08:00"),  # in lunch: from 13:30
        ("2026-11-20T07:00:00+08:00", "2026-11-20T10:30:00+08:00"),  # before work: from 08:30
        ("2026-11-19T17:00:00+08:00", "2026-11-20T10:00:00+08:00"),  # 30 min Thursday, 90 Friday
        ("2026-11-19T20:00:00+08:00", "2026-11-20T10:30:00+08:00"),  # after work: Friday 08:30
        ("2026-11-20T11:00:00+06:00", "2026-11-20T15:30:00+08:00"),  # 13:00 local: from 13:30
    ],
)
def test_ing051_dispatch_computes_the_deadline_in_working_time(client, auth, dispatch_at, deadline):
    post(client, auth, record(reported_at="2026-11-19T06:00:00+08:00", accepted_at="2026-11-19T06:01:00+08:00",
                              registered_at="2026-11-19T06:02:00+08:00"))
    event = step(client, auth, 12, {"action": "dispatch", "at": dispatch_at}).get_json()
    assert (event["status"], event["deadline_at"]) == ("dispatched", deadline)


@pytest.mark.parametrize(
    "body, status, field, words",
    [
        ({"action": "close"}, 409, "action", "cannot close an event that is dispatched: it must be checked"),
        ({"action": "dispatch"}, 409, "action", "cannot dispatch an event that is dispatched"),
        ({"action": "accept"}, 409, "action", "it must be reported"),
        ({"action": "unpark"}, 409, "action", "it must be parked"),
        ({"action": "self_resolve"}, 409, "action", "cannot self_resolve"),
        ({"action": "handle", "at": at("14:00")}, 409, "at", "goes back in time"),
        ({"action": "extend", "deadline_at": at("16:00")}, 409, "deadline_at", "later than"),
        ({"action": "fly"}, 422, "action", "unknown action 'fly'"),
        ({}, 422, "action", "is required"),
        ({"action": "handle", "colour": "red"}, 422, "colour", "unknown field"),
        ({"action": "handle", "at": "2026-11-20T14:30:00"}, 422, "at", "time zone offset"),
        ({"action": "handle", "at": "soon"}, 422, "at", "not an ISO 8601"),
        ({"action": "handle", "note": 5}, 422, "note", "must be a string"),
        ({"action": "handle", "actor": "x" * 65}, 422, "actor", "at most 64"),
        ({"action": "extend", "extension": {"value": 0, "unit": "work_hours"}}, 422, "extension", "positive"),
        ({"action": "extend", "extension": {"value": 1, "unit": "fortnights"}}, 422, "extension", "unit"),
        ({"action": "extend", "extension": 3}, 422, "extension", "positive"),
        ({"action": "return", "department": 7}, 422, "department", "department code"),
        ([{"action": "handle"}], 422, "", "JSON object"),
        ("handle", 422, "", "JSON object"),
    ],
)
def test_ing052_refused_steps_say_why_and_change_nothing(client, auth, engine, dispatched, body, status, field,
                                                         words):
    counts = store_counts(engine)
    response = step(client, auth, dispatched, body)
    assert response.status_code == status
    problems = response.get_json()["problems"]
    assert any(p["field"] == field and words in p["reason"] for p in problems), problems
    assert store_counts(engine) == counts
    event = client.get(f"/api/v1/events/{dispatched}", headers=auth).get_json()
    assert (event["status"], event["deadline_at"], len(event["log"])) == (
        "dispatched", "2026-11-20T16:03:00+08:00", 4)


@pytest.mark.parametrize(
    "event_id, status, words",
    [
        (1, 409, "the event is closed: nothing can happen to it any more"),
        (5, 409, "the event is void"),
        (8, 409, "the event is parked"),
    ],
)
def test_ing053_finished_or_parked_events_refuse_steps(client, auth, event_id, status, words):
    response = step(client, auth, event_id, {"action": "handle"})
    assert response.status_code == status
    assert words in response.get_json()["problems"][0]["reason"]


@pytest.mark.parametrize("url", ["/api/v1/events/999/transitions", "/api/v1/events/99999999999999999999/transitions"])
def test_ing054_unknown_event_is_404(client, auth, url):
    response = client.post(url, json={"action": "accept"}, headers=auth)
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    assert client.get(url.removesuffix("/transitions"), headers=auth).status_code == 404


def test_ing055_malformed_step_body_is_400(client, auth, dispatched):
    response = client.post(f"/api/v1/events/{dispatched}/transitions", data=b"{action", headers=auth,
                           content_type="application/json")
    assert response.status_code == 400 and "not valid JSON" in response.get_json()["message"]


@pytest.mark.parametrize(
    "body, deadline",
    [
        ({"extension": {"value": 1, "unit": "work_hours"}}, "2026-11-20T17:03:00+08:00"),
        # 87 minutes to Friday 17:30, 33 more on Monday from 08:30
        ({"extension": {"value": 2, "unit": "work_hours"}}, "2026-11-23T09:03:00+08:00"),
        ({}, "2026-11-23T09:03:00+08:00"),  # no amount: one more full limit (2 work hours)
        ({"extension": {"value": 3, "unit": "hours"}}, "2026-11-20T19:03:00+08:00"),
        # 450 working minutes: 87 on Friday, 210 Monday morning, 153 from 13:30
        ({"extension": {"value": 1, "unit": "work_days"}}, "2026-11-23T16:03:00+08:00"),
        ({"deadline_at": at("17:00")}, "2026-11-20T17:00:00+08:00"),
    ],
)
def test_ing056_extend_moves_the_deadline(client, auth, dispatched, body, deadline):
    response = step(client, auth, dispatched, {"action": "extend", "note": "材料未到"} | body)
    assert response.status_code == 200
    event = response.get_json()
    assert (event["status"], event["deadline_at"], event["extension_count"]) == ("dispatched", deadline, 1)
    assert event["log"][-1] == {
        "at": "2026-11-20T15:00:00+08:00", "action": "extend", "from": "dispatched", "to": "dispatched",
        "actor": TOKEN, "note": "材料未到", "department": "329902-01", "deadline_at": deadline}


def test_ing057_park_pauses_the_clock(client, auth, dispatched):
    parked = step(client, auth, dispatched, {"action": "park", "at": at("14:10")}).get_json()
    assert (parked["status"], parked["is_parked"]) == ("parked", True)
    assert step(client, auth, dispatched, {"action": "park"}).status_code == 409
    # 30 working minutes parked (14:10–14:40): the deadline moves from 16:03 to 16:33.
    back = step(client, auth, dispatched, {"action": "unpark", "at": at("14:40")}).get_json()
    assert (back["status"], back["is_parked"], back["deadline_at"]) == (
        "dispatched", False, "2026-11-20T16:33:00+08:00")
    assert [(r["action"], r["from"], r["to"]) for r in back["log"][-2:]] == [
        ("park", "dispatched", "parked"), ("unpark", "parked", "dispatched")]


def test_ing058_return_and_rework(client, auth, dispatched):
    returned = step(client, auth, dispatched, {"action": "return", "at": at("14:10")}).get_json()
    assert (returned["status"], returned["deadline_at"], returned["department"], returned["return_count"]) == (
        "registered", None, None, 1)
    # Re-dispatched at 14:20: a fresh limit, 16:20.
    again = step(client, auth, dispatched, {"action": "dispatch", "at": at("14:20")}).get_json()
    assert (again["status"], again["deadline_at"]) == ("dispatched", "2026-11-20T16:20:00+08:00")
    step(client, auth, dispatched, {"action": "handle", "at": at("14:30")})
    # The check fails at 15:00: rework, a fresh limit from then, 17:00.
    rework = step(client, auth, dispatched, {"action": "rework"}).get_json()
    assert (rework["status"], rework["deadline_at"], rework["handled_at"], rework["rework_count"]) == (
        "dispatched", "2026-11-20T17:00:00+08:00", None, 1)


def test_ing059_actor_and_self_resolve(client, auth):
    post(client, auth, [record(id="w", source="grid_worker"), record(id="h")])
    resolved = step(client, auth, 12, {"action": "self_resolve", "at": at("14:05"), "actor": "张伟"}).get_json()
    assert (resolved["status"], resolved["handled_at"], resolved["checked_at"], resolved["closed_at"]) == (
        "closed", at("14:05"), at("14:05"), at("14:05"))
    assert resolved["log"][-1]["actor"] == f"{TOKEN}:张伟"
    refused = step(client, auth, 13, {"action": "self_resolve"})
    assert refused.status_code == 409 and "grid worker" in refused.get_json()["problems"][0]["reason"]


def test_ing060_closing_moves_open_to_closed_in_the_figures(cached_client, auth):
    # 东城区 before: open 3, overdue 1, closed 3, on time 1 (rate 1/(3+1) = 0.25). The new case is
    # open while it runs (4) and, closed at 14:50 after being handled at 14:30 (deadline 16:03), adds
    # one closed on time: closed 4, on time 2, rate 2/(4+1) = 0.4.
    post(cached_client, auth, record())
    for action, hhmm in (("accept", "14:01"), ("register", "14:02"), ("dispatch", "14:03"), ("handle", "14:30"),
                         ("check", "14:40")):
        assert step(cached_client, auth, 12, {"action": action, "at": at(hhmm)}).status_code == 200
    before = figures(cached_client, auth, DISTRICT)
    assert (before["open"], before["closed"], before["closed_on_time"], before["on_time_rate"]) == (4, 3, 1, 0.25)
    assert step(cached_client, auth, 12, {"action": "close", "at": at("14:50")}).status_code == 200
    after = figures(cached_client, auth, DISTRICT)
    assert (after["open"], after["closed"], after["closed_on_time"], after["on_time_rate"]) == (3, 4, 2, 0.4)
    assert (after["reported"], after["overdue"]) == (7, 1)


def test_ing090_a_person_reads_the_reporter_masked_and_a_token_holder_sees_it(hand_app, client, auth):
    from tests.conftest import signed_in

    event_id = post(client, auth, record(id="pii", reporter="张三 13812345678")).get_json()["events"][0]["event_id"]
    # A signed-in person sees it masked (the whole value only through POST /events/{id}/reveal).
    person = signed_in(hand_app, "leader")
    assert person.get(f"/api/v1/events/{event_id}").get_json()["reporter"] == "张* 138****5678"
    assert client.get(f"/api/v1/events/{event_id}", headers=auth).get_json()["reporter"] == "张三 13812345678"
    # There is no open read any more: no caller, or a token that is not one, gets nothing at all.
    assert client.get(f"/api/v1/events/{event_id}").status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    response = client.get(f"/api/v1/events/{event_id}", headers=bad)
    assert response.status_code == 401 and "reporter" not in response.get_data(as_text=True)
