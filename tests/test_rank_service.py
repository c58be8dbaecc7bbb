"""dashboard/rank_service.py: the whole-column scoring that ranks previous periods and draws sparklines.

The numbers are worked by hand below; the same frame is then scored row by row by dashboard.rankings.score_rows,
and the two must agree on every score, grade and rank (they are two implementations of one rule).
"""
from __future__ import annotations

import math
from datetime import datetime

import pandas as pd
import pytest

from dashboard import rank_config, rank_service
from dashboard import rankings as scoring
from queries.rankings import Unit
from queries.schema import RANK_COUNTS

HANDLING = rank_config.Scheme(key="handling", min_volume=20, items=(
    rank_config.Item("handle_rate", 30), rank_config.Item("handle_on_time_rate", 20),
    rank_config.Item("rework_rate", 20), rank_config.Item("overdue_rate", 20), rank_config.Item("extension_rate", 10),
))
GRADES = (("A", 90.0), ("B", 75.0), ("C", 60.0), ("D", 40.0))


def _counts(**kw) -> dict:
    row = dict.fromkeys(RANK_COUNTS, 0)
    row.update(kw)
    return row


# X: to_handle = 18 + 2 = 20, to_close = 15 + 2 = 17.
#   处置率 18/20 = .9; 按期处置率 16/20 = .8; 返工率 1/17 → 1 − 1/17 = .9411765; 超期待处置率 2/20 → .9; 延期率 2/20 → .9
#   score = 30×.9 + 20×.8 + 20×.9411765 + 20×.9 + 10×.9 = 27 + 16 + 18.823529 + 18 + 9 = 88.823529 → B
# Y: X's counts, a later code: a tie on score and volume, broken by code.
# U: every count of X doubled: the same rates and score, volume 40: before X (ties by volume first).
# V: 40 handled, all on time, nothing else: 100 → A, first.
# Z: 5 handled on time: score 100 but volume 5 < 20: ranked apart (1st of its own list).
# W: nothing to count: no score, no rank.
X = _counts(handled=18, handled_on_time=16, overdue_open=2, closed=15, closed_on_time=14, reworked=1, extended=2)
FRAME = {
    "X01": X,
    "X02": dict(X),
    "U01": {k: 2 * v for k, v in X.items()},
    "V01": _counts(handled=40, handled_on_time=40, closed=40, closed_on_time=40),
    "Z01": _counts(handled=5, handled_on_time=5),
    "W01": _counts(),
}


def _frame() -> pd.DataFrame:
    return pd.DataFrame.from_dict(FRAME, orient="index")[list(RANK_COUNTS)]


def test_scores_frame_worked_by_hand():
    out = rank_service.scores_frame(_frame(), HANDLING, GRADES, 20, "to_handle")
    assert out.loc["X01", "score"] == pytest.approx(88.823529, abs=1e-5)
    assert out.loc["U01", "score"] == pytest.approx(88.823529, abs=1e-5)
    assert out.loc["V01", "score"] == pytest.approx(100.0)
    assert out.loc["X01", "grade"] == "B" and out.loc["V01", "grade"] == "A"
    ranks = {c: (None if pd.isna(r) else int(r)) for c, r in out["rank"].items()}
    assert ranks == {"V01": 1, "U01": 2, "X01": 3, "X02": 4, "Z01": 1, "W01": None}
    assert bool(out.loc["Z01", "apart"]) and not bool(out.loc["X01", "apart"])
    assert math.isnan(out.loc["W01", "score"]) and out.loc["W01", "grade"] is None
    assert list(out["volume"]) == [20, 20, 40, 40, 5, 0]


def test_scores_frame_agrees_with_score_rows():
    units = [Unit(level="department", code=c, name=c, parent_code=None, parent_name=None, households=0, grids=0,
                  kind=None) for c in FRAME]
    rows = scoring.score_rows(units, FRAME, HANDLING, GRADES, 20)
    out = rank_service.scores_frame(_frame(), HANDLING, GRADES, 20, "to_handle")
    for row in rows:
        want = out.loc[row.code]
        assert (row.score is None) == math.isnan(want["score"])
        if row.score is not None:
            assert row.score == pytest.approx(want["score"], abs=0.005)
        assert row.grade == want["grade"]
        assert row.rank == (None if pd.isna(want["rank"]) else int(want["rank"]))
        assert row.apart == bool(want["apart"])


