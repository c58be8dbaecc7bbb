"""Issue 4's break-in tests, beyond the scope matrix: sessions, cookies, CSRF, roles, injection, traversal,
brute force.

Each attempt must get a clear refusal (a status and a message) and leave no trace in the data: the store
is compared table by table before and after, and only the audit log may have grown (with the attempt).
Users are the hand city's (tests/handcity.py); dongjie (street operator of 东街街道 329902001) is the
one who acts: event 3 (building A1-002, reporter 李娜 13812345678) and event 4 are in his street.
"""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from dashboard import access
from queries import sessions as session_queries
from queries import users as user_queries
from queries.schema import users, web_sessions
from tests import handcity
from tests.conftest import signed_in
from tests.security import common as c
from tests.security.conftest import server_callback_keys

PASSWORD = handcity.PASSWORD
A1_B2 = handcity.A1 + "002"  # event 3's building
REFUSED_ZH = "用户名或密码错误"  # the one answer to a wrong name, a wrong password and a locked user
THROTTLED_ZH = "该地址登录失败次数过多"
EXPIRED_ZH = "页面已过期"
SIGNIN_ATTEMPT_COLUMNS = {"users": {"failed_sign_ins", "locked_until"}}


def engine_of(app):
    return app.server.extensions["gridcc"].engine


def json_refusal(response, status: int) -> dict:
    """Assert ``response`` is a JSON refusal with ``status`` and a message; return its body."""
    assert response.status_code == status, (response.status_code, response.data[:300])
    body = response.get_json()
    assert body is not None, response.data[:300]
    # The API's {"error", "message"}, GeoJSON's {"error": message}, Open311's [{"code", "description"}].
    message = (body.get("message") or body.get("error")) if isinstance(body, dict) else body[0].get("description")
    assert isinstance(message, str) and len(message) > 10, body
    return body


def session_cookie(client) -> str | None:
    cookie = client.get_cookie(access.SESSION_COOKIE)
    return None if cookie is None else cookie.value


def fresh_client(app, cookie: str | None = None, address: str = "127.0.0.1"):
    """Return a client with nothing but ``cookie`` as its session cookie."""
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    if cookie is not None:
        client.set_cookie(access.SESSION_COOKIE, cookie)
    return client


def form_sign_in(client, name: str, password: str, *, next_path: str | None = None, lang: str = "zh"):
    """Sign in through the page like a browser: GET the form (token and cookie), then POST it."""
    page = client.get("/auth/sign-in" + (f"?lang={lang}" if lang == "en" else ""))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    form = {"name": name, "password": password, "csrf_token": token, "lang": lang}
    if next_path is not None:
        form["next"] = next_path
    return client.post("/auth/sign-in", data=form)


def refused_everywhere(client) -> None:
    """Assert ``client`` is treated as signed out: pages go to sign-in, data and callbacks answer 401."""
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["Location"].startswith("/auth/sign-in"), page.status_code
    json_refusal(client.get("/api/v1/areas"), 401)
    json_refusal(client.post("/_dash-update-component", json={}), 401)
    assert client.get("/geo/children/329900.json").status_code == 401
    assert client.get("/open311/v2/requests.json").status_code == 401


def works(client, user: str = "dongjie") -> None:
    body = client.get("/api/v1/areas")
    assert body.status_code == 200 and body.get_json()["areas"][0]["code"] == c.SCOPE_AREA[user]


# -- sessions ------------------------------------------------------------------------------------------------
def _signed_cookie(app, payload: dict, key: str | None = None) -> str:
    """Return a session cookie with ``payload`` signed as Flask signs it, with the app's key or another."""
    import flask
    from flask.sessions import SecureCookieSessionInterface

    signer = flask.Flask("forger")
    signer.secret_key = key or app.server.secret_key
    return SecureCookieSessionInterface().get_signing_serializer(signer).dumps(payload)


def _sid(client) -> str:
    with client.session_transaction() as session:
        return session["sid"]


def test_session_fixation_a_planted_cookie_is_never_the_signed_in_one(cheap_argon2):
    planted_sid = "planted-by-an-attacker-0123456789"
    planted = _signed_cookie(cheap_argon2, {"sid": planted_sid})
    victim = fresh_client(cheap_argon2, planted)
    refused_everywhere(fresh_client(cheap_argon2, planted))  # it opens nothing before the sign-in
    answer = form_sign_in(victim, "dongjie", PASSWORD)
    assert answer.status_code == 303 and answer.headers["Location"] == "/"
    after = session_cookie(victim)
    assert after and after != planted
    assert _sid(victim) != planted_sid
    works(victim)
    refused_everywhere(fresh_client(cheap_argon2, planted))  # nor after it
    with engine_of(cheap_argon2).connect() as conn:
        assert session_queries.live(conn, id_sha256=access._digest(planted_sid)) is None


def test_signing_in_over_a_live_session_ends_the_one_the_browser_came_with(cheap_argon2):
    """Someone leaves a signed-in browser; the next person signs in on it: the first session is over."""
    browser = fresh_client(cheap_argon2)
    assert form_sign_in(browser, "viewer", PASSWORD).status_code == 303
    before = session_cookie(browser)
    works(fresh_client(cheap_argon2, before), "viewer")
    assert form_sign_in(browser, "dongjie", PASSWORD).status_code == 303
    assert session_cookie(browser) != before
    works(browser)
    refused_everywhere(fresh_client(cheap_argon2, before))
    ends = [r for r in c.audit_rows(engine_of(cheap_argon2)) if r[2] == "session.end"]
    assert [(r[1], r[4], r[5]) for r in ends] == [("dongjie", "ended", "another sign-in on this browser")]


