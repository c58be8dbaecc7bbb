"""Who sees what (issue 4): sign-in through the form, sessions that end, scopes per role, reveal, audit of writes."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dashboard import access
from dashboard.settings import Settings
from queries import sessions as session_queries
from queries.schema import audit_log, events, open_events, web_sessions
from queries.scope import Scope
from tests import handcity
from tests.conftest import signed_in

NOW = handcity.NOW


def _ctx(app):
    return app.server.extensions["gridcc"]


def _audit(app, action: str | None = None) -> list:
    with _ctx(app).engine.connect() as conn:
        stmt = select(audit_log.c.actor, audit_log.c.action, audit_log.c.outcome, audit_log.c.target,
                      audit_log.c.detail).order_by(audit_log.c.id)
        rows = conn.execute(stmt).all()
    return [r for r in rows if action is None or r.action == action]


def form_sign_in(client, name: str, password: str = handcity.PASSWORD, next_path: str = "/"):
    """Sign in as a browser does: open the form (it sets the CSRF cookie), post it back."""
    page = client.get("/auth/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    return client.post("/auth/sign-in", data={"name": name, "password": password, "csrf_token": token,
                                              "next": next_path, "lang": "zh"})


# -- the gate -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("path, status", [
    ("/", 303), ("/?area=329902", 303), ("/admin/audit", 303),
    ("/_dash-layout", 401), ("/_dash-dependencies", 401), ("/api/v1/areas", 401), ("/api/v1/events/1", 401),
    ("/geo/children/329900.json", 401), ("/open311/v2/requests.json", 401),
])
def test_acc001_nothing_answers_without_a_caller(hand_app, path, status):
    response = hand_app.server.test_client().get(path, headers={"Accept": "text/html"})
    assert response.status_code == status
    if status == 303:
        assert response.headers["Location"].startswith("/auth/sign-in?next=")
    else:
        assert "329902" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/auth/sign-in", "/assets/gridcc.css", "/assets/signin.css",
                                  "/api/v1/openapi.json", "/open311/v2/services.json"])
def test_acc002_open_paths_hold_no_data_of_the_city(hand_app, path):
    response = hand_app.server.test_client().get(path)
    assert response.status_code == 200
    assert "东城区" not in response.get_data(as_text=True)


def test_acc003_the_sign_in_page_runs_no_script_and_cannot_be_framed(hand_app):
    response = hand_app.server.test_client().get("/auth/sign-in?lang=en")
    html = response.get_data(as_text=True)
    assert "<script" not in html
    assert "Sign in to the command center" in html
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["Cache-Control"] == "no-store"


# -- signing in and out -------------------------------------------------------------------------------
def test_acc010_a_form_sign_in_starts_a_session_and_goes_where_the_user_was_going(hand_app):
    client = hand_app.server.test_client()
    response = form_sign_in(client, "dongjie", next_path="/?area=329902001001")
    assert response.status_code == 303 and response.headers["Location"] == "/?area=329902001001"
    cookie = client.get_cookie("gridcc_session")
    assert cookie.http_only and cookie.same_site == "Lax"
    assert client.get("/api/v1/areas").get_json()["areas"][0]["code"] == "329902001"
    with _ctx(hand_app).engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(web_sessions)
                            .where(web_sessions.c.user_name == "dongjie")).scalar() == 1
    assert ("dongjie", "sign_in", "ok") in [(r.actor, r.action, r.outcome) for r in _audit(hand_app)]


def test_acc011_a_wrong_password_re_shows_the_form_with_one_message_and_no_session(hand_app):
    client = hand_app.server.test_client()
    for name in ("dongjie", "nobody"):
        response = form_sign_in(client, name, "wrong password here")
        assert response.status_code == 200
        assert "用户名或密码错误" in response.get_data(as_text=True)
        assert client.get_cookie("gridcc_session") is None
    assert client.get("/api/v1/areas").status_code == 401


def test_acc012_a_sign_in_without_the_forms_token_is_refused(hand_app):
    client = hand_app.server.test_client()
    response = client.post("/auth/sign-in", data={"name": "leader", "password": handcity.PASSWORD})
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)
    assert _audit(hand_app, "sign_in") == []  # not even tried


@pytest.mark.parametrize("target, lands", [
    ("/?area=329902", "/?area=329902"), ("//evil.example/", "/"), ("/\\evil.example", "/"),
    ("https://evil.example/", "/"), ("javascript:alert(1)", "/"), ("/auth/sign-out", "/"),
    ("/\x00x", "/"), ("", "/"), ("/" + "a" * 3000, "/"),
])
def test_acc013_next_never_leaves_the_site(hand_app, target, lands):
    response = form_sign_in(hand_app.server.test_client(), "leader", next_path=target)
    assert response.headers["Location"] == lands


def test_acc014_sign_out_ends_the_session_on_the_server(hand_app):
    client = signed_in(hand_app, "dongcheng")
    old = client.get_cookie("gridcc_session").value
    assert client.post("/auth/sign-out").status_code == 303
    assert client.get("/api/v1/areas").status_code == 401
    replay = hand_app.server.test_client()
    replay.set_cookie("gridcc_session", old)
    assert replay.get("/api/v1/areas").status_code == 401  # the old cookie opens nothing
    assert [(r.actor, r.outcome) for r in _audit(hand_app, "sign_out")] == [("dongcheng", "ok")]


def test_acc015_sign_out_without_the_csrf_token_is_refused(hand_app):
    client = signed_in(hand_app, "dongcheng")
    del client.environ_base["HTTP_X_CSRFTOKEN"]
    assert client.post("/auth/sign-out").status_code == 403
    assert client.get("/api/v1/areas").status_code == 200  # a forged sign-out signs nobody out


# -- sessions that stop holding -----------------------------------------------------------------------
def _later(app, delta: timedelta) -> None:
    ctx = _ctx(app)
    ctx.settings = ctx.settings.with_(frozen_now=NOW + delta)


@pytest.mark.parametrize("delta, holds", [
    (timedelta(minutes=29), True), (timedelta(minutes=31), False),
])
def test_acc020_an_idle_session_ends(hand_app, delta, holds):
    client = signed_in(hand_app, "leader")
    _later(hand_app, delta)
    assert (client.get("/api/v1/areas").status_code == 200) is holds
    if not holds:
        assert [r.detail for r in _audit(hand_app, "session.end")] == ["idle too long"]


def test_acc021_a_used_session_still_ends_after_its_lifetime(hand_app):
    client = signed_in(hand_app, "leader")
    for hours in range(1, 12):  # used every 20 minutes for 11 h 40 min: still fine
        for minutes in (0, 20, 40):
            _later(hand_app, timedelta(hours=hours - 1, minutes=minutes))
            assert client.get("/api/v1/areas").status_code == 200
    _later(hand_app, timedelta(hours=12, minutes=1))
    assert client.get("/api/v1/areas").status_code == 401
    assert [r.detail for r in _audit(hand_app, "session.end")] == ["older than the session lifetime"]


def test_acc022_disabling_changing_role_or_password_ends_sessions(hand_app):
    from queries import users as user_queries
    from sqlalchemy import update

    from queries.schema import users

    a, b, c = (signed_in(hand_app, n) for n in ("dongjie", "xicheng", "nanyuan"))
    with _ctx(hand_app).engine.begin() as conn:
        user_queries.set_disabled(conn, name="dongjie", disabled=True)
        conn.execute(update(users).where(users.c.name == "xicheng").values(role="viewer"))
        user_queries.set_password(conn, name="nanyuan", password_hash="$argon2id$v=19$other", now=NOW)
    for client in (a, b, c):
        assert client.get("/api/v1/areas").status_code == 401
    assert sorted(r.detail for r in _audit(hand_app, "session.end")) == [
        "password, role or scope changed", "password, role or scope changed", "user disabled"]


def test_acc023_the_cli_disable_ends_every_session_of_the_user(hand_app, hand_settings):
    from dashboard import cli

    client = signed_in(hand_app, "dongjie")
    engine = _ctx(hand_app).engine
    engine.dispose()  # DuckDB: one process at a time; the CLI opens the file itself
    assert cli.main(["user", "disable", "dongjie", "--store", hand_settings.store_url]) == 0
    assert client.get("/api/v1/areas").status_code == 401
    with engine.connect() as conn:
        assert conn.execute(select(web_sessions.c.ended_at).where(web_sessions.c.user_name == "dongjie")).scalar()


# -- scopes -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("leader", Scope("329900", 0)), ("dongcheng", Scope("329902", 1)), ("dongjie", Scope("329902001", 2)),
    ("nanyuan", Scope("329902002001", 3)), ("viewer", Scope("329903", 1)),
    ("dept_dc", Scope("329902", 1, department="329902-01")),
    ("dept_city", Scope("329900", 0, department="329900-12")),
])
def test_acc030_each_user_gets_the_scope_of_their_role(hand_app, name, expected):
    with hand_app.server.test_request_context():
        assert access.current() is None
    from tests.conftest import principal_for

    assert principal_for(hand_app, name).scope == expected


@pytest.mark.parametrize("name, open_count, reported", [
    ("leader", 5, 8), ("dongcheng", 3, 6), ("xicheng", 2, 2), ("dongjie", 2, 5),
    ("dept_dc", 3, 6), ("dept_xc", 2, 2), ("dept_city", 0, 0),
])
def test_acc031_figures_are_cut_to_the_scope(hand_app, name, open_count, reported):
    client = signed_in(hand_app, name)
    body = client.get("/api/v1/areas").get_json()
    figures = body["areas"][0]["figures"]
    assert (figures["open"], figures["reported"]) == (open_count, reported)


def test_acc032_a_department_sees_only_its_own_cases(hand_app):
    client = signed_in(hand_app, "dept_xc")
    assert client.get("/api/v1/events/9").status_code == 200  # 西城区's department, its case
    assert client.get("/api/v1/events/3").status_code == 404  # 东城区's case: not there
    assert client.get("/api/v1/areas/329902").status_code == 404  # nor the district


def test_acc033_the_scope_clause_adds_the_department(hand_conn):
    scoped = select(func.count()).select_from(open_events).where(
        Scope("329900", 0, department="329903-01").events_clause(open_events))
    assert hand_conn.execute(scoped).scalar() == 3  # 8 (parked), 9, 10
    everyone = select(func.count()).select_from(events).where(Scope("329900", 0).events_clause(events))
    assert hand_conn.execute(everyone).scalar() == 11


# -- writes, reveal and their audit ------------------------------------------------------------------
def test_acc040_a_street_operator_moves_a_case_in_scope_and_it_is_audited(hand_app):
    client = signed_in(hand_app, "dongjie")
    response = client.post("/api/v1/events/10/transitions", json={"action": "accept"})
    assert response.status_code == 404  # event 10 is 西城区's
    response = client.post("/api/v1/events/4/transitions", json={"action": "handle"})  # 东街's, dispatched
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "handled"
    assert [(r.actor, r.action, r.outcome, r.target) for r in _audit(hand_app) if r.action.startswith("event.")] == [
        ("dongjie", "event.accept", "refused", "10"), ("dongjie", "event.handle", "ok", "4")]


@pytest.mark.parametrize("name", ["viewer", "leader", "admin"])
def test_acc041_read_only_roles_cannot_write(hand_app, name):
    client = signed_in(hand_app, name)
    response = client.post("/api/v1/events/4/transitions", json={"action": "handle"})
    assert response.status_code == 403
    assert client.post("/api/v1/events/3/reveal").status_code == 403
    with _ctx(hand_app).engine.connect() as conn:
        assert conn.execute(select(events.c.status).where(events.c.id == 4)).scalar() == "dispatched"


def test_acc042_a_person_reads_reporters_masked_and_reveals_them_on_purpose(hand_app):
    client = signed_in(hand_app, "dongjie")
    event = client.get("/api/v1/events/3").get_json()
    assert event["reporter"] == "李* 138****5678"
    assert _audit(hand_app, "reveal") == []
    shown = client.post("/api/v1/events/3/reveal")
    assert shown.get_json()["reporter"] == "李娜 13812345678"
    assert shown.headers["Cache-Control"] == "no-store"
    assert [(r.actor, r.outcome, r.target) for r in _audit(hand_app, "reveal")] == [("dongjie", "ok", "3")]


def test_acc043_nothing_is_revealed_on_a_public_wall(hand_app):
    client = signed_in(hand_app, "dongjie")
    assert client.post("/auth/public-wall", data={"on": "1"}).get_json() == {"public_wall": True}
    assert client.post("/api/v1/events/3/reveal").status_code == 403
    assert client.post("/auth/public-wall", data={"on": "0"}).get_json() == {"public_wall": False}
    assert client.post("/api/v1/events/3/reveal").status_code == 200
    assert [r.detail for r in _audit(hand_app, "public_wall")] == ["on", "off"]


def test_acc044_a_public_wall_server_cannot_be_unmasked(hand_settings):
    from dashboard.app import create_app

    app = create_app(hand_settings.with_(public_wall=True))
    try:
        client = signed_in(app, "dongjie")
        assert client.post("/api/v1/events/3/reveal").status_code == 403
        assert client.post("/auth/public-wall", data={"on": "0"}).status_code == 409
    finally:
        app.server.extensions["gridcc"].engine.dispose()


def test_acc045_the_building_card_masks_and_the_show_button_reveals(hand_app):
    """The overview's building card: masked reporter, a "show" button for roles that may, audited."""
    import json

    from tests.callbacks.test_forged import post

    from layouts import overview as ids

    client = signed_in(hand_app, "dongjie")
    view = {"code": handcity.A1, "building": {"code": handcity.A1 + "002"}}
    card = json.dumps(post(client, hand_app, ids.BUILDING, {ids.VIEW: view, ids.LANG: "zh"}).get_json(),
                      ensure_ascii=False)
    assert "李* 138****5678" in card and "李娜" not in card and ids.REVEAL in card
    viewer_card = json.dumps(post(signed_in(hand_app, "leader"), hand_app, ids.BUILDING,
                                  {ids.VIEW: view, ids.LANG: "zh"}).get_json(), ensure_ascii=False)
    assert "李* 138****5678" in viewer_card and ids.REVEAL not in viewer_card


