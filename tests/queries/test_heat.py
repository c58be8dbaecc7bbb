"""The heat layer's query on the hand city, and the H3 parent computed in SQL.

The hand city's events all carry the point (31.1, 120.0) (tests/handcity.py), which would put every
one in the same cell; here each event is placed at its building instead (lat/lon cleared, then the
store's backfill takes the building's point: dashboard/store.fill_h3). Buildings, from
handcity.building_rows (lat = south + 0.2 · (0.4 + 0.2 i), lon = the grid's middle):
  A1 001 (31.08, 120.025)  A1 002 (31.12, 120.025)  A2 (31.08, 120.075)  B1 (31.08, 120.125)
  C1 (31.08, 120.25)       C2 (31.08, 120.35)
Events per building: A1 001: 1, 2, 11; A1 002: 3; A2: 4, 5 (void); B1: 6, 7; C1: 8; C2: 9, 10.

In the default window [10-21 15:00, 11-20 15:00) the non-void reports are 1, 2, 3, 4, 6, 8, 10 (5 is
void; 7 and 9 came before it, 11 after): at resolution 11 every building is its own cell, so
A1 001: 2 (1, 2), A1 002: 1, A2: 1, B1: 1, C1: 1, C2: 1 — seven, the hand city's 8 reports less the void.
At resolution 5 (cells of ~250 km²) h3 puts A1 001, A1 002 and A2 in one cell, B1, B2 and C1 in a
second and C2 in a third (asserted below): 4 (1, 2, 3, 4), 2 (6, 8), 1 (10).
At resolution 6 only A1's two buildings share a cell: 3 (1, 2, 3), then 1 each for A2, B1, C1, C2.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from h3.api import basic_int
from sqlalchemy import BigInteger, Column, MetaData, Table, create_engine, insert, select, update

from dashboard.store import fill_h3
from queries import areas as aq
from queries.heat import heat_cells
from queries.schema import events
from queries.scope import Scope
from queries.sqlfuncs import h3_parent
from tests.handcity import NOW, SINCE

CITY = Scope("329900", 0)
POINTS = {"A1": (31.08, 120.025), "A1b2": (31.12, 120.025), "A2": (31.08, 120.075), "B1": (31.08, 120.125),
          "B2": (31.08, 120.175), "C1": (31.08, 120.25), "C2": (31.08, 120.35)}


def cell(name: str, resolution: int = 11) -> int:
    return basic_int.latlng_to_cell(*POINTS[name], resolution)


def by_name(got: list[tuple[int, int]], resolution: int = 11) -> dict[str, int]:
    """Return {building: count} of heat cells (each cell named by the first building in it)."""
    names = {}
    for name in POINTS:
        names.setdefault(cell(name, resolution), name)
    return {names[c]: n for c, n in got}


@pytest.fixture
def heat_engine(hand_engine):
    """The hand city with each event's h3 at its building (see the module docstring)."""
    with hand_engine.begin() as conn:
        conn.execute(update(events).values(lat=None, lon=None))
    assert fill_h3(hand_engine) == 11
    return hand_engine


@pytest.fixture
def conn(heat_engine):
    with heat_engine.connect() as conn:
        yield conn


def heat(conn, code="329900", *, scope=CITY, resolution=11, since=SINCE, until=NOW, **filters):
    area = aq.get_area(conn, scope=CITY, code=code)
    return heat_cells(conn, scope=scope, area=area, resolution=resolution, since=since, until=until, **filters)


def test_heat001_cells_at_resolution_11(conn):
    got = heat(conn)
    assert by_name(got) == {"A1": 2, "A1b2": 1, "A2": 1, "B1": 1, "C1": 1, "C2": 1}
    assert got[0] == (cell("A1"), 2)  # densest first, then by cell
    assert [c for c, _ in got[1:]] == sorted(c for c, _ in got[1:])


def test_heat002_cells_at_coarser_resolutions(conn):
    assert cell("A1", 5) == cell("A1b2", 5) == cell("A2", 5) != cell("B1", 5) == cell("B2", 5) == cell("C1", 5)
    assert cell("C2", 5) not in (cell("A1", 5), cell("B1", 5))
    assert by_name(heat(conn, resolution=5), 5) == {"A1": 4, "B1": 2, "C2": 1}
    assert cell("A1", 6) == cell("A1b2", 6) and len({cell(n, 6) for n in POINTS}) == 6
    assert by_name(heat(conn, resolution=6), 6) == {"A1": 3, "A2": 1, "B1": 1, "C1": 1, "C2": 1}


