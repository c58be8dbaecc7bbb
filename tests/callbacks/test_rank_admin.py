"""The ranking configuration page's layout and callbacks: only an administrator sees or saves anything, and
every bad or forged form value is a message in words (never a 500, never a version).

The hand city's NOW is 2026-11-20 15:00: the first month a version may start from is 2026-11 (nothing frozen).
"""
from __future__ import annotations

import json
import shutil
from datetime import date, datetime

import flask
import pytest
from dash.exceptions import PreventUpdate
from sqlalchemy import select

from callbacks import rank_admin as cb
from dashboard import rank_config
from dashboard.settings import Settings
from layouts import rank_admin as ids
from queries.schema import audit_log, rank_configs
from tests import handcity
from tests.conftest import principal_for, signed_in
from tests.test_rank_config import DEFAULTS

GRADE_NAMES = ["A", "B", "C", "D", "E"]
GRADES = [90, 75, 60, 40, 0]


@pytest.fixture(scope="module")
def app(hand_store_template, tmp_path_factory):
    from dashboard.app import create_app

    folder = tmp_path_factory.mktemp("rank-admin-app")
    shutil.copy(hand_store_template, folder / "gridcc.duckdb")
    dash_app = create_app(Settings(data_dir=folder, frozen_now=handcity.NOW, cache_type="NullCache"))
    yield dash_app
    dash_app.server.extensions["gridcc_live"].stop()
    dash_app.server.extensions["gridcc"].engine.dispose()


@pytest.fixture
def fresh(app):
    """Start each test with no saved version and no audit rows."""
    with app.server.extensions["gridcc"].engine.begin() as conn:
        conn.execute(rank_configs.delete())
        conn.execute(audit_log.delete())
    return app


def versions_of(app) -> list[tuple]:
    with app.server.extensions["gridcc"].engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(rank_configs.c.id, rank_configs.c.effective_from,
                                                      rank_configs.c.created_by, rank_configs.c.note))]


def audits_of(app, action: str) -> list[tuple]:
    with app.server.extensions["gridcc"].engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(audit_log.c.actor, audit_log.c.outcome, audit_log.c.target)
                                               .where(audit_log.c.action == action).order_by(audit_log.c.id))]


def default_values() -> list:
    """Return the form's values as the page shows the defaults, in FIELDS order (worked from the spec's table)."""
    weights = {scheme: {i["indicator"]: i["weight"] for i in spec["items"]}
               for scheme, spec in DEFAULTS["schemes"].items()}
    values = []
    for kind, scheme, extra, _id, _prop in ids.FIELDS:
        if kind == "counted":
            values.append(["on"] if extra in weights[scheme] else [])
        elif kind == "weight":
            values.append(weights[scheme].get(extra))
        elif kind == "min_volume":
            values.append(DEFAULTS["schemes"][scheme]["min_volume"])
        elif kind == "patrol_classes":
            values.append("01,02,03,05")
        else:
            values.append(DEFAULTS[kind])
    return values


def with_value(values: list, field_id: str, value) -> list:
    index = next(i for i, f in enumerate(ids.FIELDS) if f[3] == field_id)
    return values[:index] + [value] + values[index + 1:]


def find(component, component_id):
    if getattr(component, "id", None) == component_id:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if hasattr(child, "to_plotly_json"):
            hit = find(child, component_id)
            if hit is not None:
                return hit
    return None


def text_of(component) -> str:
    if isinstance(component, str):
        return component
    children = getattr(component, "children", None)
    if children is None:
        return ""
    return "".join(text_of(c) for c in (children if isinstance(children, (list, tuple)) else [children]))