def test_acc046_token_writes_are_audited_one_row_per_request(hand_app):
    from queries import tokens

    with _ctx(hand_app).engine.begin() as conn:
        token = tokens.create_token(conn, name="hotline", now=NOW)
    client = hand_app.server.test_client()
    record = {"source": "hotline", "id": "T-1", "category": "0505", "lat": 31.1, "lon": 120.02,
              "reported_at": "2026-11-20T14:30:00+08:00", "reporter": "赵六 13700001111"}
    response = client.post("/api/v1/events", json=[record, {**record, "id": "T-2"}],
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_json()
    rows = [(r.actor, r.action, r.outcome, r.detail) for r in _audit(hand_app, "events.report")]
    assert rows == [("hotline", "events.report", "ok", "2 created, 0 existing")]
    event_id = response.get_json()["events"][0]["event_id"]
    whole = client.get(f"/api/v1/events/{event_id}", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert whole["reporter"] == "赵六 13700001111"  # a system reads it whole …
    assert [(r.actor, r.target) for r in _audit(hand_app, "reveal")] == [("hotline", str(event_id))]  # … audited


# -- settings --------------------------------------------------------------------------------------
def test_acc050_the_secret_key_is_made_once_and_kept_private(tmp_path):
    settings = Settings(data_dir=tmp_path)
    key = settings.secret()
    assert len(key) == 64 and settings.secret() == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert Settings(data_dir=tmp_path, secret_key="k" * 40).secret() == "k" * 40
    (tmp_path / "secret_key").write_text("short")
    with pytest.raises(ValueError, match="shorter than 32"):
        settings.secret()


def test_acc051_sessions_store_only_a_hash_of_the_id(hand_app):
    client = signed_in(hand_app, "leader")
    with client.session_transaction() as session:
        session_id = session["sid"]
    with _ctx(hand_app).engine.connect() as conn:
        stored = conn.execute(select(web_sessions.c.id_sha256)).scalars().all()
        assert session_id not in stored and session_queries.live(conn, id_sha256=access._digest(session_id))


# -- one's own password --------------------------------------------------------------------------------
def _password_form(client) -> str:
    page = client.get("/auth/password")
    assert page.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


@pytest.mark.parametrize("current, new, again, message", [
    ("not my password!", "a brand new secret", "a brand new secret", "当前密码不正确"),
    (handcity.PASSWORD, "a brand new secret", "a brand new secreT", "两次输入的新密码不一致"),
    (handcity.PASSWORD, handcity.PASSWORD, handcity.PASSWORD, "不能与当前密码或用户名相同"),
    (handcity.PASSWORD, "short", "short", "至少需要 10 个字符"),
    (handcity.PASSWORD, "x" * 300, "x" * 300, "至少需要 10 个字符"),
])
def test_acc060_a_bad_new_password_is_refused_with_its_reason(hand_app, current, new, again, message):
    client = signed_in(hand_app, "dongjie")
    token = _password_form(client)
    response = client.post("/auth/password", data={"current": current, "new": new, "again": again,
                                                    "csrf_token": token})
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert client.get("/api/v1/areas").status_code == 200  # nothing changed: the session holds
    assert [r.outcome for r in _audit(hand_app, "password.change")] == ["refused"]


def test_acc061_a_new_password_ends_every_other_session_and_keeps_this_one(hand_app):
    here, elsewhere = signed_in(hand_app, "dongjie"), signed_in(hand_app, "dongjie")
    token = _password_form(here)
    response = here.post("/auth/password", data={"current": handcity.PASSWORD, "new": "my own secret 42",
                                                  "again": "my own secret 42", "csrf_token": token})
    assert response.status_code == 303
    here.environ_base["HTTP_X_CSRFTOKEN"] = here.get_cookie("_csrf_token").value
    assert here.get("/api/v1/areas").status_code == 200  # this browser got a new session
    assert elsewhere.get("/api/v1/areas").status_code == 401  # the other one ended
    assert form_sign_in(hand_app.server.test_client(), "dongjie", "my own secret 42").status_code == 303
    assert [(r.outcome, r.detail) for r in _audit(hand_app, "password.change")] == [("ok", "2 sessions ended")]


def test_acc062_a_one_time_password_opens_nothing_but_the_password_form(hand_app):
    from queries import users as user_queries
    from dashboard import auth

    with _ctx(hand_app).engine.begin() as conn:
        user_queries.set_password(conn, name="xicheng", password_hash=auth.hash_password("one-time-pass-1"),
                                  now=NOW, must_change=True)
    client = hand_app.server.test_client()
    assert form_sign_in(client, "xicheng", "one-time-pass-1").status_code == 303
    assert client.get("/", headers={"Accept": "text/html"}).headers["Location"] == "/auth/password"
    assert client.get("/api/v1/areas").status_code == 403
    page = client.get("/auth/password").get_data(as_text=True)
    assert "一次性密码" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/auth/password", data={"current": "one-time-pass-1", "new": "xicheng's own 1",
                                        "again": "xicheng's own 1", "csrf_token": token})
    assert client.get("/api/v1/areas").get_json()["areas"][0]["code"] == "329903"