def test_a_weight_of_zero_and_an_empty_denominator_are_left_out():
    # Only 处置率 (weight 30) and 按期处置率 (weight 0: shown, not counted) — and Z has no to_close at all.
    scheme = rank_config.Scheme(key="handling", min_volume=1, items=(
        rank_config.Item("handle_rate", 30), rank_config.Item("handle_on_time_rate", 0),
        rank_config.Item("rework_rate", 10)))
    frame = pd.DataFrame.from_dict({"A": _counts(handled=3, handled_on_time=1, overdue_open=1)},
                                   orient="index")[list(RANK_COUNTS)]
    # to_handle 4, to_close 0 + 1 = 1, reworked 0 → 返工率 0 → s = 1.
    # score = 100 × (30 × 3/4 + 10 × 1) / 40 = 100 × 32.5 / 40 = 81.25
    out = rank_service.scores_frame(frame, scheme, GRADES, 1, "to_handle")
    assert out.loc["A", "score"] == pytest.approx(81.25)


def test_work_days_counts_the_statutory_calendar():
    from dashboard.worktime import WorkCalendar

    cal = WorkCalendar()
    # October 2026: 22 weekdays (Thu 1st … Fri 30th), 国庆 1–7 takes 5 of them (1, 2, 5, 6, 7), the 调休
    # Saturday 10th is worked: 22 − 5 + 1 = 18.
    assert rank_service._work_days(cal, datetime(2026, 10, 1), datetime(2026, 11, 1)) == 18
    assert rank_service._work_days(cal, datetime(2026, 10, 1), datetime(2026, 10, 10, 9, 0)) == 3  # 8, 9, 10
    assert rank_service._work_days(cal, datetime(2026, 11, 2), datetime(2026, 11, 2)) == 0  # nothing begun
    assert rank_service._work_days(cal, datetime(2026, 11, 2), datetime(2026, 11, 2, 0, 1)) == 1  # Monday begun


def test_seeding_freezes_the_months_closed_by_its_now(seeded_small):
    """A seeded store's closed months are frozen, once, with the configuration in force (the demo opens ranked)."""
    from sqlalchemy import func, select

    from queries import rankings as rank_queries
    from queries.schema import rank_facts

    engine, _ = seeded_small
    with engine.connect() as conn:
        months = sorted(rank_queries.frozen(conn))
        # The history runs 365 days back from 2026-11-20 15:00, so it starts in 2025-11; a month closes 5 days
        # after its end: 2026-10 closed on 11-06, 2026-11 is still open.
        assert months[0] == datetime(2025, 11, 1).date() and months[-1] == datetime(2026, 10, 1).date()
        assert len(months) == 12
        per_month = dict(conn.execute(select(rank_facts.c.month, func.count()).group_by(rank_facts.c.month)).all())
        assert len(per_month) == 12 and min(per_month.values()) > 0
        # Freezing again finds nothing due.
    assert rank_service.freeze_due(engine, now=datetime(2026, 11, 20, 15, 0), calendar=_calendar()) == []


def _calendar():
    from dashboard.worktime import WorkCalendar

    return WorkCalendar()


@pytest.fixture(scope="module")
def seeded_small(tmp_path_factory):
    from tests.seed.conftest import make_store

    engine, report = make_store(tmp_path_factory.mktemp("rank-seed") / "small.duckdb")
    yield engine, report
    engine.dispose()


def test_an_older_demo_store_gets_field_work_once_and_a_city_store_never(seeded_small, tmp_path):
    """store.init_schema gives a demo store from before issue 7 the demo's field work; a city's own store none."""
    import shutil

    from sqlalchemy import delete, func, select

    from dashboard.settings import Settings
    from dashboard.store import init_schema, make_engine
    from queries.meta import get_meta
    from queries.schema import patrols, store_meta, visits

    engine, _ = seeded_small
    with engine.connect() as conn:
        want = conn.execute(select(func.count()).select_from(patrols)).scalar()
    assert want > 0
    engine.dispose()
    for name, demo in (("demo", True), ("city", False)):
        folder = tmp_path / name
        folder.mkdir()
        shutil.copy(engine.url.database, folder / "gridcc.duckdb")
        old = make_engine(Settings(data_dir=folder))
        with old.begin() as conn:  # as it was before issue 7: no field work, nothing filled
            conn.execute(delete(patrols))
            conn.execute(delete(visits))
            conn.execute(delete(store_meta).where(store_meta.c.key == "fieldwork_filled"))
            if not demo:
                conn.execute(delete(store_meta).where(store_meta.c.key == "seed"))
        init_schema(old)
        with old.connect() as conn:
            got = conn.execute(select(func.count()).select_from(patrols)).scalar()
            assert get_meta(conn, "fieldwork_filled") == "1"
        assert got == (want if demo else 0)
        old.dispose()