def save_payload(app, *, values, month="2026-12", note="", lang="zh", grade_names=GRADE_NAMES, grades=GRADES,
                 clicks=1) -> dict:
    """Return the JSON dash-renderer posts when 保存为新版本 is clicked."""
    key = next(k for k in app.callback_map if f"{ids.RESULT}.children" in k)
    state = [{"id": ids.MONTH, "property": "value", "value": month},
             {"id": ids.NOTE, "property": "value", "value": note},
             {"id": ids.LANG, "property": "data", "value": lang},
             {"id": ids.GRADE_NAMES, "property": "data", "value": grade_names},
             [{"id": ids.grade_id(i), "property": "value", "value": v} for i, v in enumerate(grades)],
             *({"id": f[3], "property": f[4], "value": v} for f, v in zip(ids.FIELDS, values))]
    return {"output": key, "outputs": [{"id": ids.RESULT, "property": "children"},
                                       {"id": ids.VERSION, "property": "data"}],
            "inputs": [{"id": ids.SAVE, "property": "n_clicks", "value": clicks}],
            "changedPropIds": [f"{ids.SAVE}.n_clicks"], "state": state}


def post_save(client, app, **kw):
    return client.post("/_dash-update-component", data=json.dumps(save_payload(app, **kw)),
                       content_type="application/json")


def answer_text(response) -> str:
    body = response.get_json()["response"][ids.RESULT]["children"]

    def walk(node):
        if isinstance(node, str):
            return node
        if isinstance(node, dict):
            return walk(node.get("props", {}).get("children"))
        if isinstance(node, list):
            return "".join(walk(n) for n in node)
        return ""
    return walk(body)


# -- the layout ------------------------------------------------------------------------------------------------
def test_rcf001_an_administrator_gets_every_scheme_with_the_defaults(fresh):
    with fresh.server.test_request_context():
        flask.g.gridcc_principal = principal_for(fresh, "admin")
        page = ids.layout("zh")
    assert [find(page, f[3]).value for f in ids.FIELDS] == default_values()
    assert [find(page, ids.grade_id(i)).value for i in range(5)] == GRADES
    assert find(page, ids.grade_id(4)).disabled is True
    month = find(page, ids.MONTH)
    assert month.value == "2026-11" and len(month.options) == 24
    assert (month.options[0], month.options[-1]) == ({"label": "2026年11月", "value": "2026-11"},
                                                    {"label": "2028年10月", "value": "2028-10"})
    assert text_of(find(page, ids.STATUS)) == "本月（2026年11月）执行：配置文件（默认）尚无封账月份"


@pytest.mark.parametrize("name", ["leader", "dongcheng", "viewer", "dongjie"])
def test_rcf002_anyone_else_gets_only_the_refusal(fresh, name):
    if name not in handcity.USERS:
        pytest.skip(f"no hand-city user {name}")
    with fresh.server.test_request_context():
        flask.g.gridcc_principal = principal_for(fresh, name)
        page = ids.layout("zh")
    assert find(page, ids.SAVE) is None and find(page, ids.VERSIONS) is None
    assert "仅系统管理员可修改考核配置" in text_of(page)


# -- the form (pure) -------------------------------------------------------------------------------------------
def test_rcf010_the_default_form_is_the_default_configuration():
    assert ids.config_document(default_values(), GRADES, GRADE_NAMES) == DEFAULTS


def test_rcf011_unticked_items_leave_the_scheme_and_a_ticked_zero_stays_shown():
    values = with_value(default_values(), ids.counted_id("worker", "visit_coverage"), [])
    values = with_value(values, ids.weight_id("worker", "patrol_rate"), 0)
    values = with_value(values, ids.counted_id("area", "rework_rate"), ["on"])
    values = with_value(values, ids.weight_id("area", "rework_rate"), 12.5)
    document = ids.config_document(values, GRADES, GRADE_NAMES)
    assert [i["indicator"] for i in document["schemes"]["worker"]["items"]][-1] == "patrol_rate"
    assert document["schemes"]["worker"]["items"][-1]["weight"] == 0
    assert document["schemes"]["area"]["items"][-1] == {"indicator": "rework_rate", "weight": 12.5}
    assert rank_config.parse(document).schemes["area"].items[-1] == rank_config.Item("rework_rate", 12.5)


W = ids.weight_id("worker", "valid_report_rate")


