"""queries/rankings.py on the rankings' hand city (tests/rankcity.py): every count of every level, worked by hand.

The expected numbers are those of rankcity's docstring (October as of NOW, September, November) and, for
October as of 10-20 00:00, worked out below event by event. Nothing here is computed by the code under test.
"""
from __future__ import annotations

import shutil
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from dashboard.settings import Settings
from dashboard.store import make_engine
from queries import rankings as rq
from queries.areas import get_area
from queries.schema import RANK_COUNTS, rank_facts, rank_periods
from queries.scope import Scope
from tests import rankcity
from tests.rankcity import A1, A2, B1, B2, C1, C2, DC, HOTLINE_DEPT, NOW, XC

CITY = Scope("329900", 0)
DONGCHENG, XICHENG = Scope("329902", 1), Scope("329903", 1)
DONGJIE = Scope("329902001", 2)
DEPT_DC = Scope("329902", 1, department=DC)
DEPT_CITY = Scope("329900", 0, department=HOTLINE_DEPT)
OCT = (datetime(2026, 10, 1), datetime(2026, 11, 1))
SEP = (datetime(2026, 9, 1), datetime(2026, 10, 1))
NOV = (datetime(2026, 11, 1), datetime(2026, 12, 1))
OCT_END = datetime(2026, 11, 1)
EARLY = datetime(2026, 10, 20)  # October as of 10-20 00:00
P = rq.FactParams(work_days=3)  # patrol days are capped at the working days the caller passes


def Z(**nonzero) -> dict[str, int]:
    """Return a full counts dict: zeros, and the given counts."""
    assert set(nonzero) <= set(RANK_COUNTS), set(nonzero) - set(RANK_COUNTS)
    return {name: nonzero.get(name, 0) for name in RANK_COUNTS}


@pytest.fixture(scope="session")
def rank_store_template(tmp_path_factory):
    """Build the rankings' hand city once per session; tests copy the file."""
    folder = tmp_path_factory.mktemp("rank-template")
    engine = make_engine(Settings(data_dir=folder, frozen_now=NOW))
    rankcity.build_rank_city(engine)
    engine.dispose()
    return folder / "gridcc.duckdb"


@pytest.fixture(scope="module")
def rank_conn(rank_store_template, tmp_path_factory):
    """A read-only use of one copy of the rankings' hand city (the module's tests never write)."""
    folder = tmp_path_factory.mktemp("rank-read")
    shutil.copy(rank_store_template, folder / "gridcc.duckdb")
    engine = make_engine(Settings(data_dir=folder, frozen_now=NOW))
    with engine.connect() as conn:
        yield conn
    engine.dispose()


@pytest.fixture
def rank_engine(rank_store_template, tmp_path):
    """A fresh copy of the rankings' hand city to write to (freezing)."""
    shutil.copy(rank_store_template, tmp_path / "gridcc.duckdb")
    engine = make_engine(Settings(data_dir=tmp_path, frozen_now=NOW))
    yield engine
    engine.dispose()


def area(conn, code: str = "329900", scope: Scope = CITY):
    found = get_area(conn, scope=scope, code=code)
    assert found is not None
    return found


def facts(conn, level, window=OCT, cutoff=OCT_END, scope=CITY, code=None, params=P):
    code = code or scope.area_code
    return rq.facts(conn, scope=scope, level=level, area=area(conn, code, scope), since=window[0], until=window[1],
                    cutoff=cutoff, params=params)


def ids(conn, level, unit, count, window=OCT, cutoff=OCT_END, scope=CITY, code=None, **page):
    code = code or scope.area_code
    total, rows = rq.cases(conn, scope=scope, level=level, area=area(conn, code, scope), unit=unit, count=count,
                           since=window[0], until=window[1], cutoff=cutoff, params=P, **page)
    return total, [r[0] for r in rows]


# -- what a scope ranks ---------------------------------------------------------------------------------------

def test_rank001_levels_for_each_scope():
    assert rq.levels_for(CITY) == ("district", "street", "community", "grid", "worker", "department")
    assert rq.levels_for(DONGCHENG) == ("street", "community", "grid", "worker", "department")
    assert rq.levels_for(DONGJIE) == ("community", "grid", "worker")
    assert rq.levels_for(Scope("329902001001", 3)) == ("grid", "worker")
    assert rq.levels_for(Scope(A1, 4)) == ("worker",)
    assert rq.levels_for(DEPT_DC) == ("department",)
    assert rq.levels_for(DEPT_CITY) == ("department",)


