"""The backlog desk's callbacks and its Excel export on the hand city (tests/handcity.py; rows by hand in
tests/queries/test_backlog.py): rows per caller, actions through desk.act with the reason, read-only roles refused
(also when they forge the callback), the view kept per user, the export's rows, headers, guard and audit row.
"""
from __future__ import annotations

import io
import json

import flask
import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from callbacks import backlog as cb
from dashboard import backlog, backlog_export, data
from layouts import backlog as ids
from queries.schema import audit_log, categories, event_log, open_events
from tests.callbacks.test_forged import post
from tests.conftest import principal_for, signed_in
from tests.handcity import A1


@pytest.fixture
def as_user(hand_app):
    """Return a function that enters a request to the hand-city app as user ``name`` (a context manager)."""
    import contextlib

    @contextlib.contextmanager
    def enter(name):
        with hand_app.server.test_request_context():
            flask.g.gridcc_principal = principal_for(hand_app, name)
            yield hand_app

    return enter


def _engine(app):
    return app.server.extensions["gridcc"].engine


def _urges(app, event_id):
    with _engine(app).connect() as conn:
        return conn.execute(select(open_events.c.urge_count).where(open_events.c.id == event_id)).scalar()


@pytest.mark.parametrize("name, expected, count", [
    ("dongjie", [3, 4], "共 2 件"),
    ("nanyuan", [6], "共 1 件"),
    ("dept_dc", [3, 6, 4], "共 3 件"),
    ("viewer", [9, 8, 10], "共 3 件"),
    ("dept_city", [], "共 0 件"),
])
def test_bkl_cb001_rows_per_caller(as_user, name, expected, count):
    with as_user(name):
        response, text, has_cases = cb.update_rows({"startRow": 0, "endRow": 100}, "", [], None, "zh")
    assert [r["id"] for r in response["rowData"]] == expected and response["rowCount"] == len(expected)
    assert text == count and has_cases is bool(expected)


def test_bkl_cb002_search_and_quick_filter_narrow_the_count(as_user):
    with as_user("leader"):
        response, text, has_cases = cb.update_rows({"startRow": 0, "endRow": 100}, "东街", ["red"], {"v": 1}, "zh")
    assert [r["id"] for r in response["rowData"]] == [3] and text == "1 / 6 件" and has_cases


@pytest.mark.parametrize("request_", [None, "x", {"startRow": -1, "endRow": 10**15, "sortModel": "drop",
                                                   "filterModel": {"x": {"type": "contains"}}}])
def test_bkl_cb003_hostile_requests_still_answer_a_page(as_user, request_):
    with as_user("dongjie"):
        response, _, _ = cb.update_rows(request_, "x" * 10_000_000, "red", "nope", "<script>")
    assert response["rowCount"] == 0 or [r["id"] for r in response["rowData"]] == [3, 4]


def test_bkl_cb004_urge_goes_through_desk_act_with_the_reason(as_user, hand_app):
    with as_user("dongjie"):
        message, reason = cb.act(1, "urge", "请尽快处置", None, None, None, None, [{"id": 3}, {"id": 4}], "zh")
    assert message.children == "2 件已催办" and reason == ""
    assert _urges(hand_app, 3) == 1 and _urges(hand_app, 4) == 1
    with _engine(hand_app).connect() as conn:
        notes = conn.execute(select(event_log.c.note).where(event_log.c.event_id == 3, event_log.c.action == "urge")
                             ).scalars().all()
        audited = conn.execute(select(audit_log.c.actor).where(audit_log.c.actor == "dongjie")).scalars().all()
    assert notes == ["请尽快处置"] and audited