def test_the_redirect_to_sign_in_keeps_the_pages_language(shared_app):
    client = fresh_client(shared_app)
    answer = client.get("/?lang=en&area=329902", headers={"Accept": "text/html"})
    assert answer.status_code == 303
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Sign in to the command center" in page and 'name="next" value="/?lang=en&amp;area=329902"' in page


def _flip(text: str, at: int) -> str:
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1:]


@pytest.mark.parametrize("where", ["payload", "timestamp", "signature"])
def test_a_tampered_session_cookie_is_refused(shared_app, where):
    client = signed_in(shared_app, "dongjie")
    value = session_cookie(client)
    assert value and value.count(".") == 2
    payload, stamp, signature = value.split(".")
    at = {"payload": 2, "timestamp": len(payload) + 2, "signature": len(value) - 3}[where]
    refused_everywhere(fresh_client(shared_app, _flip(value, at)))
    works(client)  # the untouched cookie still works


def test_a_cookie_signed_with_another_key_is_refused_even_with_a_live_session_id(shared_app):
    client = signed_in(shared_app, "dongjie")
    forged = _signed_cookie(shared_app, {"sid": _sid(client)}, key="not-the-servers-key")
    refused_everywhere(fresh_client(shared_app, forged))
    # The same payload signed with the server's key is the live session: only the key was wrong.
    works(fresh_client(shared_app, _signed_cookie(shared_app, {"sid": _sid(client)})))


@pytest.mark.parametrize("cookie", ["", "null", "e30", "..", "a" * 4000, '{"sid": "x"}', "\x00\x01"])
def test_garbage_session_cookies_are_refused_cleanly(shared_app, cookie):
    refused_everywhere(fresh_client(shared_app, cookie))


@pytest.mark.parametrize("column, age, why", [
    ("seen_at", timedelta(minutes=31), "idle too long"),
    ("created_at", timedelta(hours=12, minutes=1), "older than the session lifetime"),
])
def test_an_idle_or_old_session_is_refused_and_its_end_audited(shared_app, column, age, why):
    from sqlalchemy import update

    engine = engine_of(shared_app)
    client = signed_in(shared_app, "dongjie")
    works(client)
    audit_before = c.audit_rows(engine)
    with engine.begin() as conn:  # this session only: the shared app's other sessions of dongjie live on
        conn.execute(update(web_sessions).where(web_sessions.c.id_sha256 == access._digest(_sid(client)))
                     .values({column: handcity.NOW - age}))
    # The row was changed behind the server's back (as time passing would): the server reads it again once
    # its short memory of the session has lapsed (Settings.session_recheck_s). Forget it now, not sleep.
    shared_app.server.extensions["gridcc_sessions"].clear()
    refused_everywhere(client)
    assert [(r[1], r[2], r[4], r[5]) for r in c.new_audit_rows(engine, audit_before)] == [
        ("dongjie", "session.end", "ended", why)]


def test_the_session_cookie_is_http_only_and_same_site(cheap_argon2):
    answer = form_sign_in(fresh_client(cheap_argon2), "dongjie", PASSWORD)
    cookies = {h.split("=", 1)[0]: h for h in answer.headers.getlist("Set-Cookie")}
    session = cookies[access.SESSION_COOKIE]
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Path=/" in session
    assert "HttpOnly" not in cookies[access.CSRF_COOKIE] and "SameSite=Strict" in cookies[access.CSRF_COOKIE]


def _session_end_rows(engine, user: str) -> list[tuple]:
    return [r for r in c.audit_rows(engine) if r[2] == "session.end" and r[1] == user]


def test_a_disabled_users_session_is_refused_and_its_end_audited(fresh_app):
    engine = engine_of(fresh_app)
    client = signed_in(fresh_app, "dongjie")
    works(client)
    with engine.begin() as conn:
        user_queries.set_disabled(conn, name="dongjie", disabled=True)
    refused_everywhere(client)
    ends = _session_end_rows(engine, "dongjie")
    assert [(r[4], r[5]) for r in ends] == [("ended", "user disabled")]
    # Enabled again, the old session stays over: the user signs in anew.
    with engine.begin() as conn:
        user_queries.set_disabled(conn, name="dongjie", disabled=False)
    refused_everywhere(client)


def test_disabling_a_user_with_the_cli_ends_their_sessions_at_once(fresh_app):
    from dashboard import cli

    engine = engine_of(fresh_app)
    client, other = signed_in(fresh_app, "dongjie"), signed_in(fresh_app, "dongjie")
    works(client)
    store = fresh_app.server.extensions["gridcc"].settings.store_url
    assert cli.main(["user", "disable", "dongjie", "--store", store]) == 0
    refused_everywhere(client)
    refused_everywhere(other)
    rows = [r for r in c.audit_rows(engine) if r[2] == "user.disable"]
    assert [(r[3], r[4], r[5]) for r in rows] == [("dongjie", "ok", "2 sessions ended")]
    with engine.connect() as conn:  # (the CLI's clock is the real one, not the hand city's frozen now)
        ended = conn.execute(select(web_sessions.c.ended_at).where(web_sessions.c.user_name == "dongjie")).scalars()
        assert len([at for at in ended if at is not None]) == 2


