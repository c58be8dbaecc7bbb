"""Hostile and odd input the ingest path once mishandled (500s, wrong fields, unbounded work): kept as regression tests."""
from __future__ import annotations

import pytest

from tests.api.test_ingest import (  # noqa: F401  (fixtures)
    A1, TOKEN, at, auth, client, engine, post, record, step, store_counts, token,
)


def test_hostile001_report_row_names_the_token(client, auth):
    # One plain report, and a batch whose first record has no stamps: every 'report' row's actor is
    # the token, whatever the first record of the batch carries.
    post(client, auth, record(id="plain"))
    post(client, auth, [record(id="p2"), record(id="l2", accepted_at=at("14:01"))])
    actors = [[(row["action"], row["actor"]) for row in client.get(f"/api/v1/events/{i}", headers=auth).get_json()["log"]]
              for i in (12, 13, 14)]
    assert actors == [[("report", TOKEN)], [("report", TOKEN)], [("report", TOKEN), ("accept", TOKEN)]]


@pytest.mark.parametrize(
    "raw, field",
    [
        ('"department": ["329902-01"]', "department"),
        ('"department": {"code": "329902-01"}', "department"),
        ('"lat": 1' + "0" * 400, "lat"),  # an integer too large for a float
        ('"reported_at": "9999-12-31T23:59:59-14:00"', "reported_at"),  # past year 9999 in local time
        ('"reported_at": "2026-11-20T14:00:00+08:00", "accepted_at": "0001-01-01T00:00:00+14:00"', "accepted_at"),
        ('"description": "a\\ud800b"', "description"),  # a lone surrogate cannot be stored as UTF-8
    ],
)
def test_hostile002_odd_values_are_refused_not_500(client, auth, engine, raw, field):
    good = '"id": "odd", "source": "hotline", "category": "0505", "lat": 31.1, "lon": 120.01'
    if "reported_at" not in raw:
        good += ', "reported_at": "2026-11-20T14:00:00+08:00"'
    if raw.startswith('"lat"'):
        good = good.replace('"lat": 31.1, ', "")
    counts = store_counts(engine)
    response = client.post("/api/v1/events", data="{" + good + ", " + raw + "}", headers=auth,
                           content_type="application/json")
    assert response.status_code == 422
    assert field in [p["field"] for p in response.get_json()["problems"]]
    assert store_counts(engine) == counts


@pytest.mark.parametrize(
    "body, field",
    [
        ('{"action": "handle", "at": "9999-12-31T23:59:59-14:00"}', "at"),
        ('{"action": "extend", "extension": {"value": 1' + "0" * 400 + ', "unit": "hours"}}', "extension"),
    ],
)
def test_hostile003_odd_step_values_are_refused_not_500(client, auth, engine, body, field):
    post(client, auth, record(accepted_at=at("14:01"), registered_at=at("14:02"), dispatched_at=at("14:03")))
    response = client.post("/api/v1/events/12/transitions", data=body, headers=auth,
                           content_type="application/json")
    assert response.status_code == 422
    assert [p["field"] for p in response.get_json()["problems"]] == [field]


def test_hostile004_deadline_centuries_away_is_refused(client, auth, engine):
    # Stored, this deadline makes every later read of the event build a working-minute table up to
    # it: 2060 already costs ~2 s and ~300 MB per process; 9999 exhausts memory.
    counts = store_counts(engine)
    response = post(client, auth, record(accepted_at=at("14:01"), registered_at=at("14:02"),
                                         dispatched_at=at("14:03"), deadline_at="9999-01-01T00:00:00+08:00"))
    assert response.status_code == 422
    assert [p["field"] for p in response.get_json()["problems"]] == ["deadline_at"]
    assert store_counts(engine) == counts


def test_hostile005_an_extension_of_decades_is_refused(client, auth):
    # 10,000 work days (~40 years) is accepted today: one request takes ~10 s and ~900 MB, kept by the
    # calendar's table afterwards. The same bound as for an imported deadline should apply.
    post(client, auth, record(accepted_at=at("14:01"), registered_at=at("14:02"), dispatched_at=at("14:03")))
    response = step(client, auth, 12, {"action": "extend", "extension": {"value": 10_000, "unit": "work_days"}})
    assert response.status_code == 422