def test_rank002_units_of_the_city(rank_conn):
    city = area(rank_conn)
    d = rq.units(rank_conn, scope=CITY, level="district", area=city)
    assert [(u.code, u.name, u.parent_code, u.parent_name, u.households, u.grids, u.kind) for u in d] == [
        ("329902", "东城区", "329900", "云州市", 1200, 4, None), ("329903", "西城区", "329900", "云州市", 600, 2, None)]
    s = rq.units(rank_conn, scope=CITY, level="street", area=city)
    assert [(u.code, u.parent_name, u.grids) for u in s] == [
        ("329902001", "东城区", 2), ("329902002", "东城区", 2), ("329903001", "西城区", 2)]
    c = rq.units(rank_conn, scope=CITY, level="community", area=city)
    assert [(u.code, u.households, u.grids) for u in c] == [
        ("329902001001", 600, 2), ("329902002001", 600, 2), ("329903001001", 600, 2)]
    g = rq.units(rank_conn, scope=CITY, level="grid", area=city)
    assert [(u.code, u.parent_code, u.households, u.grids) for u in g] == [
        (A1, "329902001001", 300, 1), (A2, "329902001001", 300, 1), (B1, "329902002001", 300, 1),
        (B2, "329902002001", 300, 1), (C1, "329903001001", 300, 1), (C2, "329903001001", 300, 1)]
    w = rq.units(rank_conn, scope=CITY, level="worker", area=city)
    assert [(u.code, u.name, u.parent_code, u.parent_name, u.households, u.grids, u.kind) for u in w] == [
        ("1", "张伟", A1, "东街第01网格", 300, 1, "full_time"), ("2", "李强", A1, "东街第01网格", 300, 1, "part_time"),
        ("3", "王敏", B1, "南苑第01网格", 300, 1, "full_time"), ("4", "赵磊", C1, "西湖第01网格", 300, 1, "full_time")]
    dep = rq.units(rank_conn, scope=CITY, level="department", area=city)
    assert [(u.code, u.parent_code, u.parent_name, u.households, u.grids, u.kind) for u in dep] == [
        (HOTLINE_DEPT, None, None, 0, 0, "热线"), (DC, "329902", "东城区", 0, 0, "城管执法局"),
        (XC, "329903", "西城区", 0, 0, "城管执法局")]


def test_rank003_a_district_lists_only_its_units(rank_conn):
    xc = area(rank_conn, "329903", XICHENG)
    assert rq.units(rank_conn, scope=XICHENG, level="district", area=xc) == []  # not below its own level
    assert [u.code for u in rq.units(rank_conn, scope=XICHENG, level="street", area=xc)] == ["329903001"]
    assert [u.code for u in rq.units(rank_conn, scope=XICHENG, level="grid", area=xc)] == [C1, C2]
    assert [u.code for u in rq.units(rank_conn, scope=XICHENG, level="worker", area=xc)] == ["4"]
    assert [u.code for u in rq.units(rank_conn, scope=XICHENG, level="department", area=xc)] == [XC]
    assert set(facts(rank_conn, "grid", scope=XICHENG)) == {C1, C2}
    # Another district's area, handed in by mistake, meets nothing in this scope.
    dc_area = area(rank_conn, "329902", CITY)
    assert rq.units(rank_conn, scope=XICHENG, level="grid", area=dc_area) == []
    assert rq.facts(rank_conn, scope=XICHENG, level="grid", area=dc_area, since=OCT[0], until=OCT[1],
                    cutoff=OCT_END, params=P) == {}


def test_rank004_a_street_cannot_rank_districts_or_departments(rank_conn):
    dj = area(rank_conn, "329902001", DONGJIE)
    for level in ("district", "street", "department"):
        assert rq.units(rank_conn, scope=DONGJIE, level=level, area=dj) == []
        assert facts(rank_conn, level, scope=DONGJIE) == {}
    assert [u.code for u in rq.units(rank_conn, scope=DONGJIE, level="grid", area=dj)] == [A1, A2]
    assert [u.code for u in rq.units(rank_conn, scope=DONGJIE, level="worker", area=dj)] == ["1", "2"]


def test_rank005_a_department_sees_only_its_department(rank_conn):
    dc = area(rank_conn, "329902", DEPT_DC)
    assert [u.code for u in rq.units(rank_conn, scope=DEPT_DC, level="department", area=dc)] == [DC]
    for level in ("district", "street", "grid", "worker"):
        assert rq.units(rank_conn, scope=DEPT_DC, level=level, area=dc) == []
    assert facts(rank_conn, "department", scope=DEPT_DC) == {DC: OCT_DEPARTMENTS[DC]}
    # The city's hotline centre: its department alone, and only its own case (117).
    assert facts(rank_conn, "department", scope=DEPT_CITY) == {HOTLINE_DEPT: OCT_DEPARTMENTS[HOTLINE_DEPT]}


def test_rank006_drilling_into_an_area(rank_conn):
    nanyuan = area(rank_conn, "329902002")
    assert [u.code for u in rq.units(rank_conn, scope=CITY, level="grid", area=nanyuan)] == [B1, B2]
    assert [u.code for u in rq.units(rank_conn, scope=CITY, level="worker", area=nanyuan)] == ["3"]
    assert facts(rank_conn, "grid", code="329902002") == {B1: OCT_GRIDS[B1], B2: Z()}
    # The department ranking of one district's area: that district's departments, its events only.
    assert facts(rank_conn, "department", code="329903") == {XC: OCT_DEPARTMENTS[XC]}


# -- the counts, October as of NOW (cut-off 11-01 00:00) -----------------------------------------------------

