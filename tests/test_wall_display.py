"""The wall display role (issue 8 §1): a wall PC signs in once, stays signed in for weeks, never sees anything personal."""
from __future__ import annotations

from datetime import timedelta

import pytest

from dashboard import access, auth
from dashboard.settings import from_env
from queries import users as user_queries
from tests import handcity
from tests.conftest import signed_in
from tests.test_access import _audit, _ctx, _later, form_sign_in


@pytest.fixture
def wall_app(hand_app):
    """The hand city with a wall display of 东城区 (329902)."""
    with _ctx(hand_app).engine.begin() as conn:
        scope = auth.check_scope(conn, auth.WALL_ROLE, "329902")
        user_queries.add_user(conn, name="wall1", display_name="东城区大屏", password_hash=auth.hash_password(handcity.PASSWORD),
                              role=auth.WALL_ROLE, scope_kind=scope.kind, scope_code=scope.code, now=handcity.NOW)
    return hand_app


def test_wall001_a_wall_display_signs_in_to_the_wall(wall_app):
    response = form_sign_in(wall_app.server.test_client(), "wall1")
    assert response.status_code == 303 and response.headers["Location"] == "/wall"
    other = form_sign_in(wall_app.server.test_client(), "wall1", next_path="/sla?area=329902")
    assert other.headers["Location"] == "/sla?area=329902"  # a link it was sent to is still honoured


def test_wall002_its_session_outlives_the_idle_and_12_hour_limits_but_not_its_own(wall_app):
    client = signed_in(wall_app, "wall1")
    people = signed_in(wall_app, "dongcheng")
    _later(wall_app, timedelta(minutes=45))  # nobody touched either for 45 minutes
    assert client.get("/api/v1/areas").status_code == 200
    assert people.get("/api/v1/areas").status_code == 401  # a person's session ends when idle
    _later(wall_app, timedelta(hours=13))
    assert client.get("/api/v1/areas").status_code == 200
    _later(wall_app, timedelta(days=29, hours=23))
    assert client.get("/api/v1/areas").status_code == 200
    _later(wall_app, timedelta(days=30, minutes=1))
    assert client.get("/api/v1/areas").status_code == 401
    assert sorted(r.detail for r in _audit(wall_app, "session.end")) == ["idle too long", "older than the session lifetime"]


def test_wall003_it_is_always_masked_and_reads_only(wall_app):
    client = signed_in(wall_app, "wall1")
    areas = client.get("/api/v1/areas").get_json()
    assert [a["code"] for a in (areas if isinstance(areas, list) else areas["areas"])] == ["329902"]
    cookie = client.get_cookie("gridcc_session").value
    with wall_app.server.test_request_context("/api/v1/areas", headers={"Cookie": f"gridcc_session={cookie}"}):
        wall_app.server.preprocess_request()
        principal = access.current()
        assert principal.role == auth.WALL_ROLE and principal.public_wall and principal.rights == {"read"}
        assert not principal.may("reveal") and not principal.may("act")
    assert client.post("/auth/public-wall", data={"on": "0"}).status_code == 409  # masking cannot be turned off
    assert client.post("/api/v1/events/3/reveal").status_code == 403
    step = client.post("/api/v1/events/3/transitions", json={"action": "urge"})
    assert step.status_code in (403, 404)


def test_wall004_only_an_administrator_may_make_one(wall_app):
    with _ctx(wall_app).engine.connect() as conn:
        district = auth.Scope("area", "329902")
        assert auth.may_manage(conn, manager_role="admin", manager_scope=auth.Scope("area", "329900"),
                               role=auth.WALL_ROLE, scope=district)
        assert not auth.may_manage(conn, manager_role="district_manager", manager_scope=district,
                                   role=auth.WALL_ROLE, scope=district)


@pytest.mark.parametrize("value, message", [("x", "is not a number"), ("-1", "at least 0")])
def test_wall005_a_bad_wall_session_length_names_its_variable(monkeypatch, value, message):
    monkeypatch.setenv("GRIDCC_WALL_SESSION_DAYS", value)
    with pytest.raises(ValueError, match="GRIDCC_WALL_SESSION_DAYS.*" + message):
        from_env()


def test_wall006_the_wall_session_length_is_set_in_days(monkeypatch):
    monkeypatch.setenv("GRIDCC_WALL_SESSION_DAYS", "7")
    assert from_env().wall_session_lifetime == timedelta(days=7)


@pytest.mark.parametrize("value", ["ftp://host/", "127.0.0.1:8050", "http://", "http://host/?next=evil", "javascript:x"])
def test_wall007_a_bad_self_url_names_its_variable(monkeypatch, value):
    monkeypatch.setenv("GRIDCC_SELF_URL", value)
    with pytest.raises(ValueError, match="GRIDCC_SELF_URL"):
        from_env()


def test_wall008_the_self_url_is_kept_without_its_last_slash(monkeypatch):
    monkeypatch.setenv("GRIDCC_SELF_URL", "https://gridcc.intranet:8443/")
    assert from_env().self_url == "https://gridcc.intranet:8443"
