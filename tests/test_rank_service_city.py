"""dashboard/rank_service.py end to end on the rankings' hand city (tests/rankcity.py): counts → scores → ranks,
the previous period's ranks, the sparkline, freezing, and a configuration change that leaves closed months alone.

Every expected number is worked out by hand from rankcity's docstring table (October 2026 by grid).
"""
from __future__ import annotations

import shutil
from datetime import date, datetime

import pytest

from dashboard import rank_service
from dashboard.app import create_app
from dashboard.settings import Settings
from queries.scope import Scope
from tests import rankcity
from tests.rankcity import NOW

CITY = Scope("329900", 0)
EAST = Scope("329902", 1)  # 东城区: streets 东街 329902001 (grids A1, A2) and 南苑 329902002 (B1, B2)
STREETS = {"329902001": "东街街道", "329902002": "南苑街道", "329903001": "西湖街道"}

# The packaged weights, minimum volumes of 1 (the hand city is tiny: at the packaged 20 every unit would be
# ranked apart), the packaged grades.
CONFIG = """
settle_days = 5
verify_limit_minutes = 120
check_limit_minutes = 120
patrol_classes = ["01", "02", "03", "05"]
[grades]
A = 90
B = 75
C = 60
D = 40
E = 0
[schemes.worker]
min_volume = 1
items = [{ indicator = "valid_report_rate", weight = 40 }, { indicator = "miss_rate", weight = 20 },
         { indicator = "verify_on_time_rate", weight = 20 }, { indicator = "check_on_time_rate", weight = 20 },
         { indicator = "patrol_rate", weight = 10 }, { indicator = "visit_coverage", weight = 10 }]
[schemes.handling]
min_volume = 1
items = [{ indicator = "handle_rate", weight = 30 }, { indicator = "handle_on_time_rate", weight = 20 },
         { indicator = "rework_rate", weight = 20 }, { indicator = "overdue_rate", weight = 20 },
         { indicator = "extension_rate", weight = 10 }]
[schemes.area]
min_volume = 1
items = [{ indicator = "close_rate", weight = 40 }, { indicator = "close_on_time_rate", weight = 40 },
         { indicator = "public_report_rate", weight = 20 }]
[schemes.hotline]
min_volume = 1
items = [{ indicator = "response_rate", weight = 10 }, { indicator = "resolve_rate", weight = 50 },
         { indicator = "satisfaction_rate", weight = 40 }]
"""
# The same, but 按期处置率 alone counts in the handling scheme (a city changing its weights).
ON_TIME_ONLY = CONFIG.replace('{ indicator = "handle_rate", weight = 30 }', '{ indicator = "handle_rate", weight = 0 }') \
    .replace('{ indicator = "rework_rate", weight = 20 }', '{ indicator = "rework_rate", weight = 0 }') \
    .replace('{ indicator = "overdue_rate", weight = 20 }', '{ indicator = "overdue_rate", weight = 0 }') \
    .replace('{ indicator = "extension_rate", weight = 10 }', '{ indicator = "extension_rate", weight = 0 }')


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rank-service-template")
    from dashboard.store import make_engine

    engine = make_engine(Settings(data_dir=folder, frozen_now=NOW))
    rankcity.build_rank_city(engine)
    engine.dispose()
    return folder / "gridcc.duckdb"


def _app(template, tmp_path, config_text: str, name: str = "rankings.toml"):
    shutil.copy(template, tmp_path / "gridcc.duckdb")
    config = tmp_path / name
    config.write_text(config_text, encoding="utf-8")
    app = create_app(Settings(data_dir=tmp_path, frozen_now=NOW, cache_type="SimpleCache", rankings=str(config)))
    rank_service._live.clear()
    return app


@pytest.fixture
def app(template, tmp_path):
    app = _app(template, tmp_path, CONFIG)
    yield app
    app.server.extensions["gridcc_live"].stop()
    app.server.extensions["gridcc"].engine.dispose()


def _by_code(table):
    return {r.code: r for r in table.rows}