OCT_GRIDS = {
    # 92,101,102,105,106,107,108 handled (102 late; 108 handled in October, closed 11-02: counted open);
    # 104 open and overdue (deadline 10-17), extended; 108 extended; 102 reworked.
    A1: Z(handled=7, handled_on_time=6, overdue_open=1, closed=6, closed_on_time=5, reworked=1, extended=2,
          registered=6, public_registered=2, followups=1, contacted=1, resolved=1, satisfied=1),
    A2: Z(),
    # 110 on time, 111 late and extended; 112 open and overdue at the cut-off (handled 11-03).
    B1: Z(handled=2, handled_on_time=1, overdue_open=1, closed=2, closed_on_time=1, extended=1, registered=4,
          public_registered=2, followups=1, contacted=1, basically_satisfied=1),
    B2: Z(),
    C1: Z(handled=2, handled_on_time=2, closed=2, closed_on_time=2, registered=2, public_registered=1),
    # 116 parked: registered, never open; its follow-up is not valid. 117 handled and closed on time.
    C2: Z(handled=1, handled_on_time=1, closed=1, closed_on_time=1, registered=1, public_registered=1,
          followups=1, resolved=1, satisfied=1),
}
OCT_DONGCHENG = Z(handled=9, handled_on_time=7, overdue_open=2, closed=8, closed_on_time=6, reworked=1, extended=3,
                  registered=10, public_registered=4, followups=2, contacted=2, resolved=1, satisfied=1,
                  basically_satisfied=1)
OCT_XICHENG = Z(handled=3, handled_on_time=3, closed=3, closed_on_time=3, registered=3, public_registered=2,
                followups=1, resolved=1, satisfied=1)
OCT_DEPARTMENTS = {
    HOTLINE_DEPT: Z(handled=1, handled_on_time=1, closed=1, closed_on_time=1, registered=1, public_registered=1,
                    followups=1, resolved=1, satisfied=1),  # 117
    DC: OCT_DONGCHENG,  # every 东城区 case is 329902-01's
    XC: Z(handled=2, handled_on_time=2, closed=2, closed_on_time=2, registered=2, public_registered=1),  # C1 (116 parked)
}
OCT_WORKERS = {
    # reports 101,102,103 (void),107 (self-resolved: valid),108; to verify 105 (60 min), 106 (180 min);
    # to check the 7 handled of A1, late 102 (145 min) and 105 (180 min); missed 105 (class 01); patrol days
    # 10-08, 10-09, 10-12, 10-31 = 4, capped at 3 working days; visits 3 of both buildings.
    "1": Z(reports=5, valid_reports=4, to_verify=2, verified_on_time=1, to_check=7, checked_on_time=5,
           grid_registered=6, missed=1, patrol_days=3, work_days=3, grid_buildings=2, buildings_visited=2, visits=3),
    # part-time: nothing to verify or check; the grid's registered and missed all the same.
    "2": Z(reports=1, valid_reports=1, grid_registered=6, missed=1, patrol_days=1, work_days=3, grid_buildings=2,
           buildings_visited=1, visits=1),
    # to verify 111 (60 min), 112 (180 min); missed 112 (0505), not 111 (class 06); a visit in A2 is a visit,
    # but not one of his grid's buildings.
    "3": Z(reports=2, valid_reports=2, to_verify=2, verified_on_time=1, to_check=2, checked_on_time=2,
           grid_registered=4, missed=1, patrol_days=3, work_days=3, grid_buildings=1, buildings_visited=1, visits=2),
    "4": Z(reports=1, valid_reports=1, to_verify=1, verified_on_time=1, to_check=2, checked_on_time=2,
           grid_registered=2, missed=1, work_days=3, grid_buildings=1),
}


def test_rank010_october_grids(rank_conn):
    assert facts(rank_conn, "grid") == OCT_GRIDS


def test_rank011_october_communities_streets_districts(rank_conn):
    a1, b1, c = OCT_GRIDS[A1], OCT_GRIDS[B1], OCT_XICHENG
    assert facts(rank_conn, "community") == {"329902001001": a1, "329902002001": b1, "329903001001": c}
    assert facts(rank_conn, "street") == {"329902001": a1, "329902002": b1, "329903001": c}
    assert facts(rank_conn, "district") == {"329902": OCT_DONGCHENG, "329903": OCT_XICHENG}


def test_rank012_october_departments(rank_conn):
    assert facts(rank_conn, "department") == OCT_DEPARTMENTS


def test_rank013_october_workers(rank_conn):
    assert facts(rank_conn, "worker") == OCT_WORKERS
    # Uncapped when the month has more working days than patrol days.
    many = rq.FactParams(work_days=22)
    got = facts(rank_conn, "worker", params=many)
    assert [(got[w]["patrol_days"], got[w]["work_days"]) for w in "1234"] == [(4, 22), (1, 22), (3, 22), (0, 22)]


def test_rank014_worker_params_change_what_is_on_time(rank_conn):
    # 180-minute limits: 106's verification (180 min) and 105's check (180 min) are on time; 102's (145) too.
    loose = rq.FactParams(verify_limit_minutes=180, check_limit_minutes=180, patrol_classes=("04",), work_days=3)
    w1 = facts(rank_conn, "worker", params=loose)["1"]
    assert (w1["verified_on_time"], w1["checked_on_time"], w1["missed"]) == (2, 7, 1)  # missed: 106 (0401)
    tight = rq.FactParams(verify_limit_minutes=59, check_limit_minutes=29, patrol_classes=(), work_days=0)
    w1 = facts(rank_conn, "worker", params=tight)["1"]
    # verify: 105 took 60 min (late); check ≤ 29 min: 107 (0 min) only; no class counts as missed.
    assert (w1["verified_on_time"], w1["checked_on_time"], w1["missed"], w1["patrol_days"]) == (0, 1, 0, 0)


