"""POST /api/v1/events/actions on the hand city: sessions with CSRF, tokens, rights and roles, bad bodies.

The hand city's cases are in tests/test_desk.py's docstring: 3 and 4 are 东城区's dispatched cases, 6 is
checked, 1 closed; dongjie is 东街街道's street operator (A1, A2: cases 1–5).
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from queries import tokens
from queries.meta import data_version
from queries.schema import audit_log, event_log
from tests.conftest import signed_in
from tests.handcity import NOW

URL = "/api/v1/events/actions"
REASON = "请尽快处置"


@pytest.fixture
def engine(hand_app):
    return hand_app.server.extensions["gridcc"].engine


def counts(engine) -> tuple[int, int]:
    """Return (event_log rows, data version)."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(event_log)).scalar(), data_version(conn)


def audit_rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(audit_log.c.actor, audit_log.c.action, audit_log.c.target,
                                                      audit_log.c.outcome).order_by(audit_log.c.id))]


def test_act001_a_street_operator_urges_a_selection(hand_app, engine):
    client = signed_in(hand_app, "dongjie")
    before = counts(engine)
    answer = client.post(URL, json={"ids": [3, 4, 1, 9], "action": "urge", "reason": REASON})
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["data_version"] == before[1] + 1
    assert (body["done"], body["refused"]) == (2, 2)
    assert body["outcomes"] == [
        {"id": 3, "ok": True, "reason": None, "key": None, "status": "dispatched"},
        {"id": 4, "ok": True, "reason": None, "key": None, "status": "dispatched"},
        {"id": 1, "ok": False, "reason": "the event is closed: nothing can happen to it any more",
         "key": "act.why.finished", "status": "closed"},
        {"id": 9, "ok": False, "reason": "no such case in your scope", "key": "act.why.not_found", "status": None}]
    assert counts(engine) == (before[0] + 2, before[1] + 1)
    # The event's log as the API reads it shows the step with its reason and who.
    event = client.get("/api/v1/events/3").get_json()
    assert event["log"][-1] | {"at": None} == {"at": None, "action": "urge", "from": "dispatched", "to": "dispatched",
                                               "actor": "dongjie", "note": REASON, "department": None,
                                               "deadline_at": None}


def test_act002_a_session_write_without_csrf_is_refused(hand_app, engine):
    client = signed_in(hand_app, "dongjie")
    del client.environ_base["HTTP_X_CSRFTOKEN"]
    before = counts(engine)
    answer = client.post(URL, json={"ids": [3], "action": "urge", "reason": REASON})
    assert answer.status_code == 403 and "CSRF" in answer.get_json()["message"]
    assert counts(engine) == before


@pytest.mark.parametrize("user, action, words", [
    ("leader", "urge", "may not act"), ("viewer", "urge", "may not act"), ("admin", "urge", "may not act"),
    ("dept_dc", "urge", "may: request_extension, report_back"),
    ("dongjie", "report_back", "your role may not report_back"),
])
def test_act003_rights_and_roles_are_403(hand_app, engine, user, action, words):
    client = signed_in(hand_app, user)
    before = counts(engine)
    answer = client.post(URL, json={"ids": [3], "action": action, "reason": REASON})
    assert answer.status_code == 403
    assert words in answer.get_json()["message"]
    assert counts(engine) == before


def test_act004_without_a_caller_is_401(hand_app):
    answer = hand_app.server.test_client().post(URL, json={"ids": [3], "action": "urge", "reason": REASON})
    assert answer.status_code == 401


@pytest.mark.parametrize("body, status, words", [
    (b"{not json", 400, "not valid JSON"),
    (b"[3, 4]", 400, "must be a JSON object"),
    (b'"urge"', 400, "must be a JSON object"),
    (b'{"ids": [3], "action": "urge", "reason": "x", "sql": "1; DROP"}', 400, "unknown field(s) sql"),
    (b'{"ids": [3], "action": "urge"}', 422, "reason: is required"),
    (b'{"ids": "3", "action": "urge", "reason": "x"}', 422, "ids: must be a list"),
    (b'{"ids": [3], "action": "fly", "reason": "x"}', 422, "action: unknown action 'fly'"),
    (b'{"ids": [3], "action": "urge", "reason": "<b>x</b>"}', 422, "without HTML tags"),
    (b'{"ids": [3], "action": "urge", "reason": "x", "department": "329900-12"}', 422,
     "department: applies only to redispatch"),
    (b'{"ids": [3], "action": "supervise", "reason": "x", "follow_up_at": "2026-11-21T10:00:00"}', 422,
     "follow_up_at: '2026-11-21T10:00:00' needs a time zone offset"),
    (b'{"ids": [3], "action": "supervise", "reason": "x", "follow_up_at": "2026-11-19T10:00:00+08:00"}', 422,
     "follow_up_at: must lie after now"),
    (b'{"ids": [3], "action": "redispatch", "reason": "x", "department": "329903-01"}', 422,
     "serves another district"),
])
def test_act005_bad_bodies_say_what_is_wrong(hand_app, engine, body, status, words):
    client = signed_in(hand_app, "dongcheng")
    before = counts(engine)
    answer = client.post(URL, data=body, content_type="application/json")
    assert answer.status_code == status
    assert words in answer.get_json()["message"]
    assert counts(engine) == before


