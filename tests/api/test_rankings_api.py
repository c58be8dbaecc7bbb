"""GET /api/v1/rankings and /api/v1/rankings/cases on the rankings' hand city (tests/rankcity.py), NOW 11-20 15:00.

By hand, streets under the handling scheme (处置考核: handle 30, handle_on_time 20, rework 20 ↓, overdue 20 ↓,
extension 10 ↓), October as of NOW (cut-off 11-01 00:00), counts from tests/rankcity.py's table:
  东街 329902001 (A1): handled 7, on time 6, overdue 1 → to_handle 8; closed 6, reworked 1 → to_close 7; extended 2
    score = 30·7/8 + 20·6/8 + 20·(1 − 1/7) + 20·(1 − 1/8) + 10·(1 − 2/8) = 26.25 + 15 + 17.142857 + 17.5 + 7.5
          = 83.392857 → 83.39 (B)
  329902002 (B1): handled 2, on time 1, overdue 1 → 3; closed 2, reworked 0 → 3; extended 1
    score = 20 + 6.6667 + 20 + 13.3333 + 6.6667 = 66.67 (C)
  329903001 (C1, C2): handled 3, all on time, nothing overdue, reworked or extended → 100.00 (A)
November as of NOW: 329902001 handled 1 (on time), overdue 1 (121), closed 2, reworked 0, extended 0
    → 15 + 10 + 20 + 10 + 10 = 65.00;  329902002 handled 2 (1 on time), closed 2, reworked 1 → 30 + 10 + 10 + 20 + 10
    = 80.00; 329903001 nothing to count → no score (unranked, last).
  Ranks (minimum volume 1): October 329903001, 329902001, 329902002; November 329902002 (▲2), 329902001 (=), and
  329903001 unranked (no change).
With the packaged configuration (handling minimum 20 a month) every street of October is ranked apart, in its own
sequence: 329903001 1, 329902001 2, 329902002 3.
"""
from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.conftest import signed_in
from tests.rankapp import rank_app, rank_app_packaged, rank_store_template  # noqa: F401  (fixtures)

STREETS_OCT = {"level": "street", "period": "2026-10"}


@pytest.fixture
def client(rank_app):  # noqa: F811
    return signed_in(rank_app, "leader")


def get(client, **args):
    reply = client.get("/api/v1/rankings?" + urlencode(args))
    return reply.status_code, reply.get_json()


def test_rnkapi001_streets_of_october_every_count_indicator_and_score(client):
    status, body = get(client, **STREETS_OCT)
    assert status == 200, body
    assert (body["level"], body["scheme"], body["period"]["key"], body["period"]["label"]) == (
        "street", "handling", "2026-10", "2026年10月")
    assert (body["cutoff"], body["provisional"], body["min_volume"]) == ("2026-11-01T00:00:00+08:00", True, 1)
    assert [(i["indicator"], i["weight"]) for i in body["items"]] == [
        ("handle_rate", 30), ("handle_on_time_rate", 20), ("rework_rate", 20), ("overdue_rate", 20),
        ("extension_rate", 10)]
    rows = {r["code"]: r for r in body["rows"]}
    assert [(r["code"], r["rank"], r["score"], r["grade"], r["apart"]) for r in body["rows"]] == [
        ("329903001", 1, 100.0, "A", False), ("329902001", 2, 83.39, "B", False),
        ("329902002", 3, 66.67, "C", False)]
    east = rows["329902001"]
    assert {k: east["counts"][k] for k in ("handled", "handled_on_time", "overdue_open", "closed", "reworked",
                                           "extended")} == {"handled": 7, "handled_on_time": 6, "overdue_open": 1,
                                                            "closed": 6, "reworked": 1, "extended": 2}
    ind = east["indicators"]
    assert (ind["handle_rate"]["numerator"], ind["handle_rate"]["denominator"], ind["handle_rate"]["value"]) == (
        7, 8, 0.875)
    assert (ind["rework_rate"]["numerator"], ind["rework_rate"]["denominator"]) == (1, 7)
    assert ind["rework_rate"]["points"] == round(20 * 6 / 7, 6) and ind["rework_rate"]["lost"] == round(20 / 7, 6)
    assert round(sum(c["points"] for c in ind.values()), 2) == 83.39
    assert east["volume"] == 8 and len(east["spark"]) == 12 and east["spark"][-1] == 83.39