def test_bkl_cb005_a_refused_case_says_why(as_user, hand_app):
    # Case 1 is closed; case 9 is another district's (out of the street's scope).
    with as_user("dongjie"):
        message, reason = cb.act(1, "urge", "催一下", None, None, None, None, [{"id": 3}, {"id": 1}, {"id": 9}], "zh")
    assert message.children.startswith("1 件已催办，2 件未执行：")
    assert "案件已结案或已作废" in message.children and "案件不存在或不在您的范围内" in message.children
    assert reason == ""
    assert _urges(hand_app, 3) == 1 and _urges(hand_app, 9) in (None, 0)


@pytest.mark.parametrize("args, expected", [
    (("urge", "", [{"id": 3}]), "请填写办理意见"),
    (("urge", "   ", [{"id": 3}]), "请填写办理意见"),
    (("urge", "理由", []), "请先在表格中勾选案件"),
    (("urge", "理由", "3"), "请先在表格中勾选案件"),
    ((None, "理由", [{"id": 3}]), "请选择办理方式"),
    (("request_extension", "理由", [{"id": 3}]), "您的角色不能执行该操作"),  # a department's action
    (("drop_table", "理由", [{"id": 3}]), "您的角色不能执行该操作"),
    (("urge", "长" * 501, [{"id": 3}]), "办理意见不能超过 500 字"),
])
def test_bkl_cb006_wrong_requests_write_nothing(as_user, hand_app, args, expected):
    action, reason, selected = args
    with as_user("dongjie"):
        message, kept = cb.act(1, action, reason, None, None, None, None, selected, "zh")
    assert message.children == expected and kept is cb.no_update
    assert _urges(hand_app, 3) in (None, 0)


def test_bkl_cb007_read_only_roles_are_refused(as_user, hand_app):
    for name in ("leader", "viewer"):
        with as_user(name):
            message, _ = cb.act(1, "urge", "理由", None, None, None, None, [{"id": 9}], "zh")
        assert message.children == "您的角色不能执行该操作"
    assert _urges(hand_app, 9) in (None, 0)


def test_bkl_cb008_a_forged_action_by_a_read_only_role_writes_nothing(hand_app):
    client = signed_in(hand_app, "leader")
    response = post(client, hand_app, ids.RESULT, {
        ids.SUBMIT: 1, ids.ACTION: "urge", ids.REASON: "伪造", ids.GRID: [{"id": 9}], ids.LANG: "zh"})
    assert response.status_code == 200
    shown = json.loads(response.data)["response"][ids.RESULT]["children"]["props"]["children"]
    assert shown == "您的角色不能执行该操作"
    assert _urges(hand_app, 9) in (None, 0)


def _find(component, component_id):
    """Return the component with ``component_id`` in a layout tree, or None."""
    if getattr(component, "id", None) == component_id:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        found = _find(child, component_id) if child is not None and not isinstance(child, str) else None
        if found is not None:
            return found
    return None


@pytest.mark.parametrize("name, actions", [
    ("leader", None),
    ("viewer", None),
    ("dongjie", ["urge", "supervise", "approve_extension", "refuse_extension", "redispatch", "whistle", "check_close"]),
    ("dongcheng", ["urge", "supervise", "approve_extension", "refuse_extension", "redispatch", "whistle",
                   "check_close"]),
    ("dept_dc", ["request_extension", "report_back"]),
])
def test_bkl_cb009_the_action_bar_offers_only_what_the_role_may_do(as_user, name, actions):
    with as_user(name):
        page = ids.layout()
    choice = _find(page, ids.ACTION)
    assert (None if choice is None else [o["value"] for o in choice.options]) == actions
    assert (_find(page, ids.ACTION_BAR) is None) is (actions is None)


