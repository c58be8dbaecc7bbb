"""Alert rules on the hand city (tests/handcity.py) with a fixed clock, every expected firing worked by hand.

Open at 15:00 in the hand city (history: its open_events is as of 16:00): 3 (A1, deadline 11-17 09:30),
4 (A2, deadline 11-20 16:05), 6 (B1, handled), 9 (C2, deadline 09-04), 10 (C2, no deadline); 8 is parked.
``due_store`` adds open, dispatched cases in 南苑街道 (329902002; grids B1, B2) with these deadlines on 11-20:

  20 B1 15:30   21 B2 16:59   22 B1 17:00   23 B2 15:10 but handled 14:50   24 B1 14:59
  25 B2 15:00   26 B1 16:00 but parked

red_within at 15:00 with 2 hours counts deadlines in [15:00, 17:00), unhandled, not parked:
  南苑街道 20, 21, 25 = 3; 东街街道 (329902001) 4 = 1; 西湖街道 none (9 is long overdue, 10 has no deadline).
overdue_surge at 15:00 with 1 hour counts deadlines in [14:00, 15:00): 南苑街道 24 = 1.
undispatched_urgent uses the urgent events of tests/queries/test_alerts.py: 12 (B2, 0115, 11:00),
13 (C1, 0402, 12:00), 15 (A2, 0403, 11-19 15:00); 14 is void, 16 after 15:00, 17 not urgent, 6 dispatched.
"""
from __future__ import annotations

import json
import threading
from datetime import datetime

import pytest
from sqlalchemy import insert, select, update

from dashboard import alert_rules as ar
from dashboard.webhook import ConfigError, Target
from queries import alert_rules as q
from queries.meta import data_version
from queries.schema import alert_firings, events
from queries.scope import Scope
from queries.state import open_source, rebuild_open_events
from tests import handcity
from tests.handcity import B1, B2, NOW
from tests.queries.test_alerts import add_events

CITY = Scope(handcity.CITY, 0)
EAST = Scope("329902", 1)
WEST = Scope("329903", 1)
NANYUAN = "329902002"
DONGJIE = "329902001"


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-{text}")


DUE = [  # id, grid, deadline, handled, parked
    (20, B1, "11-20 15:30", None, False),
    (21, B2, "11-20 16:59", None, False),
    (22, B1, "11-20 17:00", None, False),
    (23, B2, "11-20 15:10", "11-20 14:50", False),
    (24, B1, "11-20 14:59", None, False),
    (25, B2, "11-20 15:00", None, False),
    (26, B1, "11-20 16:00", None, True),
]


def add_due(conn, rows=DUE) -> None:
    """Add open dispatched cases (category 0505, reported 11-20 09:00) with the given deadlines."""
    template = next(row for row in handcity.event_rows() if row["id"] == 4)
    conn.execute(insert(events), [
        {**template, "id": eid, "grid_code": grid, "building_code": grid + "001", "community_code": grid[:12],
         "street_code": grid[:9], "district_code": grid[:6], "department_code": grid[:6] + "-01",
         "reported_at": at("11-20 09:00"), "dispatched_at": at("11-20 09:05"), "deadline_at": at(deadline),
         "handled_at": at(handled) if handled else None, "status": "handled" if handled else "dispatched",
         "is_parked": parked, "description": f"到期 {eid}"}
        for eid, grid, deadline, handled, parked in rows])


@pytest.fixture
def due_engine(hand_engine):
    with hand_engine.begin() as conn:
        add_due(conn)
        add_events(conn)
    return hand_engine


def rule(kind: str, rule_id: str | None = None, **params) -> ar.Rule:
    return ar.parse_rules([{"id": rule_id or kind, "kind": kind, "params": params}], "test")[0]


def counted(conn, r: ar.Rule, now=NOW, scope=CITY) -> dict[str, int]:
    return {h.key: h.detail.get("count", 1) for h in ar.rule_hits(conn, r, scope, now)}


# -- what each rule finds -------------------------------------------------------------------------------------
@pytest.mark.parametrize("n, hours, expected", [
    (0, 2, {NANYUAN: 3, DONGJIE: 1}),
    (2, 2, {NANYUAN: 3}),  # more than 2
    (3, 2, {}),  # 3 is not more than 3
    (0, 0.5, {NANYUAN: 1}),  # [15:00, 15:30): 25 only (20 at 15:30 is out)
    (0, 1.1, {NANYUAN: 2, DONGJIE: 1}),  # [15:00, 16:06): 25, 20; and 4 at 16:05
])
def test_rule001_red_within_counts_deadlines_in_the_next_hours(due_engine, n, hours, expected):
    with due_engine.connect() as conn:
        assert counted(conn, rule("red_within", n=n, hours=hours)) == expected