# -- October as of 10-20 00:00 ---------------------------------------------------------------------------------
# A1: 92, 101, 102, 105, 106 handled and closed by then (102 late); 104 open, overdue since 10-17, extended;
#     107 (10-20 09:00) and 108 (10-28) not yet reported. Registered 101, 102, 104, 105, 106; public 105, 106.
#     105's follow-up (10-14) counts.
# B1: 110 on time, 111 late and extended (closed 10-10); 112 not yet reported: nothing overdue. 111's follow-up.
# C1: 114, 115. C2: 116 parked (挂账: not in 立案数), 117 closed; 117's follow-up (10-18) counts.
# w1: reports 101, 102, 103 (valid 101, 102); to verify 105 (on time), 106; to check 92, 101, 102, 105, 106, on
#     time 92, 101, 106; patrol days 10-08, 10-09, 10-12; one visit (10-08), one building.
# w2: 104 (valid); patrol 10-10; visit 10-10. w3: report 110; to verify 111 (on time); to check 110, 111 (both on
#     time); registered 110, 111: missed none (111 is class 06); patrols 10-09, 10-19; visits 10-09 (B1), 10-10 (A2).

EARLY_GRIDS = {
    A1: Z(handled=5, handled_on_time=4, overdue_open=1, closed=5, closed_on_time=4, reworked=1, extended=1,
          registered=5, public_registered=2, followups=1, contacted=1, resolved=1, satisfied=1),
    A2: Z(),
    B1: Z(handled=2, handled_on_time=1, closed=2, closed_on_time=1, extended=1, registered=2, public_registered=1,
          followups=1, contacted=1, basically_satisfied=1),
    B2: Z(),
    C1: Z(handled=2, handled_on_time=2, closed=2, closed_on_time=2, registered=2, public_registered=1),
    C2: Z(handled=1, handled_on_time=1, closed=1, closed_on_time=1, registered=1, public_registered=1,
          followups=1, resolved=1, satisfied=1),
}
EARLY_WORKERS = {
    "1": Z(reports=3, valid_reports=2, to_verify=2, verified_on_time=1, to_check=5, checked_on_time=3,
           grid_registered=5, missed=1, patrol_days=3, work_days=3, grid_buildings=2, buildings_visited=1, visits=1),
    "2": Z(reports=1, valid_reports=1, grid_registered=5, missed=1, patrol_days=1, work_days=3, grid_buildings=2,
           buildings_visited=1, visits=1),
    "3": Z(reports=1, valid_reports=1, to_verify=1, verified_on_time=1, to_check=2, checked_on_time=2,
           grid_registered=2, patrol_days=2, work_days=3, grid_buildings=1, buildings_visited=1, visits=2),
    "4": Z(reports=1, valid_reports=1, to_verify=1, verified_on_time=1, to_check=2, checked_on_time=2,
           grid_registered=2, missed=1, work_days=3, grid_buildings=1),
}


def test_rank020_october_as_of_the_20th(rank_conn):
    assert facts(rank_conn, "grid", cutoff=EARLY) == EARLY_GRIDS
    assert facts(rank_conn, "worker", cutoff=EARLY) == EARLY_WORKERS
    assert facts(rank_conn, "department", cutoff=EARLY) == {
        HOTLINE_DEPT: OCT_DEPARTMENTS[HOTLINE_DEPT],
        DC: Z(handled=7, handled_on_time=5, overdue_open=1, closed=7, closed_on_time=5, reworked=1, extended=2,
              registered=7, public_registered=3, followups=2, contacted=2, resolved=1, satisfied=1,
              basically_satisfied=1),
        XC: OCT_DEPARTMENTS[XC],
    }


def test_rank021_a_case_handled_but_not_yet_closed_at_the_cut_off(rank_conn):
    # As of 10-16 00:00, 106 (handled 10-15 14:00, closed 10-16 09:00) is handled and open: counted once, from
    # the open side; not closed. A1 then: handled 92, 101, 102, 105, 106; closed 92, 101, 102, 105.
    got = facts(rank_conn, "grid", cutoff=datetime(2026, 10, 16))[A1]
    assert (got["handled"], got["handled_on_time"], got["closed"], got["closed_on_time"]) == (5, 4, 4, 3)
    assert ids(rank_conn, "grid", A1, "handled", cutoff=datetime(2026, 10, 16))[1] == [92, 101, 102, 105, 106]


def test_rank022_a_cut_off_before_the_period_counts_nothing(rank_conn):
    assert facts(rank_conn, "grid", cutoff=datetime(2026, 9, 30)) == {g: Z() for g in OCT_GRIDS}
    assert facts(rank_conn, "worker", cutoff=datetime(2026, 9, 30))["1"] == Z()


# -- September and November -------------------------------------------------------------------------------------