@pytest.mark.parametrize(
    "stamps, fields",
    [
        # the status is what does not fit the stamps: 'status', not a stamp that is fine
        ({"accepted_at": at("14:01"), "registered_at": at("14:02"), "dispatched_at": at("14:03"), "status": "void"},
         {"status"}),
        ({"status": "parked"}, {"status"}),
        # the stamp of the step that failed, or the one missing before it; never a stamp that is fine
        ({"accepted_at": at("14:01"), "dispatched_at": at("14:03")}, {"dispatched_at", "registered_at"}),
        ({"accepted_at": at("14:01"), "registered_at": at("14:02"), "dispatched_at": at("14:03"),
          "handled_at": at("14:05"), "closed_at": at("14:06")}, {"closed_at", "checked_at"}),
    ],
)
def test_hostile006_replay_problem_names_the_right_field(client, auth, stamps, fields):
    response = post(client, auth, record(**stamps))
    assert response.status_code == 422
    (problem,) = response.get_json()["problems"]
    assert problem["field"] in fields, problem


def test_hostile007_point_outside_the_given_grid_is_refused(client, auth, engine):
    # grid_code A1 (lon 120.0–120.05) with a point at (10, 10): today stored as is, so the map and the
    # grid disagree. Expected: refused like the same point without grid_code.
    counts = store_counts(engine)
    response = post(client, auth, record(grid_code=A1, lat=10, lon=10))
    assert response.status_code == 422
    assert "lat" in [p["field"] for p in response.get_json()["problems"]]
    assert store_counts(engine) == counts


# -- found by trying the API as an integrator (docs/ingest.md only) ------------------------------------