def test_a_changed_password_ends_the_old_sessions(fresh_app):
    from dashboard import auth

    engine = engine_of(fresh_app)
    client = signed_in(fresh_app, "dongjie")
    works(client)
    with engine.begin() as conn:
        user_queries.set_password(conn, name="dongjie", password_hash=auth.hash_password("another-password-2"),
                                  now=handcity.NOW)
    refused_everywhere(client)
    assert [(r[4], r[5]) for r in _session_end_rows(engine, "dongjie")] == [
        ("ended", "password, role or scope changed")]


def test_changing_ones_password_on_the_form_ends_every_other_session(cheap_argon2):
    engine = engine_of(cheap_argon2)
    here, elsewhere = signed_in(cheap_argon2, "dongjie"), signed_in(cheap_argon2, "dongjie")
    changed = here.post("/auth/password", data={"current": PASSWORD, "new": "a-new-password-42",
                                                "again": "a-new-password-42", "lang": "zh"})
    assert changed.status_code == 303, changed.data[:300]
    refused_everywhere(elsewhere)
    works(here)  # this browser got a new session
    rows = [r for r in c.audit_rows(engine) if r[2] == "password.change"]
    assert [(r[4], r[5]) for r in rows] == [("ok", "2 sessions ended")]


def test_sign_out_ends_the_session_on_the_server(shared_app):
    engine = engine_of(shared_app)
    client = signed_in(shared_app, "dongjie")
    cookie, digest = session_cookie(client), access._digest(_sid(client))
    audit_before = c.audit_rows(engine)
    out = client.post("/auth/sign-out", data={"lang": "zh"})
    assert out.status_code == 303 and out.headers["Location"] == "/auth/sign-in?lang=zh"
    assert [(r[1], r[2], r[4]) for r in c.new_audit_rows(engine, audit_before)] == [("dongjie", "sign_out", "ok")]
    refused_everywhere(client)
    refused_everywhere(fresh_client(shared_app, cookie))  # the old cookie, replayed
    with engine.connect() as conn:
        ended = conn.execute(select(web_sessions.c.ended_at).where(web_sessions.c.id_sha256 == digest)).scalar()
    assert ended == handcity.NOW


# -- CSRF ----------------------------------------------------------------------------------------------------
RECORD = {"id": "csrf-1", "source": "hotline", "category": "0505", "reported_at": "2026-11-20T14:00:00+08:00",
          "lat": 31.1, "lon": 120.025}  # in A1, dongjie's street
# name: (path, keyword arguments of client.post) — each would succeed for dongjie with the right token
WRITES = {
    "report": ("/api/v1/events", {"json": RECORD}),
    "transition": ("/api/v1/events/4/transitions", {"json": {"action": "handle"}}),
    "reveal": ("/api/v1/events/3/reveal", {}),
    "public-wall": ("/auth/public-wall", {"data": {"on": "1"}}),
    "sign-out": ("/auth/sign-out", {"data": {"lang": "zh"}}),
    "password": ("/auth/password", {"data": {"current": PASSWORD, "new": "a-new-password-42",
                                             "again": "a-new-password-42"}}),
}
CSRF_VARIANTS = {
    "no token": {},
    "wrong token": {"X-CSRFToken": "0" * 64},
    "another session's token": "other",
    "foreign origin": {"Origin": "https://evil.example"},
    "null origin": {"Origin": "null"},
}
CALLBACKS = server_callback_keys()


def _dongjie_values(component_id, prop):
    """Fill a callback's inputs as dongjie's own screen would (event 3's "show" for the reporter button)."""
    known = {("overview-state", "data"): {"area": A1_B2[:15], "building": A1_B2},
             ("overview-view", "data"): {"code": A1_B2[:15], "building": {"code": A1_B2}},
             ("overview-metric", "value"): "open", ("overview-lang", "data"): "zh", ("admin-audit-lang", "data"): "zh",
             ("_pages_location", "pathname"): "/", ("shell-location", "pathname"): "/"}
    if isinstance(component_id, dict):
        return 1
    return known.get((component_id, prop))


def _callback_request(app, key: str) -> tuple[str, dict]:
    payload = c.callback_payload(key, c.server_callbacks(app)[key], _dongjie_values, {"event": 3})
    return "/_dash-update-component", {"data": json.dumps(payload), "content_type": "application/json"}


@pytest.fixture(scope="module")
def csrf_app(shared_app):
    return shared_app


def _csrf_headers(app, variant: str) -> dict:
    headers = CSRF_VARIANTS[variant]
    if headers == "other":  # a real token, of someone else's session
        other = signed_in(app, "dongjie")
        return {"X-CSRFToken": other.environ_base["HTTP_X_CSRFTOKEN"]}
    if "Origin" in headers:  # the right token, from another site
        return dict(headers)
    return headers


def _assert_csrf_refused(app, path: str, kwargs: dict, variants) -> None:
    """POST ``path`` once per CSRF variant from one session: each a 403 with a message, one "csrf" audit row
    each, and nothing else changed in the store; the session itself still works afterwards."""
    engine = engine_of(app)
    client = signed_in(app, "dongjie")
    right = client.environ_base.pop("HTTP_X_CSRFTOKEN")
    attempts = []
    for variant in variants:  # made first: "another session's token" signs another session in
        headers = _csrf_headers(app, variant)
        if "Origin" in headers:
            headers["X-CSRFToken"] = right
        attempts.append((variant, headers))
    before, audit_before = c.snapshot(engine), c.audit_rows(engine)
    for variant, headers in attempts:
        body = json_refusal(client.post(path, headers=headers, **kwargs), 403)
        assert body["error"] == "forbidden" and "CSRF" in body["message"], (path, variant)
    assert c.snapshot(engine) == before, path
    assert [(r[2], r[4]) for r in c.new_audit_rows(engine, audit_before)] == [("csrf", "refused")] * len(attempts)
    client.environ_base["HTTP_X_CSRFTOKEN"] = right
    works(client)  # the session itself is untouched