def test_streets_in_october_worked_by_hand(app):
    # 东街 (A1): handled 7, on time 6, overdue 1, closed 6, reworked 1, extended 2 → to_handle 8, to_close 7:
    #   30×7/8 + 20×6/8 + 20×(1 − 1/7) + 20×(1 − 1/8) + 10×(1 − 2/8) = 26.25 + 15 + 17.142857 + 17.5 + 7.5 = 83.392857
    # 南苑 (B1): handled 2, on time 1, overdue 1, closed 2, reworked 0, extended 1 → to_handle 3, to_close 3:
    #   30×2/3 + 20×1/3 + 20×1 + 20×2/3 + 10×2/3 = 20 + 6.666667 + 20 + 13.333333 + 6.666667 = 66.666667
    # 西湖 (C1 + C2): handled 3, all on time, nothing overdue, reworked or extended: 100.
    with app.server.app_context():
        table = rank_service.ranking(CITY, level="street", period="2026-10")
    assert table.scheme == "handling" and table.provisional  # October is not frozen yet in this store
    assert table.cutoff == datetime(2026, 11, 1)
    rows = _by_code(table)
    assert [r.code for r in table.rows] == ["329903001", "329902001", "329902002"]
    assert [r.rank for r in table.rows] == [1, 2, 3]
    assert rows["329902001"].score == pytest.approx(83.39) and rows["329902001"].grade == "B"
    assert rows["329902002"].score == pytest.approx(66.67) and rows["329902002"].grade == "C"
    assert rows["329903001"].score == pytest.approx(100.0) and rows["329903001"].grade == "A"
    assert [r.volume for r in table.rows] == [3, 8, 3]
    # September: 东街 handled 1 (90) on time → 100 (rank 1); 南苑 handled 1 (91) late → 30 + 0 + 20 + 20 + 10 = 80
    # (rank 2); 西湖 nothing → no score. The change is September's rank − October's.
    assert rows["329902001"].prev_rank == 1 and rows["329902001"].change == -1
    assert rows["329902002"].prev_rank == 2 and rows["329902002"].change == -1
    assert rows["329903001"].prev_rank is None and rows["329903001"].change is None
    # The sparkline: the 12 months 2025-11 … 2026-10, oldest first; only September and October have cases.
    spark = rows["329902001"].spark
    assert len(spark) == 12 and spark[-2:] == (100.0, 83.39) and set(spark[:-2]) == {None}
    assert rows["329902002"].spark[-2:] == (80.0, 66.67)


def test_cells_carry_numerator_denominator_and_points_summing_to_the_score(app):
    with app.server.app_context():
        row = _by_code(rank_service.ranking(CITY, level="street", period="2026-10"))["329902001"]
    cells = {c.indicator: c for c in row.cells}
    assert (cells["handle_rate"].numerator, cells["handle_rate"].denominator) == (7, 8)
    assert (cells["rework_rate"].numerator, cells["rework_rate"].denominator) == (1, 7)
    assert (cells["extension_rate"].numerator, cells["extension_rate"].denominator) == (2, 8)
    assert cells["handle_rate"].points == pytest.approx(26.25)
    assert cells["rework_rate"].points == pytest.approx(17.142857, abs=1e-5)
    assert cells["rework_rate"].lost == pytest.approx(2.857143, abs=1e-5)
    assert sum(c.points for c in row.cells) == pytest.approx(83.392857, abs=1e-5)


def test_a_grid_worker_worked_by_hand(app):
    # 张伟 (worker 1, A1 full-time), October: 有效上报 4/5 = .8; 漏报 1/6 → .833333; 按时核实 1/2; 按时核查 5/7;
    # 巡查 4 days / 18 working days = .222222; 走访 2/2 buildings.
    # (40×.8 + 20×.833333 + 20×.5 + 20×.714286 + 10×.222222 + 10×1) / 120 × 100 = 85.174603 / 1.2 = 70.978836
    with app.server.app_context():
        table = rank_service.ranking(CITY, level="worker", period="2026-10")
    rows = _by_code(table)
    w1 = rows["1"]
    assert w1.score == pytest.approx(70.98) and w1.grade == "C"
    cells = {c.indicator: c for c in w1.cells}
    assert (cells["patrol_rate"].numerator, cells["patrol_rate"].denominator) == (4, 18)
    assert (cells["valid_report_rate"].numerator, cells["valid_report_rate"].denominator) == (4, 5)


