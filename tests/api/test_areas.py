"""The JSON API on the hand city: same numbers as the queries, clear errors for bad input."""
from __future__ import annotations

import pytest

from tests.handcity import A1, NOW


@pytest.fixture
def client(hand_app):
    from tests.conftest import signed_in

    return signed_in(hand_app, "leader")


def test_api001_top_area_with_default_window(client):
    body = client.get("/api/v1/areas").get_json()
    assert body["as_of"] == "2026-11-20T15:00:00+08:00"
    assert body["from"] == "2026-10-21T15:00:00+08:00" and body["to"] == body["as_of"]
    (city,) = body["areas"]
    assert (city["code"], city["name"], city["level"], city["parent"]) == ("329900", "云州市", "city", None)
    assert city["figures"] == {"reported": 8, "open": 5, "overdue": 2, "closed": 3, "closed_on_time": 1,
                               "on_time_rate": 0.2, "median_handling_hours": 6.5}


def test_api002_one_area(client):
    body = client.get("/api/v1/areas/329902").get_json()
    assert body["area"]["name"] == "东城区" and body["area"]["parent"] == "329900"
    assert body["area"]["figures"]["open"] == 3 and body["area"]["figures"]["on_time_rate"] == 0.25


def test_api003_children_sum_to_parent(client):
    body = client.get("/api/v1/areas/329900/children").get_json()
    assert [c["code"] for c in body["children"]] == ["329902", "329903"]
    assert [c["figures"]["open"] for c in body["children"]] == [3, 2]
    parent = client.get("/api/v1/areas/329900").get_json()["area"]["figures"]
    for name in ("reported", "open", "overdue", "closed", "closed_on_time"):
        assert sum(c["figures"][name] for c in body["children"]) == parent[name]


def test_api004_grid_children_are_buildings(client):
    body = client.get(f"/api/v1/areas/{A1}/children").get_json()
    assert [(c["code"][-3:], c["level"], c["figures"]["open"]) for c in body["children"]] == [
        ("001", "building", 0), ("002", "building", 1)]


@pytest.mark.parametrize(
    "query, open_, reported",
    [
        # The window ends at as_of: 1, 2, 3, 5, 6, 8 reported in [10-21 12:00, 11-20 12:00).
        ("as_of=2026-11-20T12:00:00%2B08:00", 3, 6),
        ("as_of=2026-11-20T04:00:00Z", 3, 6),  # the same instant in UTC
        ("as_of=2026-11-20T12:00:00+08:00", 3, 6),  # an unencoded + arrives as a space
        ("from=2026-11-20T00:00:00%2B08:00&to=2026-11-20T15:00:00%2B08:00", 5, 5),
    ],
)
def test_api005_window_parameters(client, query, open_, reported):
    figures = client.get(f"/api/v1/areas/329900?{query}").get_json()["area"]["figures"]
    assert (figures["open"], figures["reported"]) == (open_, reported)


@pytest.mark.parametrize(
    "url, status, words",
    [
        ("/api/v1/areas/329999", 404, "no area"),
        ("/api/v1/areas/329999/children", 404, "no area"),
        ("/api/v1/areas/abc", 400, "digits"),
        ("/api/v1/areas/3299%27%20OR%201=1", 400, "digits"),
        ("/api/v1/areas/" + "9" * 500, 400, "digits"),
        ("/api/v1/areas/329900?as_of=yesterday", 400, "ISO 8601"),
        ("/api/v1/areas/329900?as_of=2026-11-20T15:00:00", 400, "time zone"),
        ("/api/v1/areas/329900?as_of=" + "2" * 5000, 400, "too long"),
        ("/api/v1/areas/329900?from=2026-11-20T15:00:00%2B08:00&to=2026-11-01T00:00:00%2B08:00", 400, "earlier"),
        ("/api/v1/areas/329900?from=2020-01-01T00:00:00%2B08:00", 400, "366 days"),
        ("/api/v1/nowhere", 404, ""),
    ],
)
def test_api006_bad_input_gets_a_clear_error(client, url, status, words):
    response = client.get(url)
    assert response.status_code == status
    body = response.get_json()
    assert body is not None and "error" in body
    assert words in body["message"]


def test_api007_write_methods_are_refused(client):
    assert client.post("/api/v1/areas/329900").status_code == 405


def test_api008_openapi_document_lists_every_route(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    # The area routes; tests/api/test_openapi.py checks every other route against the url_map.
    assert {"/api/v1/areas", "/api/v1/areas/{code}", "/api/v1/areas/{code}/children"} <= set(doc["paths"])
    assert set(doc["components"]["schemas"]["Figures"]["properties"]) == {
        "reported", "open", "overdue", "closed", "closed_on_time", "on_time_rate", "median_handling_hours"}


def test_api009_frozen_now_is_the_default_as_of(hand_settings):
    assert hand_settings.now() == NOW


def test_api020_areas_and_buildings_say_where_they_are(client):
    # Grid A1 is the rectangle lon 120.0–120.05, lat 31.0–31.2; its first building stands at (31.08, 120.025).
    area = client.get(f"/api/v1/areas/{A1}").get_json()["area"]
    assert area["centroid"] == {"lat": 31.1, "lon": 120.025}
    assert area["bbox"] == {"south": 31.0, "west": 120.0, "north": 31.2, "east": 120.05}
    kids = client.get(f"/api/v1/areas/{A1}/children").get_json()["children"]
    assert kids[0]["centroid"] == {"lat": 31.08, "lon": 120.025}


def test_api021_a_building_code_answers_like_its_row_among_the_grids_children(client):
    kids = {k["code"]: k for k in client.get(f"/api/v1/areas/{A1}/children").get_json()["children"]}
    one = client.get(f"/api/v1/areas/{A1}001").get_json()["area"]
    assert one == kids[A1 + "001"]
    assert client.get(f"/api/v1/areas/{A1}009").status_code == 404
