"""The ranking configuration: the file, parse() refusals naming the key, versions in force from a month on.

Expected values are the spec's defaults and hand-picked months, never read back from the code under test.
"""
from __future__ import annotations

import copy
import json
from datetime import date, datetime

import pytest
from sqlalchemy import insert, select

from dashboard import rank_config as rc
from dashboard import rankings
from dashboard.settings import Settings
from dashboard.store import init_schema, make_engine
from queries.schema import audit_log, rank_periods

NOW = datetime(2026, 11, 23, 9, 30)
DEFAULTS = {
    "settle_days": 5, "verify_limit_minutes": 120, "check_limit_minutes": 120,
    "patrol_classes": ["01", "02", "03", "05"],
    "grades": {"A": 90, "B": 75, "C": 60, "D": 40, "E": 0},
    "schemes": {
        "worker": {"min_volume": 10, "items": [
            {"indicator": "valid_report_rate", "weight": 40}, {"indicator": "miss_rate", "weight": 20},
            {"indicator": "verify_on_time_rate", "weight": 20}, {"indicator": "check_on_time_rate", "weight": 20},
            {"indicator": "patrol_rate", "weight": 10}, {"indicator": "visit_coverage", "weight": 10}]},
        "handling": {"min_volume": 20, "items": [
            {"indicator": "handle_rate", "weight": 30}, {"indicator": "handle_on_time_rate", "weight": 20},
            {"indicator": "rework_rate", "weight": 20}, {"indicator": "overdue_rate", "weight": 20},
            {"indicator": "extension_rate", "weight": 10}]},
        "area": {"min_volume": 20, "items": [
            {"indicator": "close_rate", "weight": 40}, {"indicator": "close_on_time_rate", "weight": 40},
            {"indicator": "public_report_rate", "weight": 20}]},
        "hotline": {"min_volume": 10, "items": [
            {"indicator": "response_rate", "weight": 10}, {"indicator": "resolve_rate", "weight": 50},
            {"indicator": "satisfaction_rate", "weight": 40}]},
    },
}


def _doc(**changes) -> dict:
    """Return the defaults with ``changes`` applied at dotted paths ("schemes.worker.min_volume": 3)."""
    doc = copy.deepcopy(DEFAULTS)
    for path, value in changes.items():
        *parents, last = path.split("/")
        node = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        elif value is _DELETE:
            del node[last]
        else:
            node[last] = value
    return doc


_DELETE = object()


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(Settings(data_dir=tmp_path))
    init_schema(engine)
    yield engine
    engine.dispose()


def test_cfg001_the_packaged_file_holds_the_spec_defaults(monkeypatch):
    monkeypatch.delenv("GRIDCC_RANKINGS", raising=False)
    config = rc.load_file()
    assert config.to_dict() == DEFAULTS
    assert config.grades == (("A", 90.0), ("B", 75.0), ("C", 60.0), ("D", 40.0), ("E", 0.0))
    assert config.schemes["worker"].items[0] == rc.Item("valid_report_rate", 40.0)
    assert rc.parse(DEFAULTS) == config


def test_cfg002_json_round_trip():
    config = rc.parse(_doc(**{"schemes/worker/items/1/weight": 12.5}))
    again = rc.Config.from_json(config.to_json())
    assert again == config and hash(again) == hash(config)
    assert again.schemes["worker"].items[1].weight == 12.5
    with pytest.raises(rc.ConfigError, match="not valid JSON"):
        rc.Config.from_json("{nope")


