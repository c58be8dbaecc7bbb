"""The pure rankings: periods, every indicator, scores, grades, ties, the minimum volume, history (issue 7 §1–§2).

Every expected number is worked out by hand in the comments, never by calling the code under test.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pytest

from dashboard import rankings as r
from dashboard.rank_config import Item, Scheme

TODAY = date(2026, 11, 23)


@dataclass(frozen=True)
class U:  # the fields of queries.rankings.Unit that scoring reads
    code: str
    name: str = ""
    parent_code: str | None = None
    parent_name: str | None = None
    households: int = 0
    grids: int = 0
    kind: str | None = None


# One unit's counts, chosen so that every ratio is a round fraction.
COUNTS = {
    "reports": 12, "valid_reports": 9, "grid_registered": 8, "missed": 1, "to_verify": 4, "verified_on_time": 3,
    "to_check": 8, "checked_on_time": 5, "work_days": 20, "patrol_days": 18, "grid_buildings": 24,
    "buildings_visited": 6, "visits": 9,
    "handled": 45, "handled_on_time": 36, "overdue_open": 5, "closed": 40, "closed_on_time": 30, "reworked": 2,
    "extended": 4, "registered": 50, "public_registered": 10,
    "followups": 20, "contacted": 18, "resolved": 15, "satisfied": 10, "basically_satisfied": 5,
}
GRADES = (("A", 90.0), ("B", 75.0), ("C", 60.0), ("D", 40.0), ("E", 0.0))
WORKER = Scheme("worker", (Item("valid_report_rate", 40), Item("miss_rate", 20), Item("verify_on_time_rate", 20),
                           Item("check_on_time_rate", 20), Item("patrol_rate", 10), Item("visit_coverage", 10)), 10)

# indicator, the scheme it belongs to, numerator, denominator (to_handle = 45 + 5 = 50, to_close = 40 + 5 = 45),
# value, the one-item score as shown (lower is better: 100 × (1 − value)).
EVERY_INDICATOR = [
    ("valid_report_rate", "worker", 9, 12, 0.75, 75.00),
    ("miss_rate", "worker", 1, 8, 0.125, 87.50),
    ("verify_on_time_rate", "worker", 3, 4, 0.75, 75.00),
    ("check_on_time_rate", "worker", 5, 8, 0.625, 62.50),
    ("patrol_rate", "worker", 18, 20, 0.9, 90.00),
    ("visit_coverage", "worker", 6, 24, 0.25, 25.00),
    ("handle_rate", "handling", 45, 50, 0.9, 90.00),
    ("handle_on_time_rate", "handling", 36, 50, 0.72, 72.00),
    ("rework_rate", "handling", 2, 45, 2 / 45, 95.56),  # 100 × 43/45 = 95.555…
    ("overdue_rate", "handling", 5, 50, 0.1, 90.00),
    ("extension_rate", "handling", 4, 50, 0.08, 92.00),
    ("close_rate", "area", 40, 45, 40 / 45, 88.89),  # 88.888…
    ("close_on_time_rate", "area", 30, 45, 30 / 45, 66.67),  # 66.666…
    ("public_report_rate", "area", 10, 50, 0.2, 80.00),
    ("response_rate", "hotline", 18, 20, 0.9, 90.00),
    ("resolve_rate", "hotline", 15, 20, 0.75, 75.00),
    ("satisfaction_rate", "hotline", 14.5, 20, 0.725, 72.50),  # 10 + 0.9 × 5 = 14.5
]


def _one(indicator: str, scheme: str, min_volume: int = 0) -> Scheme:
    return Scheme(scheme, (Item(indicator, 1),), min_volume)


def test_rank001_the_spec_lists_seventeen_indicators():
    assert len(r.INDICATORS) == 17 == len(EVERY_INDICATOR)
    assert {row[0] for row in EVERY_INDICATOR} == set(r.INDICATORS)
    assert {k for k, i in r.INDICATORS.items() if i.lower_is_better} == {
        "miss_rate", "rework_rate", "overdue_rate", "extension_rate", "public_report_rate"}


@pytest.mark.parametrize("indicator,scheme,num,den,value,score", EVERY_INDICATOR)
def test_rank002_every_indicator_on_literal_counts(indicator, scheme, num, den, value, score):
    [row] = r.score_rows([U("U1")], {"U1": COUNTS}, _one(indicator, scheme), GRADES, 0)
    [cell] = row.cells
    assert (cell.indicator, cell.numerator, cell.denominator) == (indicator, num, den)
    assert cell.value == pytest.approx(value)
    assert row.score == score
    assert cell.points + cell.lost == pytest.approx(100.0)


def test_rank003_derive_adds_to_handle_and_to_close():
    assert r.derive({"handled": 45, "overdue_open": 5, "closed": 40}) == {
        "handled": 45, "overdue_open": 5, "closed": 40, "to_handle": 50, "to_close": 45}
    assert r.derive({}) == {"to_handle": 0, "to_close": 0}


def test_rank004_worker_score_and_contributions():
    # Σw = 120; Σ w·s = 40×0.75 + 20×0.875 + 20×0.75 + 20×0.625 + 10×0.9 + 10×0.25 = 30+17.5+15+12.5+9+2.5 = 86.5
    # score = 100 × 86.5 / 120 = 72.083…  → 72.08, grade C (60 ≤ s < 75)
    [row] = r.score_rows([U("7")], {"7": COUNTS}, WORKER, GRADES, 10)
    assert (row.score, row.grade, row.rank, row.apart, row.volume) == (72.08, "C", 1, False, 12)
    points = {c.indicator: c.points for c in row.cells}
    assert points == pytest.approx({"valid_report_rate": 25.0, "miss_rate": 1750 / 120, "verify_on_time_rate": 12.5,
                                    "check_on_time_rate": 1250 / 120, "patrol_rate": 7.5, "visit_coverage": 250 / 120})
    lost = {c.indicator: c.lost for c in row.cells}
    assert lost["valid_report_rate"] == pytest.approx(100 * 40 * 0.25 / 120)  # 8.333…
    assert sum(points.values()) == pytest.approx(row.exact_score) == pytest.approx(8650 / 120)
    assert sum(points.values()) + sum(lost.values()) == pytest.approx(100.0)


def test_rank005_an_item_with_nothing_to_count_is_left_out():
    # A part-time worker has nothing to verify: Σw = 100, Σ w·s = 86.5 − 15 = 71.5 → 71.50, grade C.
    counts = COUNTS | {"to_verify": 0, "verified_on_time": 0}
    [row] = r.score_rows([U("7")], {"7": counts}, WORKER, GRADES, 10)
    assert (row.score, row.grade) == (71.5, "C")
    verify = next(c for c in row.cells if c.indicator == "verify_on_time_rate")
    assert (verify.value, verify.points, verify.lost, verify.denominator) == (None, None, None, 0)
    assert sum(c.points for c in row.cells if c.points is not None) == pytest.approx(71.5)


def test_rank006_a_weight_zero_item_is_shown_not_counted():
    # visit_coverage weight 0: Σw = 110, Σ w·s = 86.5 − 2.5 = 84 → 100 × 84 / 110 = 76.3636… → 76.36, grade B.
    scheme = Scheme("worker", WORKER.items[:5] + (Item("visit_coverage", 0),), 10)
    [row] = r.score_rows([U("7")], {"7": COUNTS}, scheme, GRADES, 10)
    assert (row.score, row.grade) == (76.36, "B")
    visit = row.cells[-1]
    assert (visit.value, visit.weight, visit.points, visit.lost) == (0.25, 0.0, None, None)


def test_rank007_nothing_to_count_no_score_shown_last():
    [row] = r.score_rows([U("7")], {}, WORKER, GRADES, 10)
    assert (row.score, row.grade, row.rank, row.exact_score, row.volume) == (None, None, None, None, 0)
    assert all(c.value is None and c.points is None for c in row.cells)


def _closes(closed: int, overdue: int) -> dict:
    return {"closed": closed, "overdue_open": overdue}


def test_rank008_ties_by_shown_score_then_volume_then_code():
    # One item, close_rate = closed / (closed + overdue_open); volume = to_close.
    counts = {
        "A0": _closes(19, 1),         # 95.00, volume 20
        "A1": _closes(18, 2),         # 90.00, volume 20
        "A2": _closes(18, 2),         # 90.00, volume 20 (same as A1: the code decides)
        "A3": _closes(27, 3),         # 90.00, volume 30 (more volume: ahead of A1 and A2)
        "A4": _closes(22499, 2501),   # 89.996 shown 90.00, volume 25,000: ahead of every other 90.00
        "A5": _closes(44997, 5003),   # 89.994 shown 89.99: behind every 90.00 despite its volume
    }
    units = [U(code) for code in ("A5", "A2", "A4", "A0", "A3", "A1")]
    rows = r.score_rows(units, counts, _one("close_rate", "area"), GRADES, 0)
    assert [(row.code, row.rank, row.score) for row in rows] == [
        ("A0", 1, 95.0), ("A4", 2, 90.0), ("A3", 3, 90.0), ("A1", 4, 90.0), ("A2", 5, 90.0), ("A5", 6, 89.99)]
    assert [row.grade for row in rows] == ["A", "A", "A", "A", "A", "B"]
    assert rows[1].exact_score == pytest.approx(89.996)


def test_rank009_below_minimum_volume_ranked_apart_then_unscored():
    counts = {"B1": _closes(9, 1),    # 90.00, volume 10: below 15 → apart, 1st of its own sequence
              "B2": _closes(14, 0),   # 100.00, volume 14 → apart, ahead of B1 in the apart sequence
              "B3": _closes(15, 5),   # 75.00, volume 20 → ranked 2
              "B4": _closes(30, 0),   # 100.00, volume 30 → ranked 1
              "B0": {}}               # nothing to close: no score, last
    units = [U(c) for c in ("B0", "B1", "B2", "B3", "B4")]
    rows = r.score_rows(units, counts, _one("close_rate", "area"), GRADES, 15)
    assert [(row.code, row.rank, row.apart, row.score) for row in rows] == [
        ("B4", 1, False, 100.0), ("B3", 2, False, 75.0), ("B2", 1, True, 100.0), ("B1", 2, True, 90.0),
        ("B0", None, True, None)]
    # A unit exactly at the minimum is not apart.
    [row] = r.score_rows([U("B5")], {"B5": _closes(15, 0)}, _one("close_rate", "area"), GRADES, 15)
    assert row.apart is False


# Grades go by the score as shown (2 decimals, half up): what a reader sees is the grade they get.
@pytest.mark.parametrize("closed,to_close,grade", [
    (18, 20, "A"),             # 90.00 exactly
    (17999, 20000, "A"),       # 89.995 → shown 90.00
    (179979, 200000, "B"),     # 89.9895 → 89.99
    (3, 4, "B"),               # 75.00
    (14999, 20000, "B"),       # 74.995 → 75.00
    (14998, 20000, "C"),       # 74.99
    (2, 5, "D"),               # 40.00
    (7999, 20000, "D"),        # 39.995 → 40.00
    (7998, 20000, "E"),        # 39.99
    (0, 20, "E"),              # 0.00
])
def test_rank010_grades_at_the_band_edges(closed, to_close, grade):
    counts = {"C": _closes(closed, to_close - closed)}
    [row] = r.score_rows([U("C")], counts, _one("close_rate", "area"), GRADES, 0)
    assert row.grade == grade


def test_rank011_shown_score_rounds_half_up():
    assert r.shown_score(89.995) == 90.0  # binary 89.99499999999999744…
    assert r.shown_score(89.9949) == 89.99
    assert r.shown_score(12.345) == 12.35
    assert r.shown_score(100.0) == 100.0
    assert r.grade_of(89.99, GRADES) == "B" and r.grade_of(90.0, GRADES) == "A" and r.grade_of(0.0, GRADES) == "E"
    assert list(r.shown_scores([89.995, 12.345, 0.0])) == [90.0, 12.35, 0.0]


def test_rank012_bad_data_past_the_denominator_cannot_lift_a_score_past_100():
    [row] = r.score_rows([U("D")], {"D": {"closed": 30, "overdue_open": 0, "closed_on_time": 45}},
                         _one("close_on_time_rate", "area"), GRADES, 0)
    assert row.cells[0].value == 1.5 and row.score == 100.0


def _ranked(rank: int | None, apart: bool = False, code: str = "X") -> r.Row:
    return r.Row(code=code, name=code, parent_code=None, parent_name=None, households=0, grids=0, volume=0,
                 score=None, grade=None, rank=rank, apart=apart, cells=(), counts={})


def test_rank013_rank_change_and_sparkline():
    now = [_ranked(1, code="up"), _ranked(2, code="down"), _ranked(3, code="new"), _ranked(4, code="was_apart"),
           _ranked(1, apart=True, code="now_apart"), _ranked(None, code="unranked")]
    before = [_ranked(3, code="up"), _ranked(1, code="down"), _ranked(1, apart=True, code="was_apart"),
              _ranked(2, code="now_apart"), _ranked(5, code="unranked")]
    history = [{"up": 70.0, "down": 80.0}, {"up": 75.5}, {"up": 90.0, "down": 60.0}]
    rows = {row.code: row for row in r.with_history(now, before, history)}
    assert (rows["up"].prev_rank, rows["up"].change) == (3, 2)      # 3 − 1: moved up two
    assert (rows["down"].prev_rank, rows["down"].change) == (1, -1)
    assert (rows["new"].prev_rank, rows["new"].change) == (None, None)
    assert (rows["was_apart"].prev_rank, rows["was_apart"].change) == (None, None)
    assert (rows["now_apart"].prev_rank, rows["now_apart"].change) == (2, None)
    assert (rows["unranked"].prev_rank, rows["unranked"].change) == (5, None)
    assert rows["up"].spark == (70.0, 75.5, 90.0)
    assert rows["down"].spark == (80.0, None, 60.0)
    assert rows["new"].spark == (None, None, None)


def test_rank014_normalised_by_workload():
    row = r.Row(code="S", name="S", parent_code=None, parent_name=None, households=2500, grids=4, volume=20,
                score=None, grade=None, rank=None, apart=False, cells=(), counts={})
    assert r.normalised(row, 5, "households") == 2.0   # 5 per 2,500 households = 2 per 1,000
    assert r.normalised(row, 5, "grids") == 1.25
    assert r.normalised(row, 5, "cases") == 0.25
    empty = r.Row(code="E", name="E", parent_code=None, parent_name=None, households=0, grids=0, volume=0,
                  score=None, grade=None, rank=None, apart=False, cells=(), counts={})
    assert [r.normalised(empty, 5, how) for how in ("households", "grids", "cases")] == [None, None, None]
    with pytest.raises(ValueError, match="normalise by one of"):
        r.normalised(row, 5, "population")


# -- periods -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,kind,key,since,until,months", [
    ("2026-10", "month", "2026-10", datetime(2026, 10, 1), datetime(2026, 11, 1), (date(2026, 10, 1),)),
    (" 2026-02 ", "month", "2026-02", datetime(2026, 2, 1), datetime(2026, 3, 1), (date(2026, 2, 1),)),
    ("2026-Q4", "quarter", "2026-Q4", datetime(2026, 10, 1), datetime(2027, 1, 1),
     (date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1))),
    ("2026-q1", "quarter", "2026-Q1", datetime(2026, 1, 1), datetime(2026, 4, 1),
     (date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1))),
    ("2025", "year", "2025", datetime(2025, 1, 1), datetime(2026, 1, 1), tuple(date(2025, m, 1) for m in range(1, 13))),
    ("2026-10-01..2026-10-15", "custom", "2026-10-01..2026-10-15", datetime(2026, 10, 1), datetime(2026, 10, 16), ()),
    ("2024-01-01..2024-12-31", "custom", "2024-01-01..2024-12-31", datetime(2024, 1, 1), datetime(2025, 1, 1), ()),
    ("2026-11-23..2026-11-30", "custom", "2026-11-23..2026-11-30", datetime(2026, 11, 23), datetime(2026, 12, 1), ()),
])
def test_rank020_parse_period(text, kind, key, since, until, months):
    p = r.parse_period(text, today=TODAY)
    assert (p.kind, p.key, p.since, p.until, p.months) == (kind, key, since, until, months)


@pytest.mark.parametrize("text,says", [
    ("", "is not a month"),
    ("2026-13", "month 13"),
    ("2026-00", "month 0"),
    ("2026-Q5", "is not a month"),
    ("2026-Q0", "is not a month"),
    ("26-10", "is not a month"),
    ("2026/10", "is not a month"),
    ("２０２６-10", "is not a month"),  # full-width digits
    ("2026-10; DROP TABLE rank_facts", "is not a month"),
    ("1999-12", "before 2000"),
    ("2027-01", "starts after today"),
    ("2026-12", "starts after today"),
    ("2027", "starts after today"),
    ("2026-11-24..2026-11-30", "starts after today"),
    ("2026-02-30..2026-03-01", "does not exist"),
    ("2026-10-15..2026-10-01", "ends before it starts"),
    ("2025-01-01..2026-01-02", "367 days long"),
    ("x" * 100_000, "100000 characters"),
    ("2026-10\x00", "is not a month"),
])
def test_rank021_parse_period_refuses_with_a_sentence(text, says):
    with pytest.raises(ValueError, match=says):
        r.parse_period(text, today=TODAY)


def test_rank022_parse_period_refuses_what_is_not_text():
    for bad in (None, 202610, ["2026-10"]):
        with pytest.raises(ValueError, match="must be text"):
            r.parse_period(bad, today=TODAY)


@pytest.mark.parametrize("text,before", [
    ("2026-01", "2025-12"), ("2026-10", "2026-09"), ("2026-Q1", "2025-Q4"), ("2026-Q3", "2026-Q2"),
    ("2026", "2025"), ("2026-10-01..2026-10-15", "2026-09-16..2026-09-30"),
    ("2024-03-01..2024-03-01", "2024-02-29..2024-02-29"),
])
def test_rank023_previous(text, before):
    assert r.previous(r.parse_period(text, today=TODAY)).key == before


def test_rank024_history_is_twelve_periods_oldest_first():
    assert [p.key for p in r.history(r.parse_period("2026-10", today=TODAY))] == [
        "2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07",
        "2026-08", "2026-09", "2026-10"]
    assert [p.key for p in r.history(r.parse_period("2026-Q2", today=TODAY), 3)] == ["2025-Q4", "2026-Q1", "2026-Q2"]
    assert r.history(r.parse_period("2026-10-01..2026-10-15", today=TODAY)) == []


@pytest.mark.parametrize("text,zh,en", [
    ("2026-10", "2026年10月", "Oct 2026"),
    ("2026-01", "2026年1月", "Jan 2026"),
    ("2026-Q4", "2026年第4季度", "Q4 2026"),
    ("2025", "2025年", "2025"),
    ("2026-10-01..2026-10-15", "2026-10-01至2026-10-15", "2026-10-01 – 2026-10-15"),
])
def test_rank025_period_labels(text, zh, en):
    p = r.parse_period(text, today=TODAY)
    assert (r.period_label(p, "zh"), r.period_label(p, "en")) == (zh, en)


def test_rank026_schemes_and_levels():
    assert r.SCHEMES == ("worker", "handling", "area", "hotline")
    assert r.DEFAULT_SCHEME == {"district": "area", "street": "handling", "community": "area", "grid": "area",
                                "worker": "worker", "department": "handling"}
    assert r.SCHEME_VOLUME == {"worker": "reports", "handling": "to_handle", "area": "to_close",
                               "hotline": "followups"}
    for level, scheme in r.DEFAULT_SCHEME.items():
        assert level in r.SCHEME_LEVELS[scheme]


def test_rank015_whole_columns_agree_with_the_formula_unit_by_unit():
    """Random counts (seeded), each unit's score by the spec's formula written out here, against score_rows."""
    import random

    rng = random.Random(42)
    scheme = Scheme("handling", (Item("handle_rate", 30), Item("handle_on_time_rate", 20), Item("rework_rate", 20),
                                 Item("overdue_rate", 20), Item("extension_rate", 10), Item("close_rate", 0)), 20)
    counts = {}
    for i in range(300):
        handled = rng.choice([0, 0, rng.randint(1, 60)])
        closed = rng.randint(0, handled)
        counts[f"D{i:03d}"] = {"handled": handled, "handled_on_time": rng.randint(0, handled),
                               "overdue_open": rng.choice([0, rng.randint(0, 9)]), "closed": closed,
                               "reworked": rng.randint(0, closed), "extended": rng.randint(0, handled)}
    rows = {row.code: row for row in r.score_rows([U(c) for c in counts], counts, scheme, GRADES, 20)}
    for code, c in counts.items():
        to_handle, to_close = c["handled"] + c["overdue_open"], c["closed"] + c["overdue_open"]
        parts = [(30, c["handled"], to_handle, False), (20, c["handled_on_time"], to_handle, False),
                 (20, c["reworked"], to_close, True), (20, c["overdue_open"], to_handle, True),
                 (10, c["extended"], to_handle, True)]
        counted = [(w, (1 - n / d) if lower else n / d) for w, n, d, lower in parts if d > 0]
        row = rows[code]
        if not counted:
            assert row.score is None and row.rank is None
            continue
        expected = 100 * sum(w * s for w, s in counted) / sum(w for w, _ in counted)
        assert row.exact_score == pytest.approx(expected, abs=1e-9)
        assert row.volume == to_handle and row.apart == (to_handle < 20)
        assert row.cells[-1].points is None  # close_rate has weight 0
    ranked = [row for row in rows.values() if row.rank is not None and not row.apart]
    assert sorted(row.rank for row in ranked) == list(range(1, len(ranked) + 1))