def test_bkl_cb010_the_view_is_kept_per_user_and_reset(as_user):
    columns = [{"colId": "flags", "width": 300}, {"colId": "department", "hide": True}]
    with as_user("dongjie"):
        cb.save_view(columns, {"category": {"filterType": "text", "type": "contains", "filter": "道路"}}, "东街",
                     ["red"])
        saved = data.backlog_prefs("dongjie")
    assert saved["search"] == "东街" and saved["quick"] == ["red"] and saved["columns"][0]["width"] == 300
    assert saved["filter"] == {"category": {"filterType": "text", "type": "contains", "filter": "道路"}}
    with as_user("nanyuan"):
        assert data.backlog_prefs("nanyuan")["search"] == ""  # another user's view is their own
    with as_user("dongjie"):
        grid = ids.layout().to_plotly_json()
        assert "department" not in backlog.visible_columns(saved["columns"])
        assert cb.reset_view(1) == (True, {}, "", [], list(backlog.COLUMNS))
        assert data.backlog_prefs("dongjie") == {"columns": [], "filter": {}, "search": "", "quick": []}
    assert grid


def test_bkl_cb011_unreadable_prefs_fall_back_to_the_default(as_user, hand_app):
    from queries import prefs as prefs_queries
    from tests.handcity import NOW

    for stored in ("{not json", "[1, 2]", '"text"', "null"):
        with _engine(hand_app).begin() as conn:
            prefs_queries.set_pref(conn, user="dongjie", key=backlog.PREFS_KEY, value=stored, now=NOW)
        with as_user("dongjie"):
            assert data.backlog_prefs("dongjie") == {"columns": [], "filter": {}, "search": "", "quick": []}
            assert ids.layout() is not None  # the page still opens


def test_bkl_cb012_selection_shows_the_requested_deadline():
    text, requested = cb.update_selection([{"id": 3, "extension_until": "2026-11-25 17:00"}, {"id": 4}], "zh")
    assert text == "已选 2 件" and requested == "申请延期至：2026-11-25 17:00"
    assert cb.update_selection("forged", "zh") == ("在表格中勾选案件后可办理", "")


def test_bkl_cb013_only_the_chosen_actions_inputs_show():
    assert cb.show_inputs("supervise") == (False, True, True, True)
    assert cb.show_inputs("whistle") == (True, True, True, False)
    assert cb.show_inputs("urge") == (True, True, True, True)


# -- the export ------------------------------------------------------------------------------------------------
def _sheet(response):
    book = load_workbook(io.BytesIO(response.data))
    return [[c.value for c in row] for row in book.active.iter_rows()]


def _audit(app, outcome):
    with _engine(app).connect() as conn:
        return conn.execute(select(audit_log.c.actor, audit_log.c.detail).where(
            audit_log.c.action == "backlog.export", audit_log.c.outcome == outcome)).all()


def test_bkl_export001_rows_headers_and_audit(hand_app):
    client = signed_in(hand_app, "dongjie")
    response = client.get(backlog_export.EXPORT_PATH)
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    rows = _sheet(response)
    assert rows[0] == ["编号", "类别", "社区 / 网格", "处置部门", "环节", "上报时间", "处置时限", "倒计时",
                       "红黄绿灯", "已历时", "标记"]
    assert [r[0] for r in rows[1:]] == [3, 4]
    assert rows[1][7] == "已超期 3天5时" and rows[1][8] == "超时"
    actor, detail = _audit(hand_app, "ok")[0]
    assert actor == "dongjie" and json.loads(detail)["rows"] == 2


def test_bkl_export002_the_view_the_screen_sends(hand_app):
    client = signed_in(hand_app, "leader")
    view = {"columns": [{"colId": "place", "sort": "desc", "sortIndex": 0}, {"colId": "id"},
                        {"colId": "category", "hide": True}] + [{"colId": c, "hide": True} for c in backlog.COLUMNS
                                                                 if c not in ("place", "id", "category")],
            "filter": {"id": {"filterType": "number", "type": "lessThan", "filter": 10}}, "search": "", "quick": []}
    response = client.get(backlog_export.EXPORT_PATH, query_string={"view": json.dumps(view), "lang": "en"})
    rows = _sheet(response)
    assert rows[0] == ["Community / grid", "ID"]
    assert rows[1:] == [["西湖社区 / 西湖第02网格", 9], ["西湖社区 / 西湖第01网格", 8],
                        ["南苑社区 / 南苑第01网格", 6], ["东街社区 / 东街第02网格", 4],
                        ["东街社区 / 东街第01网格", 3]]