@pytest.mark.parametrize("field_id,value,says", [
    (W, None, "网格员考核 · 有效上报率 的权重：须为 0–1000 之间的数"),
    (W, "40", "有效上报率 的权重：须为 0–1000 之间的数"),
    (W, -1, "有效上报率 的权重：须为 0–1000 之间的数"),
    (W, 1001, "有效上报率 的权重"),
    (W, float("nan"), "有效上报率 的权重"),
    (W, True, "有效上报率 的权重"),
    (W, [40], "有效上报率 的权重"),
    (ids.min_volume_id("area"), -1, "区域考核 · 每月最低业务量：须为 0–1000000 之间的整数"),
    (ids.min_volume_id("area"), 2.5, "区域考核 · 每月最低业务量"),
    (ids.min_volume_id("area"), "20", "区域考核 · 每月最低业务量"),
    (ids.SETTLE, 32, "月末后封账天数：须为 0–31 之间的整数"),
    (ids.VERIFY, 0, "按时核实时限（分钟）：须为 1–10080 之间的整数"),
    (ids.CHECK, None, "按时核查时限（分钟）"),
    (ids.CLASSES, "", "计为漏报的大类代码：须为两位大类代码"),
    (ids.CLASSES, "1,2", "计为漏报的大类代码"),
    (ids.CLASSES, "01,abc", "计为漏报的大类代码"),
    (ids.CLASSES, ["01"], "计为漏报的大类代码"),
    (ids.CLASSES, "01," * 200, "计为漏报的大类代码"),
])
def test_rcf012_a_bad_value_is_named_in_words(field_id, value, says):
    with pytest.raises(ids.FormProblem) as problem:
        ids.config_document(with_value(default_values(), field_id, value), GRADES, GRADE_NAMES)
    assert says in problem.value.message("zh")


def test_rcf013_grades_must_descend_and_nothing_counted_is_refused():
    with pytest.raises(ids.FormProblem) as problem:
        ids.config_document(default_values(), [90, 95, 60, 40, 0], GRADE_NAMES)
    assert problem.value.message("zh") == "未保存。等级 B：须低于上一档（A 90）"
    assert problem.value.message("en") == "Not saved. Grade B: must be below the band above (A 90)"
    with pytest.raises(ids.FormProblem) as problem:
        ids.config_document(default_values(), [90, "x", 60, 40, 0], GRADE_NAMES)
    assert problem.value.message("zh") == "未保存。等级 B：须为 0–100 之间的数"
    values = default_values()
    for indicator in ("response_rate", "resolve_rate", "satisfaction_rate"):
        values = with_value(values, ids.weight_id("hotline", indicator), 0)
    with pytest.raises(ids.FormProblem) as problem:
        ids.config_document(values, GRADES, GRADE_NAMES)
    assert problem.value.message("zh") == "未保存。12345 三率：至少要有一项计入且权重大于 0"
    for names, grades in ((["A", "A", "C", "D", "E"], GRADES), (GRADE_NAMES, GRADES[:4]), ([], []),
                          ([1, 2, 3, 4, 5], GRADES)):
        with pytest.raises(ids.FormProblem):
            ids.config_document(default_values(), grades, names)
    with pytest.raises(ids.FormProblem):
        ids.config_document(default_values()[:-1], GRADES, GRADE_NAMES)


def test_rcf014_version_states():
    def v(i, month):
        return rank_config.Version(i, month, "admin", datetime(2026, 11, 1), None, "{}")
    versions = [v(1, date(2026, 9, 1)), v(2, date(2026, 11, 1)), v(4, date(2026, 11, 1)), v(3, date(2027, 1, 1))]
    assert ids.version_states(versions, date(2026, 11, 20)) == {1: "past", 2: "past", 4: "current", 3: "pending"}
    assert ids.version_states(versions, date(2026, 10, 31)) == {1: "current", 2: "pending", 4: "pending", 3: "pending"}


# -- the save, over HTTP as dash-renderer sends it ---------------------------------------------------------------
def test_rcf020_an_administrator_saves_a_version(fresh):
    client = signed_in(fresh, "admin")
    values = with_value(default_values(), W, 60)
    response = post_save(client, fresh, values=values, month="2027-01", note="有效上报率加重")
    assert response.status_code == 200
    assert answer_text(response) == "已保存为版本 #{}，自 2027年1月 起生效".format(versions_of(fresh)[0][0])
    [(version_id, month, who, note)] = versions_of(fresh)
    assert (month, who, note) == (date(2027, 1, 1), "admin", "有效上报率加重")
    assert audits_of(fresh, "rankcfg.save") == [("admin", "ok", f"#{version_id}")]
    with fresh.server.extensions["gridcc"].engine.connect() as conn:
        assert rank_config.effective(conn, date(2026, 12, 1))[1] == "file"
        config, label = rank_config.effective(conn, date(2027, 1, 1))
    assert label == f"#{version_id}" and config.schemes["worker"].items[0].weight == 60.0
    with fresh.server.test_request_context():
        flask.g.gridcc_principal = principal_for(fresh, "admin")
        table, status = cb.update_versions(version_id, "zh")
    assert "待生效" in text_of(table) and "有效上报率加重" in text_of(table)


