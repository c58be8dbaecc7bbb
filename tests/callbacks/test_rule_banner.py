"""Alert-rule firings in the overview's banner: whose screen shows which, signing for one (act right), the API.

``fired`` evaluates two rules at 15:00 on the hand city with tests/test_alert_rules.py's due cases and
tests/queries/test_alerts.py's urgent events: red_within (n=2) fires for 南苑街道 (329902002, 3 cases);
undispatched_urgent (15 min) for 15 (A2, 东街), 12 (B2, 南苑) and 13 (C1, 西湖). All raised at 15:00, so the
banner lists them newest first by id: 13, 12, 15, 南苑.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from callbacks import overview as cb
from dashboard import alert_rules as ar
from layouts import overview as ids
from queries.schema import alert_firings, audit_log
from tests.callbacks.test_live_panels import as_user, clicked, engine_of, untriggered, version
from tests.conftest import signed_in
from tests.handcity import NOW
from tests.queries.test_alerts import add_events
from tests.test_alert_rules import NANYUAN, add_due

RULES = ('{"rules": [{"id": "red", "kind": "red_within", "params": {"n": 2}}, '
         '{"id": "late", "kind": "undispatched_urgent"}]}')


def fire(app) -> dict[str, int]:
    """Add the cases, evaluate the rules at 15:00; return {key: firing id}."""
    engine = engine_of(app)
    with engine.begin() as conn:
        add_due(conn)
        add_events(conn)
    rules = ar.load_rules(RULES)
    ar.evaluate(engine, rules, now=NOW, lock=app.server.extensions["gridcc"].ingestor.write_lock)
    with engine.connect() as conn:
        return {r.key: r.id for r in conn.execute(select(alert_firings.c.key, alert_firings.c.id))}


@pytest.fixture
def fired(in_app):
    from dashboard import data

    keys = fire(in_app)
    data.flush_marks()
    return in_app, keys


def banner(lang="zh", acks=(), rule_acks=()):
    return cb.update_alerts(None, None, list(acks), list(rule_acks), lang, None)


def firing_refs(shown) -> list[str]:
    return [ref for ref in shown if isinstance(ref, str)]


def buttons(children, kind) -> list[dict]:
    found = []

    def walk(node):
        if isinstance(node, (list, tuple)):
            for child in node:
                walk(child)
            return
        props = node.to_plotly_json()["props"] if hasattr(node, "to_plotly_json") else {}
        if isinstance(props.get("id"), dict) and props["id"].get("type") == kind:
            found.append(props["id"])
        walk(props.get("children") or [])

    walk(children)
    return found


def text(children) -> str:
    from tests.callbacks.test_overview import text as flat

    return flat(children)


def refs(keys, *names) -> list[str]:
    return [f"r{keys[name]}" for name in names]


@pytest.mark.parametrize("user, expected", [
    ("leader", ("13", "12", "15", NANYUAN)),
    ("dongcheng", ("12", "15", NANYUAN)),  # 东城区
    ("xicheng", ("13",)),  # 西城区
    ("dongjie", ("15",)),  # 东街街道: A2's case; 南苑's street firing is not under it
    ("nanyuan", ("12",)),  # 南苑社区 (a community): its grid's case, not its street's count
    ("dept_dc", ("12", "15")),  # 东城区's department: the cases that are its own, no area counts
    ("dept_city", ()),  # the city hotline center: none of these cases is its own
])
def test_rb001_each_screen_shows_the_firings_of_its_scope(fired, user, expected):
    app, keys = fired
    as_user(app, user)
    with untriggered():
        _, _, shown, _ = banner()
    assert firing_refs(shown) == refs(keys, *expected)


def test_rb002_the_banner_says_what_fired_where_and_when(fired):
    app, keys = fired
    as_user(app, "dongcheng")
    with untriggered():
        children, _, shown, _ = banner()
        english, *_ = banner("en")
    assert [e for e in shown if isinstance(e, int)] == [12, 15]  # the urgent events' alerts beside them
    rule_row = children[1].to_plotly_json()["props"]
    assert rule_row["data-firing"] == str(keys["12"]) and rule_row["data-rule"] == "late"
    assert text(children[1]) == "紧急告警 15:00 紧急事件 #12 超 15 分钟未派遣：焚烧树叶垃圾 南苑社区·南苑第02网格 另有 2 条规则告警 签收"
    assert "Urgent case #12 not dispatched in 15 min" in text(english) and "Sign" in text(english)
    assert buttons(children, ids.RULE_ACK) == [{"type": ids.RULE_ACK, "firing": keys["12"]}]


def test_rb003_the_street_count_reads_from_its_detail(fired):
    app, keys = fired
    as_user(app, "dongcheng")
    from dashboard import data

    firing = next(f for f in data.open_firings(data.request_scope()) if f.key == NANYUAN)
    assert ids.rule_text(firing, "zh") == "2 小时内将有 3 件超期（超过 2 件告警）"
    assert ids.rule_text(firing, "en") == "3 cases turn red within 2 h (alert above 2)"
    assert firing.detail["place"] == "南苑街道" and firing.level == "warning"


def rule_audit(app) -> list[tuple]:
    with engine_of(app).connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(audit_log.c.actor, audit_log.c.outcome, audit_log.c.target, audit_log.c.detail)
            .where(audit_log.c.action == "rule.ack").order_by(audit_log.c.id))]


def signed(app) -> list[tuple]:
    with engine_of(app).connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(alert_firings.c.key, alert_firings.c.acknowledged_by, alert_firings.c.acknowledged_at)
            .where(alert_firings.c.acknowledged_by.is_not(None)))]


def test_rb010_signing_records_audits_tells_and_drops_the_firing(fired):
    app, keys = fired
    as_user(app, "dongcheng")
    hub = app.server.extensions["gridcc_live"]
    before = version(app)
    with clicked({"type": ids.RULE_ACK, "firing": keys[NANYUAN]}):
        _, _, shown, _ = banner(rule_acks=[1])
    assert firing_refs(shown) == refs(keys, "12", "15")
    assert signed(app) == [(NANYUAN, "dongcheng", NOW)]
    assert rule_audit(app) == [("dongcheng", "ok", str(keys[NANYUAN]), "ok")]
    assert version(app) == before + 1 and hub.since(before)[2] == {NANYUAN}  # every screen told at once
    with clicked({"type": ids.RULE_ACK, "firing": keys[NANYUAN]}):
        banner(rule_acks=[2])
    assert rule_audit(app)[-1] == ("dongcheng", "refused", str(keys[NANYUAN]), "already")
    assert version(app) == before + 1


@pytest.mark.parametrize("user", ["leader", "viewer"])
def test_rb011_a_role_that_may_not_act_is_refused_and_audited(fired, user):
    app, keys = fired
    as_user(app, user)
    before = version(app)
    with clicked({"type": ids.RULE_ACK, "firing": keys["13"]}):
        children, _, shown, _ = banner(rule_acks=[1])
    assert refs(keys, "13")[0] in shown and signed(app) == [] and version(app) == before
    assert rule_audit(app) == [(user, "refused", str(keys["13"]), "role may not act")]
    assert buttons(children, ids.RULE_ACK) == [] and buttons(children, ids.ACK) == []


def test_rb012_another_districts_firing_cannot_be_signed(fired):
    app, keys = fired
    as_user(app, "xicheng")
    with clicked({"type": ids.RULE_ACK, "firing": keys[NANYUAN]}):
        banner(rule_acks=[1])
    assert signed(app) == [] and rule_audit(app) == [("xicheng", "refused", str(keys[NANYUAN]), "unknown")]


@pytest.mark.parametrize("trigger, value", [
    ({"type": ids.RULE_ACK, "firing": True}, 1),
    ({"type": ids.RULE_ACK, "firing": -1}, 1),
    ({"type": ids.RULE_ACK, "firing": "1"}, 1),
    ({"type": ids.RULE_ACK, "firing": 2 ** 70}, 1),
    ({"type": ids.RULE_ACK, "event": 1}, 1),
    ({"type": ids.RULE_ACK, "firing": 1}, 0),
    ({"type": ids.RULE_ACK, "firing": 1}, None),
])
def test_rb013_forged_signatures_do_nothing(fired, trigger, value):
    app, keys = fired
    as_user(app, "dongcheng")
    before = version(app)
    with clicked(trigger, value):
        banner(rule_acks=[value])
    assert signed(app) == [] and rule_audit(app) == [] and version(app) == before


def test_rb014_signing_through_a_real_post(hand_app):
    from tests.security import common as c

    keys = fire(hand_app)
    client = signed_in(hand_app, "dongcheng")
    key = next(k for k in c.server_callbacks(hand_app) if k.startswith("..overview-alerts.children..."))
    spec = c.server_callbacks(hand_app)[key]

    def value_of(cid, prop):
        return "zh" if cid == ids.LANG else (1 if prop in ("n_clicks", "n_intervals") else None)

    payload = c.callback_payload(key, spec, value_of, {"firing": keys[NANYUAN], "event": 0}, fill_all=True)
    # Only the rule's button was clicked: the urgent events' list goes empty, as on a page without one.
    payload["inputs"] = [[] if isinstance(i, list) and i and "event" in i[0]["id"] else i for i in payload["inputs"]]
    payload["changedPropIds"] = [p for p in payload["changedPropIds"] if "firing" in p] or [
        c._id_text({"firing": keys[NANYUAN], "type": ids.RULE_ACK}) + ".n_clicks"]
    answer = c.post_callback(client, payload)
    assert answer.status_code == 200, answer.data[:300]
    assert signed(hand_app) == [(NANYUAN, "dongcheng", NOW)]


# -- the API's list ----------------------------------------------------------------------------------------------
def test_rb020_the_api_lists_the_scopes_firings_and_deliveries(hand_app):
    from queries import alert_rules as q

    keys = fire(hand_app)
    with engine_of(hand_app).begin() as conn:
        q.record_attempt(conn, firing_id=keys["13"], target="duty", attempt=1, at=NOW, outcome="failed",
                         http_status=500, error="HTTP 500")
        q.record_attempt(conn, firing_id=keys["13"], target="duty", attempt=2, at=NOW, outcome="delivered",
                         http_status=200)
    west = signed_in(hand_app, "xicheng").get("/api/v1/alerts/firings")
    assert west.status_code == 200
    (only,) = west.get_json()["firings"]
    assert only == {
        "id": keys["13"], "rule": "late", "kind": "undispatched_urgent", "key": "13",
        "area_code": "329903001001001", "level": "critical",
        "title": "紧急事件超15分钟未派遣：自来水管破裂（西湖社区·西湖第01网格）",
        "raised_at": "2026-11-20T15:00:00+08:00", "cleared_at": None, "acknowledged_by": None,
        "acknowledged_at": None,
        "deliveries": [
            {"target": "duty", "attempt": 1, "attempted_at": "2026-11-20T15:00:00+08:00", "outcome": "failed",
             "http_status": 500, "error": "HTTP 500"},
            {"target": "duty", "attempt": 2, "attempted_at": "2026-11-20T15:00:00+08:00", "outcome": "delivered",
             "http_status": 200, "error": None}]}
    east = signed_in(hand_app, "dongcheng").get("/api/v1/alerts/firings?limit=2").get_json()["firings"]
    assert [f["key"] for f in east] == ["12", "15"]
    none = signed_in(hand_app, "dongcheng").get(
        "/api/v1/alerts/firings?from=2026-11-20T15:00:01%2B08:00&to=2026-11-20T16:00:00%2B08:00").get_json()
    assert none == {"firings": []}


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=abc", "limit=" + "9" * 50, "from=yesterday",
                                   "from=2026-11-20T15:00:00",
                                   "to=2026-11-20T15:00:00%2B08:00&from=2026-11-21T00:00:00%2B08:00"])
def test_rb021_bad_parameters_are_a_400(hand_app, query):
    answer = signed_in(hand_app, "dongcheng").get(f"/api/v1/alerts/firings?{query}")
    assert answer.status_code == 400 and answer.get_json()["error"] == "bad_request"


def test_rb022_the_api_needs_a_caller(hand_app):
    assert hand_app.server.test_client().get("/api/v1/alerts/firings").status_code == 401
