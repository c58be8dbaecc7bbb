"""The GeoJSON routes the map fetches (Flask test client on the hand city)."""
from __future__ import annotations

import pytest

from tests import handcity


@pytest.fixture
def client(hand_app):
    from tests.conftest import signed_in

    return signed_in(hand_app, "leader")


def test_city_children_are_its_districts(client):
    response = client.get("/geo/children/329900.json")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    assert "max-age=" in response.headers["Cache-Control"]
    features = response.get_json()["features"]
    assert [f["properties"] for f in features] == [
        {"code": "329902", "name": "东城区", "level": 1},
        {"code": "329903", "name": "西城区", "level": 1},
    ]
    assert features[0]["geometry"]["type"] == "Polygon"


def test_a_grid_sends_its_buildings_as_points(client):
    features = client.get(f"/geo/children/{handcity.A1}.json").get_json()["features"]
    assert [f["properties"]["code"] for f in features] == [handcity.A1 + "001", handcity.A1 + "002"]
    assert {f["geometry"]["type"] for f in features} == {"Point"}
    assert features[1]["properties"] == {"code": handcity.A1 + "002", "name": "2号楼", "level": 5,
                                         "households": 150, "floors": 7}


def test_the_browser_revalidates_with_the_etag(client):
    first = client.get("/geo/children/329902.json")
    again = client.get("/geo/children/329902.json", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


@pytest.mark.parametrize("code, status", [
    ("329999", 404),  # no such area
    ("320508", 404),  # another city: outside the scope
    (handcity.A1 + "001", 404),  # a building has no children
    ("12ab", 400),
    ("1" * 19, 400),
])
def test_bad_codes(client, code, status):
    response = client.get(f"/geo/children/{code}.json")
    assert response.status_code == status
    assert "error" in response.get_json()