def test_rnkapi002_rank_change_against_the_previous_month(client):
    _, body = get(client, level="street", period="2026-11")
    assert [(r["code"], r["score"], r["rank"], r["prev_rank"], r["change"]) for r in body["rows"]] == [
        ("329902002", 80.0, 1, 3, 2), ("329902001", 65.0, 2, 2, 0), ("329903001", None, None, 1, None)]


def test_rnkapi003_compare_two_periods(client):
    _, body = get(client, level="street", period="2026-11", compare="2026-10")
    other = body["compare"]
    assert other["period"]["key"] == "2026-10"
    assert {d["code"]: (d["score"], d["rank"]) for d in other["delta"]} == {
        "329902002": (13.33, 2), "329902001": (-18.39, 0), "329903001": (None, None)}


def test_rnkapi004_too_few_cases_are_ranked_apart(rank_app_packaged):  # noqa: F811
    _, body = get(signed_in(rank_app_packaged, "leader"), **STREETS_OCT)
    assert body["min_volume"] == 20 and body["config_version"] in ("file", "默认")
    assert [(r["code"], r["rank"], r["apart"]) for r in body["rows"]] == [
        ("329903001", 1, True), ("329902001", 2, True), ("329902002", 3, True)]


def test_rnkapi005_the_cases_behind_a_count(client):
    _, body = get(client, **STREETS_OCT)
    reply = client.get(body["cases_url"] + "&" + urlencode({"unit": "329902001", "count": "overdue_open"}))
    assert reply.status_code == 200, reply.get_json()
    found = reply.get_json()
    assert (found["total"], [c["id"] for c in found["cases"]]) == (1, [104])
    reply = client.get("/api/v1/rankings/cases?" + urlencode({**STREETS_OCT, "unit": "329902001", "count": "reworked"}))
    assert [c["id"] for c in reply.get_json()["cases"]] == [102]
    page = client.get("/api/v1/rankings/cases?" + urlencode(
        {**STREETS_OCT, "unit": "329902001", "count": "handled", "offset": 5, "limit": 5})).get_json()
    assert (page["total"], len(page["cases"]), page["offset"]) == (7, 2, 5)
    assert page["cases"][0]["reported_at"].endswith("+08:00")


def test_rnkapi006_workers_counts(client):
    _, body = get(client, level="worker", period="2026-10")
    rows = {r["code"]: r["counts"] for r in body["rows"]}
    assert sorted(rows) == ["1", "2", "3", "4"]
    assert {k: rows["1"][k] for k in ("reports", "valid_reports", "to_verify", "verified_on_time", "grid_registered",
                                      "missed", "grid_buildings", "buildings_visited")} == {
        "reports": 5, "valid_reports": 4, "to_verify": 2, "verified_on_time": 1, "grid_registered": 6, "missed": 1,
        "grid_buildings": 2, "buildings_visited": 2}
    assert rows["2"]["to_verify"] == 0 and rows["2"]["to_check"] == 0  # part-time: not the grid's 监督员