def test_rank030_september(rank_conn):
    g = facts(rank_conn, "grid", window=SEP, cutoff=datetime(2026, 10, 1))
    # 92 is open at 10-01 00:00, its deadline (10-01 10:00) not yet passed: not overdue.
    assert g[A1] == Z(handled=1, handled_on_time=1, closed=1, closed_on_time=1, registered=2)
    assert g[B1] == Z(handled=1, closed=1, registered=1, public_registered=1, followups=1, contacted=1, resolved=1,
                      basically_satisfied=1)
    w = facts(rank_conn, "worker", window=SEP, cutoff=datetime(2026, 10, 1))
    assert w["1"] == Z(reports=2, valid_reports=2, to_check=1, checked_on_time=1, grid_registered=2, patrol_days=1,
                       work_days=3, grid_buildings=2)
    assert w["3"] == Z(to_verify=1, verified_on_time=1, to_check=1, checked_on_time=1, grid_registered=1, missed=1,
                       work_days=3, grid_buildings=1)


def test_rank031_november_as_of_now(rank_conn):
    g = facts(rank_conn, "grid", window=NOV, cutoff=NOW)
    # 108 (handled in October, extended) closes in November: closed, not handled, not extended here.
    assert g[A1] == Z(handled=1, handled_on_time=1, overdue_open=1, closed=2, closed_on_time=2, registered=2,
                      public_registered=1)
    assert g[B1] == Z(handled=2, handled_on_time=1, closed=2, closed_on_time=1, reworked=1, followups=1,
                      contacted=1, resolved=1)
    w = facts(rank_conn, "worker", window=NOV, cutoff=NOW)
    assert w["1"] == Z(reports=1, valid_reports=1, to_verify=1, verified_on_time=1, to_check=1, checked_on_time=1,
                       grid_registered=2, missed=1, patrol_days=1, work_days=3, grid_buildings=2,
                       buildings_visited=1, visits=1)
    assert w["2"]["reports"] == 0  # 122 is reported after NOW
    assert w["3"] == Z(to_check=2, checked_on_time=2, work_days=3, grid_buildings=1)


def test_rank032_from_the_current_state(rank_conn):
    # A cut-off at or after STATE_AS_OF (11-21 09:00) reads the open cases from open_events (extension counts
    # from their events rows). November as of 11-22: as of NOW, plus 122 (w2's report, not valid: not registered).
    late = datetime(2026, 11, 22)
    g = facts(rank_conn, "grid", window=NOV, cutoff=late)
    assert g[A1] == Z(handled=1, handled_on_time=1, overdue_open=1, closed=2, closed_on_time=2, registered=2,
                      public_registered=1)
    assert facts(rank_conn, "worker", window=NOV, cutoff=late)["2"]["reports"] == 1
    assert facts(rank_conn, "worker", window=NOV, cutoff=late)["2"]["valid_reports"] == 0
    # October's cases as of 11-22: 104 still open and overdue, extended (read through open_events); 108 and 112
    # closed since (closures): 112 no longer overdue.
    g = facts(rank_conn, "grid", cutoff=late)
    assert g[A1] == OCT_GRIDS[A1]
    assert g[B1] == Z(handled=2, handled_on_time=1, closed=2, closed_on_time=1, extended=1, registered=4,
                      public_registered=2, followups=1, contacted=1, basically_satisfied=1)
    assert ids(rank_conn, "grid", A1, "extended", cutoff=late) == (2, [104, 108])
    assert ids(rank_conn, "grid", A1, "overdue_open", cutoff=late) == (1, [104])


# -- the cases behind each count --------------------------------------------------------------------------------

@pytest.mark.parametrize("level, unit, count, expected", [
    ("grid", A1, "handled", [92, 101, 102, 105, 106, 107, 108]),
    ("grid", A1, "handled_on_time", [92, 101, 105, 106, 107, 108]),
    ("grid", A1, "overdue_open", [104]),
    ("grid", A1, "closed", [92, 101, 102, 105, 106, 107]),
    ("grid", A1, "closed_on_time", [92, 101, 105, 106, 107]),
    ("grid", A1, "reworked", [102]),
    ("grid", A1, "extended", [104, 108]),
    ("grid", A1, "registered", [101, 102, 104, 105, 106, 108]),
    ("grid", A1, "public_registered", [105, 106]),
    ("grid", A1, "followups", [105]),
    ("grid", A1, "contacted", [105]),
    ("grid", A1, "resolved", [105]),
    ("grid", A1, "satisfied", [105]),
    ("grid", A1, "basically_satisfied", []),
    ("grid", B1, "basically_satisfied", [111]),
    ("grid", B1, "overdue_open", [112]),
    ("grid", C2, "registered", [117]),  # 116 is parked: 挂账 is not in 立案数
    ("district", "329903", "followups", [117]),
    ("district", "329903", "contacted", []),
    ("district", "329902", "followups", [111, 105]),
    ("street", "329902002", "extended", [111]),
    ("community", "329902001001", "reworked", [102]),
    ("department", DC, "extended", [111, 104, 108]),
    ("department", HOTLINE_DEPT, "handled", [117]),
    ("worker", "1", "reports", [101, 102, 103, 107, 108]),
    ("worker", "1", "valid_reports", [101, 102, 107, 108]),
    ("worker", "1", "to_verify", [105, 106]),
    ("worker", "1", "verified_on_time", [105]),
    ("worker", "1", "to_check", [92, 101, 102, 105, 106, 107, 108]),
    ("worker", "1", "checked_on_time", [92, 101, 106, 107, 108]),
    ("worker", "1", "grid_registered", [101, 102, 104, 105, 106, 108]),
    ("worker", "1", "missed", [105]),
    ("worker", "2", "reports", [104]),
    ("worker", "2", "to_verify", []),  # part-time
    ("worker", "2", "to_check", []),
    ("worker", "2", "missed", [105]),
    ("worker", "3", "to_verify", [111, 112]),
    ("worker", "3", "verified_on_time", [111]),
    ("worker", "3", "missed", [112]),
    ("worker", "4", "missed", [115]),
    # Field work: the patrols / visits rows (ids in rankcity's order).
    ("worker", "1", "patrol_days", [2, 3, 4, 5, 6]),
    ("worker", "1", "visits", [1, 2, 3]),
    ("worker", "1", "buildings_visited", [1, 2, 3]),
    ("worker", "3", "visits", [6, 7]),
    ("worker", "3", "buildings_visited", [6]),
    ("worker", "1", "work_days", []),
    ("worker", "1", "grid_buildings", []),
    # A count a level does not have: nothing behind it.
    ("grid", A1, "reports", []),
    ("grid", A1, "missed", []),
    ("worker", "1", "handled", []),
    ("district", "329902", "patrol_days", []),
])
def test_rank040_cases_behind_each_count(rank_conn, level, unit, count, expected):
    assert ids(rank_conn, level, unit, count) == (len(expected), expected)