def test_rule002_red_within_per_community_and_district(due_engine):
    with due_engine.connect() as conn:
        assert counted(conn, rule("red_within", n=0, per="community")) == {"329902002001": 3, "329902001001": 1}
        assert counted(conn, rule("red_within", n=3, per="district")) == {"329902": 4}


def test_rule003_red_within_reads_the_current_state_as_the_history_does(due_engine):
    # At 16:00 (the store's state time) from open_events, once it holds the added cases: [16:00, 18:00)
    # is 4 (16:05) in 东街; 21 (16:59) and 22 (17:00) in 南苑 (26 at 16:00 is parked).
    with due_engine.connect() as conn:
        history = counted(conn, rule("red_within", n=0), now=at("11-20 15:59:59"))
    with due_engine.begin() as conn:
        rebuild_open_events(conn, as_of=handcity.STATE_AS_OF)
    with due_engine.connect() as conn:
        assert open_source(conn, at("11-20 16:00"))[0].name == "open_events"
        assert counted(conn, rule("red_within", n=0), now=at("11-20 16:00")) == {NANYUAN: 2, DONGJIE: 1}
    # 15:59:59 from the history, [15:59:59, 17:59:59): 21, 22 in 南苑 (26 parked), 4 in 东街.
    assert history == {NANYUAN: 2, DONGJIE: 1}


@pytest.mark.parametrize("n, hours, expected", [
    (0, 1, {NANYUAN: 1}),  # 24 at 14:59
    (1, 1, {}),
    (0, 0.01, {}),  # [14:59:24, 15:00): 24 at 14:59:00 is out
    (0, 72, {NANYUAN: 1}),  # since 11-17 15:00: 3's deadline (11-17 09:30) is just before it
    (0, 71.6, {NANYUAN: 1}),
])
def test_rule004_overdue_surge_counts_deadlines_just_passed(due_engine, n, hours, expected):
    with due_engine.connect() as conn:
        assert counted(conn, rule("overdue_surge", n=n, hours=hours)) == expected


@pytest.mark.parametrize("minutes, now, expected", [
    (15, "11-20 15:00", ["15", "12", "13"]),  # oldest first
    (180, "11-20 15:00", ["15", "12", "13"]),  # 13 reported at 12:00: exactly 180 minutes
    (181, "11-20 15:00", ["15", "12"]),
    (15, "11-20 11:14", ["15"]),  # 12 (11:00) has waited 14 minutes
    (15, "11-20 11:15", ["15", "12"]),
])
def test_rule005_undispatched_urgent(due_engine, minutes, now, expected):
    with due_engine.connect() as conn:
        hits = ar.rule_hits(conn, rule("undispatched_urgent", minutes=minutes), CITY, at(now))
    assert [h.key for h in hits] == expected


def test_rule006_an_urgent_hit_names_its_case_place_and_department(due_engine):
    with due_engine.connect() as conn:
        hit = ar.rule_hits(conn, rule("undispatched_urgent"), CITY, NOW)[1]
    assert (hit.key, hit.area_code, hit.department_code, hit.level) == ("12", B2, "329902-01", "critical")
    assert hit.title == "紧急事件超15分钟未派遣：焚烧树叶垃圾（南苑社区·南苑第02网格）"
    assert "#12" in hit.message.text and f"/?area={B2}" in hit.message.text and "已等240分钟" in hit.message.text


def test_rule007_scope_cuts_what_a_rule_sees(due_engine):
    with due_engine.connect() as conn:
        assert counted(conn, rule("red_within", n=0), scope=WEST) == {}
        assert counted(conn, rule("red_within", n=0), scope=Scope(NANYUAN, 2)) == {NANYUAN: 3}
        assert [h.key for h in ar.rule_hits(conn, rule("undispatched_urgent"), WEST, NOW)] == ["13"]


# -- firing once, clearing, firing again ---------------------------------------------------------------------
def firing_rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(alert_firings.c.rule, alert_firings.c.key, alert_firings.c.raised_at, alert_firings.c.cleared_at)
            .order_by(alert_firings.c.id))]


def version(engine) -> int:
    with engine.connect() as conn:
        return data_version(conn)