def dispatched(client, auth, **changes) -> int:
    """Post a report dispatched at 09:15 today (0505: 2 working hours -> deadline 11:15); return its id."""
    body = record(id="D-1", accepted_at=at("09:05"), registered_at=at("09:10"), dispatched_at=at("09:15"),
                  reported_at=at("09:00"), **changes)
    response = post(client, auth, body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["events"][0]["event_id"]


def test_hostile010_a_parked_case_keeps_the_light_it_had_when_parked(client, auth):
    event_id = dispatched(client, auth)
    # Parked at 10:15: 60 of 120 minutes used. Now is 15:00 (past 11:15), but the clock is paused: green.
    body = step(client, auth, event_id, {"action": "park", "at": at("10:15")}).get_json()
    assert (body["status"], body["sla"]["used"], body["sla"]["light"]) == ("parked", 0.5, "green")
    assert client.get(f"/api/v1/events/{event_id}", headers=auth).get_json()["sla"]["light"] == "green"


def test_hostile011_used_says_how_late(client, auth):
    event_id = dispatched(client, auth)
    # At 15:00: 11:15–12:00 is 45 and 13:30–15:00 is 90 working minutes over a 120-minute limit.
    assert client.get(f"/api/v1/events/{event_id}", headers=auth).get_json()["sla"] == {
        "limit": {"value": 2.0, "unit": "work_hours"}, "used": round(1 + 135 / 120, 4), "light": "red"}


@pytest.mark.parametrize("changes, field, words", [
    (dict(deadline_at=at("09:00")), "deadline_at", "must be later than the dispatch"),
    (dict(id="   "), "id", "is required"),
    (dict(department="329902-01", accepted_at=None, registered_at=None, dispatched_at=None), "department",
     "applies to a dispatched event"),
    (dict(category="505"), "category", 'did you mean "0505"'),
    (dict(category=505), "category", 'did you mean "0505"'),
    (dict(lat=120.01, lon=31.1), "lat", "looks like lon and lat swapped"),
    (dict(grid_code=int(A1)), "grid_code", "must be a string of 15 digits"),
    (dict(lon=None), "lon", "is required with lat"),
])
def test_hostile012_mistakes_an_integrator_makes_are_named(client, auth, engine, changes, field, words):
    body = record(id="M-1", accepted_at=at("09:05"), registered_at=at("09:10"), dispatched_at=at("09:15"),
                  reported_at=at("09:00"))
    body.update(changes)
    before = store_counts(engine)
    response = post(client, auth, {k: v for k, v in body.items() if v is not None})
    assert response.status_code == 422
    assert any(p["field"] == field and words in p["reason"] for p in response.get_json()["problems"]), \
        response.get_json()["problems"]
    assert store_counts(engine) == before


@pytest.mark.parametrize("body, field, words", [
    ({"action": "accept", "department": "329902-01"}, "department", "applies only to dispatch"),
    ({"action": "handle", "extension": {"value": 1, "unit": "work_hours"}}, "extension", "applies only to extend"),
    ({"action": "accept", "deadline_at": "2026-11-21T10:00:00+08:00"}, "deadline_at", "applies only to"),
    ({"action": "extend", "at": at("14:00"), "deadline_at": at("13:00")}, "deadline_at", "must be later"),
])
def test_hostile013_fields_a_step_does_not_use_are_refused(client, auth, body, field, words):
    event_id = post(client, auth, record()).get_json()["events"][0]["event_id"]
    response = step(client, auth, event_id, body)
    assert response.status_code == 422
    assert response.get_json()["problems"][0]["field"] == field and words in response.get_json()["problems"][0]["reason"]


def test_hostile014_a_step_without_at_never_goes_back_before_a_fast_senders_report(client, auth):
    # Reported at 15:04, within the 5 minutes a sender's clock may run ahead of now (15:00).
    event_id = post(client, auth, record(reported_at=at("15:04"))).get_json()["events"][0]["event_id"]
    body = step(client, auth, event_id, {"action": "accept"}).get_json()
    assert (body["status"], body["accepted_at"]) == ("accepted", at("15:04"))


def test_hostile015_a_form_post_is_told_to_send_json(client, auth):
    response = client.post("/api/v1/events", data={"id": "F-1"}, headers=auth)
    assert response.status_code == 400 and "Content-Type: application/json" in response.get_json()["message"]


def test_hostile016_an_event_is_found_by_the_senders_own_id(hand_app, client, auth):
    from tests.conftest import signed_in

    event_id = post(client, auth, record(id="GD-77")).get_json()["events"][0]["event_id"]
    # The sending system finds it with its token and reads it whole; a signed-in person sees it masked.
    found = client.get("/api/v1/events?source=hotline&id=GD-77", headers=auth).get_json()
    assert (found["event_id"], found["id"], found["reporter"]) == (event_id, "GD-77", "张三")
    found = signed_in(hand_app, "leader").get("/api/v1/events?source=hotline&id=GD-77").get_json()
    assert (found["event_id"], found["id"], found["reporter"]) == (event_id, "GD-77", "张*")
    assert client.get("/api/v1/events?source=citizen&id=GD-77", headers=auth).status_code == 404
    for query in ("source=hotline", "id=GD-77", "source=fax&id=GD-77", "source=hotline&id=" + "x" * 65):
        response = client.get(f"/api/v1/events?{query}", headers=auth)
        assert response.status_code == 400 and response.get_json()["error"] == "bad_request"


def test_hostile017_a_token_limited_to_a_district_reports_and_acts_only_there(client, engine):
    from queries import tokens
    from tests.handcity import C1, NOW

    with engine.begin() as conn:
        east = {"Authorization": "Bearer " + tokens.create_token(conn, name="east-app", now=NOW, scope_code="329902")}
        with pytest.raises(ValueError, match="no area"):
            tokens.create_token(conn, name="bad", now=NOW, scope_code=C1)  # a grid is not a scope
    # A1 (lon 120.0–120.05) lies in 东城区 329902; C1 (lon 120.2–120.3) in 西城区 329903.
    assert post(client, east, record(id="E-1")).status_code == 201
    before = store_counts(engine)
    refused = post(client, east, [record(id="E-2"), record(id="W-1", lat=31.1, lon=120.25)])
    assert refused.status_code == 422
    # The refusal names the sender's own area, never the foreign grid (issue 4: nothing of another area).
    assert refused.get_json()["problems"] == [{"index": 1, "field": "lat", "reason": (
        "lies outside the area 329902 this sender may report for")}]
    assert C1 not in refused.get_data(as_text=True)
    assert store_counts(engine) == before
    # Event 8 lies in C1: not this token's to move (404, as if it did not exist).
    assert step(client, east, 8, {"action": "unpark"}).status_code == 404
