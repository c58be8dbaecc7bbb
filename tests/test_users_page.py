"""The user management page (/admin/users): whom each manager sees, what they may give, and the audited writes.

Worked out by hand from tests/handcity.py's ten users and auth.may_manage:

  admin      sees all ten: admin dept_city dept_dc dept_xc dongcheng dongjie leader nanyuan viewer xicheng
  dongcheng  (district manager of 东城区 329902) sees dept_dc (东城区城管执法局 serves 329902), dongjie (street
             329902001), nanyuan (community 329902002001) — not itself, xicheng, leader, admin, dept_city (a
             city department), dept_xc, nor viewer (viewer of 西城区 329903)
  xicheng    (329903) sees dept_xc and viewer (a viewer of the district itself)
  everyone else may manage no one.

What dongcheng may give (DISTRICT_GRANTS inside 329902):
  street_operator     329902001 东街街道, 329902001001 东街社区, 329902002 南苑街道, 329902002001 南苑社区
  department_handler  329902-01
  viewer              329902 itself and the four above
"""
from __future__ import annotations

import dataclasses
import json
import re
import shutil

import flask
import pytest
from plotly.utils import PlotlyJSONEncoder
from sqlalchemy import select

from callbacks import users as cb
from dashboard import auth, user_admin
from dashboard.settings import Settings
from layouts import users as ids
from queries import users as user_queries
from queries.schema import audit_log, users, web_sessions
from tests import handcity
from tests.callbacks.test_forged import _callback
from tests.conftest import principal_for, signed_in
from tests.test_access import form_sign_in

ALL_USERS = sorted(handcity.USERS)
DONGCHENG_SEES = ["dept_dc", "dongjie", "nanyuan"]
NON_MANAGERS = [name for name, (role, _) in handcity.USERS.items() if role not in ("admin", "district_manager")]
OTP = re.compile(r"[a-hj-km-np-z2-9]{4}-[a-hj-km-np-z2-9]{4}-[a-hj-km-np-z2-9]{4}")


# -- helpers ----------------------------------------------------------------------------------------------
def _engine(app):
    return app.server.extensions["gridcc"].engine


def users_table(app) -> list[tuple]:
    """Return every column of every user, by name: what "no change" is compared against."""
    with _engine(app).connect() as conn:
        return [tuple(row) for row in conn.execute(select(users).order_by(users.c.name))]


def audit_of(app, actor: str, prefix: str = "user.") -> list:
    """Return ``actor``'s audit rows whose action starts with ``prefix``, oldest first."""
    with _engine(app).connect() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.actor == actor).order_by(audit_log.c.id)).fetchall()
    return [row for row in rows if row.action.startswith(prefix)]


def post(client, app, output_id: str, values: dict, fired: str | None = None):
    """POST the callback with output ``output_id`` as dash-renderer does, ``fired`` being the input that changed."""
    key, spec = _callback(app, output_id)
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in key.strip(".").split("...")]

    def items(entries):
        return [{"id": e["id"], "property": e["property"], "value": values.get(e["id"])} for e in entries]

    inputs = items(spec["inputs"])
    changed = [f"{i['id']}.{i['property']}" for i in inputs if i["id"] == (fired or inputs[0]["id"])]
    payload = {"output": key, "outputs": outputs if len(outputs) > 1 else outputs[0], "inputs": inputs,
               "changedPropIds": changed, "state": items(spec["state"])}
    return client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")


def text_of(component) -> str:
    """Return the text in a component as the callback answered it (JSON), children in order."""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list):
        return " ".join(text_of(c) for c in component)
    if isinstance(component, dict):
        return text_of(component.get("props", {}).get("children") or "")
    return ""


def add(client, app, name="new_op", display="新操作员", role="street_operator", scope="329902001", lang="zh"):
    """Submit the add form; return the response."""
    return post(client, app, ids.RESULT, {ids.ADD_BUTTON: 1, ids.NAME: name, ids.DISPLAY_NAME: display,
                                          ids.ROLE: role, ids.SCOPE: scope, ids.LANG: lang}, fired=ids.ADD_BUTTON)


def act(client, app, button: str, name, lang="zh"):
    """Press a row action's button (after its confirm dialog) with ``name`` selected in the grid."""
    rows = [{"name": name}] if isinstance(name, str) else name
    return post(client, app, ids.RESULT, {button: 1, ids.GRID: rows, ids.LANG: lang}, fired=button)