@pytest.mark.parametrize("args, status, words", [
    ({"level": "bogus"}, 400, "'level' must be one of"),
    ({"level": "street", "period": "2026-13"}, 400, "month 13"),
    ({"level": "street", "period": "2027-01"}, 400, "starts after today"),
    ({"level": "street", "period": "2026-01-01..2027-06-01"}, 400, "at most 366 days"),
    ({"level": "street", "period": "x" * 41}, 400, "too long"),
    ({"level": "street", "period": "2026-10", "scheme": "worker"}, 400, "does not rank"),
    ({"level": "street", "period": "2026-10", "scheme": "nonsense"}, 400, "unknown scheme"),
    ({"level": "street", "area": "32990'; drop table events;--"}, 400, "'area'"),
    ({"level": "street", "area": "999999"}, 404, "no area"),
    ({"level": "street", "as_of": "2026-10-01"}, 400, "time zone"),
    ({"level": "street", "as_of": "2030-01-01T00:00:00+08:00"}, 400, "future"),
    ({"level": "street", "compare": "2026-99"}, 400, "month 99"),
    ({"level": "street", "period": "２０２６-10"}, 400, "characters"),
    ({"level": "street", "period": "2026-10\x00"}, 400, "characters"),
    ({"level": "street", "period": "2026-10", "limit": "0"}, 400, "'limit' must be at least 1"),
    ({"level": "street", "period": "2026-10", "limit": "10001"}, 400, "'limit' may be at most"),
    ({"level": "street", "period": "2026-10", "offset": "-1"}, 400, "'offset' must be a whole number"),
    ({"level": "street", "period": "2026-10", "offset": "9" * 40}, 400, "'offset' must be a whole number"),
])
def test_rnkapi007_bad_input_is_a_400_naming_it(client, args, status, words):
    code, body = get(client, **args)
    assert code == status, body
    assert words in body["message"] and body["error"] in ("bad_request", "not_found")


@pytest.mark.parametrize("args, words", [
    ({"unit": "329902001"}, "'count'"),
    ({"count": "handled"}, "'unit'"),
    ({"unit": "329902001", "count": "nonsense"}, "unknown count"),
    ({"unit": "329902001", "count": "handled", "limit": "201"}, "at most 200"),
    ({"unit": "329902001", "count": "handled", "limit": "0"}, "at least 1"),
    ({"unit": "329902001", "count": "handled", "offset": "-1"}, "whole number"),
    ({"unit": "329902001", "count": "handled", "offset": "9" * 12}, "whole number"),
])
def test_rnkapi008_bad_case_requests(client, args, words):
    reply = client.get("/api/v1/rankings/cases?" + urlencode({**STREETS_OCT, **args}))
    assert reply.status_code == 400, reply.get_json()
    assert words in reply.get_json()["message"]


def test_rnkapi009_a_district_manager_ranks_only_inside_the_district(rank_app):  # noqa: F811
    client = signed_in(rank_app, "dongcheng")
    _, body = get(client, **STREETS_OCT)
    assert [r["code"] for r in body["rows"]] == ["329902001", "329902002"]
    assert get(client, level="district", period="2026-10")[0] == 400  # not below its own level
    code, body = get(client, level="street", period="2026-10", area="329903")
    assert (code, body["error"]) == (404, "not_found")  # 西城区 exists, but not here: the same answer as none
    reply = client.get("/api/v1/rankings/cases?" + urlencode({**STREETS_OCT, "unit": "329903001", "count": "handled"}))
    assert reply.status_code == 404


def test_rnkapi010_a_department_ranks_only_itself(rank_app):  # noqa: F811
    client = signed_in(rank_app, "dept_dc")
    code, body = get(client, level="department", period="2026-10")
    assert code == 200, body
    assert [r["code"] for r in body["rows"]] == ["329902-01"]
    assert get(client, level="street", period="2026-10")[0] == 400


def test_rnkapi011_anonymous_callers_get_nothing(rank_app):  # noqa: F811
    reply = rank_app.server.test_client().get("/api/v1/rankings?" + urlencode(STREETS_OCT))
    assert reply.status_code == 401



def test_rnkapi012_rows_page_in_display_order(client):
    _, whole = get(client, **STREETS_OCT)
    status, page = get(client, **STREETS_OCT, offset=1, limit=1)
    assert status == 200 and page["total_rows"] == whole["total_rows"] == 3 and page["offset"] == 1
    assert [r["code"] for r in page["rows"]] == [whole["rows"][1]["code"]]
    _, past = get(client, **STREETS_OCT, offset=5)
    assert past["rows"] == [] and past["total_rows"] == 3