@pytest.mark.parametrize("kw,says", [
    ({"month": "2026-10"}, "2026年10月 早于当月（2026年11月）：已过去的考核期不能改变"),
    ({"month": "2031-01"}, "2031年1月 超过 36 个月之后"),
    ({"month": "2026-13"}, "生效月份：请从列表中选择生效月份"),
    ({"month": None}, "请从列表中选择生效月份"),
    ({"month": ["2026-12"]}, "请从列表中选择生效月份"),
    ({"month": "<script>alert(1)</script>"}, "请从列表中选择生效月份"),
    ({"month": "2026-12-01"}, "请从列表中选择生效月份"),
    ({"note": "长" * 501}, "修改说明超过 500 字"),
    ({"note": {"$ne": 1}}, "修改说明：须为文字"),
    ({"grade_names": ["A", "A", "C", "D", "E"]}, "配置无效"),
    ({"grade_names": "ABCDE"}, "配置无效"),
    ({"grades": [90, 75]}, "配置无效"),
    ({"grades": [90, 75, 60, 40, 0] * 3, "grade_names": list("ABCDEFGHIJKLMNO")}, "配置无效"),
    ({"values": with_value(default_values(), W, "9" * 100_000)}, "有效上报率 的权重"),
    ({"values": with_value(default_values(), ids.CLASSES, "' OR 1=1 --")}, "计为漏报的大类代码"),
])
def test_rcf021_hostile_values_are_a_message_and_save_nothing(fresh, kw, says):
    client = signed_in(fresh, "admin")
    kw = {"values": default_values()} | kw
    response = post_save(client, fresh, **kw)
    assert response.status_code == 200
    assert says in answer_text(response)
    assert versions_of(fresh) == []
    assert [row[1] for row in audits_of(fresh, "rankcfg.save")] == ["refused"]


def test_rcf022_a_frozen_month_refuses_a_version(fresh):
    from queries.schema import rank_periods

    with fresh.server.extensions["gridcc"].engine.begin() as conn:
        conn.execute(rank_periods.insert().values(month=date(2026, 11, 1), frozen_at=handcity.NOW,
                                                  as_of=datetime(2026, 12, 1), config=rank_config.base().to_json()))
    try:
        client = signed_in(fresh, "admin")
        response = post_save(client, fresh, values=default_values(), month="2026-11")
        assert answer_text(response) == "2026年11月 不晚于已封账的 2026年11月：已封账的考核期不能改变"
        assert versions_of(fresh) == []
    finally:
        with fresh.server.extensions["gridcc"].engine.begin() as conn:
            conn.execute(rank_periods.delete())


@pytest.mark.parametrize("name", ["leader", "dongcheng"])
def test_rcf023_others_posting_the_save_get_nothing_and_change_nothing(fresh, name):
    if name not in handcity.USERS:
        pytest.skip(f"no hand-city user {name}")
    client = signed_in(fresh, name)
    response = post_save(client, fresh, values=default_values())
    assert response.status_code == 204
    assert versions_of(fresh) == []
    assert audits_of(fresh, "rankcfg.save") == [(name, "refused", "save")]


def test_rcf024_called_without_a_click_it_does_nothing(fresh):
    with fresh.server.test_request_context():
        flask.g.gridcc_principal = principal_for(fresh, "admin")
        with pytest.raises(PreventUpdate):
            cb.update_save(0, "2026-12", "", "zh", GRADE_NAMES, GRADES, *default_values())
        with pytest.raises(PreventUpdate):
            cb.update_versions(0, "zh")
