"""GET /api/v1/sla and /api/v1/sla/cases on the hand city: the numbers of tests/queries/test_sla.py, and refusals."""
from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.conftest import signed_in


@pytest.fixture
def client(hand_app):
    return signed_in(hand_app, "leader")


def parts(rate):
    return rate["numerator"], rate["denominator"], rate["value"]


def listed(client, body, selector, **extra):
    """Return (total, ids) of the cases behind ``selector`` through the figure's own cases URL."""
    reply = client.get(body["cases_url"] + "&" + urlencode({**selector, **extra}))
    assert reply.status_code == 200, reply.get_json()
    found = reply.get_json()
    return found["total"], [c["id"] for c in found["cases"]]


def test_slaapi001_every_figure_with_numerator_and_denominator(client):
    body = client.get("/api/v1/sla?grain=week").get_json()
    assert (body["area"]["code"], body["as_of"], body["from"]) == (
        "329900", "2026-11-20T15:00:00+08:00", "2026-10-21T15:00:00+08:00")
    trend = body["on_time"]["trend"]
    assert [(p["bucket"], parts(p["handle"])[:2], parts(p["close"])[:2]) for p in trend] == [
        ("2026-10-19", (0, 1), (0, 1)), ("2026-10-26", (0, 0), (0, 0)), ("2026-11-02", (0, 0), (0, 0)),
        ("2026-11-09", (0, 0), (0, 0)), ("2026-11-16", (2, 4), (1, 3))]
    by_area = {r["key"]: r for r in body["on_time"]["by_area"]}
    assert parts(by_area["329902"]["handle"]) == (2, 5, 0.4) and parts(by_area["329902"]["close"]) == (1, 4, 0.25)
    assert parts(by_area["329903"]["close"]) == (0, 0, None) and by_area["329903"]["overdue_open"]["count"] == 1
    assert [r["key"] for r in body["on_time"]["by_street"]] == ["329902001", "329902002", "329903001"]
    assert {k: v["count"] for k, v in body["lights"].items()} == {
        "green": 2, "yellow": 0, "red": 2, "none": 1, "turning_red_2h": 1}
    ages = {r["key"]: [b["count"] for b in r["buckets"]] for r in body["backlog_age"]["by_area"]}
    assert ages == {"329902": [1, 1, 0, 1, 0], "329903": [1, 0, 0, 0, 1]}
    assert [b["bucket"] for b in body["backlog_age"]["by_area"][0]["buckets"]] == body["backlog_age"]["buckets"]
    funnel = {s["stage"]: s for s in body["funnel"]}
    assert funnel["report"]["reached"]["count"] == 7
    assert (funnel["handle"]["median_minutes"], funnel["handle"]["p90_minutes"], funnel["handle"]["limit_clock"]) == (
        60.0, 324.0, "case")
    assert parts(funnel["handle"]["over_limit"]) == (1, 3, round(1 / 3, 6))
    assert funnel["check"]["limit_minutes"] == 450.0 and funnel["check"]["limit_clock"] == "work_days"
    (dept,) = body["handling"]["by_department"]
    assert (dept["n"], dept["median_hours"]) == (3, 6.5)
    east = body["exceptions"]["by_area"][0]
    assert parts(east["void"]) == (1, 6, round(1 / 6, 6)) and parts(east["extension"]) == (0, 3, 0.0)
    assert "void" not in body["exceptions"]["by_department"][0]


def test_slaapi002_each_figure_lists_its_cases(client):
    body = client.get("/api/v1/sla?grain=week").get_json()
    east = {r["key"]: r for r in body["on_time"]["by_area"]}["329902"]
    assert listed(client, body, east["handle"]["cases"]["denominator"]) == (5, [7, 3, 6, 2, 1])
    assert listed(client, body, east["close"]["cases"]["numerator"]) == (1, [1])
    week = body["on_time"]["trend"][-1]
    assert listed(client, body, week["handle"]["cases"]["numerator"]) == (2, [6, 1])
    assert listed(client, body, body["lights"]["red"]["cases"]) == (2, [9, 3])
    assert listed(client, body, body["lights"]["none"]["cases"]) == (1, [10])
    assert listed(client, body, body["lights"]["turning_red_2h"]["cases"]) == (1, [4])
    handle = {s["stage"]: s for s in body["funnel"]}["handle"]
    assert listed(client, body, handle["over_limit"]["cases"]["numerator"]) == (1, [2])
    # Paging: the same list two at a time.
    assert listed(client, body, east["handle"]["cases"]["denominator"], offset=2, limit=2) == (5, [6, 2])