def answer(response, output_id: str):
    assert response.status_code == 200, response.data[:300]
    return response.get_json()["response"][output_id]


def _as(app, name: str):
    """Return a pushed request context of ``app`` in which ``name`` is the caller."""
    context = app.server.test_request_context()
    context.push()
    flask.g.gridcc_principal = principal_for(app, name)
    return context


@pytest.fixture(scope="module")
def app(hand_store_template, tmp_path_factory):
    """One hand-city app for the tests that change no user (a fresh one per test costs more than the tests)."""
    from dashboard.app import create_app

    folder = tmp_path_factory.mktemp("users-app")
    shutil.copy(hand_store_template, folder / "gridcc.duckdb")
    dash_app = create_app(Settings(data_dir=folder, frozen_now=handcity.NOW, cache_type="NullCache"))
    yield dash_app
    _engine(dash_app).dispose()


@pytest.fixture
def admin(app):
    return signed_in(app, "admin")


@pytest.fixture
def dongcheng(app):
    return signed_in(app, "dongcheng")


@pytest.fixture
def unchanged(app):
    """Assert that the test changed no user of the shared app."""
    before = users_table(app)
    yield
    assert users_table(app) == before


# -- whom a manager sees --------------------------------------------------------------------------------------
@pytest.mark.parametrize("manager, expected", [
    ("admin", ALL_USERS), ("dongcheng", DONGCHENG_SEES), ("xicheng", ["dept_xc", "viewer"]),
])
def test_usr001_each_manager_sees_the_users_they_may_manage(app, manager, expected):
    client = signed_in(app, manager)
    grid = answer(post(client, app, ids.GRID, {ids.VERSION: 0, ids.LANG: "zh"}), ids.GRID)
    assert [row["name"] for row in grid["rowData"]] == expected
    assert grid["selectedRows"] == []


def test_usr002_the_sql_filter_agrees_with_may_manage(hand_conn):
    everyone = user_queries.managed_users(hand_conn, district=None)
    assert [u.name for u in everyone] == ALL_USERS
    for manager, district in (("dongcheng", "329902"), ("xicheng", "329903")):
        found = user_queries.managed_users(hand_conn, district=district, roles=auth.DISTRICT_GRANTS,
                                           district_roles=user_admin.DISTRICT_ROLES)
        allowed = [u.name for u in everyone if auth.may_manage(
            hand_conn, manager_role="district_manager", manager_scope=auth.Scope("area", district), role=u.role,
            scope=auth.Scope(u.scope_kind, u.scope_code))]
        assert [u.name for u in found] == allowed, manager
    # Without the district's own viewers, xicheng's viewer of 329903 is out.
    assert [u.name for u in user_queries.managed_users(hand_conn, district="329903", roles=auth.DISTRICT_GRANTS)] \
        == ["dept_xc"]


def test_usr003_rows_name_the_scope_and_show_state_and_last_sign_in(hand_app):
    admin = signed_in(hand_app, "admin")
    signed_in(hand_app, "dongjie")  # a session started at NOW: dongjie's last sign-in
    with _engine(hand_app).begin() as conn:
        user_queries.set_disabled(conn, name="xicheng", disabled=True)
        user_queries.record_failure(conn, name="viewer", locked_until=handcity.NOW.replace(hour=16))
    rows = {r["name"]: r for r in answer(post(admin, hand_app, ids.GRID, {ids.LANG: "en"}), ids.GRID)["rowData"]}
    assert rows["dongjie"] == {
        "name": "dongjie", "display_name": "测试dongjie", "role": "Street center operator",
        "scope": "329902001 东街街道", "state": "Active", "state_code": "active", "must_change": "",
        "created_at": "2026-11-20 15:00", "last_sign_in": "2026-11-20 15:00", "self": False}
    assert rows["dept_dc"]["scope"] == "329902-01 东城区城管执法局" and rows["dept_dc"]["last_sign_in"] == ""
    assert (rows["xicheng"]["state_code"], rows["viewer"]["state_code"]) == ("disabled", "locked")
    assert rows["admin"]["self"] is True and rows["admin"]["role"] == "Administrator"