@pytest.mark.parametrize("changes,key", [
    ({"schemes/worker/items/2/weight": -1}, "schemes.worker.items[2].weight"),
    ({"schemes/worker/items/2/weight": float("nan")}, "schemes.worker.items[2].weight"),
    ({"schemes/worker/items/2/weight": float("inf")}, "schemes.worker.items[2].weight"),
    ({"schemes/worker/items/2/weight": "20"}, "schemes.worker.items[2].weight"),
    ({"schemes/worker/items/2/weight": True}, "schemes.worker.items[2].weight"),
    ({"schemes/worker/items/2/weight": 1e9}, "schemes.worker.items[2].weight"),
    ({"schemes/worker/items/0/indicator": "happiness"}, "schemes.worker.items[0].indicator"),
    ({"schemes/worker/items/0/indicator": "close_rate"}, "schemes.worker.items[0].indicator"),
    ({"schemes/worker/items/1/indicator": "valid_report_rate"}, "schemes.worker.items[1].indicator"),
    ({"schemes/worker/items/0/colour": "red"}, "schemes.worker.items[0].colour"),
    ({"schemes/worker/items": []}, "schemes.worker.items"),
    ({"schemes/worker/items": "all"}, "schemes.worker.items"),
    ({"schemes/worker/min_volume": -1}, "schemes.worker.min_volume"),
    ({"schemes/worker/min_volume": 2.5}, "schemes.worker.min_volume"),
    ({"schemes/area/items": [{"indicator": "close_rate", "weight": 0},
                             {"indicator": "close_on_time_rate", "weight": 0}]}, "schemes.area.items"),
    ({"schemes/shops": {"min_volume": 1, "items": []}}, "schemes.shops"),
    ({"schemes/hotline": _DELETE}, "schemes.hotline"),
    ({"grades/B": 95}, "grades.B"),
    ({"grades/A": 101}, "grades.A"),
    ({"grades/E": 10}, "grades.E"),
    ({"grades": {}}, "grades"),
    ({"grades": [90, 75]}, "grades"),
    ({"settle_days": 32}, "settle_days"),
    ({"settle_days": -1}, "settle_days"),
    ({"settle_days": 2.5}, "settle_days"),
    ({"verify_limit_minutes": 0}, "verify_limit_minutes"),
    ({"check_limit_minutes": 10**7}, "check_limit_minutes"),
    ({"patrol_classes": []}, "patrol_classes"),
    ({"patrol_classes": ["1"]}, "patrol_classes[0]"),
    ({"patrol_classes": ["01", 2]}, "patrol_classes[1]"),
    ({"patrol_classes": ["01", "01"]}, "patrol_classes[1]"),
    ({"patrol_classes": ["０１"]}, "patrol_classes[0]"),
    ({"colour": "red"}, "colour"),
    ({"settle_days": _DELETE}, "settle_days"),
])
def test_cfg003_parse_refuses_naming_the_key(changes, key):
    with pytest.raises(rc.ConfigError) as refused:
        rc.parse(_doc(**changes))
    assert refused.value.key == key
    assert str(refused.value).startswith(f"{key}: ")


def test_cfg004_parse_refuses_what_is_not_a_table():
    for bad in ([], "config", None, 3):
        with pytest.raises(rc.ConfigError, match="must be a table"):
            rc.parse(bad)


def test_cfg005_a_bad_file_names_the_file_and_the_key(tmp_path, monkeypatch):
    path = tmp_path / "city.toml"
    text = (rc.PACKAGED.read_text(encoding="utf-8")
            .replace('{ indicator = "verify_on_time_rate", weight = 20 }', '{ indicator = "verify_on_time_rate", weight = -5 }'))
    path.write_text(text, encoding="utf-8")
    with pytest.raises(rc.ConfigError, match=r"GRIDCC_RANKINGS=.*city\.toml: schemes\.worker\.items\[2\]\.weight: "):
        rc.load_file(str(path))
    monkeypatch.setenv("GRIDCC_RANKINGS", str(path))
    with pytest.raises(rc.ConfigError, match=r"items\[2\]\.weight"):
        rc.load_file()
    broken = tmp_path / "broken.toml"
    broken.write_text("settle_days = = 5", encoding="utf-8")
    with pytest.raises(rc.ConfigError, match="broken.toml"):
        rc.load_file(str(broken))
    with pytest.raises(rc.ConfigError, match="cannot read"):
        rc.load_file(str(tmp_path / "missing.toml"))