# -- a checked session is trusted for a moment -----------------------------------------------------------
def test_acc070_a_change_made_here_ends_a_remembered_session_at_once(hand_settings):
    from dashboard.app import create_app
    from queries import users as user_queries

    app = create_app(hand_settings.with_(session_recheck_s=3600))  # remembered "for ever"
    try:
        client = signed_in(app, "dongjie")
        assert client.get("/api/v1/areas").status_code == 200  # now remembered
        with _ctx(app).engine.begin() as conn:
            user_queries.set_disabled(conn, name="dongjie", disabled=True)  # through this process's queries
        assert client.get("/api/v1/areas").status_code == 401
        other = signed_in(app, "xicheng")
        assert other.get("/api/v1/areas").status_code == 200
        assert other.post("/auth/sign-out").status_code == 303
        assert other.get("/api/v1/areas").status_code == 401
    finally:
        _ctx(app).engine.dispose()


def test_acc071_a_change_made_elsewhere_takes_effect_within_the_recheck_time(hand_settings):
    import time

    from sqlalchemy import update

    from dashboard.app import create_app

    app = create_app(hand_settings.with_(session_recheck_s=0.3))
    try:
        client = signed_in(app, "dongjie")
        assert client.get("/api/v1/areas").status_code == 200
        with _ctx(app).engine.begin() as conn:  # as another process would: plain SQL, no notice
            conn.execute(update(web_sessions).values(ended_at=NOW))
        assert client.get("/api/v1/areas").status_code == 200  # still remembered …
        time.sleep(0.35)
        assert client.get("/api/v1/areas").status_code == 401  # … for no longer than the recheck time
    finally:
        _ctx(app).engine.dispose()