def test_rule010_fires_once_while_it_holds_clears_and_fires_again(due_engine):
    rules = (rule("red_within", n=2),)
    lock = threading.Lock()
    v0 = version(due_engine)
    first = ar.evaluate(due_engine, rules, now=NOW, lock=lock)
    assert [(h.rule, h.key, h.detail["count"]) for _, h in first.raised] == [("red_within", NANYUAN, 3)]
    assert first.version == v0 + 1 and first.areas == (NANYUAN,)
    # 15:01: 25 went red, 22 (17:00) came into the window: still 3, so nothing new, no new version.
    again = ar.evaluate(due_engine, rules, now=at("11-20 15:01"), lock=lock)
    assert (again.raised, again.cleared, again.version) == ([], [], None)
    assert version(due_engine) == v0 + 1
    # 15:31: 20 went red too: 21 and 22 are 2, not more than 2: cleared.
    cleared = ar.evaluate(due_engine, rules, now=at("11-20 15:31"), lock=lock)
    assert cleared.cleared == [first.raised[0][0]] and cleared.version == v0 + 2 and cleared.areas == (NANYUAN,)
    # A new case due at 16:30 in B2: 3 again, a second firing of the same rule and street.
    with due_engine.begin() as conn:
        add_due(conn, [(27, B2, "11-20 16:30", None, False)])
    back = ar.evaluate(due_engine, rules, now=at("11-20 15:32"), lock=lock)
    assert [h.key for _, h in back.raised] == [NANYUAN]
    assert firing_rows(due_engine) == [("red_within", NANYUAN, NOW, at("11-20 15:31")),
                                       ("red_within", NANYUAN, at("11-20 15:32"), None)]


def test_rule011_an_urgent_case_dispatched_clears_and_returned_fires_again(due_engine):
    rules = (rule("undispatched_urgent"),)
    lock = threading.Lock()
    ar.evaluate(due_engine, rules, now=NOW, lock=lock)
    with due_engine.begin() as conn:
        conn.execute(update(events).where(events.c.id == 12).values(dispatched_at=at("11-20 15:02"),
                                                                    status="dispatched"))
    result = ar.evaluate(due_engine, rules, now=at("11-20 15:05"), lock=lock)
    assert len(result.cleared) == 1 and result.raised == [] and result.areas == (B2,)
    with due_engine.begin() as conn:  # returned (回退): not dispatched any more
        conn.execute(update(events).where(events.c.id == 12).values(dispatched_at=None, status="registered"))
    result = ar.evaluate(due_engine, rules, now=at("11-20 15:10"), lock=lock)
    assert [h.key for _, h in result.raised] == ["12"]
    assert [(r[1], r[3] is None) for r in firing_rows(due_engine)] == [
        ("15", True), ("12", False), ("13", True), ("12", True)]


def test_rule012_a_disabled_or_removed_rule_clears_its_firings(due_engine):
    lock = threading.Lock()
    ar.evaluate(due_engine, (rule("red_within", n=2),), now=NOW, lock=lock)
    off = ar.parse_rules([{"id": "red_within", "kind": "red_within", "params": {"n": 2}, "enabled": False}], "t")
    result = ar.evaluate(due_engine, off, now=NOW, lock=lock)
    assert len(result.cleared) == 1 and firing_rows(due_engine)[0][3] == NOW


def test_rule013_defaults_fire_nothing_in_the_plain_hand_city(hand_engine):
    # Default rules at 15:00: red_within 东街 1 (not > 5), overdue_surge none, no urgent case waiting.
    result = ar.evaluate(hand_engine, ar.default_rules(), now=NOW, lock=threading.Lock())
    assert (result.raised, result.cleared, result.version) == ([], [], None)
    assert firing_rows(hand_engine) == []


# -- configuration ------------------------------------------------------------------------------------------
def test_rule020_defaults_when_unset():
    rules = ar.load_rules("")
    assert [(r.id, r.kind, dict(r.params), r.level, r.enabled, r.webhooks) for r in rules] == [
        ("red_within", "red_within", {"n": 5, "hours": 2, "per": "street"}, "warning", True, ("*",)),
        ("undispatched_urgent", "undispatched_urgent", {"minutes": 15}, "critical", True, ("*",)),
        ("overdue_surge", "overdue_surge", {"n": 3, "hours": 1, "per": "street"}, "warning", True, ("*",)),
    ]