def test_cfg006_a_json_file_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "city.json"
    path.write_text(json.dumps(_doc(settle_days=3)), encoding="utf-8")
    monkeypatch.setenv("GRIDCC_RANKINGS", str(path))
    assert rc.load_file().settle_days == 3
    assert rc.load_file(str(rc.PACKAGED)).settle_days == 5


def test_cfg007_min_volume_per_month_of_the_period():
    today = date(2026, 11, 23)
    worker = rc.parse(DEFAULTS).schemes["worker"]  # 10 a month
    assert rc.min_volume(worker, rankings.parse_period("2026-10", today=today)) == 10
    assert rc.min_volume(worker, rankings.parse_period("2026-Q3", today=today)) == 30
    assert rc.min_volume(worker, rankings.parse_period("2025", today=today)) == 120
    assert rc.min_volume(worker, rankings.parse_period("2026-10-01..2026-10-30", today=today)) == 10  # 30 days
    assert rc.min_volume(worker, rankings.parse_period("2026-10-01..2026-10-31", today=today)) == 20  # ⌈31/30⌉ = 2
    assert rc.min_volume(worker, rankings.parse_period("2026-10-01..2026-10-01", today=today)) == 10


def test_cfg008_params_carry_the_limits_and_classes():
    pytest.importorskip("queries.rankings")
    config = rc.parse(_doc(verify_limit_minutes=90, patrol_classes=["01", "04"]))
    p = rc.params(config, 21)
    assert (p.verify_limit_minutes, p.check_limit_minutes, p.patrol_classes, p.work_days) == (90, 120, ("01", "04"), 21)


# -- versions ----------------------------------------------------------------------------------------------------
def _save(engine, config, effective_from, note="", user="admin", now=NOW) -> int:
    with engine.begin() as conn:
        return rc.save(conn, config=config, effective_from=effective_from, user=user, note=note, now=now)


def test_cfg010_without_versions_every_month_uses_the_file(engine):
    with engine.connect() as conn:
        config, label = rc.effective(conn, date(2026, 11, 1))
        assert (config.to_dict(), label) == (DEFAULTS, "file")
        assert rc.versions(conn) == []
        assert rc.first_allowed(conn, NOW) == date(2026, 11, 1)


def test_cfg011_a_change_from_a_later_month_leaves_earlier_months_alone(engine):
    heavier = rc.parse(_doc(**{"schemes/worker/items/0/weight": 60}))
    first = _save(engine, heavier, date(2026, 12, 1), note="有效上报率加权")
    with engine.connect() as conn:
        assert rc.effective(conn, date(2026, 11, 1)) == (rc.base(), "file")
        assert rc.effective(conn, date(2026, 11, 15))[1] == "file"
        for month in (date(2026, 12, 1), date(2027, 5, 1)):
            config, label = rc.effective(conn, month)
            assert (config.schemes["worker"].items[0].weight, label) == (60.0, f"#{first}")
    # A second version from February: December and January keep the first, February on the second.
    lighter = rc.parse(_doc(**{"schemes/worker/items/0/weight": 30}))
    second = _save(engine, lighter, date(2027, 2, 1))
    # And a third for December, saved later: the highest id of the same month wins.
    third = _save(engine, rc.parse(_doc(**{"schemes/worker/items/0/weight": 45})), date(2026, 12, 1))
    with engine.connect() as conn:
        weights = {m: (rc.effective(conn, m)[0].schemes["worker"].items[0].weight, rc.effective(conn, m)[1])
                   for m in (date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1))}
        assert weights == {date(2026, 11, 1): (40.0, "file"), date(2026, 12, 1): (45.0, f"#{third}"),
                           date(2027, 1, 1): (45.0, f"#{third}"), date(2027, 2, 1): (30.0, f"#{second}")}
        saved = rc.versions(conn)
    assert [(v.id, v.effective_from, v.created_by, v.note) for v in saved] == [
        (first, date(2026, 12, 1), "admin", "有效上报率加权"), (third, date(2026, 12, 1), "admin", None),
        (second, date(2027, 2, 1), "admin", None)]
    assert saved[0].config() == heavier