@pytest.mark.parametrize("write", WRITES)
def test_every_write_route_refuses_a_request_without_the_sessions_csrf_token(csrf_app, write):
    path, kwargs = WRITES[write]
    _assert_csrf_refused(csrf_app, path, kwargs, CSRF_VARIANTS)


@pytest.mark.parametrize("key", list(CALLBACKS), ids=c.callback_id)
def test_every_server_callback_refuses_a_request_without_the_csrf_token(csrf_app, key):
    path, kwargs = _callback_request(csrf_app, key)
    _assert_csrf_refused(csrf_app, path, kwargs, ["no token", "wrong token", "foreign origin", "null origin"])


def test_the_same_writes_with_the_token_succeed(cheap_argon2):
    """The control: each write refused above goes through with the session's token (so the refusal is the token's)."""
    expected = {"report": 201, "transition": 200, "reveal": 200, "public-wall": 200, "sign-out": 303, "password": 303}
    for write, status in expected.items():  # the password last: it changes what the next sign-in needs
        path, kwargs = WRITES[write]
        answer = signed_in(cheap_argon2, "dongjie").post(path, **kwargs)
        assert answer.status_code == status, (write, answer.status_code, answer.data[:300])
    for key in CALLBACKS:
        client = signed_in(cheap_argon2, "admin" if key.startswith("..admin") else "dongjie")
        path, kwargs = _callback_request(cheap_argon2, key)
        assert client.post(path, **kwargs).status_code in (200, 204), key


