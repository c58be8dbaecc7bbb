"""Field work and 12345 follow-ups in (issue 7): POST /api/v1/fieldwork/patrols, /fieldwork/visits, /hotline/followups.

On the hand city (tests/handcity.py, NOW = 2026-11-20 15:00 frozen), with, added here:
  workers 1 张伟 full-time in A1 (the hand city's), 2 part-time in A1, 3 full-time in C1 (西城区)
  12345 tickets: events 1, 2 (A1, closed 11-20 10:30 and 11-19 17:00), 7 (B1, reported 10-01 10:00) and 8 (C1)
  are made source 'hotline'; every other event stays a grid worker's report.
Buildings: A1 has …001 and …002; A2, C1 have …001.
Every expected row and count below is worked out by hand from those.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, insert, select, update

from queries import tokens
from queries.meta import data_version
from queries.schema import audit_log, events, hotline_followups, patrols, visits, workers
from tests.conftest import signed_in
from tests.handcity import A1, A2, C1, NOW

SQL = "'); DROP TABLE patrols;--"
HTML = "<img src=x onerror=alert(1)>"


def at(hhmm: str, day: int = 20, offset: str = "+08:00") -> str:
    return f"2026-11-{day:02d}T{hhmm}:00{offset}"


@pytest.fixture
def engine(hand_app):
    engine = hand_app.server.extensions["gridcc"].engine
    with engine.begin() as conn:
        conn.execute(insert(workers), [dict(id=2, name="李强", phone=None, kind="part_time", grid_code=A1),
                                       dict(id=3, name="王敏", phone=None, kind="full_time", grid_code=C1)])
        conn.execute(update(events).where(events.c.id.in_([1, 2, 7, 8])).values(source="hotline"))
    return engine


@pytest.fixture
def auth(engine) -> dict:
    with engine.begin() as conn:
        return {"Authorization": f"Bearer {tokens.create_token(conn, name='field-app', now=NOW)}"}


@pytest.fixture
def client(hand_app, engine):
    return hand_app.server.test_client()


def counts(engine) -> tuple[int, int, int, int]:
    """(patrols, visits, follow-ups, data version): all unchanged by a refused batch."""
    with engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar()
                     for t in (patrols, visits, hotline_followups)) + (data_version(conn),)


def audits(engine, action: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(audit_log.c.actor, audit_log.c.outcome, audit_log.c.target,
                                                      audit_log.c.detail)
                                               .where(audit_log.c.action == action).order_by(audit_log.c.id))]


def problems(response) -> list[tuple]:
    return [(p["index"], p["field"]) for p in response.get_json()["problems"]]


def patrol(**changes) -> dict:
    base = {"worker_id": 1, "started_at": at("09:00"), "ended_at": at("10:30"), "checkins": 6, "distance_m": 4210.6,
            "external_id": "XC-1"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


# -- patrols ---------------------------------------------------------------------------------------------------
def test_patrols_are_stored_in_local_time_with_the_workers_grid(client, auth, engine):
    version = counts(engine)[-1]
    answer = client.post("/api/v1/fieldwork/patrols", headers=auth, json={"patrols": [
        patrol(),
        # 01:00 UTC is 09:00 in the city; no end, check-ins or distance: defaults.
        {"worker_id": 2, "started_at": "2026-11-20T01:00:00Z"},
        # Worker 1 patrolling A2 on assignment (a grid of the caller's area).
        patrol(grid_code=A2, external_id="XC-2", started_at=at("13:30"), ended_at=at("14:00")),
    ]})
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json() == {"accepted": 3, "duplicates": 0, "data_version": version + 1}
    with engine.connect() as conn:
        rows = [(r.worker_id, r.grid_code, str(r.started_at), str(r.ended_at), r.checkins, r.distance_m, r.external_id)
                for r in conn.execute(select(patrols).order_by(patrols.c.id))]
    assert rows == [
        (1, A1, "2026-11-20 09:00:00", "2026-11-20 10:30:00", 6, 4211, "XC-1"),
        (2, A1, "2026-11-20 09:00:00", "None", 1, None, None),
        (1, A2, "2026-11-20 13:30:00", "2026-11-20 14:00:00", 6, 4211, "XC-2"),
    ]
    assert audits(engine, "fieldwork.patrols") == [("field-app", "ok", "3 patrols", "accepted 3, duplicates 0")]


def test_a_resend_is_harmless_and_counted_as_duplicates(client, auth, engine):
    first = client.post("/api/v1/fieldwork/patrols", headers=auth, json={"patrols": [patrol()]})
    assert first.status_code == 201
    before = counts(engine)
    again = client.post("/api/v1/fieldwork/patrols", headers=auth, json={"patrols": [
        patrol(checkins=9),  # the same worker and external_id: the same patrol, whatever else it says
        patrol(worker_id=2),  # another worker's XC-1 is another patrol
        patrol(worker_id=2, started_at=at("11:00"), ended_at=None),  # … sent twice in one batch: one duplicate
        patrol(external_id=None), patrol(external_id=None),  # no external_id: nothing to recognise a resend by
    ]})
    assert again.status_code == 201
    assert again.get_json() == {"accepted": 3, "duplicates": 2, "data_version": before[-1] + 1}
    only = client.post("/api/v1/fieldwork/patrols", headers=auth, json={"patrols": [patrol(), patrol(worker_id=2)]})
    assert only.status_code == 200
    assert only.get_json() == {"accepted": 0, "duplicates": 2, "data_version": None}
    assert counts(engine) == (before[0] + 3, 0, 0, before[-1] + 1)  # no rows, no new version


def test_every_problem_of_a_batch_is_named_and_nothing_is_written(client, auth, engine):
    before = counts(engine)
    body = json.dumps({"patrols": [
        patrol(),  # 0: good, but the batch is all or nothing
        patrol(worker_id="1"), patrol(worker_id=True), patrol(worker_id=0), patrol(worker_id=2**31),  # 1–4
        patrol(worker_id=1.5), patrol(started_at="2026-11-20T09:00:00"),  # 5, 6: no offset
        patrol(started_at=at("15:06"), ended_at=None),  # 7: more than 5 minutes after now (15:00)
        patrol(ended_at=at("08:59")), patrol(ended_at=at("09:01", day=21)),  # 8: before the start; 9: > 24 h (and future)
        patrol(checkins=-1), patrol(checkins=10**30), patrol(distance_m=float("nan")),  # 10, 11, 12
        patrol(distance_m=float("inf")), patrol(distance_m="12"), patrol(distance_m=-1),  # 13, 14, 15
        patrol(external_id="x" * 65), patrol(external_id=""), patrol(external_id="a\u0000b"),  # 16, 17, 18
        patrol(colour="red"), "a patrol", patrol(grid_code="32990200100100"),  # 19, 20, 21 (14 digits)
        patrol(started_at=None), patrol(worker_id=None),  # 22, 23: required
        patrol(started_at=at("15:04"), ended_at=None),  # 24: within the 5 minutes' skew: fine
        patrol(external_id="\udcff"),  # 25: a lone surrogate (a JSON escape) is no UTF-8 text
    ]})
    answer = client.post("/api/v1/fieldwork/patrols", headers={**auth, "Content-Type": "application/json"}, data=body)
    assert answer.status_code == 400
    assert problems(answer) == [
        (1, "worker_id"), (2, "worker_id"), (3, "worker_id"), (4, "worker_id"), (5, "worker_id"), (6, "started_at"),
        (7, "started_at"), (8, "ended_at"), (9, "ended_at"), (10, "checkins"), (11, "checkins"), (12, "distance_m"),
        (13, "distance_m"), (14, "distance_m"), (15, "distance_m"), (16, "external_id"), (17, "external_id"),
        (18, "external_id"), (19, "colour"), (20, ""), (21, "grid_code"), (22, "started_at"), (23, "worker_id"),
        (25, "external_id"),
    ]
    reasons = {(p["index"], p["field"]): p["reason"] for p in answer.get_json()["problems"]}
    assert reasons[(6, "started_at")].endswith("needs a time zone offset, e.g. 2026-11-20T15:00:00+08:00")
    assert reasons[(7, "started_at")] == "lies more than 5 minutes after now"
    assert reasons[(8, "ended_at")] == "is before started_at"
    assert answer.get_json()["message"] == "24 problem(s); nothing of the batch was written"
    assert counts(engine) == before
    [(actor, outcome, target, detail)] = audits(engine, "fieldwork.patrols")
    assert (actor, outcome, target) == ("field-app", "refused", "26 patrols")
    assert detail.startswith("[1] worker_id: must be a whole number from 1 to 2147483647")


@pytest.mark.parametrize("body, field, reason", [
    (b"{not json", "", "the body is not valid JSON"),
    (b"[]", "", "the body must be a JSON object"),
    (b'{"patrols": [], "visits": []}', "visits", "unknown field(s) visits"),
    (b'{"patrols": {}}', "patrols", "is required: a list"),
    (b'{"patrols": []}', "patrols", "is empty"),
    (b'{"patrols": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "", "the body is not valid JSON"),
    (json.dumps({"patrols": [patrol(external_id=None)] * 5001}).encode(), "patrols", "holds 5001 items; at most 5000"),
    ("{\"patrols\": [{\"worker_id\": 1, \"started_at\": \"\udcff\"}]}".encode("utf-8", "surrogatepass"), "",
     "the body is not valid JSON"),
])
def test_a_body_that_is_not_a_batch_is_refused_with_the_reason(client, auth, engine, body, field, reason):
    before = counts(engine)
    answer = client.post("/api/v1/fieldwork/patrols", headers={**auth, "Content-Type": "application/json"}, data=body)
    assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
    [problem] = answer.get_json()["problems"]
    assert (problem["index"], problem["field"]) == (None, field)
    assert problem["reason"].startswith(reason), problem
    assert counts(engine) == before


def test_a_ten_megabyte_body_is_refused_unread(client, auth, engine):
    before = counts(engine)
    body = b'{"patrols": [' + b" " * (10 * 1024 * 1024) + b"]}"
    for route in ("/api/v1/fieldwork/patrols", "/api/v1/fieldwork/visits", "/api/v1/hotline/followups"):
        answer = client.post(route, headers={**auth, "Content-Type": "application/json"}, data=body)
        assert answer.status_code == 413, route
        assert answer.get_json()["error"] == "request_entity_too_large"
    assert counts(engine) == before


def test_five_thousand_patrols_go_in_as_one_batch(client, auth, engine):
    batch = [patrol(worker_id=1 + i % 2, external_id=f"B-{i}", started_at=at(f"{8 + i % 6:02d}:{i % 60:02d}", 1 + i % 19),
                    ended_at=None) for i in range(5000)]
    answer = client.post("/api/v1/fieldwork/patrols", headers=auth, json={"patrols": batch})
    assert answer.status_code == 201
    assert answer.get_json()["accepted"] == 5000
    assert counts(engine)[0] == 5000


def test_hostile_strings_are_stored_as_text(client, auth, engine):
    answer = client.post("/api/v1/fieldwork/patrols", headers=auth, json={"patrols": [
        patrol(external_id=SQL), patrol(external_id=HTML)]})
    assert answer.status_code == 201
    with engine.connect() as conn:
        assert list(conn.execute(select(patrols.c.external_id).order_by(patrols.c.id)).scalars()) == [SQL, HTML]
        assert conn.execute(select(func.count()).select_from(events)).scalar() == 11  # nothing dropped
    # A hostile code is a malformed code, never SQL.
    refused = client.post("/api/v1/fieldwork/patrols", headers=auth, json={"patrols": [patrol(grid_code=SQL[:15])]})
    assert problems(refused) == [(0, "grid_code")]
    # Full-width digits are digits to Python's \d, never to a code.
    wide = "".join(chr(ord(c) - ord("0") + ord("０")) for c in A1)
    refused = client.post("/api/v1/fieldwork/patrols", headers=auth, json={"patrols": [patrol(grid_code=wide)]})
    assert refused.get_json()["problems"] == [{"index": 0, "field": "grid_code",
                                               "reason": "must be a grid's 15-digit code"}]


# -- visits ----------------------------------------------------------------------------------------------------
def test_visits_take_their_grid_from_the_building_which_must_be_the_workers(client, auth, engine):
    version = counts(engine)[-1]
    answer = client.post("/api/v1/fieldwork/visits", headers=auth, json={"visits": [
        {"worker_id": 1, "building_code": A1 + "002", "visited_at": at("10:00"), "households": 7, "external_id": "ZF-1"},
        {"worker_id": 3, "building_code": C1 + "001", "visited_at": at("02:30", offset="Z")},
    ]})
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json() == {"accepted": 2, "duplicates": 0, "data_version": version + 1}
    with engine.connect() as conn:
        rows = [(r.worker_id, r.grid_code, r.building_code, str(r.visited_at), r.households, r.external_id)
                for r in conn.execute(select(visits).order_by(visits.c.id))]
    assert rows == [(1, A1, A1 + "002", "2026-11-20 10:00:00", 7, "ZF-1"),
                    (3, C1, C1 + "001", "2026-11-20 10:30:00", 1, None)]
    refused = client.post("/api/v1/fieldwork/visits", headers=auth, json={"visits": [
        {"worker_id": 1, "building_code": A2 + "001", "visited_at": at("10:00")},  # 0: A2's building, worker of A1
        {"worker_id": 1, "building_code": A1 + "003", "visited_at": at("10:00")},  # 1: no such building
        {"worker_id": 1, "building_code": A1 + "001", "visited_at": at("10:00"), "households": 0},  # 2
        {"worker_id": 1, "building_code": A1 + "001", "visited_at": at("10:00"), "households": 1001},  # 3
        {"worker_id": 1, "building_code": A1, "visited_at": at("10:00")},  # 4: a grid's code
        {"worker_id": 1, "visited_at": at("10:00")},  # 5: no building
    ]})
    assert refused.status_code == 400
    assert problems(refused) == [(2, "households"), (3, "households"), (4, "building_code"), (5, "building_code")]
    # The store is asked only once every item is well formed: then 0 and 1 are refused.
    refused = client.post("/api/v1/fieldwork/visits", headers=auth, json={"visits": [
        {"worker_id": 1, "building_code": A2 + "001", "visited_at": at("10:00")},
        {"worker_id": 1, "building_code": A1 + "003", "visited_at": at("10:00")},
    ]})
    assert [(p["index"], p["field"], p["reason"]) for p in refused.get_json()["problems"]] == [
        (0, "building_code", f"is not in worker 1's grid {A1}"),
        (1, "building_code", f"no building {A1}003 here"),
    ]
    resend = client.post("/api/v1/fieldwork/visits", headers=auth, json={"visits": [
        {"worker_id": 1, "building_code": A1 + "001", "visited_at": at("11:00"), "external_id": "ZF-1"}]})
    assert resend.status_code == 200 and resend.get_json()["duplicates"] == 1
    assert counts(engine)[1] == 2


# -- 12345 follow-ups ------------------------------------------------------------------------------------------
def followup(event_id=1, **changes) -> dict:
    base = {"event_id": event_id, "followed_at": at("14:00"), "contacted": True, "resolved": True,
            "satisfaction": "satisfied"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def stored(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [(r.event_id, str(r.followed_at), r.valid, r.contacted, r.resolved, r.satisfaction)
                for r in conn.execute(select(hotline_followups).order_by(hotline_followups.c.event_id))]


def test_a_newer_followup_replaces_an_older_one(client, auth, engine):
    first = client.post("/api/v1/hotline/followups", headers=auth, json={"followups": [
        followup(1), followup(7, followed_at=at("09:00", 19), valid=False, resolved=False,
                              satisfaction="dissatisfied")]})
    assert first.status_code == 201
    assert first.get_json() == {"accepted": 2, "duplicates": 0, "superseded": 0, "data_version": counts(engine)[-1]}
    assert stored(engine) == [(1, "2026-11-20 14:00:00", True, True, True, "satisfied"),
                              (7, "2026-11-19 09:00:00", False, True, False, "dissatisfied")]
    later = client.post("/api/v1/hotline/followups", headers=auth, json={"followups": [
        followup(1),  # the same as stored: a duplicate
        followup(7, followed_at=at("08:00", 19), satisfaction="basic"),  # older than the stored one: superseded
        followup(2, followed_at=at("11:00"), satisfaction="basic"),  # two of ticket 2 in one batch: the newer wins
        followup(2, followed_at=at("10:00"), satisfaction="unknown"),
    ]})
    assert later.status_code == 201
    assert later.get_json()["accepted"] == 1
    assert (later.get_json()["duplicates"], later.get_json()["superseded"]) == (1, 2)
    newer = client.post("/api/v1/hotline/followups", headers=auth, json={"followups": [
        followup(7, followed_at=at("10:00"), contacted=False, satisfaction="basic")]})
    assert newer.get_json()["accepted"] == 1
    assert stored(engine) == [(1, "2026-11-20 14:00:00", True, True, True, "satisfied"),
                              (2, "2026-11-20 11:00:00", True, True, True, "basic"),
                              (7, "2026-11-20 10:00:00", True, False, True, "basic")]
    assert [a[3] for a in audits(engine, "hotline.followups")] == [
        "accepted 2, duplicates 0, superseded 0", "accepted 1, duplicates 1, superseded 2",
        "accepted 1, duplicates 0, superseded 0"]


def test_followups_are_checked_field_by_field(client, auth, engine):
    before = counts(engine)
    answer = client.post("/api/v1/hotline/followups", headers=auth, json={"followups": [
        followup(1, satisfaction="happy"), followup(1, contacted=None), followup(1, resolved="yes"),  # 0, 1, 2
        followup(1, valid=1), followup("1"), followup(0), followup(10**19),  # 3, 4, 5, 6
        followup(1, followed_at="yesterday"), followup(1, satisfaction=None),  # 7, 8
    ]})
    assert answer.status_code == 400
    assert problems(answer) == [(0, "satisfaction"), (1, "contacted"), (2, "resolved"), (3, "valid"), (4, "event_id"),
                                (5, "event_id"), (6, "event_id"), (7, "followed_at"), (8, "satisfaction")]
    # Well formed: the ticket must be a 12345 ticket of the caller's, and the follow-up after its report.
    answer = client.post("/api/v1/hotline/followups", headers=auth, json={"followups": [
        followup(3), followup(999_999), followup(7, followed_at="2026-10-01T09:59:00+08:00")]})
    assert [(p["index"], p["field"], p["reason"]) for p in answer.get_json()["problems"]] == [
        (0, "event_id", "no 12345 ticket 3 here (an event of source 'hotline' in your area)"),
        (1, "event_id", "no 12345 ticket 999999 here (an event of source 'hotline' in your area)"),
        (2, "followed_at", "is before the ticket was reported"),
    ]
    assert counts(engine) == before


# -- who may write, and where ----------------------------------------------------------------------------------
def _patrol_of(worker):
    return {"patrols": [patrol(worker_id=int(worker))]}


def _patrol_in(grid):
    return {"patrols": [patrol(grid_code=grid)]}


def _visit_by(worker):
    return {"visits": [{"worker_id": int(worker), "building_code": C1 + "001", "visited_at": at("10:00")}]}


def _visit_to(building):
    return {"visits": [{"worker_id": 1, "building_code": building, "visited_at": at("10:00")}]}


def _followup_of(event):
    return {"followups": [followup(int(event))]}


@pytest.mark.parametrize("user, route, body, foreign, nowhere", [
    # 东街街道 (A1, A2): worker 3 of C1 is as unknown as worker 999; so is grid C1 and C1's building.
    ("dongjie", "/api/v1/fieldwork/patrols", _patrol_of, "3", "999"),
    ("dongjie", "/api/v1/fieldwork/patrols", _patrol_in, C1, "329902001001009"),
    ("dongjie", "/api/v1/fieldwork/visits", _visit_by, "3", "999"),
    ("dongcheng", "/api/v1/fieldwork/visits", _visit_to, C1 + "001", "329902001001009001"),
    # 南苑社区 (B1, B2) has no worker: the hand city's worker 1 (A1) is not theirs.
    ("nanyuan", "/api/v1/fieldwork/patrols", _patrol_of, "1", "999"),
    # A department's scope holds no workers.
    ("dept_dc", "/api/v1/fieldwork/patrols", _patrol_of, "1", "999"),
    # Ticket 8 is 西城区's; ticket 7 (B1) is not 东街街道's; ticket 1 is 东城区 department 329902-01's, not 329903-01's.
    ("dongcheng", "/api/v1/hotline/followups", _followup_of, "8", "999"),
    ("dongjie", "/api/v1/hotline/followups", _followup_of, "7", "999"),
    ("dept_xc", "/api/v1/hotline/followups", _followup_of, "1", "999"),
])
def test_outside_the_scope_is_refused_exactly_as_what_does_not_exist(hand_app, engine, user, route, body, foreign,
                                                                     nowhere):
    client = signed_in(hand_app, user)
    before = counts(engine)
    refused = client.post(route, json=body(foreign))
    missing = client.post(route, json=body(nowhere))
    assert refused.status_code == missing.status_code == 400
    assert refused.get_json() == json.loads(missing.get_data(as_text=True).replace(nowhere, foreign))
    assert counts(engine) == before


@pytest.mark.parametrize("user, route, body", [
    ("dongjie", "/api/v1/fieldwork/patrols", {"patrols": [patrol(worker_id=2)]}),
    ("dongcheng", "/api/v1/fieldwork/visits",
     {"visits": [{"worker_id": 1, "building_code": A1 + "001", "visited_at": at("10:00")}]}),
    ("xicheng", "/api/v1/hotline/followups", {"followups": [followup(8)]}),
    ("dept_dc", "/api/v1/hotline/followups", {"followups": [followup(7)]}),
])
def test_inside_the_scope_a_user_who_may_act_writes(hand_app, engine, user, route, body):
    answer = signed_in(hand_app, user).post(route, json=body)
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["accepted"] == 1


@pytest.mark.parametrize("user", ["leader", "viewer", "admin"])
def test_a_role_that_may_not_act_is_forbidden(hand_app, engine, user):
    before = counts(engine)
    for route, body in (("/api/v1/fieldwork/patrols", {"patrols": [patrol()]}),
                        ("/api/v1/hotline/followups", {"followups": [followup(1)]})):
        answer = signed_in(hand_app, user).post(route, json=body)
        assert answer.status_code == 403, (user, route)
    assert counts(engine) == before


def test_a_token_of_an_area_writes_only_there(client, engine):
    with engine.begin() as conn:
        token = tokens.create_token(conn, name="xicheng-app", now=NOW, scope_code="329903")
    auth = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/fieldwork/patrols", headers=auth, json={"patrols": [patrol(worker_id=3)]}).status_code == 201
    refused = client.post("/api/v1/fieldwork/patrols", headers=auth, json={"patrols": [patrol(worker_id=1)]})
    assert problems(refused) == [(0, "worker_id")]
    assert client.post("/api/v1/hotline/followups", headers=auth, json={"followups": [followup(1)]}).status_code == 400


def test_without_a_caller_or_the_pages_csrf_token_nothing_is_written(hand_app, client, engine):
    before = counts(engine)
    assert client.post("/api/v1/fieldwork/patrols", json={"patrols": [patrol()]}).status_code == 401
    assert client.post("/api/v1/fieldwork/patrols", headers={"Authorization": "Bearer nope"},
                       json={"patrols": [patrol()]}).status_code == 401
    session = signed_in(hand_app, "dongjie")
    session.environ_base.pop("HTTP_X_CSRFTOKEN")
    assert session.post("/api/v1/fieldwork/patrols", json={"patrols": [patrol()]}).status_code == 403
    assert counts(engine) == before


def test_the_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for route in ("/api/v1/fieldwork/patrols", "/api/v1/fieldwork/visits", "/api/v1/hotline/followups"):
        assert "post" in paths[route], route
        assert {"201", "200", "400", "413"} <= set(paths[route]["post"]["responses"]), route


def test_a_batch_of_five_thousand_bad_items_is_answered_with_every_problem(client, auth, engine):
    before = counts(engine)
    bad = {"worker_id": "x", "started_at": "bad", "ended_at": "bad", "checkins": -1, "distance_m": "x",
           "external_id": "", "zzz": 1}
    answer = client.post("/api/v1/fieldwork/patrols", headers=auth, json={"patrols": [bad] * 5000})
    assert answer.status_code == 400
    found = problems(answer)
    assert len(found) == 35_000  # seven each: zzz, worker_id, started_at, ended_at, checkins, distance_m, external_id
    assert found[:7] == [(0, "zzz"), (0, "worker_id"), (0, "started_at"), (0, "ended_at"), (0, "checkins"),
                         (0, "distance_m"), (0, "external_id")]
    assert found[-1] == (4999, "external_id")
    assert counts(engine) == before