@pytest.mark.parametrize("manager, role, expected", [
    ("dongcheng", "street_operator", ["329902001", "329902001001", "329902002", "329902002001"]),
    ("dongcheng", "department_handler", ["329902-01"]),
    ("dongcheng", "viewer", ["329902", "329902001", "329902001001", "329902002", "329902002001"]),
    ("dongcheng", "district_manager", []),
    ("dongcheng", "admin", []),
    ("dongcheng", "<script>", []),
    ("dongcheng", ["viewer"], []),
    ("admin", "department_handler", ["329900-12", "329902-01", "329903-01"]),
    ("admin", "district_manager", ["329902", "329903"]),
    ("admin", "admin", ["329900"]),
    ("xicheng", "street_operator", ["329903001", "329903001001"]),
])
def test_usr004_the_scope_dropdown_offers_only_what_check_scope_and_may_manage_accept(app, manager, role, expected):
    client = signed_in(app, manager)
    out = answer(post(client, app, ids.SCOPE, {ids.ROLE: role, ids.LANG: "zh"}), ids.SCOPE)
    assert [o["value"] for o in out["options"]] == sorted(expected) and out["value"] is None
    with _engine(app).connect() as conn:
        who = user_admin.Manager(manager, handcity.USERS[manager][0], auth.Scope("area", handcity.USERS[manager][1]))
        for code in expected:
            assert who.may_manage(conn, role, auth.check_scope(conn, role, code))


def test_usr005_scope_and_role_labels():
    assert ids.scope_label("area", "329902001", "东街街道", 2, "zh") == "东街街道（街道）· 329902001"
    assert ids.scope_label("department", "329902-01", "东城区城管执法局", None, "en") == "东城区城管执法局 (Department) · 329902-01"
    assert [o["label"] for o in ids.role_options(auth.DISTRICT_GRANTS, "zh")] == ["街道中心操作员", "部门处置人员", "只读用户"]


# -- the page --------------------------------------------------------------------------------------------------
def find(component, component_id: str):
    """Return the component with ``component_id`` in a layout tree, or None."""
    if getattr(component, "id", None) == component_id:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if hasattr(child, "to_plotly_json"):
            found = find(child, component_id)
            if found is not None:
                return found
    return None


def _json(component) -> str:
    return json.dumps(component, cls=PlotlyJSONEncoder, ensure_ascii=False)


@pytest.mark.parametrize("name", NON_MANAGERS)
def test_usr010_the_page_shows_others_only_a_refusal(app, name):
    context = _as(app, name)
    try:
        zh, en = _json(ids.layout()), _json(ids.layout(lang="en"))
    finally:
        context.pop()
    assert "无权管理用户" in zh and "You may not manage users" in en
    for page in (zh, en):
        assert ids.GRID not in page and ids.ADD_BUTTON not in page and "dongjie" not in page


@pytest.mark.parametrize("name, roles, subtitle", [
    ("admin", list(auth.ROLES), "系统管理员：管理全部用户"),
    ("dongcheng", list(auth.DISTRICT_GRANTS), "东城区的街道中心操作员、部门处置人员和只读用户"),
])
def test_usr011_a_manager_gets_the_grid_the_form_and_the_roles_they_may_give(app, name, roles, subtitle):
    context = _as(app, name)
    try:
        page = ids.layout()
    finally:
        context.pop()
    text = _json(page)
    roles_offered = [o["value"] for o in find(page, ids.ROLE).options]
    for component_id in (ids.GRID, ids.NAME, ids.DISPLAY_NAME, ids.ROLE, ids.SCOPE, ids.ADD_BUTTON, ids.DISABLE):
        assert f'"{component_id}"' in text
    assert "用户管理" in text and subtitle in text
    assert roles_offered == roles
    assert "password" not in text.lower().replace("password_reset", "")  # no field to type one


def test_usr012_nothing_is_managed_on_a_public_wall(app, unchanged):
    wall = signed_in(app, "admin")
    assert wall.post("/auth/public-wall", data={"on": "1"}).status_code == 200
    assert post(wall, app, ids.GRID, {ids.LANG: "zh"}).status_code == 204
    assert add(wall, app).status_code == 204
    context = app.server.test_request_context()
    context.push()
    try:
        flask.g.gridcc_principal = dataclasses.replace(principal_for(app, "admin"), public_wall=True)
        page = _json(ids.layout())
        assert "公开展示模式下不显示用户管理" in page and ids.GRID not in page
    finally:
        context.pop()