def test_bkl_export003_formulas_are_text(hand_app):
    with _engine(hand_app).begin() as conn:
        conn.execute(update(categories).where(categories.c.code == "0110").values(name='=HYPERLINK("http://x","y")'))
    rows = _sheet(signed_in(hand_app, "dongjie").get(backlog_export.EXPORT_PATH))
    assert rows[1][1] == '\'=HYPERLINK("http://x","y")'


@pytest.mark.parametrize("view", ["{not json", "[1]", "x" * 40_000])
def test_bkl_export004_a_bad_view_is_refused_and_audited(hand_app, view):
    response = signed_in(hand_app, "dongjie").get(backlog_export.EXPORT_PATH, query_string={"view": view})
    assert response.status_code == 400 and response.json["error"] == "bad_view"
    assert _audit(hand_app, "refused")


def test_bkl_export005_too_many_rows_are_refused(hand_app, monkeypatch):
    monkeypatch.setattr(backlog_export, "EXPORT_MAX", 5)
    response = signed_in(hand_app, "leader").get(backlog_export.EXPORT_PATH)
    assert response.status_code == 400 and response.json["error"] == "too_many_rows"
    assert "6 件" in response.json["message"] and _audit(hand_app, "refused")
    assert not _audit(hand_app, "ok")


def test_bkl_export006_a_token_or_nobody_may_not(hand_app):
    assert hand_app.server.test_client().get(backlog_export.EXPORT_PATH).status_code in (302, 303, 401, 403)


def test_bkl_cb014_after_an_action_only_the_touched_grid_is_read_again(as_user, hand_app, monkeypatch):
    from queries import backlog as backlog_queries

    calls = []
    real = backlog_queries.open_cases
    monkeypatch.setattr(backlog_queries, "open_cases", lambda conn, **kw: calls.append(kw.get("grids")) or real(
        conn, **kw))
    with as_user("dongcheng"):
        before, _, _ = cb.update_rows({"startRow": 0, "endRow": 100}, "", [], None, "zh")
    with as_user("dongjie"):
        cb.act(1, "urge", "请尽快处置", None, None, None, None, [{"id": 3}], "zh")
    with as_user("dongcheng"):
        after, _, _ = cb.update_rows({"startRow": 0, "endRow": 100}, "", [], None, "zh")
        with hand_app.server.extensions["gridcc"].engine.connect() as conn:
            full = backlog.table(real(conn, scope=flask.g.gridcc_principal.scope), "zh")
    assert calls[0] is None and calls[-1] == [A1]  # the whole scope once, then case 3's grid only
    assert [(r["id"], r["flags"]) for r in before["rowData"]] == [(3, ""), (6, ""), (4, "")]
    assert [(r["id"], r["flags"]) for r in after["rowData"]] == [(3, "催办×1"), (6, ""), (4, "")]
    assert full["id"].tolist()[:3] == [3, 6, 4] and full.set_index("id").loc[3, "flags"] == "催办×1"


def test_bkl_frame_builders_leave_no_lock_behind(hand_app, as_user):
    # Eight requests for the same scope's frame at once: one builds, the others wait for it; afterwards no
    # computing lock is left in dashboard.data (they were left for good, one per scope and language).
    import threading

    frames = []

    def ask():
        with as_user("dongjie"):
            frames.append(data.backlog_table(data.request_scope(), "zh"))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len(frames) == 8 and all(f is frames[0] for f in frames)
    # 东街街道's open cases: 3 and 4, and 11 (reported after now: kept in the frame, hidden by the view).
    assert sorted(frames[0]["id"]) == [3, 4, 11]
    assert not [k for k in data._computing if k.startswith("backlog:")]