@pytest.mark.parametrize("case", ["no token, no cookie", "token, no cookie", "cookie, no token", "mismatch"])
def test_sign_in_without_the_forms_token_and_cookie_is_refused_and_changes_nothing(shared_app, case):
    engine = engine_of(shared_app)
    client = fresh_client(shared_app)
    page = client.get("/auth/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    form = {"name": "dongjie", "password": PASSWORD}  # the right password: only the token is missing
    if case in ("token, no cookie", "mismatch"):
        form["csrf_token"] = token if case == "token, no cookie" else "x" * len(token)
    if case in ("no token, no cookie", "token, no cookie"):
        client.delete_cookie(access.CSRF_COOKIE)
    before, audit_before = c.snapshot(engine), c.audit_rows(engine)
    answer = client.post("/auth/sign-in", data=form)
    assert answer.status_code == 400 and EXPIRED_ZH in answer.get_data(as_text=True)
    assert session_cookie(client) is None
    assert c.snapshot(engine) == before and c.new_audit_rows(engine, audit_before) == []


# -- roles ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("user, event", [("viewer", 9), ("leader", 3), ("admin", 3)])
def test_roles_that_may_not_act_or_reveal_get_403_inside_their_own_scope(shared_app, clients, user, event):
    engine = engine_of(shared_app)
    client = clients(user)
    before = c.snapshot(engine)
    json_refusal(client.post(f"/api/v1/events/{event}/transitions", json={"action": "handle"}), 403)
    json_refusal(client.post(f"/api/v1/events/{event}/reveal"), 403)
    json_refusal(client.post("/api/v1/events", json={**RECORD, "id": f"role-{user}"}), 403)
    # The "show" button's callback, forged: refused in words, audited, nothing revealed.
    key = next(k for k in CALLBACKS if "overview-reporter" in k)
    payload = c.callback_payload(key, c.server_callbacks(shared_app)[key], lambda cid, p: 1 if p == "n_clicks" else "zh",
                                 {"event": event})
    shown = c.post_callback(client, payload)
    assert shown.status_code == 200 and "无权查看" in c.decoded(shown)
    assert "13812345678" not in c.decoded(shown) and "李娜" not in c.decoded(shown)
    assert c.snapshot(engine) == before
    assert ("reveal", "refused") in {(r[2], r[4]) for r in c.audit_rows(engine) if r[1] == user}


def _reveal_callback(app, client, event: int) -> str:
    key = next(k for k in CALLBACKS if "overview-reporter" in k)
    payload = c.callback_payload(key, c.server_callbacks(app)[key], lambda cid, p: 1 if p == "n_clicks" else "zh",
                                 {"event": event})
    answer = c.post_callback(client, payload)
    assert answer.status_code == 200, answer.data[:300]
    return next(iter(answer.get_json()["response"].values()))["children"]


def test_a_street_operator_acts_and_reveals_only_inside_the_street(fresh_app):
    engine = engine_of(fresh_app)
    client = signed_in(fresh_app, "dongjie")
    assert client.post("/api/v1/events/4/transitions", json={"action": "handle"}).status_code == 200
    for eid in (6, 8):  # 南苑 (same district), 西城区
        json_refusal(client.post(f"/api/v1/events/{eid}/transitions", json={"action": "handle"}), 404)
        json_refusal(client.post(f"/api/v1/events/{eid}/reveal"), 404)
        assert _reveal_callback(fresh_app, client, eid) == "—"
    shown = client.post("/api/v1/events/3/reveal")
    assert shown.status_code == 200 and shown.get_json()["reporter"] == "李娜 13812345678"
    assert shown.headers["Cache-Control"] == "no-store"
    assert _reveal_callback(fresh_app, client, 3) == "李娜 13812345678"
    reveals = [(r[3], r[4]) for r in c.audit_rows(engine) if r[2] == "reveal"]
    assert reveals.count(("3", "ok")) == 2 and ("6", "refused") in reveals and ("8", "refused") in reveals


def test_a_token_limited_to_a_street_behaves_like_the_streets_operator(fresh_app):
    from queries import tokens

    with engine_of(fresh_app).begin() as conn:
        token = tokens.create_token(conn, name="east-street-app", now=handcity.NOW, scope_code="329902001")
    client = fresh_client(fresh_app)
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/areas", headers=auth).get_json()["areas"][0]["code"] == "329902001"
    for code in ("329902", "329900", "329902002", handcity.C1 + "001"):
        json_refusal(client.get(f"/api/v1/areas/{code}", headers=auth), 404)
    assert client.post("/api/v1/events/4/transitions", json={"action": "handle"}, headers=auth).status_code == 200
    for eid in (6, 8):
        json_refusal(client.post(f"/api/v1/events/{eid}/transitions", json={"action": "handle"}, headers=auth), 404)
        json_refusal(client.get(f"/api/v1/events/{eid}", headers=auth), 404)
    listed = {int(r["service_request_id"]) for r in client.get(f"/open311/v2/requests.json?api_key={token}").get_json()}
    assert listed == {1, 2, 3, 4, 5}
    outside = client.post("/api/v1/events", json={**RECORD, "id": "tok-1", "lat": 31.1, "lon": 120.15}, headers=auth)
    assert outside.status_code == 422 and "outside the area 329902001" in outside.get_data(as_text=True)


def test_a_department_handler_who_redispatches_a_case_gets_an_answer_not_a_500(fresh_app):
    """dept_xc passes its case 10 on to the city hotline center: the step is stored, and answered."""
    client = signed_in(fresh_app, "dept_xc")
    for step in ({"action": "accept"}, {"action": "register"}):
        assert client.post("/api/v1/events/10/transitions", json=step).status_code == 200
    moved = client.post("/api/v1/events/10/transitions", json={"action": "dispatch", "department": "329900-12"})
    assert moved.status_code == 200, (moved.status_code, moved.data[:200])
    assert moved.get_json()["department"] == "329900-12"


def test_the_public_wall_hides_the_user_and_every_show_button(shared_app):
    client = signed_in(shared_app, "dongjie")
    key = next(k for k in CALLBACKS if "overview-building.children" in k)

    def card() -> str:
        payload = c.callback_payload(key, c.server_callbacks(shared_app)[key], _dongjie_values)
        return c.decoded(c.post_callback(client, payload))

    assert "overview-reveal" in card() and "测试dongjie" in c.decoded(client.get("/_dash-layout"))
    assert client.post("/auth/public-wall", data={"on": "1"}).get_json() == {"public_wall": True}
    assert "overview-reveal" not in card() and "李*" in card()
    assert "测试dongjie" not in c.decoded(client.get("/_dash-layout"))
    body = json_refusal(client.post("/api/v1/events/3/reveal"), 403)
    assert "public wall" in body["message"]
    assert _reveal_callback(shared_app, client, 3) == "无权查看"


# -- injection -----------------------------------------------------------------------------------------------
SQL = "' OR 1=1 --"
SCRIPT = "<script>alert(1)</script>"


def test_injection_in_the_sign_in_fields_is_refused_as_text(cheap_argon2):
    engine = engine_of(cheap_argon2)
    client = fresh_client(cheap_argon2, address="10.0.0.7")
    before = c.snapshot(engine, skip_columns=SIGNIN_ATTEMPT_COLUMNS)
    attempts = [(SQL, PASSWORD), ("leader' --", PASSWORD), ('"><script>alert(1)</script>', PASSWORD),
                ("leader", "' OR '1'='1' --"), ("leader", SCRIPT)]
    for name, password in attempts:
        answer = form_sign_in(client, name, password)
        text = answer.get_data(as_text=True)
        assert answer.status_code == 200 and REFUSED_ZH in text, name
        assert "<script>" not in text and session_cookie(client) is None, name
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in form_sign_in(
        client, '"><script>alert(1)</script>', "x").get_data(as_text=True)
    assert c.snapshot(engine, skip_columns=SIGNIN_ATTEMPT_COLUMNS) == before
    with engine.connect() as conn:
        assert conn.execute(select(users.c.failed_sign_ins).where(users.c.name == "leader")).scalar() == 2


def test_injection_in_the_password_form_is_refused_as_text(cheap_argon2):
    engine = engine_of(cheap_argon2)
    client = signed_in(cheap_argon2, "dongjie")
    before = c.snapshot(engine, skip_columns=SIGNIN_ATTEMPT_COLUMNS)  # a wrong guess counts towards the lock
    for current in (SQL, SCRIPT, "' OR '1'='1"):
        answer = client.post("/auth/password", data={"current": current, "new": "a-new-password-42",
                                                     "again": "a-new-password-42", "lang": "zh"})
        text = answer.get_data(as_text=True)
        assert answer.status_code == 200 and "当前密码不正确" in text and "<script>" not in text
    assert c.snapshot(engine, skip_columns=SIGNIN_ATTEMPT_COLUMNS) == before
    works(client)


def test_injection_in_the_audit_pages_filters_matches_nothing(fresh_app):
    client = signed_in(fresh_app, "admin")
    key = next(k for k in CALLBACKS if "admin-audit-grid.rowData" in k)
    values = {"admin-audit-actor": SQL, "admin-audit-search": f"{SCRIPT} {SQL}", "admin-audit-action": "sign_in' --",
              "admin-audit-lang": "zh"}
    payload = c.callback_payload(key, c.server_callbacks(fresh_app)[key], lambda cid, p: values.get(cid))
    answer = c.post_callback(client, payload)
    assert answer.status_code == 200, answer.data[:300]
    rows = next(v for k, v in answer.get_json()["response"].items() if k == "admin-audit-grid")["rowData"]
    assert rows == []


OPEN_REDIRECTS = ["//evil.example", "/\\evil.example", "https://evil.example/", "javascript:alert(1)",
                  "http:evil.example", "\t//evil.example", "/\t/evil.example", " //evil.example", "///evil.example",
                  "\\\\evil.example", "/auth/sign-out", "/\r\nLocation: https://evil.example"]


def _same_site(location: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(location)
    return parts.scheme in ("", "http") and parts.netloc in ("", "localhost") and location.startswith("/") \
        and not location.startswith(("//", "/\\"))


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_next_on_the_sign_in_page_is_never_another_site(shared_app, target):
    from urllib.parse import quote

    page = fresh_client(shared_app).get(f"/auth/sign-in?next={quote(target, safe='')}")
    hidden = re.search(r'name="next" value="([^"]*)"', page.get_data(as_text=True)).group(1)
    assert hidden == "/", (target, hidden)


def test_a_sign_in_with_an_open_redirect_next_lands_on_this_site(cheap_argon2):
    for target in ("//evil.example", "/\\evil.example", "https://evil.example/", "javascript:alert(1)"):
        answer = form_sign_in(fresh_client(cheap_argon2), "dongjie", PASSWORD, next_path=target)
        assert answer.status_code == 303 and answer.headers["Location"] == "/", (target, answer.headers["Location"])
    kept = form_sign_in(fresh_client(cheap_argon2), "dongjie", PASSWORD, next_path="/?area=329902001001")
    assert kept.headers["Location"] == "/?area=329902001001" and _same_site(kept.headers["Location"])


HOSTILE_QUERIES = [
    "/api/v1/areas/329902'%20OR%20'1'='1", "/api/v1/areas/329902%3BDROP%20TABLE%20events",
    "/api/v1/areas/329902/children?as_of=2026-11-20T15:00:00%2B08:00'%20OR%201=1--",
    f"/api/v1/areas?from={SQL}", f"/api/v1/areas?to={SCRIPT}",
    f"/api/v1/events?source=hotline'%20OR%201=1--&id=1", f"/api/v1/events?source=hotline&id={SQL}",
    f"/api/v1/events/1%20OR%201=1", f"/api/v1/events/{SCRIPT}",
    "/geo/children/329902%20OR%201=1.json", f"/geo/children/{SCRIPT}.json",
    f"/open311/v2/requests.json?service_request_id=1)%20OR%20(1=1", f"/open311/v2/requests.json?service_code={SQL}",
    f"/open311/v2/requests.json?status={SQL}", f"/open311/v2/requests.json?start_date={SQL}",
    f"/open311/v2/requests.json?page=1;DROP%20TABLE%20events", f"/open311/v2/requests.json?limit={SCRIPT}",
    f"/open311/v2/requests/1%20OR%201=1.json", f"/open311/v2/requests.xml?end_date={SCRIPT}",
    f"/open311/v2/services/{SQL}.json", f"/admin/audit/export.csv?q={SQL}&actor={SCRIPT}",
]


@pytest.mark.parametrize("path", HOSTILE_QUERIES)
def test_sql_and_script_in_query_parameters_are_refused_or_taken_as_text(shared_app, clients, path):
    engine = engine_of(shared_app)
    client = clients("dongjie")
    before = c.snapshot(engine)
    answer = client.get(path)
    if answer.status_code == 200:  # a "/" in the script made it no API path: the app's page, the URL escaped
        body = answer.get_data(as_text=True)
        assert answer.mimetype == "text/html" and '<div id="react-entry-point">' in body and "<script>alert" not in body
        assert c.snapshot(engine) == before
        return
    assert answer.status_code in (400, 403, 404), (path, answer.status_code, answer.data[:300])
    if path.startswith("/open311/") and path.split("?")[0].endswith(".xml"):
        assert b"<description>" in answer.data and b"<script>" not in answer.data
    else:
        json_refusal(answer, answer.status_code)
    assert "<script>" not in answer.headers.get("Content-Type", "") and answer.mimetype != "text/html"
    assert c.snapshot(engine) == before


def test_script_and_sql_stored_through_the_api_come_back_as_text(fresh_app):
    from queries import tokens

    engine = engine_of(fresh_app)
    with engine.begin() as conn:
        token = tokens.create_token(conn, name="reader", now=handcity.NOW)
    client = signed_in(fresh_app, "dongjie")
    description = f"{SCRIPT} {SQL} <img src=x onerror=alert(1)>"
    reporter = f"<b onmouseover=alert(1)>张三</b> {SQL} 13912345678"
    posted = client.post("/api/v1/events", json={**RECORD, "id": "xss-1", "lat": 31.12, "description": description,
                                                 "reporter": reporter, "accepted_at": "2026-11-20T14:00:10+08:00",
                                                 "registered_at": "2026-11-20T14:00:20+08:00",
                                                 "dispatched_at": "2026-11-20T14:00:30+08:00"})
    assert posted.status_code == 201, posted.data[:300]
    eid = posted.get_json()["events"][0]["event_id"]
    whole = fresh_client(fresh_app).get(f"/api/v1/events/{eid}", headers={"Authorization": f"Bearer {token}"})
    assert whole.mimetype == "application/json" and whole.headers["X-Content-Type-Options"] == "nosniff"
    assert (whole.get_json()["description"], whole.get_json()["reporter"]) == (description, reporter)  # verbatim
    masked = client.get(f"/api/v1/events/{eid}").get_json()
    assert masked["description"] == description and "13912345678" not in masked["reporter"]
    building = whole.get_json()["building_code"]
    # The building card: the reporter is a text child of a Span (React renders it as text, never as HTML).
    key = next(k for k in CALLBACKS if "overview-building.children" in k)
    view = {"code": building[:15], "building": {"code": building}}
    payload = c.callback_payload(key, c.server_callbacks(fresh_app)[key],
                                 lambda cid, p: view if cid == "overview-view" else ("zh" if p == "data" else 1))
    card = c.post_callback(client, payload).get_json()["response"]["overview-building"]["children"]
    spans = []

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict) and "props" in node:
            assert node["type"] not in ("Markdown", "Iframe", "Script", "DangerouslySetInnerHTML"), node["type"]
            assert not {"dangerously_allow_html", "srcDoc"} & set(node["props"]), node["props"]
            if node["props"].get("id") == {"type": "overview-reporter", "event": eid}:
                spans.append(node)
            walk(node["props"].get("children"))

    walk(card)
    (span,) = spans
    assert span["type"] == "Span" and isinstance(span["props"]["children"], str)
    assert "<b onmouseover" not in span["props"]["children"] and "139****5678" in span["props"]["children"]
    assert _reveal_callback(fresh_app, client, eid) == reporter  # the audited "show": the exact text, as text
    listed = client.get(f"/open311/v2/requests/{eid}.json").get_json()[0]
    assert listed["description"] == description
    xml = client.get(f"/open311/v2/requests/{eid}.xml").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in xml and "<script>" not in xml


# -- path traversal ------------------------------------------------------------------------------------------
TRAVERSALS = [
    "/geo/children/..%2F..%2F..%2Fetc%2Fpasswd.json", "/geo/children/../../etc/passwd.json",
    "/geo/children/%2e%2e%2f%2e%2e%2fsecret_key.json", "/geo/children/329900.json%00.py",
    "/assets/../dashboard/access.py", "/assets/..%2f..%2fpyproject.toml", "/assets/%2e%2e/%2e%2e/pyproject.toml",
    "/assets/..%5c..%5cpyproject.toml", "/assets/vendor/../../dashboard/access.py", "/assets/%2fetc%2fpasswd",
    "/assets//etc/passwd", "/assets/....//....//pyproject.toml",
    "/_dash-component-suites/dash/../../../../etc/passwd", "/_dash-component-suites/dash/..%2f..%2f..%2fetc%2fpasswd",
    "/_dash-component-suites/../../../etc/passwd", "/_dash-component-suites/dash/deps/..%2f..%2f__init__.py",
    "/api/v1/../../etc/passwd", "/api/v1/%2e%2e/%2e%2e/dashboard/access.py", "/api/v1/..%2f..%2fsecret_key",
    "/static/../dashboard/access.py", "/static/..%2fsecret_key", "/open311/v2/../../../etc/passwd",
    "/admin/audit/export.csv/../../../etc/passwd", "/_favicon.ico/../../pyproject.toml",
]


def _secrets(app) -> list[str]:
    from pathlib import Path

    settings = app.server.extensions["gridcc"].settings
    key = (Path(settings.data_dir) / "secret_key").read_text().strip()
    return ["root:x:0:0", key, "def gate(", "[project]", "import ", "DUCK"]


@pytest.mark.parametrize("signed", [True, False], ids=["signed-in", "anonymous"])
@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_file_outside_the_assets_is_ever_served(shared_app, clients, path, signed):
    client = clients("dongjie") if signed else fresh_client(shared_app)
    answer = client.get(path)
    body = answer.get_data(as_text=True)
    for secret in _secrets(shared_app):
        assert secret not in body, (path, answer.status_code, secret)
    assert answer.status_code in (200, 303, 400, 401, 404, 500), (path, answer.status_code)
    if answer.status_code == 200:  # only the app's own page (the catch-all), never a file
        assert answer.mimetype == "text/html" and '<div id="react-entry-point">' in body, path


@pytest.mark.parametrize("path", ["/_dash-component-suites/dash/../../../../etc/passwd",
                                  "/_dash-component-suites/os/path.py", "/_dash-component-suites/dash/dash.py"])
def test_a_bad_component_suite_path_is_a_clear_404(shared_app, path):
    json_refusal(fresh_client(shared_app).get(path), 404)


@pytest.mark.parametrize("path", ["/assets//etc/passwd", "/assets/%2f..%2f_dash-layout", "/favicon.ico"])
def test_an_open_prefix_never_opens_the_app_page_without_a_session(shared_app, path):
    answer = fresh_client(shared_app).get(path, headers={"Accept": "text/html"})
    assert answer.status_code in (303, 404), (path, answer.status_code)


@pytest.mark.parametrize("path", ["/auth/sign-in", "/assets/gridcc.css", "/_favicon.ico", "/api/v1/openapi.json",
                                  "/open311/v2/services.json", "/open311/v2/services/0505.json"])
def test_the_open_paths_hold_no_data(shared_app, path):
    answer = fresh_client(shared_app).get(path)
    assert answer.status_code == 200, path
    if not answer.mimetype.startswith(("text/", "application/json")):
        return  # the icon
    text = c.decoded(answer)
    assert not c.leaks(text, names=[n for code, n in c.AREA_NAME.items()]), path


@pytest.mark.parametrize("path", ["/_reload-hash", "/_dash-layout", "/_dash-dependencies", "/admin/audit",
                                  "/api/v1/areas", "/api/v1/nothing", "/open311/v2/requests.json", "/open311/v2/",
                                  "/open311/v2/nothing", "/geo/children/329900.json", "/static/x.css"])
def test_everything_else_needs_a_caller(shared_app, path):
    answer = fresh_client(shared_app).get(path, headers={"Accept": "text/html"})
    assert answer.status_code in (303, 401), (path, answer.status_code)
    if answer.status_code == 303:
        assert answer.headers["Location"].startswith("/auth/sign-in?next=")


# -- brute force ---------------------------------------------------------------------------------------------
def test_five_wrong_passwords_lock_the_user_and_then_even_the_right_one_fails(cheap_argon2):
    engine = engine_of(cheap_argon2)
    client = fresh_client(cheap_argon2, address="10.0.0.5")
    before = c.snapshot(engine, skip_columns=SIGNIN_ATTEMPT_COLUMNS)
    audit_before = c.audit_rows(engine)
    answers = [form_sign_in(client, "dongjie", f"wrong-password-{i}") for i in range(5)]
    answers.append(form_sign_in(client, "dongjie", PASSWORD))
    texts = {re.search(r'role="alert">([^<]+)<', a.get_data(as_text=True)).group(1) for a in answers}
    assert len(texts) == 1 and REFUSED_ZH in texts.pop()  # the same answer each time, the lock included
    assert all(a.status_code == 200 for a in answers) and session_cookie(client) is None
    with engine.connect() as conn:
        row = conn.execute(select(users.c.failed_sign_ins, users.c.locked_until).where(users.c.name == "dongjie")).one()
    assert tuple(row) == (5, handcity.NOW + timedelta(minutes=15))
    assert c.snapshot(engine, skip_columns=SIGNIN_ATTEMPT_COLUMNS) == before
    assert [(r[1], r[2], r[4]) for r in c.new_audit_rows(engine, audit_before)] == \
        [("dongjie", "sign_in", "refused")] * 5 + [("dongjie", "sign_in", "locked")]


def test_twenty_failures_from_one_address_throttle_it_for_every_name(cheap_argon2):
    engine = engine_of(cheap_argon2)
    client = fresh_client(cheap_argon2, address="10.0.0.6")
    before = c.snapshot(engine, skip_columns=SIGNIN_ATTEMPT_COLUMNS)
    audit_before = c.audit_rows(engine)
    names = [f"nobody-{i}" for i in range(18)] + ["viewer", SQL]
    for i, name in enumerate(names):
        # A proxy header the client writes itself changes nothing: the peer address is what counts.
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"203.0.113.{i}"
        assert REFUSED_ZH in form_sign_in(client, name, "a-wrong-password").get_data(as_text=True)
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.7"
    throttled = form_sign_in(client, "xicheng", PASSWORD)  # the right password of another user
    assert throttled.status_code == 429 and THROTTLED_ZH in throttled.get_data(as_text=True)
    assert session_cookie(client) is None
    assert c.snapshot(engine, skip_columns=SIGNIN_ATTEMPT_COLUMNS) == before
    rows = c.new_audit_rows(engine, audit_before)
    assert [(r[2], r[4]) for r in rows] == [("sign_in", "refused")] * 20 + [("sign_in", "throttled")]
    # Another address is not held back.
    assert form_sign_in(fresh_client(cheap_argon2, address="10.0.0.66"), "xicheng", PASSWORD).status_code == 303


def test_the_password_form_is_not_a_way_around_the_lock_out(cheap_argon2):
    """Guessing the current password on /auth/password counts like sign-in: the fifth wrong one locks the user
    and ends their sessions; the right password then fails on the sign-in page too."""
    engine = engine_of(cheap_argon2)
    client = signed_in(cheap_argon2, "dongjie")
    before = c.snapshot(engine, skip_columns={**SIGNIN_ATTEMPT_COLUMNS, "web_sessions": {"ended_at"}})
    audit_before = c.audit_rows(engine)
    form = {"new": "a-new-password-42", "again": "a-new-password-42", "lang": "zh"}
    for i in range(4):
        wrong = client.post("/auth/password", data={**form, "current": f"guess-{i}-xxxxxxxx"})
        assert wrong.status_code == 200 and "当前密码不正确" in wrong.get_data(as_text=True)
    fifth = client.post("/auth/password", data={**form, "current": "guess-4-xxxxxxxx"})
    assert fifth.status_code == 303 and fifth.headers["Location"].startswith("/auth/sign-in")
    refused_everywhere(client)
    assert client.post("/auth/password", data={**form, "current": PASSWORD}).status_code == 401
    with engine.connect() as conn:
        row = conn.execute(select(users.c.failed_sign_ins, users.c.locked_until).where(users.c.name == "dongjie")).one()
    assert tuple(row) == (5, handcity.NOW + timedelta(minutes=15))
    locked = form_sign_in(fresh_client(cheap_argon2, address="10.0.0.8"), "dongjie", PASSWORD)
    assert locked.status_code == 200 and REFUSED_ZH in locked.get_data(as_text=True)
    assert c.snapshot(engine, skip_columns={**SIGNIN_ATTEMPT_COLUMNS, "web_sessions": {"ended_at"}}) == before
    assert [(r[2], r[4]) for r in c.new_audit_rows(engine, audit_before)] == (
        [("password.change", "refused")] * 5 + [("session.end", "ended"), ("sign_in", "locked")])
