"""The rankings' hand city: tests/handcity.py's areas, buildings, categories and departments, with its own
events over 2026-09, 2026-10 and a few in 2026-11, four grid workers, patrols, visits and 12345 follow-ups.
Every figure below is worked out by hand (docs/metrics.md "Rankings" defines the counts).

Grids (handcity): A1 329902001001001 (buildings …001, …002), A2 …001002, B1 329902002001001, B2, C1
329903001001001, C2 …001002 (one building each). Departments: events in 东城区 (A*, B*) are 329902-01's,
in 西城区 (C*) 329903-01's, except event 117 (the city's 329900-12).
Workers: 1 张伟 full_time A1; 2 李强 part_time A1; 3 王敏 full_time B1; 4 赵磊 full_time C1.

NOW = 2026-11-20 15:00. The current state (open_events) is as of STATE_AS_OF = 11-21 09:00 (event 122), so
every cut-off up to NOW is answered from the history (events), and a cut-off ≥ 11-21 09:00 from open_events.

Times are 2026 MM-DD HH:MM. "reg" is both registered_at and dispatched_at. src: gw grid_worker, hl hotline,
ct citizen. chk = checked_at. ext/rw = extension_count/rework_count.

 id  src wkr grid cat  reported     accepted     verified     reg          deadline     handled      chk          closed       notes
 90  gw  1   A1   0505 09-10 09:00  09-10 09:00  -            09-10 09:05  09-10 11:05  09-10 10:00  09-10 10:30  09-10 11:00
 91  hl  -   B1   0102 09-20 10:00  09-20 10:00  09-20 10:30  09-20 10:35  09-20 16:05  09-21 09:00  09-21 09:30  09-21 10:00  late
 92  gw  1   A1   0505 09-29 17:00  09-29 17:00  -            09-29 17:05  10-01 10:00  10-01 09:00  10-01 09:30  10-01 10:00
101  gw  1   A1   0505 10-02 09:00  10-02 09:00  -            10-02 09:10  10-02 11:10  10-02 10:00  10-02 10:30  10-02 11:00
102  gw  1   A1   0102 10-05 10:00  10-05 10:00  -            10-05 10:05  10-05 15:35  10-05 16:35  10-05 19:00  10-05 19:30  late, rw 1, check 145 min
103  gw  1   A1   0505 10-08 09:00  10-08 09:00  -            -            -            -            -            -            void
104  gw  2   A1b2 0110 10-10 09:00  10-10 09:00  -            10-10 09:30  10-17 09:30  -            -            -            open, overdue, ext 1
105  hl  -   A1   0102 10-12 08:00  10-12 08:00  10-12 09:00  10-12 09:10  10-12 14:40  10-12 12:00  10-12 15:00  10-12 15:30  check 180 min
106  ct  -   A1   0401 10-15 10:00  10-15 10:00  10-15 13:00  10-15 13:05  10-15 15:05  10-15 14:00  10-15 14:30  10-16 09:00  verify 180 min
107  gw  1   A1   0505 10-20 09:00  10-20 09:00  -            -            -            10-20 09:20  10-20 09:20  10-20 09:20  self-resolved (自行处置)
108  gw  1   A1   0505 10-28 09:00  10-28 09:00  -            10-28 09:05  10-28 11:05  10-28 10:00  10-28 11:00  11-02 10:00  ext 1
110  gw  3   B1   0401 10-06 09:00  10-06 09:00  -            10-06 09:05  10-06 11:05  10-06 10:00  10-06 10:30  10-06 11:00
111  hl  -   B1   0601 10-09 10:00  10-09 10:00  10-09 11:00  10-09 11:05  10-09 17:05  10-10 09:00  10-10 10:00  10-10 10:30  late, ext 1
112  hl  -   B1   0505 10-25 10:00  10-25 10:00  10-25 13:00  10-25 13:05  10-30 13:05  11-03 10:00  11-03 11:00  11-03 12:00  late, rw 1
113  gw  3   B1   0505 10-31 23:00  10-31 23:00  -            10-31 23:10  11-01 10:00  11-01 09:00  11-01 09:20  11-01 09:30
114  gw  4   C1   0505 10-07 09:00  10-07 09:00  -            10-07 09:05  10-07 11:05  10-07 10:00  10-07 10:20  10-07 10:40
115  ct  -   C1   0102 10-11 10:00  10-11 10:00  10-11 11:30  10-11 11:35  10-11 17:05  10-11 16:00  10-11 16:30  10-11 17:00
116  hl  -   C2   0601 10-13 09:00  10-13 09:00  10-13 09:30  10-13 09:40  10-20 09:40  -            -            -            parked
117  hl  -   C2   0401 10-16 08:00  10-16 08:00  10-16 08:30  10-16 08:35  10-16 10:35  10-16 10:00  10-16 10:20  10-16 10:30  dept 329900-12
120  gw  1   A1   0505 11-05 09:00  11-05 09:00  -            11-05 09:05  11-05 11:05  11-05 10:00  11-05 10:30  11-05 11:00
121  ct  -   A1   0505 11-10 09:00  11-10 09:00  11-10 10:00  11-10 10:05  11-12 10:05  -            -            -            open, overdue
122  gw  2   A1   0505 11-21 09:00  11-21 09:00  -            -            -            -            -            -            after NOW

12345 follow-ups (hotline_followups): 91 09-23 10:00 valid, contacted, resolved, basic; 105 10-14 10:00 valid,
contacted, resolved, satisfied; 111 10-12 10:00 valid, contacted, not resolved, basic; 112 11-05 10:00 valid,
contacted, resolved, dissatisfied; 116 10-20 10:00 NOT valid (contacted, resolved, satisfied); 117 10-18 10:00
valid, not contacted, resolved, satisfied; 106 10-17 10:00 valid, satisfied — but 106 is a citizen report, not
a hotline ticket: never counted.
Patrols (started_at): worker 1: 09-15 09:00, 10-08 09:00, 10-08 14:00, 10-09 09:00, 10-12 09:00, 10-31 23:30,
11-02 09:00; worker 2: 10-10 09:00; worker 3: 10-09 09:00, 10-19 09:00, 10-20 09:00 (all in their own grid).
Visits: worker 1: A1…001 10-08 10:00, A1…001 10-20 10:00, A1…002 10-25 10:00, A1…002 11-03 10:00;
worker 2: A1…002 10-10 10:00; worker 3: B1…001 10-09 10:00, A2…001 10-10 10:00 (not his grid).

October 2026 as of NOW (cut-off 11-01 00:00), by grid (A2, B2: all zero):
        handled on_time overdue closed closed_ok reworked extended registered public
  A1    7 (92,101,102,105,106,107,108)  6   1 (104)   6 (92,101,102,105,106,107)  5   1 (102)  2 (104,108)  6 (101,102,104,105,106,108)  2 (105,106)
  B1    2 (110,111)  1   1 (112)   2 (110,111)  1   0   1 (111)   4 (110,111,112,113)  2 (111,112)
  C1    2 (114,115)  2   0   2   2   0   0   2 (114,115)  1 (115)
  C2    1 (117)  1   0   1   1   0   0   1 (117)  1 (117)   (116 parked: never open, and 挂账 is not in 立案数)
  Departments: 329902-01 = A1 + B1; 329903-01 = C1 (116 parked: registered 2, public 1); 329900-12 = 117.
  Hotline (valid follow-ups in October): 105 (A1, dept 329902-01), 111 (B1, 329902-01), 117 (C2, 329900-12):
    东城区 followups 2, contacted 2, resolved 1, satisfied 1, basic 1; 西城区 1, 0, 1, 1, 0.
  Workers                     w1 (A1 full)          w2 (A1 part)   w3 (B1 full)      w4 (C1 full)
    reports / valid            5 (101,102,103,107,108) / 4   1 (104) / 1   2 (110,113) / 2   1 (114) / 1
    to_verify / on time        2 (105,106) / 1 (105)  0 / 0          2 (111,112) / 1   1 (115) / 1
    to_check / on time         7 / 5 (92,101,106,107,108)  0 / 0     2 (110,111) / 2   2 / 2
    grid_registered / missed   6 / 1 (105)            6 / 1          4 / 1 (112)       2 / 1 (115)
    patrol_days (uncapped)     4 (10-08,09,12,31)     1              3                 0
    grid_buildings / visited   2 / 2                  2 / 1          1 / 1             1 / 0
    visits                     3                      1              2                 0
October as of 10-20 00:00 (cut-off 10-20 00:00): see tests/queries/test_rankings.py (worked there, event by event).
September as of NOW (cut-off 10-01 00:00): A1 handled 1 (90), closed 1, registered 2 (90, 92); 92 open, not
  overdue (deadline 10-01 10:00 is after the cut-off); B1 handled 1 (91, late), closed 1 (late), registered 1,
  public 1; w3 to_verify 1/1, to_check 1/1, missed 1 (91); hotline 东城区 followups 1, contacted 1, resolved 1,
  basic 1.
November as of NOW: A1 handled 1 (120), overdue 1 (121), closed 2 (108, 120), extended 0 (108's extension was
  handled in October); B1 handled 2 (113, 112 late), closed 2, reworked 1 (112); hotline 东城区 1 follow-up (112).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine, insert

from queries.bulk import restart_sequence
from queries.meta import set_meta
from queries.schema import (
    areas, buildings, categories, departments, event_id_seq, event_log, event_log_id_seq, events, hotline_followups,
    metadata, patrol_id_seq, patrols, visit_id_seq, visits, workers,
)
from queries.state import rebuild_closures, rebuild_open_events
from tests import handcity
from tests.handcity import A1, A2, B1, B2, C1, C2, CITY  # noqa: F401  (re-exported for the tests)

NOW = datetime(2026, 11, 20, 15, 0)
STATE_AS_OF = datetime(2026, 11, 21, 9, 0)
SEP, OCT, NOV = date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)
DC, XC, HOTLINE_DEPT = "329902-01", "329903-01", "329900-12"
WORKERS = [
    dict(id=1, name="张伟", phone="13800001234", kind="full_time", grid_code=A1),
    dict(id=2, name="李强", phone="13800002345", kind="part_time", grid_code=A1),
    dict(id=3, name="王敏", phone="13800003456", kind="full_time", grid_code=B1),
    dict(id=4, name="赵磊", phone="13800004567", kind="full_time", grid_code=C1),
]
_SRC = {"gw": "grid_worker", "hl": "hotline", "ct": "citizen"}

# id, src, worker, grid, building suffix, cat, reported, accepted, verified, reg, deadline, handled, checked,
# closed, status, extras
EVENTS = [
    (90, "gw", 1, A1, "001", "0505", "09-10 09:00", "09-10 09:00", None, "09-10 09:05", "09-10 11:05", "09-10 10:00", "09-10 10:30", "09-10 11:00", "closed", {}),
    (91, "hl", None, B1, "001", "0102", "09-20 10:00", "09-20 10:00", "09-20 10:30", "09-20 10:35", "09-20 16:05", "09-21 09:00", "09-21 09:30", "09-21 10:00", "closed", {}),
    (92, "gw", 1, A1, "001", "0505", "09-29 17:00", "09-29 17:00", None, "09-29 17:05", "10-01 10:00", "10-01 09:00", "10-01 09:30", "10-01 10:00", "closed", {}),
    (101, "gw", 1, A1, "001", "0505", "10-02 09:00", "10-02 09:00", None, "10-02 09:10", "10-02 11:10", "10-02 10:00", "10-02 10:30", "10-02 11:00", "closed", {}),
    (102, "gw", 1, A1, "001", "0102", "10-05 10:00", "10-05 10:00", None, "10-05 10:05", "10-05 15:35", "10-05 16:35", "10-05 19:00", "10-05 19:30", "closed", {"rework_count": 1}),
    (103, "gw", 1, A1, "001", "0505", "10-08 09:00", "10-08 09:00", None, None, None, None, None, None, "void", {"is_void": True}),
    (104, "gw", 2, A1, "002", "0110", "10-10 09:00", "10-10 09:00", None, "10-10 09:30", "10-17 09:30", None, None, None, "dispatched", {"extension_count": 1}),
    (105, "hl", None, A1, "001", "0102", "10-12 08:00", "10-12 08:00", "10-12 09:00", "10-12 09:10", "10-12 14:40", "10-12 12:00", "10-12 15:00", "10-12 15:30", "closed", {}),
    (106, "ct", None, A1, "001", "0401", "10-15 10:00", "10-15 10:00", "10-15 13:00", "10-15 13:05", "10-15 15:05", "10-15 14:00", "10-15 14:30", "10-16 09:00", "closed", {}),
    (107, "gw", 1, A1, "001", "0505", "10-20 09:00", "10-20 09:00", None, None, None, "10-20 09:20", "10-20 09:20", "10-20 09:20", "closed", {}),
    (108, "gw", 1, A1, "002", "0505", "10-28 09:00", "10-28 09:00", None, "10-28 09:05", "10-28 11:05", "10-28 10:00", "10-28 11:00", "11-02 10:00", "closed", {"extension_count": 1}),
    (110, "gw", 3, B1, "001", "0401", "10-06 09:00", "10-06 09:00", None, "10-06 09:05", "10-06 11:05", "10-06 10:00", "10-06 10:30", "10-06 11:00", "closed", {}),
    (111, "hl", None, B1, "001", "0601", "10-09 10:00", "10-09 10:00", "10-09 11:00", "10-09 11:05", "10-09 17:05", "10-10 09:00", "10-10 10:00", "10-10 10:30", "closed", {"extension_count": 1}),
    (112, "hl", None, B1, "001", "0505", "10-25 10:00", "10-25 10:00", "10-25 13:00", "10-25 13:05", "10-30 13:05", "11-03 10:00", "11-03 11:00", "11-03 12:00", "closed", {"rework_count": 1}),
    (113, "gw", 3, B1, "001", "0505", "10-31 23:00", "10-31 23:00", None, "10-31 23:10", "11-01 10:00", "11-01 09:00", "11-01 09:20", "11-01 09:30", "closed", {}),
    (114, "gw", 4, C1, "001", "0505", "10-07 09:00", "10-07 09:00", None, "10-07 09:05", "10-07 11:05", "10-07 10:00", "10-07 10:20", "10-07 10:40", "closed", {}),
    (115, "ct", None, C1, "001", "0102", "10-11 10:00", "10-11 10:00", "10-11 11:30", "10-11 11:35", "10-11 17:05", "10-11 16:00", "10-11 16:30", "10-11 17:00", "closed", {}),
    (116, "hl", None, C2, "001", "0601", "10-13 09:00", "10-13 09:00", "10-13 09:30", "10-13 09:40", "10-20 09:40", None, None, None, "parked", {"is_parked": True}),
    (117, "hl", None, C2, "001", "0401", "10-16 08:00", "10-16 08:00", "10-16 08:30", "10-16 08:35", "10-16 10:35", "10-16 10:00", "10-16 10:20", "10-16 10:30", "closed", {"department_code": HOTLINE_DEPT}),
    (120, "gw", 1, A1, "001", "0505", "11-05 09:00", "11-05 09:00", None, "11-05 09:05", "11-05 11:05", "11-05 10:00", "11-05 10:30", "11-05 11:00", "closed", {}),
    (121, "ct", None, A1, "001", "0505", "11-10 09:00", "11-10 09:00", "11-10 10:00", "11-10 10:05", "11-12 10:05", None, None, None, "dispatched", {}),
    (122, "gw", 2, A1, "001", "0505", "11-21 09:00", "11-21 09:00", None, None, None, None, None, None, "reported", {}),
]

# event id, followed_at, valid, contacted, resolved, satisfaction
FOLLOWUPS = [
    (91, "09-23 10:00", True, True, True, "basic"),
    (105, "10-14 10:00", True, True, True, "satisfied"),
    (111, "10-12 10:00", True, True, False, "basic"),
    (112, "11-05 10:00", True, True, True, "dissatisfied"),
    (116, "10-20 10:00", False, True, True, "satisfied"),
    (117, "10-18 10:00", True, False, True, "satisfied"),
    (106, "10-17 10:00", True, True, True, "satisfied"),  # a citizen report: not a hotline ticket
]
# worker, started_at (each patrol lasts an hour, 5 check-ins, in the worker's own grid)
PATROLS = [
    (1, "09-15 09:00"), (1, "10-08 09:00"), (1, "10-08 14:00"), (1, "10-09 09:00"), (1, "10-12 09:00"),
    (1, "10-31 23:30"), (1, "11-02 09:00"), (2, "10-10 09:00"), (3, "10-09 09:00"), (3, "10-19 09:00"),
    (3, "10-20 09:00"),
]
# worker, building, visited_at, households met
VISITS = [
    (1, A1 + "001", "10-08 10:00", 3), (1, A1 + "001", "10-20 10:00", 2), (1, A1 + "002", "10-25 10:00", 4),
    (1, A1 + "002", "11-03 10:00", 1), (2, A1 + "002", "10-10 10:00", 2), (3, B1 + "001", "10-09 10:00", 5),
    (3, A2 + "001", "10-10 10:00", 1),
]

_d = handcity._d


def event_rows() -> list[dict]:
    """Return the rankings' hand-made events."""
    rows = []
    for (eid, src, worker, grid, bsuffix, cat, rep, acc, ver, reg, dead, handled, checked, closed, status,
         extra) in EVENTS:
        rows.append(dict(
            id=eid, source=_SRC[src], external_id=f"rank-{eid}", category_code=cat, class_code=cat[:2],
            urgent=cat.startswith("04"), description=f"排名事件 {eid}", lat=31.1, lon=120.0,
            reporter=None, district_code=grid[:6], street_code=grid[:9], community_code=grid[:12], grid_code=grid,
            building_code=grid + bsuffix, status=status, reported_at=_d(rep), accepted_at=_d(acc),
            verified_at=_d(ver), registered_at=_d(reg), dispatched_at=_d(reg), handled_at=_d(handled),
            checked_at=_d(checked), closed_at=_d(closed), deadline_at=_d(dead),
            department_code=extra.get("department_code", grid[:6] + "-01"), worker_id=worker,
            extension_count=extra.get("extension_count", 0), return_count=0,
            rework_count=extra.get("rework_count", 0), is_parked=extra.get("is_parked", False),
            is_void=extra.get("is_void", False), updated_at=_d(closed or handled or reg or rep),
            clock_started_at=_d(reg),
        ))
    return rows