def test_a_district_manager_ranks_only_inside_the_district(app):
    with app.server.app_context():
        table = rank_service.ranking(EAST, level="street", period="2026-10")
        assert {r.code for r in table.rows} == {"329902001", "329902002"}
        assert [r.rank for r in table.rows] == [1, 2]  # 东街 83.39, 南苑 66.67: ranked among themselves
        with pytest.raises(ValueError):
            rank_service.ranking(EAST, level="district", period="2026-10")
        with pytest.raises(LookupError):
            rank_service.ranking(EAST, level="street", period="2026-10", area="329903")  # 西城区: not theirs


def test_bad_input_is_refused_in_words(app):
    with app.server.app_context():
        for kw in ({"level": "planet"}, {"level": "street", "scheme": "worker"}, {"level": "street", "scheme": "x;drop"}):
            with pytest.raises(ValueError):
                rank_service.ranking(CITY, period="2026-10", **kw)
        for period in ("2026-13", "2026-Q5", "", "x" * 10_000, "2026-10-01..2025-10-01"):
            with pytest.raises(ValueError):
                rank_service.ranking(CITY, level="street", period=period)
        with pytest.raises(LookupError):
            rank_service.ranking(CITY, level="street", period="2026-10", area="9" * 100)


def test_freezing_keeps_the_numbers_and_a_later_configuration_leaves_them_alone(template, tmp_path):
    app = _app(template, tmp_path, CONFIG)
    try:
        with app.server.app_context():
            before = rank_service.ranking(CITY, level="street", period="2026-10")
        engine = app.server.extensions["gridcc"].engine
        from dashboard.worktime import WorkCalendar

        # October closed on 11-06 (5 settling days): September and October are due at NOW; November is not.
        with app.server.app_context():
            assert rank_service.freeze_due(engine, now=NOW, calendar=WorkCalendar()) == [date(2026, 9, 1),
                                                                                           date(2026, 10, 1)]
            assert rank_service.freeze_due(engine, now=NOW, calendar=WorkCalendar()) == []
            rank_service._live.clear()
            after = rank_service.ranking(CITY, level="street", period="2026-10")
        assert not after.provisional
        assert [(r.code, r.score, r.rank, r.change, r.spark) for r in after.rows] == \
               [(r.code, r.score, r.rank, r.change, r.spark) for r in before.rows]
    finally:
        app.server.extensions["gridcc_live"].stop()
        app.server.extensions["gridcc"].engine.dispose()
    # The city changes its file: only 按期处置率 counts. October (frozen) keeps the weights it was frozen with;
    # November (open) takes the new ones: 东街 November handled 1 (120) on time, overdue 1 (121) → 1/2 = 50.
    folder = tmp_path / "changed"
    folder.mkdir()
    shutil.copy(tmp_path / "gridcc.duckdb", folder / "gridcc.duckdb")
    changed = create_app(Settings(data_dir=folder, frozen_now=NOW, cache_type="SimpleCache",
                                  rankings=str(_write(folder / "on-time.toml", ON_TIME_ONLY))))
    try:
        rank_service._live.clear()
        with changed.server.app_context():
            october = _by_code(rank_service.ranking(CITY, level="street", period="2026-10"))
            november = _by_code(rank_service.ranking(CITY, level="street", period="2026-11"))
        assert october["329902001"].score == pytest.approx(83.39)
        assert november["329902001"].score == pytest.approx(50.0)
    finally:
        changed.server.extensions["gridcc_live"].stop()
        changed.server.extensions["gridcc"].engine.dispose()


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_a_bad_configuration_file_stops_the_app_naming_the_key(tmp_path):
    from dashboard.rank_config import ConfigError

    bad = _write(tmp_path / "bad.toml", CONFIG.replace('{ indicator = "miss_rate", weight = 20 }',
                                                         '{ indicator = "miss_rate", weight = -20 }'))
    with pytest.raises(ConfigError, match=r"schemes\.worker\.items\[1\]\.weight"):
        create_app(Settings(data_dir=tmp_path, frozen_now=NOW, rankings=str(bad)))


def test_a_period_in_progress_is_as_of_now_not_its_end(app):
    # The fourth quarter asked on 11-20 15:00: October and November counted, December not begun.
    with app.server.app_context():
        table = rank_service.ranking(CITY, level="street", period="2026-Q4")
        assert table.cutoff == NOW and table.provisional
        with pytest.raises(ValueError, match="starts after today"):
            rank_service.ranking(CITY, level="street", period="2026-12")