# -- adding a user --------------------------------------------------------------------------------------------
def test_usr020_dongcheng_adds_a_street_operator_with_a_one_time_password(hand_app):
    dongcheng = signed_in(hand_app, "dongcheng")
    response = add(dongcheng, hand_app, name="dj_zhang", display="张三")
    out = response.get_json()["response"]
    shown = text_of(out[ids.RESULT]["children"])
    password = OTP.search(shown).group(0)
    assert "已新增用户 dj_zhang" in shown and "当面" in shown and "只显示这一次" in shown
    assert (out[ids.NAME]["value"], out[ids.DISPLAY_NAME]["value"]) == ("", "")
    with _engine(hand_app).connect() as conn:
        user = user_queries.get_user(conn, name="dj_zhang")
        stored = user_queries.password_hash(conn, name="dj_zhang")
    assert (user.display_name, user.role, user.scope_kind, user.scope_code) == ("张三", "street_operator", "area",
                                                                                "329902001")
    assert user.must_change_password and not user.disabled
    assert auth.verify_password(stored, password) and password not in stored
    [row] = audit_of(hand_app, "dongcheng")
    assert (row.action, row.outcome, row.target, row.detail) == (
        "user.add", "ok", "dj_zhang", "street_operator of area 329902001; one-time password")
    assert row.occurred_at == handcity.NOW
    # Shown once: not in the grid that reloads, nor anywhere in the audit log.
    grid = post(dongcheng, hand_app, ids.GRID, {ids.VERSION: "x", ids.LANG: "zh"})
    assert password not in grid.get_data(as_text=True) and "dj_zhang" in grid.get_data(as_text=True)
    with _engine(hand_app).connect() as conn:
        assert not any(password in str(tuple(r)) for r in conn.execute(select(audit_log)))


def test_usr021_the_new_user_signs_in_once_and_must_choose_their_own_password(hand_app):
    admin = signed_in(hand_app, "admin")
    shown = text_of(answer(add(admin, hand_app, name="viewer2", role="viewer", scope="329900"), ids.RESULT)["children"])
    password = OTP.search(shown).group(0)
    client = hand_app.server.test_client()
    assert form_sign_in(client, "viewer2", password).status_code == 303
    assert client.get("/", headers={"Accept": "text/html"}).headers["Location"] == "/auth/password"
    assert client.get("/api/v1/areas").status_code == 403


@pytest.mark.parametrize("role, scope, key", [
    ("street_operator", "329903001", "users.not_allowed"),  # 西城区: not dongcheng's
    ("viewer", "329903", "users.not_allowed"),
    ("viewer", "329900", "users.not_allowed"),  # above the district
    ("department_handler", "329903-01", "users.not_allowed"),
    ("department_handler", "329900-12", "users.not_allowed"),  # a city department
    ("district_manager", "329902", "users.not_allowed"),  # not a role a district manager gives
    ("admin", "329900", "users.not_allowed"),
    ("city_leader", "329900", "users.not_allowed"),
    ("street_operator", "329902", "users.scope_mismatch"),  # a district is no street or community
    ("street_operator", "329902-01", "users.scope_mismatch"),
    ("department_handler", "329902001", "users.scope_mismatch"),
    ("street_operator", "329902009", "users.scope_mismatch"),  # no such street
])
def test_usr022_dongcheng_cannot_add_above_or_beside_its_level(app, dongcheng, unchanged, role, scope, key):
    before = len(audit_of(app, "dongcheng"))
    shown = text_of(answer(add(dongcheng, app, role=role, scope=scope), ids.RESULT)["children"])
    assert shown == t_zh(key)
    [row] = audit_of(app, "dongcheng")[before:]
    assert (row.action, row.outcome, row.target) == ("user.add", "refused", "new_op")
    assert row.detail.startswith("not allowed" if key == "users.not_allowed" else f"{role} cannot have")


def t_zh(key: str) -> str:
    from dashboard.i18n import t

    return t(key, "zh")


def test_usr023_a_taken_name_is_refused(app, admin, unchanged):
    before = len(audit_of(app, "admin"))
    assert text_of(answer(add(admin, app, name="dongjie"), ids.RESULT)["children"]) == t_zh("users.name_taken")
    assert [(r.outcome, r.detail) for r in audit_of(app, "admin")[before:]] == [("refused", "name_taken")]