def test_cfg012_a_frozen_month_keeps_the_configuration_it_was_frozen_with(engine):
    frozen_with = rc.parse(_doc(**{"schemes/area/items/0/weight": 10}))
    with engine.begin() as conn:
        conn.execute(insert(rank_periods).values(month=date(2026, 11, 1), frozen_at=NOW, as_of=datetime(2026, 12, 1),
                                                 config=frozen_with.to_json()))
    with engine.connect() as conn:
        config, label = rc.effective(conn, date(2026, 11, 1))
        assert config.schemes["area"].items[0].weight == 10.0 and label == "file"
        assert rc.effective(conn, date(2026, 10, 1))[0] == rc.base()
        assert rc.first_allowed(conn, NOW) == date(2026, 12, 1)
    with pytest.raises(rc.SaveRefused) as refused:
        _save(engine, rc.base(), date(2026, 11, 1))
    assert refused.value.code == "frozen" and refused.value.params == {"month": "2026-11", "frozen": "2026-11"}
    assert _save(engine, rc.base(), date(2026, 12, 1)) > 0


@pytest.mark.parametrize("effective_from,code", [
    (date(2026, 12, 15), "not_month_start"),
    (datetime(2026, 12, 1), "not_month_start"),
    ("2026-12-01", "not_month_start"),
    (None, "not_month_start"),
    (date(2026, 10, 1), "past"),
    (date(2000, 1, 1), "past"),
    (date(2029, 12, 1), "too_far"),
])
def test_cfg013_save_refuses_a_bad_month(engine, effective_from, code):
    with pytest.raises(rc.SaveRefused) as refused:
        _save(engine, rc.base(), effective_from)
    assert refused.value.code == code
    with engine.connect() as conn:
        assert rc.versions(conn) == []


def test_cfg014_save_refuses_a_long_note_no_user_or_no_config(engine):
    with pytest.raises(rc.SaveRefused) as refused:
        _save(engine, rc.base(), date(2026, 12, 1), note="长" * 501)
    assert refused.value.code == "note_long"
    with pytest.raises(rc.SaveRefused) as refused:
        _save(engine, rc.base(), date(2026, 12, 1), user="  ")
    assert refused.value.code == "no_user"
    with pytest.raises(rc.SaveRefused) as refused:
        _save(engine, DEFAULTS, date(2026, 12, 1))
    assert refused.value.code == "invalid"
    # The current month itself is allowed (nothing frozen yet): 2026-11 at NOW.
    assert _save(engine, rc.base(), date(2026, 11, 1), note="长" * 500) > 0


def test_cfg015_save_writes_an_audit_row_naming_the_version(engine):
    version_id = _save(engine, rc.base(), date(2027, 1, 1), note="年度调整", user="zhang")
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.actor, audit_log.c.action, audit_log.c.outcome, audit_log.c.target,
                                   audit_log.c.detail)).all()
    assert [tuple(row) for row in rows] == [("zhang", "rankcfg.save", "ok", f"#{version_id}",
                                             "effective from 2027-01; 年度调整")]


def test_cfg016_base_reads_the_apps_own_file(tmp_path, monkeypatch):
    import flask

    from dashboard import context

    monkeypatch.delenv("GRIDCC_RANKINGS", raising=False)
    path = tmp_path / "city.json"
    path.write_text(json.dumps(_doc(settle_days=9)), encoding="utf-8")
    server = flask.Flask("t")
    server.extensions[context.EXTENSION_KEY] = context.AppContext(
        settings=Settings(data_dir=tmp_path, rankings=str(path)), engine=None, cache=None)
    with server.app_context():
        assert rc.base().settle_days == 9
    assert rc.base().settle_days == 5  # outside an app: the environment's (unset: the packaged file)
    assert rc.base() is rc.base()  # read once