def test_rank041_case_rows_and_pages(rank_conn):
    total, rows = rq.cases(rank_conn, scope=CITY, level="grid", area=area(rank_conn), unit=A1, count="handled",
                           since=OCT[0], until=OCT[1], cutoff=OCT_END, params=P, offset=2, limit=3)
    assert total == 7 and [r.id for r in rows] == [102, 105, 106]
    assert rows[0].category and rows[0].grid == "东街第01网格" and rows[0].department == "东城区城管执法局"
    assert ids(rank_conn, "grid", A1, "handled", offset=7) == (7, [])
    assert ids(rank_conn, "grid", A1, "handled", limit=10**9)[0] == 7  # clamped, not refused
    total, rows = rq.cases(rank_conn, scope=CITY, level="worker", area=area(rank_conn), unit="1", count="visits",
                           since=OCT[0], until=OCT[1], cutoff=OCT_END, params=P, limit=1)
    assert total == 3 and len(rows) == 1
    assert (rows[0].worker, rows[0].grid, rows[0].building, rows[0].at, rows[0].households) == (
        1, A1, A1 + "001", datetime(2026, 10, 8, 10, 0), 3)


def test_rank042_cases_match_facts_everywhere(rank_conn):
    """Every events-backed count of every unit has exactly as many cases as facts counts: every level at the month's
    end; at the earlier cut-off (open cases read as they stood then) the grids and workers, whose cases every other
    level's are made of (the codes nest; a department's are its grids' cases dispatched to it)."""
    for cutoff, levels in ((OCT_END, rq.LEVELS), (EARLY, ("grid", "worker", "department"))):
        for level in levels:
            for code, counts in facts(rank_conn, level, cutoff=cutoff).items():
                for count in RANK_COUNTS:
                    if rq.COUNT_SOURCES[count] == "events":
                        assert ids(rank_conn, level, code, count, cutoff=cutoff)[0] == counts[count], (level, code,
                                                                                                         count)


# -- wrong, hostile and oversized input ------------------------------------------------------------------------

@pytest.mark.parametrize("level", ["city", "", "GRID", None, "worker; DROP TABLE events", "x" * 10_000])
def test_rank050_bad_level(rank_conn, level):
    city = area(rank_conn)
    with pytest.raises(ValueError):
        rq.units(rank_conn, scope=CITY, level=level, area=city)
    with pytest.raises(ValueError):
        rq.facts(rank_conn, scope=CITY, level=level, area=city, since=OCT[0], until=OCT[1], cutoff=OCT_END, params=P)
    with pytest.raises(ValueError):
        rq.frozen_facts(rank_conn, scope=CITY, level=level, area=city, months=[date(2026, 10, 1)])
    with pytest.raises(ValueError):
        rq.cases(rank_conn, scope=CITY, level=level, area=city, unit="1", count="handled", since=OCT[0],
                 until=OCT[1], cutoff=OCT_END, params=P)


@pytest.mark.parametrize("count", ["", "id", "handled; DROP TABLE events", "to_handle", None, "x" * 10_000])
def test_rank051_bad_count(rank_conn, count):
    with pytest.raises(ValueError):
        ids(rank_conn, "grid", A1, count)


@pytest.mark.parametrize("unit", ["", "1 OR 1=1", "'; DROP TABLE events; --", "9" * 10_000, "0", "329902", None, 1])
def test_rank052_a_unit_not_in_scope_is_not_found(rank_conn, unit):
    with pytest.raises(LookupError):
        ids(rank_conn, "worker", unit, "reports")


def test_rank053_a_unit_of_another_scope_is_not_found(rank_conn):
    with pytest.raises(LookupError):
        ids(rank_conn, "worker", "1", "reports", scope=XICHENG)  # worker 1 is 东城区's
    with pytest.raises(LookupError):
        ids(rank_conn, "grid", A1, "handled", scope=XICHENG)
    with pytest.raises(LookupError):
        ids(rank_conn, "department", XC, "handled", scope=DEPT_DC)


@pytest.mark.parametrize("page", [dict(offset=-1), dict(limit=0), dict(limit=-5), dict(offset="1"),
                                  dict(limit=True), dict(offset=1.5)])