def test_act006_a_refused_request_is_audited(hand_app, engine):
    client = signed_in(hand_app, "dongcheng")
    client.post(URL, json={"ids": list(range(1, 600)), "action": "urge", "reason": REASON})
    assert audit_rows(engine)[-1] == ("dongcheng", "event.urge", "desk", "refused")


def test_act007_an_oversized_body_is_413(hand_app, engine):
    client = signed_in(hand_app, "dongcheng")
    answer = client.post(URL, json={"ids": [3], "action": "urge", "reason": "x" * 300_000})
    assert answer.status_code == 413


def test_act008_a_token_acts_as_its_area_center(hand_app, engine):
    with engine.begin() as conn:
        token = tokens.create_token(conn, name="district-system", now=NOW, scope_code="329902")
    auth = {"Authorization": f"Bearer {token}"}
    client = hand_app.server.test_client()
    answer = client.post(URL, json={"ids": [3, 9], "action": "supervise", "reason": REASON,
                                    "follow_up_at": "2026-11-23T09:00:00+08:00"}, headers=auth)
    assert answer.status_code == 200
    assert [(o["id"], o["ok"]) for o in answer.get_json()["outcomes"]] == [(3, True), (9, False)]
    refused = client.post(URL, json={"ids": [3], "action": "report_back", "reason": REASON}, headers=auth)
    assert refused.status_code == 403
    assert ("district-system", "event.supervise", "3", "ok") in audit_rows(engine)


def test_act009_the_transitions_route_points_marks_to_this_route(hand_app, engine):
    client = signed_in(hand_app, "dongcheng")
    answer = client.post("/api/v1/events/3/transitions", json={"action": "urge"})
    assert answer.status_code == 422
    assert answer.get_json()["problems"][0]["reason"] == \
        "'urge' is a desk action: send it to POST /api/v1/events/actions"


def test_act010_a_department_reports_back_over_http(hand_app, engine):
    signed_in(hand_app, "dongcheng").post(URL, json={"ids": [3], "action": "whistle", "reason": "联合",
                                                     "departments": ["329900-12"]})
    answer = signed_in(hand_app, "dept_city").post(URL, json={"ids": [3], "action": "report_back",
                                                              "reason": "已到场处置"})
    assert answer.status_code == 200 and answer.get_json()["done"] == 1


def test_act011_the_event_view_carries_the_marks_and_masks_an_answer(hand_app, engine):
    center = signed_in(hand_app, "dongcheng")
    center.post(URL, json={"ids": [3], "action": "urge", "reason": REASON})
    center.post(URL, json={"ids": [3], "action": "whistle", "reason": "联合", "departments": ["329900-12"]})
    signed_in(hand_app, "dept_city").post(URL, json={"ids": [3], "action": "report_back",
                                                     "reason": "已到场，联系人 13812345678"})
    marks = center.get("/api/v1/events/3").get_json()["desk"]
    at = "2026-11-20T15:00:00+08:00"
    assert marks == {"urge_count": 1, "last_urged_at": at, "supervised_until": None, "extension_requested_at": None,
                     "extension_requested_until": None, "whistled_at": at,
                     "whistle_calls": [{"department": "329900-12", "called_at": at, "called_by": "dongcheng",
                                        "answered_at": at, "answer": marks["whistle_calls"][0]["answer"]}]}
    # A person reads a phone number in a department's answer masked, as in a log note.
    assert "13812345678" not in marks["whistle_calls"][0]["answer"]
    assert marks["whistle_calls"][0]["answer"].startswith("已到场，联系人 138")
    untouched = center.get("/api/v1/events/4").get_json()["desk"]
    assert untouched == {"urge_count": 0, "last_urged_at": None, "supervised_until": None,
                         "extension_requested_at": None, "extension_requested_until": None, "whistled_at": None,
                         "whistle_calls": []}