# -- disabling, enabling, resetting -----------------------------------------------------------------------------
def test_usr030_disable_ends_the_users_sessions_and_enable_lets_them_back(hand_app):
    dongcheng = signed_in(hand_app, "dongcheng")
    held = signed_in(hand_app, "dongjie")
    assert held.get("/api/v1/areas").status_code == 200
    shown = text_of(answer(act(dongcheng, hand_app, ids.DISABLE, "dongjie"), ids.RESULT)["children"])
    assert shown == "已停用 dongjie，结束 1 个会话。"
    assert held.get("/api/v1/areas").status_code == 401
    with _engine(hand_app).connect() as conn:
        assert user_queries.get_user(conn, name="dongjie").disabled
        assert conn.execute(select(web_sessions.c.ended_at).where(web_sessions.c.user_name == "dongjie")).scalar() \
            == handcity.NOW
    assert form_sign_in(hand_app.server.test_client(), "dongjie").status_code == 200  # the form again: refused
    shown = text_of(answer(act(dongcheng, hand_app, ids.ENABLE_BUTTON, "dongjie", lang="en"), ids.RESULT)["children"])
    assert shown == "dongjie enabled."
    assert form_sign_in(hand_app.server.test_client(), "dongjie").status_code == 303
    assert [(r.action, r.outcome, r.target, r.detail) for r in audit_of(hand_app, "dongcheng")] == [
        ("user.disable", "ok", "dongjie", "street_operator of area 329902001; 1 sessions ended"),
        ("user.enable", "ok", "dongjie", "street_operator of area 329902001")]


def test_usr031_a_reset_password_signs_in_once_then_forces_a_new_one(hand_app):
    dongcheng = signed_in(hand_app, "dongcheng")
    held = signed_in(hand_app, "nanyuan")
    shown = text_of(answer(act(dongcheng, hand_app, ids.RESET, "nanyuan"), ids.RESULT)["children"])
    password = OTP.search(shown).group(0)
    assert "已重置 nanyuan 的密码，结束 1 个会话" in shown and "当面" in shown
    assert held.get("/api/v1/areas").status_code == 401
    client = hand_app.server.test_client()
    assert form_sign_in(client, "nanyuan", handcity.PASSWORD).status_code == 200  # the old one no longer works
    assert form_sign_in(client, "nanyuan", password).status_code == 303
    assert client.get("/", headers={"Accept": "text/html"}).headers["Location"] == "/auth/password"
    with _engine(hand_app).connect() as conn:
        assert user_queries.get_user(conn, name="nanyuan").must_change_password
    [row] = audit_of(hand_app, "dongcheng")
    assert (row.action, row.outcome, row.target) == ("user.password_reset", "ok", "nanyuan")
    assert row.detail == ("street_operator of area 329902002001; one-time password; 1 sessions ended; "
                          "lock-out cleared")


def test_usr032_a_reset_clears_a_lock_out(hand_app):
    admin = signed_in(hand_app, "admin")
    with _engine(hand_app).begin() as conn:
        user_queries.record_failure(conn, name="leader", locked_until=handcity.NOW.replace(hour=16))
    password = OTP.search(text_of(answer(act(admin, hand_app, ids.RESET, "leader"), ids.RESULT)["children"])).group(0)
    assert form_sign_in(hand_app.server.test_client(), "leader", password).status_code == 303


@pytest.mark.parametrize("button, audit_action", [(ids.DISABLE, "user.disable"), (ids.RESET, "user.password_reset")])
def test_usr033_a_manager_cannot_disable_or_reset_themselves(app, admin, unchanged, button, audit_action):
    before = len(audit_of(app, "admin"))
    shown = text_of(answer(act(admin, app, button, "admin"), ids.RESULT)["children"])
    assert shown == t_zh("users.not_self")
    assert admin.get("/api/v1/areas").status_code == 200
    assert [(r.action, r.outcome, r.detail) for r in audit_of(app, "admin")[before:]] == [
        (audit_action, "refused", "not_self")]


@pytest.mark.parametrize("target", ["xicheng", "viewer", "leader", "admin", "dept_xc", "dept_city", "dongcheng",
                                    "nobody"])
def test_usr034_dongcheng_cannot_touch_users_outside_its_reach(app, dongcheng, unchanged, target):
    held = signed_in(app, "xicheng")
    before = len(audit_of(app, "dongcheng"))
    for button in (ids.DISABLE, ids.ENABLE_BUTTON, ids.RESET):
        shown = text_of(answer(act(dongcheng, app, button, target), ids.RESULT)["children"])
        expected = "users.not_self" if target == "dongcheng" and button != ids.ENABLE_BUTTON else "users.not_yours"
        assert shown == t_zh(expected), button
    assert held.get("/api/v1/areas").status_code == 200
    assert [(r.action, r.outcome, r.target) for r in audit_of(app, "dongcheng")[before:]] == [
        ("user.disable", "refused", target), ("user.enable", "refused", target),
        ("user.password_reset", "refused", target)]