def test_rank054_bad_pages(rank_conn, page):
    with pytest.raises(ValueError):
        ids(rank_conn, "grid", A1, "handled", **page)


def test_rank055_bad_windows(rank_conn):
    with pytest.raises(ValueError):
        facts(rank_conn, "grid", window=(OCT[1], OCT[0]))
    with pytest.raises(ValueError):
        facts(rank_conn, "grid", window=(OCT[0], OCT[0]))
    with pytest.raises(ValueError):
        facts(rank_conn, "grid", window=(date(2026, 10, 1), OCT[1]))


# -- freezing -------------------------------------------------------------------------------------------------

def test_rank060_due_months(rank_conn):
    # Events from 09-10 on; October ended 11-01, settled by 11-06: due at NOW with 5 days, not with 20.
    assert rq.due_months(rank_conn, now=NOW, settle_days=5) == [date(2026, 9, 1), date(2026, 10, 1)]
    assert rq.due_months(rank_conn, now=NOW, settle_days=20) == [date(2026, 9, 1)]
    assert rq.due_months(rank_conn, now=datetime(2026, 10, 5, 23, 59), settle_days=5) == []
    assert rq.due_months(rank_conn, now=datetime(2026, 10, 6), settle_days=5) == [date(2026, 9, 1)]


def test_rank061_freeze_writes_once(rank_engine):
    config = '{"settle_days": 5}'
    with rank_engine.begin() as conn:
        assert rq.freeze(conn, month=date(2026, 10, 1), now=NOW, config=config, params=P) is True
    with rank_engine.begin() as conn:
        assert rq.freeze(conn, month=date(2026, 10, 1), now=NOW, config="{}", params=P) is False
    with rank_engine.connect() as conn:
        assert rq.frozen(conn) == {date(2026, 10, 1): rq.FrozenMonth(date(2026, 10, 1), NOW, OCT_END, config)}
        # Every unit of every level: 2 districts, 3 streets, 3 communities, 6 grids, 4 workers, 3 departments.
        n = conn.execute(select(rank_facts.c.level, func.count()).group_by(rank_facts.c.level)).all()
        assert dict(n) == {"district": 2, "street": 3, "community": 3, "grid": 6, "worker": 4, "department": 3}
        assert rq.due_months(conn, now=NOW, settle_days=5) == [date(2026, 9, 1)]
        city = area(conn)
        for level in rq.LEVELS:
            frozen = rq.frozen_facts(conn, scope=CITY, level=level, area=city, months=[date(2026, 10, 1),
                                                                                         date(2026, 9, 1)])
            assert list(frozen) == [date(2026, 10, 1)]  # September is not frozen: absent
            assert frozen[date(2026, 10, 1)] == rq.facts(conn, scope=CITY, level=level, area=city, since=OCT[0],
                                                         until=OCT[1], cutoff=OCT_END, params=P)
        assert rq.frozen_facts(conn, scope=CITY, level="grid", area=city,
                               months=[date(2026, 10, 1)])[date(2026, 10, 1)] == OCT_GRIDS
        assert rq.frozen_facts(conn, scope=CITY, level="worker", area=city,
                               months=[date(2026, 10, 1)])[date(2026, 10, 1)] == OCT_WORKERS
        # Scoped reads: a district's grids, a department's own row, a street's (no) districts.
        xc = area(conn, "329903", XICHENG)
        assert rq.frozen_facts(conn, scope=XICHENG, level="grid", area=xc, months=[date(2026, 10, 1)]) == {
            date(2026, 10, 1): {C1: OCT_GRIDS[C1], C2: OCT_GRIDS[C2]}}
        assert rq.frozen_facts(conn, scope=DEPT_DC, level="department", area=area(conn, "329902", DEPT_DC),
                               months=[date(2026, 10, 1)]) == {date(2026, 10, 1): {DC: OCT_DEPARTMENTS[DC]}}
        assert rq.frozen_facts(conn, scope=DONGJIE, level="district", area=area(conn, "329902001", DONGJIE),
                               months=[date(2026, 10, 1)]) == {}


def test_rank062_a_frozen_month_never_changes(rank_engine):
    from sqlalchemy import delete, update

    from queries.schema import events, open_events

    with rank_engine.begin() as conn:
        rq.freeze(conn, month=date(2026, 10, 1), now=NOW, config="{}", params=P)
        # A late correction, written as the write path writes it: void, so no longer in the current state.
        conn.execute(update(events).where(events.c.id == 104).values(is_void=True, status="void"))
        conn.execute(delete(open_events).where(open_events.c.id == 104))
    with rank_engine.begin() as conn:
        assert rq.freeze(conn, month=date(2026, 10, 1), now=NOW, config="{}", params=P) is False
    with rank_engine.connect() as conn:
        city = area(conn)
        frozen = rq.frozen_facts(conn, scope=CITY, level="grid", area=city, months=[date(2026, 10, 1)])
        assert frozen[date(2026, 10, 1)][A1]["overdue_open"] == 1  # as frozen
        live = rq.facts(conn, scope=CITY, level="grid", area=city, since=OCT[0], until=OCT[1], cutoff=OCT_END,
                        params=P)
        assert live[A1]["overdue_open"] == 0  # counted again, the void case is gone