@pytest.mark.parametrize("since, until, expected", [
    # 1 h: 4 at 14:00 is in (since is closed), 10 at 14:59:59 too.
    (NOW - timedelta(hours=1), NOW, {"A2": 1, "C2": 1}),
    # 24 h: 1, 4, 8, 10 (2 was at 11-19 10:00; 5 is void).
    (NOW - timedelta(hours=24), NOW, {"A1": 1, "A2": 1, "C1": 1, "C2": 1}),
    # 7 d from 11-13 15:00: 1, 2, 4, 6, 8, 10 (3 was on 11-10).
    (NOW - timedelta(days=7), NOW, {"A1": 2, "A2": 1, "B1": 1, "C1": 1, "C2": 1}),
    # Half-open: 11 at 16:00 is not in [15:00, 16:00) but is in [16:00, 16:00:01).
    (NOW, datetime(2026, 11, 20, 16, 0), {}),
    (datetime(2026, 11, 20, 16, 0), datetime(2026, 11, 20, 16, 0, 1), {"A1": 1}),
    (datetime(2026, 11, 20, 14, 59, 59), NOW, {"C2": 1}),
    # Playback: any window, here the one holding 7 (10-01) and 9 (09-01) alone.
    (datetime(2026, 9, 1), datetime(2026, 10, 2), {"B1": 1, "C2": 1}),
    (NOW, NOW, {}),
])
def test_heat003_window_edges(conn, since, until, expected):
    assert by_name(heat(conn, since=since, until=until)) == expected


@pytest.mark.parametrize("filters, expected", [
    ({"classes": ("05",)}, {"A1": 1, "A2": 1, "C1": 1}),  # 1, 4, 8 (5 is void)
    ({"classes": ("01",)}, {"A1": 1, "A1b2": 1}),  # 2 (0102), 3 (0110)
    ({"classes": ("01", "06")}, {"A1": 1, "A1b2": 1, "C2": 1}),  # + 10 (0601)
    ({"classes": ("99",)}, {}),
    ({"urgent_only": True}, {"B1": 1}),  # 6 (0401): the hand city's urgent events are class 04
    ({"sources": ("grid_worker",)}, {"A1": 2, "A1b2": 1, "A2": 1, "B1": 1, "C1": 1, "C2": 1}),
    ({"sources": ("hotline", "citizen")}, {}),  # every hand event came from a grid worker
    ({"classes": ("05",), "urgent_only": True}, {}),
])
def test_heat004_filters(conn, filters, expected):
    assert by_name(heat(conn, **filters)) == expected


@pytest.mark.parametrize("scope, code, expected", [
    # 东城区's manager: 1, 2, 3, 4, 6 — nothing of 西城区, even when asking for the whole city.
    (Scope("329902", 1), "329902", {"A1": 2, "A1b2": 1, "A2": 1, "B1": 1}),
    (Scope("329902", 1), "329900", {"A1": 2, "A1b2": 1, "A2": 1, "B1": 1}),
    (Scope("329903", 1), "329900", {"C1": 1, "C2": 1}),
    # A street, a grid.
    (CITY, "329902002", {"B1": 1}),
    (CITY, "329902001001001", {"A1": 2, "A1b2": 1}),
    # Departments: 西城区's sees its 8 and 10; the city hotline centre handles none of these.
    (Scope("329903", 1, department="329903-01"), "329903", {"C1": 1, "C2": 1}),
    (Scope("329902", 1, department="329903-01"), "329902", {}),
    (Scope("329900", 0, department="329900-12"), "329900", {}),
])
def test_heat005_scope_and_area(conn, scope, code, expected):
    assert by_name(heat(conn, code, scope=scope)) == expected


def test_heat006_limit_keeps_the_densest(conn):
    assert heat(conn, limit=1) == [(cell("A1"), 2)]
    assert heat(conn, limit=0) == []


@pytest.mark.parametrize("resolution", [-1, 12, 16])
def test_heat007_resolution_out_of_range(conn, resolution):
    with pytest.raises(ValueError):
        heat(conn, resolution=resolution)


def test_heat008_events_without_h3_are_not_counted(conn):
    conn.execute(update(events).where(events.c.id == 1).values(h3=None))
    assert by_name(heat(conn))["A1"] == 1


def parent_cases(engine) -> None:
    """Check h3_parent on ``engine`` against h3.cell_to_parent for random points and every resolution 5–11."""
    rng = random.Random(42)
    # The world, and the demo city's own neighbourhood where the heat layer lives.
    points = [(rng.uniform(-85, 85), rng.uniform(-180, 180)) for _ in range(300)]
    points += [(rng.uniform(31.2, 31.4), rng.uniform(120.4, 120.8)) for _ in range(300)]
    cells = [basic_int.latlng_to_cell(lat, lon, 11) for lat, lon in points]
    table = Table("h3_parent_cases", MetaData(), Column("h", BigInteger))
    table.drop(engine, checkfirst=True)
    table.create(engine)
    try:
        with engine.begin() as conn:
            conn.execute(insert(table), [{"h": c} for c in cells])
            for resolution in range(5, 12):
                got = dict(conn.execute(select(table.c.h, h3_parent(table.c.h, resolution))).fetchall())
                assert got == {c: basic_int.cell_to_parent(c, resolution) for c in cells}, resolution
            assert conn.execute(select(h3_parent(table.c.h, 7)).where(table.c.h.is_(None))).fetchall() == []
    finally:
        table.drop(engine)


def test_heat009_sql_parent_equals_h3():
    parent_cases(create_engine("duckdb:///:memory:"))


@pytest.mark.parametrize("resolution", [-1, 16, 7.0, "7", True, None])
def test_heat010_parent_refuses_bad_resolutions(resolution):
    with pytest.raises(ValueError):
        h3_parent(events.c.h3, resolution)