def test_rule021_a_json_and_a_toml_file(tmp_path):
    hooks = (Target("duty", "dingtalk", "http://10.0.0.1/robot/send?access_token=x"),)
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"rules": [{"id": "street-red", "kind": "red_within", "params": {"n": 10, "hours": 1.5},
                                           "level": "critical", "webhooks": ["duty"]}]}), encoding="utf-8")
    (r,) = ar.load_rules(str(path), hooks)
    assert (r.id, dict(r.params), r.level, r.webhooks) == ("street-red", {"n": 10, "hours": 1.5, "per": "street"},
                                                          "critical", ("duty",))
    assert ar.targets_of(r, hooks) == ("duty",)
    toml = tmp_path / "rules.toml"
    toml.write_text('[[rules]]\nid = "late"\nkind = "undispatched_urgent"\nparams = { minutes = 30 }\n'
                    'enabled = false\nwebhooks = []\n', encoding="utf-8")
    (late,) = ar.load_rules(str(toml), hooks)
    assert (late.id, dict(late.params), late.enabled) == ("late", {"minutes": 30}, False)
    assert ar.targets_of(late, hooks) == ()


@pytest.mark.parametrize("rules, problem", [
    ([{"id": "a", "kind": "red_within", "params": {"n": -1}}], "rules[0].params.n: must lie in [0, 100000]"),
    ([{"id": "a", "kind": "red_within", "params": {"n": 10 ** 12}}], "rules[0].params.n: must lie in"),
    ([{"id": "a", "kind": "red_within", "params": {"n": 2.5}}], "rules[0].params.n: must be a whole number"),
    ([{"id": "a", "kind": "red_within", "params": {"n": True}}], "rules[0].params.n: must be a number, not bool"),
    ([{"id": "a", "kind": "red_within", "params": {"n": "5"}}], "rules[0].params.n: must be a number, not str"),
    ([{"id": "a", "kind": "red_within", "params": {"hours": 0}}], "rules[0].params.hours: must lie in (0, 72]"),
    ([{"id": "a", "kind": "red_within", "params": {"hours": -2}}], "rules[0].params.hours: must lie in (0, 72]"),
    ([{"id": "a", "kind": "red_within", "params": {"hours": 1e308}}], "params.hours: must lie in (0, 72]"),
    ([{"id": "a", "kind": "red_within", "params": {"per": "grid"}}], "rules[0].params.per: must be one of"),
    ([{"id": "a", "kind": "undispatched_urgent", "params": {"minutes": 0}}], "params.minutes: must lie in [1, 1440]"),
    ([{"id": "a", "kind": "undispatched_urgent", "params": {"n": 3}}], "rules[0].params: unknown parameter(s) ['n']"),
    ([{"id": "a", "kind": "red"}], "rules[0].kind: must be one of red_within, undispatched_urgent, overdue_surge"),
    ([{"id": "a b", "kind": "red_within"}], "rules[0].id: must be 1-64 letters"),
    ([{"kind": "red_within"}], "rules[0].id: must be"),
    ([{"id": "a", "kind": "red_within"}, {"id": "a", "kind": "overdue_surge"}], "rules[1].id: 'a' is used twice"),
    ([{"id": "a", "kind": "red_within", "level": "panic"}], "rules[0].level: must be one of critical, warning, info"),
    ([{"id": "a", "kind": "red_within", "enabled": "yes"}], "rules[0].enabled: must be true or false"),
    ([{"id": "a", "kind": "red_within", "webhooks": ["nobody"]}], "rules[0].webhooks: no webhook named 'nobody'"),
    ([{"id": "a", "kind": "red_within", "webhooks": "duty"}], "rules[0].webhooks: must be a list"),
    ([{"id": "a", "kind": "red_within", "typo": 1}], "rules[0]: unknown key(s) ['typo']"),
    ([[1, 2]], "rules[0]: must be an object"),
    ({"rule": []}, "unknown key(s) ['rule']"),
    ("rules", "expected a list of rules"),
    ([{"id": f"r{i}", "kind": "red_within"} for i in range(101)], "101 rules, more than 100"),
])
def test_rule022_a_bad_rule_is_refused_naming_file_key_and_problem(tmp_path, rules, problem):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        ar.load_rules(str(path))
    assert f"GRIDCC_ALERT_RULES={path}" in str(error.value) and problem in str(error.value), str(error.value)