def followup_rows() -> list[dict]:
    return [dict(event_id=eid, followed_at=_d(at), valid=valid, contacted=contacted, resolved=resolved,
                 satisfaction=satisfaction) for eid, at, valid, contacted, resolved, satisfaction in FOLLOWUPS]


def patrol_rows() -> list[dict]:
    grid_of = {w["id"]: w["grid_code"] for w in WORKERS}
    out = []
    for i, (worker, at) in enumerate(PATROLS, start=1):
        start = _d(at)
        out.append(dict(id=i, worker_id=worker, grid_code=grid_of[worker], started_at=start,
                        ended_at=start.replace(minute=start.minute + 20), checkins=5, distance_m=1200,
                        external_id=f"p{i}"))
    return out


def visit_rows() -> list[dict]:
    return [dict(id=i, worker_id=worker, grid_code=building[:15], building_code=building, visited_at=_d(at),
                 households=households, external_id=f"v{i}")
            for i, (worker, building, at, households) in enumerate(VISITS, start=1)]


def build_rank_city(engine: Engine) -> None:
    """Create the schema on ``engine`` and fill it with the rankings' hand city (handcity's users included)."""
    metadata.drop_all(engine)
    metadata.create_all(engine)
    rows = event_rows()
    with engine.begin() as conn:
        conn.execute(insert(areas), handcity.area_rows())
        conn.execute(insert(buildings), handcity.building_rows())
        conn.execute(insert(categories), handcity.category_rows())
        conn.execute(insert(departments), [
            dict(code=DC, name="东城区城管执法局", kind="城管执法局", district_code="329902"),
            dict(code=XC, name="西城区城管执法局", kind="城管执法局", district_code="329903"),
            dict(code=HOTLINE_DEPT, name="市12345热线中心", kind="热线", district_code=None),
        ])
        conn.execute(insert(workers), WORKERS)
        conn.execute(insert(events), rows)
        conn.execute(insert(event_log), [dict(id=i, event_id=e["id"], occurred_at=e["reported_at"], action="report",
                                              from_status=None, to_status="reported", actor="hand", note=None)
                                         for i, e in enumerate(rows, start=1)])
        conn.execute(insert(hotline_followups), followup_rows())
        conn.execute(insert(patrols), patrol_rows())
        conn.execute(insert(visits), visit_rows())
        restart_sequence(conn, event_id_seq, max(e["id"] for e in rows) + 1)
        restart_sequence(conn, event_log_id_seq, len(rows) + 1)
        restart_sequence(conn, patrol_id_seq, len(PATROLS) + 1)
        restart_sequence(conn, visit_id_seq, len(VISITS) + 1)
        rebuild_open_events(conn, as_of=STATE_AS_OF)
        rebuild_closures(conn)
        set_meta(conn, "city_code", CITY)
        set_meta(conn, "seeded_at", NOW.isoformat())
        set_meta(conn, "data_version", "1")
        handcity.add_users(conn)