def test_slaapi003_selector_as_json_and_rows_without_personal_data(client):
    reply = client.get("/api/v1/sla/cases?" + urlencode({"selector": '{"figure":"light","key":"red"}'}))
    body = reply.get_json()
    assert reply.status_code == 200 and body["total"] == 2
    first = body["cases"][0]
    assert first == {"id": 9, "category": first["category"], "place": "西湖社区 · 西湖第02网格",
                     "department": "西城区城管执法局", "status": "dispatched",
                     "reported_at": "2026-09-01T09:00:00+08:00", "deadline_at": "2026-09-04T09:30:00+08:00",
                     "light": "red"}
    text = reply.get_data(as_text=True)
    assert "reporter" not in text and "138" not in text and "王芳" not in text


def test_slaapi004_an_earlier_as_of(client):
    body = client.get("/api/v1/sla?" + urlencode({"as_of": "2026-11-20T10:15:00+08:00", "grain": "month"})).get_json()
    months = body["on_time"]["trend"]
    assert sum(p["close"]["numerator"] for p in months) == 0 and sum(p["close"]["denominator"] for p in months) == 3
    assert sum(p["handle"]["denominator"] for p in months) == 5


def test_slaapi005_a_district_and_the_street_operator(hand_app):
    street = signed_in(hand_app, "dongjie")
    body = street.get("/api/v1/sla").get_json()
    assert body["area"]["code"] == "329902001"
    (row,) = body["on_time"]["by_area"]
    assert parts(row["handle"])[:2] == (1, 3)
    assert listed(street, body, {"figure": "light", "key": "red"}) == (1, [3])
    for path in ("/api/v1/sla?area=329903", "/api/v1/sla?area=329902002", "/api/v1/sla/cases?area=329903&figure=light&key=red",
                 "/api/v1/sla?area=329900"):
        reply = street.get(path)
        assert reply.status_code == 404 and "no area" in reply.get_json()["message"], path


def test_slaapi006_a_department_handler_only_its_department(hand_app):
    dept = signed_in(hand_app, "dept_xc")
    body = dept.get("/api/v1/sla").get_json()
    assert body["area"]["code"] == "329903"
    assert [r["key"] for r in body["on_time"]["by_department"]] == ["329903-01"]
    assert listed(dept, body, {"figure": "handle"}) == (0, [])
    assert listed(dept, body, {"figure": "light", "key": "red"}) == (1, [9])
    assert dept.get("/api/v1/sla?area=329902").status_code == 404
    hotline = signed_in(hand_app, "dept_city")
    body = hotline.get("/api/v1/sla").get_json()
    assert {k: v["count"] for k, v in body["lights"].items()} == dict.fromkeys(
        ("green", "yellow", "red", "none", "turning_red_2h"), 0)


@pytest.mark.parametrize("path, message", [
    ("/api/v1/sla?area=abc", "area code"),
    ("/api/v1/sla?area=" + "9" * 40, "area code"),
    ("/api/v1/sla?as_of=yesterday", "ISO 8601"),
    ("/api/v1/sla?as_of=2026-11-20T15:00:00", "time zone"),
    ("/api/v1/sla?from=2026-11-20T15:00:00%2B08:00&to=2026-11-01T15:00:00%2B08:00", "earlier than"),
    ("/api/v1/sla?from=2024-01-01T00:00:00%2B08:00", "366 days"),
    ("/api/v1/sla?grain=year", "grain"),
    ("/api/v1/sla/cases", "needs 'figure'"),
    ("/api/v1/sla/cases?figure=handle&part=everything", "must be one of"),
    ("/api/v1/sla/cases?figure=light&key=red&limit=999", "limit"),
    ("/api/v1/sla/cases?figure=light&key=red&limit=0", "limit"),
    ("/api/v1/sla/cases?figure=light&key=red&offset=-1", "offset"),
    ("/api/v1/sla/cases?figure=light&key=red&offset=99999999999", "offset"),
    ("/api/v1/sla/cases?selector=%7B", "not JSON"),
    ("/api/v1/sla/cases?selector=%5B1%5D", "JSON object"),
    ("/api/v1/sla/cases?selector=" + "x" * 2000, "too long"),
    ("/api/v1/sla/cases?selector=%7B%22figure%22%3A%5B1%5D%7D", "must be a string"),
    ("/api/v1/sla/cases?figure=handle&grain=day&bucket=2026-02-30", "must be a date"),
    ("/api/v1/sla/cases?figure=close&by=class&key=01%27%20OR%201%3D1", "must be a code"),
])
def test_slaapi007_bad_input_is_a_400_with_a_reason(client, path, message):
    reply = client.get(path)
    assert reply.status_code == 400, reply.get_data(as_text=True)
    body = reply.get_json()
    assert body["error"] == "bad_request" and message in body["message"]


def test_slaapi008_signed_out_is_refused(hand_app):
    reply = hand_app.server.test_client().get("/api/v1/sla")
    assert reply.status_code == 401