@pytest.mark.parametrize("month, now, config", [
    (date(2026, 10, 2), NOW, "{}"),  # not a month's first day
    (datetime(2026, 10, 1), NOW, "{}"),  # not a date
    (date(2026, 11, 1), NOW, "{}"),  # not ended
    (date(2026, 10, 1), NOW, "not json"),
])
def test_rank063_freeze_refuses_bad_input(rank_engine, month, now, config):
    with rank_engine.begin() as conn:
        with pytest.raises(ValueError):
            rq.freeze(conn, month=month, now=now, config=config, params=P)
    with rank_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(rank_periods)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(rank_facts)).scalar() == 0


def test_rank064_no_city_no_months(tmp_path):
    from queries.schema import metadata

    engine = make_engine(Settings(data_dir=tmp_path, frozen_now=NOW))
    metadata.create_all(engine)
    with engine.connect() as conn:
        assert rq.due_months(conn, now=NOW, settle_days=5) == []
        assert rq.frozen(conn) == {}
    engine.dispose()


def test_rank065_a_case_with_no_department_counts_for_its_areas(rank_engine):
    # An IoT report registered in A2 on 10-21 and never dispatched: no department. It counts in A2's, 东街街道's
    # and 东城区's registered (not public), in no department's; the freeze keeps it too.
    from sqlalchemy import insert

    from queries.schema import events

    row = {**rankcity.event_rows()[0], "id": 200, "source": "iot", "external_id": "rank-200", "worker_id": None,
           "grid_code": A2, "building_code": A2 + "001", "reported_at": datetime(2026, 10, 21, 9, 0),
           "accepted_at": datetime(2026, 10, 21, 9, 0), "registered_at": datetime(2026, 10, 21, 9, 5),
           "dispatched_at": None, "deadline_at": None, "handled_at": None, "checked_at": None, "closed_at": None,
           "department_code": None, "status": "registered", "clock_started_at": None}
    with rank_engine.begin() as conn:
        conn.execute(insert(events).values(**row))
    with rank_engine.begin() as conn:
        assert rq.freeze(conn, month=date(2026, 10, 1), now=NOW, config="{}", params=P)
    with rank_engine.connect() as conn:
        city = area(conn)
        for level, unit, n in (("grid", A2, 1), ("street", "329902001", 7), ("district", "329902", 11)):
            live = rq.facts(conn, scope=CITY, level=level, area=city, since=OCT[0], until=OCT[1], cutoff=OCT_END,
                            params=P)
            frozen = rq.frozen_facts(conn, scope=CITY, level=level, area=city, months=[date(2026, 10, 1)])
            assert live[unit]["registered"] == frozen[date(2026, 10, 1)][unit]["registered"] == n
            assert live[unit]["public_registered"] == frozen[date(2026, 10, 1)][unit]["public_registered"]
        frozen = rq.frozen_facts(conn, scope=CITY, level="department", area=city, months=[date(2026, 10, 1)])
        assert frozen[date(2026, 10, 1)] == OCT_DEPARTMENTS


def test_rank066_frozen_frames(rank_engine):
    with rank_engine.begin() as conn:
        rq.freeze(conn, month=date(2026, 10, 1), now=NOW, config="{}", params=P)
    with rank_engine.connect() as conn:
        frames = rq.frozen_frames(conn, scope=DONGJIE, level="worker", area=area(conn, "329902001", DONGJIE),
                                  months=[date(2026, 10, 1), date(2026, 9, 1)])
        assert list(frames) == [date(2026, 10, 1)]
        frame = frames[date(2026, 10, 1)]
        assert list(frame.index) == ["1", "2"] and list(frame.columns) == list(RANK_COUNTS)
        assert frame.loc["1"].to_dict() == OCT_WORKERS["1"]
        assert rq.frozen_frames(conn, scope=DONGJIE, level="district", area=area(conn, "329902001", DONGJIE),
                                months=[date(2026, 10, 1)]) == {}
        got = rq.facts_frame(conn, scope=CITY, level="grid", area=area(conn), since=OCT[0], until=OCT[1],
                             cutoff=OCT_END, params=P)
        assert list(got.index) == list(OCT_GRIDS) and got.loc[A1].to_dict() == OCT_GRIDS[A1]


def test_rank067_freeze_with_counts_taken_beforehand(rank_engine):
    with rank_engine.connect() as conn:
        counts = rq.all_facts(conn, since=OCT[0], until=OCT[1], cutoff=OCT_END, params=P)
    assert counts["grid"].loc[A1].to_dict() == OCT_GRIDS[A1]
    assert counts["worker"].loc["3"].to_dict() == OCT_WORKERS["3"]
    with rank_engine.begin() as conn:
        with pytest.raises(ValueError):
            rq.freeze(conn, month=date(2026, 10, 1), now=NOW, config="{}", params=P, counts={"grid": counts["grid"]})
    with rank_engine.begin() as conn:
        assert rq.freeze(conn, month=date(2026, 10, 1), now=NOW, config="{}", params=P, counts=counts) is True
    with rank_engine.connect() as conn:
        frozen = rq.frozen_facts(conn, scope=CITY, level="worker", area=area(conn), months=[date(2026, 10, 1)])
        assert frozen[date(2026, 10, 1)] == OCT_WORKERS