# -- forged and hostile calls ------------------------------------------------------------------------------------
FORGED = {ids.VERSION: 1, ids.ROLE: "street_operator", ids.NAME: "forged",
          ids.DISPLAY_NAME: "Forged", ids.SCOPE: "329902001", ids.ADD_BUTTON: 1, ids.DISABLE: 1, ids.RESET: 1,
          ids.ENABLE_BUTTON: 1, ids.GRID: [{"name": "dongjie"}], ids.LANG: "zh"}
# (output that names the callback, the input that fires it)
CALLBACKS = [(ids.GRID, None), (ids.SCOPE, None), (ids.RESULT, ids.ADD_BUTTON), (ids.RESULT, ids.DISABLE),
             (ids.RESULT, ids.ENABLE_BUTTON), (ids.RESULT, ids.RESET)]


@pytest.mark.parametrize("name", ["viewer", "leader", "dongjie", "dept_dc"])
def test_usr040_others_posting_any_callback_get_nothing_and_change_nothing(app, unchanged, name):
    client = signed_in(app, name)
    before = len(audit_of(app, name))
    for output, fired in CALLBACKS:
        response = post(client, app, output, FORGED, fired=fired)
        assert response.status_code == 204 and response.data == b"", (output, fired, response.data[:200])
    assert [(r.action, r.outcome) for r in audit_of(app, name)[before:]] == [
        ("user.view", "refused"), ("user.view", "refused"), ("user.add", "refused"), ("user.disable", "refused"),
        ("user.enable", "refused"), ("user.password_reset", "refused")]


HOSTILE = [None, "", "' OR 1=1 --", "dongjie'; DROP TABLE users; --", "<script>alert(1)</script>", "x" * 100_000,
           "a\x00b", " ", 123, -1, 3.5, True, [], ["dongjie"], {}, {"$ne": 1}, [{"name": {"$ne": 1}}],
           [{"name": "dongjie"}, {"name": "nanyuan"}], [{"name": "x" * 100_000}], [{"name": "dongjie' --"}]]


@pytest.mark.parametrize("value", HOSTILE)
def test_usr041_hostile_add_inputs_get_a_message_and_change_nothing(app, dongcheng, unchanged, value):
    for field in (ids.NAME, ids.DISPLAY_NAME, ids.ROLE, ids.SCOPE):
        values = {ids.ADD_BUTTON: 1, ids.NAME: "ok_name", ids.DISPLAY_NAME: "名字", ids.ROLE: "street_operator",
                  ids.SCOPE: "329902001", ids.LANG: value} | {field: value}
        out = answer(post(dongcheng, app, ids.RESULT, values, fired=ids.ADD_BUTTON), ids.RESULT)
        assert out["children"]["props"]["className"] == "usr-message usr-message-refused", (field, out)


@pytest.mark.parametrize("value", HOSTILE)
def test_usr042_hostile_selections_get_a_message_and_change_nothing(app, admin, unchanged, value):
    for button in (ids.DISABLE, ids.ENABLE_BUTTON, ids.RESET):
        out = answer(post(admin, app, ids.RESULT, {button: value, ids.GRID: value, ids.LANG: value}, fired=button),
                     ids.RESULT)
        assert out["children"]["props"]["className"] == "usr-message usr-message-refused", button


@pytest.mark.parametrize("value", HOSTILE)
def test_usr043_hostile_reads_never_break(app, dongcheng, value):
    grid = answer(post(dongcheng, app, ids.GRID, {ids.VERSION: value, ids.LANG: value}), ids.GRID)
    assert [r["name"] for r in grid["rowData"]] == DONGCHENG_SEES
    assert answer(post(dongcheng, app, ids.SCOPE, {ids.ROLE: value, ids.LANG: value}), ids.SCOPE)["options"] == []


def test_usr044_a_callback_called_without_a_button_does_nothing(app):
    context = _as(app, "admin")
    try:
        with pytest.raises(cb.PreventUpdate):
            cb.update_result(1, 1, 1, 1, [{"name": "dongjie"}], "x", "X", "viewer", "329902", "zh")
    finally:
        context.pop()


# -- the one-time password ----------------------------------------------------------------------------------------
def test_usr050_one_time_passwords_are_random_readable_and_long_enough():
    made = {user_admin.new_password() for _ in range(200)}
    assert len(made) == 200
    for password in made:
        assert OTP.fullmatch(password) and len(password) == 14 >= auth.MIN_PASSWORD
        assert not set(password) & set("01ilo")