@pytest.mark.parametrize("content, problem", [
    ("{not json", "not valid JSON"),
    ("[{\"id\": \"a\", \"kind\": \"red_within\", \"params\": {\"hours\": NaN}}]", "params.hours: must lie in"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    (b"\xff\xfe", "cannot read the file as UTF-8"),
])
def test_rule023_an_unreadable_file_is_refused(tmp_path, content, problem):
    path = tmp_path / "rules.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ConfigError, match=problem.replace("(", r"\(").replace("[", r"\[")):
        ar.load_rules(str(path))


def test_rule024_a_missing_huge_or_bad_toml_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"GRIDCC_ALERT_RULES=.*nowhere.json: cannot read the file"):
        ar.load_rules(str(tmp_path / "nowhere.json"))
    huge = tmp_path / "huge.json"
    huge.write_bytes(b"[" + b" " * (10 * 1024 * 1024) + b"]")  # 10 MB: refused before it is read
    with pytest.raises(ConfigError, match="the file is 10,485,762 bytes, larger than 1,000,000"):
        ar.load_rules(str(huge))
    bad = tmp_path / "rules.toml"
    bad.write_text("[[rules]\nid=", encoding="utf-8")
    with pytest.raises(ConfigError, match="rules.toml: not valid TOML"):
        ar.load_rules(str(bad))
    with pytest.raises(ConfigError, match="not a file"):
        ar.load_rules(str(tmp_path))


@pytest.mark.parametrize("every, ok", [(0, True), (30, True), (0.2, True), (-1, False), (0.001, False),
                                       (float("nan"), False), (10 ** 9, False)])
def test_rule025_the_evaluation_period_is_checked(every, ok):
    if ok:
        assert ar.check_every(every) == every
    else:
        with pytest.raises(ConfigError, match="GRIDCC_ALERT_EVERY_S"):
            ar.check_every(every)


def test_rule026_the_environment_gives_30_s_and_code_gives_none():
    from dashboard.settings import Settings, from_env

    assert from_env({}).alert_every_s == 30 and Settings().alert_every_s == 0
    env = from_env({"GRIDCC_ALERT_EVERY_S": "5", "GRIDCC_WEBHOOK_TRIES": "3", "GRIDCC_ALERT_RULES": "/x.json",
                    "GRIDCC_WEBHOOKS": "[]", "GRIDCC_ALERT_LINK_BASE": "http://10.1.1.1:8050"})
    assert (env.alert_every_s, env.webhook_tries, env.alert_rules, env.webhooks, env.alert_link_base) == (
        5.0, 3, "/x.json", "[]", "http://10.1.1.1:8050")


# -- start-up refuses a bad configuration ----------------------------------------------------------------------
def test_rule030_create_app_refuses_a_bad_rules_file(hand_settings, tmp_path):
    from dashboard.app import create_app

    path = tmp_path / "rules.json"
    path.write_text(json.dumps([{"id": "a", "kind": "red_within", "params": {"hours": -1}}]), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"GRIDCC_ALERT_RULES=.*rules.json: rules\[0\].params.hours"):
        create_app(hand_settings.with_(alert_rules=str(path)))
    with pytest.raises(ConfigError, match=r"GRIDCC_WEBHOOKS \(inline JSON\): webhooks\[0\].url: must start with"):
        create_app(hand_settings.with_(webhooks='[{"name": "a", "kind": "wecom", "url": "file:///etc/passwd"}]'))


def test_rule031_gridcc_serve_refuses_to_start(hand_settings, tmp_path, monkeypatch):
    from dashboard import cli

    path = tmp_path / "rules.json"
    path.write_text("[{\"id\": \"a\", \"kind\": \"nope\"}]", encoding="utf-8")
    monkeypatch.setenv("GRIDCC_DATA_DIR", str(hand_settings.data_dir))
    monkeypatch.setenv("GRIDCC_ALERT_RULES", str(path))
    served = []
    monkeypatch.setattr("waitress.serve", lambda *a, **k: served.append(a))
    with pytest.raises(ConfigError, match=r"rules\[0\].kind"):
        cli.main(["serve", "--port", "0"])
    assert served == []


# -- the evaluator thread in an app ---------------------------------------------------------------------------
def test_rule040_the_app_evaluates_in_the_background_and_tells_the_screens(hand_settings):
    from dashboard.app import create_app
    from dashboard.store import make_engine

    settings = hand_settings.with_(alert_every_s=0.2, alert_rules='{"rules": [{"id": "red", "kind": "red_within", '
                                                                   '"params": {"n": 2}}]}')
    engine = make_engine(settings)
    with engine.begin() as conn:
        add_due(conn)
        start = data_version(conn)
    engine.dispose()
    app = create_app(settings)  # the first evaluation comes at once
    hub = app.server.extensions["gridcc_live"]
    evaluator = app.server.extensions[ar.EXTENSION_KEY]
    engine = app.server.extensions["gridcc"].engine
    try:
        with hub._cond:
            assert hub._cond.wait_for(lambda: hub.version > start, timeout=10)
        _, _, grids = hub.since(start)
        assert grids == {NANYUAN}  # the screens are told where: 南苑街道, 3 cases > 2
        for _ in range(10):  # a few more turns: still one firing, no new version
            threading.Event().wait(0.1)
        assert hub.version == start + 1 and evaluator.runs >= 3
        assert [(r[0], r[1]) for r in firing_rows(engine)] == [("red", NANYUAN)]
    finally:
        hub.stop()  # the app's end (tests/conftest.py stops the hub): the evaluator stops with it
        evaluator._thread.join(5)
        engine.dispose()
    assert not evaluator._thread.is_alive()


def test_rule041_a_write_nudges_the_evaluator(hand_settings):
    from dashboard.app import create_app

    app = create_app(hand_settings.with_(alert_every_s=3600, alert_rules=json.dumps(
        {"rules": [{"id": "late", "kind": "undispatched_urgent", "params": {"minutes": 1}}]})))
    evaluator = app.server.extensions[ar.EXTENSION_KEY]
    hub = app.server.extensions["gridcc_live"]
    engine = app.server.extensions["gridcc"].engine
    try:
        deadline = threading.Event()
        for _ in range(100):  # the first evaluation, at start
            if evaluator.runs >= 1:
                break
            deadline.wait(0.05)
        assert evaluator.runs == 1 and firing_rows(engine) == []
        with engine.begin() as conn:
            add_events(conn)
        start = hub.version
        app.server.extensions["gridcc"].ingestor.listeners[-1](0, NOW, [])  # what a committed write calls
        with hub._cond:
            hub._cond.wait_for(lambda: hub.version > start, timeout=10)
        assert [r[1] for r in firing_rows(engine)] == ["15", "12", "13"]
        assert evaluator.runs == 2
    finally:
        hub.stop()
        evaluator.stop()
        engine.dispose()


# -- the same on PostgreSQL (GRIDCC_TEST_PG_URL, as tests/queries/test_postgres.py) -------------------------
def test_rule050_the_rules_and_firings_on_postgresql():
    import os

    url = os.environ.get("GRIDCC_TEST_PG_URL")
    if not url:
        pytest.skip("set GRIDCC_TEST_PG_URL to run the rules on PostgreSQL")
    from sqlalchemy import create_engine

    with create_engine(url).begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS alert_rules_test")
    engine = create_engine(url, connect_args={"options": "-csearch_path=alert_rules_test"})
    try:
        handcity.build_hand_city(engine)
        with engine.begin() as conn:
            add_due(conn)
            add_events(conn)
        with engine.connect() as conn:
            assert counted(conn, rule("red_within", n=0)) == {NANYUAN: 3, DONGJIE: 1}
            assert counted(conn, rule("overdue_surge", n=0)) == {NANYUAN: 1}
            assert [h.key for h in ar.rule_hits(conn, rule("undispatched_urgent"), CITY, NOW)] == ["15", "12", "13"]
        rules = (rule("red_within", n=2), rule("undispatched_urgent"))
        first = ar.evaluate(engine, rules, now=NOW, lock=threading.Lock())
        assert [h.key for _, h in first.raised] == [NANYUAN, "15", "12", "13"]
        assert ar.evaluate(engine, rules, now=NOW, lock=threading.Lock()).raised == []
        with engine.begin() as conn:
            outcome = q.acknowledge_firing(conn, scope=EAST, firing_id=first.raised[0][0], user_name="dongcheng",
                                           at=NOW)
            q.record_attempt(conn, firing_id=first.raised[0][0], target="duty", attempt=1, at=NOW,
                             outcome="delivered", http_status=200)
        with engine.connect() as conn:
            assert outcome == ("ok", NANYUAN)
            assert [f.key for f in q.open_firings(conn, scope=EAST)] == ["12", "15"]
            assert [d.outcome for d in q.deliveries(conn, firing_ids=[first.raised[0][0]])] == ["delivered"]
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA alert_rules_test CASCADE")
        engine.dispose()
