"""A tiny city built by hand, with events whose figures are worked out by hand below.

云州市 329900 (lon 120.0–120.4, lat 31.0–31.2), rectangles that nest exactly:
  东城区 329902 (120.0–120.2)
    东街街道 329902001 (120.0–120.1) → 东街社区 329902001001 → grids A1 …001 (120.00–120.05), A2 …002
    南苑街道 329902002 (120.1–120.2) → 南苑社区 329902002001 → grids B1 …001, B2 …002
  西城区 329903 (120.2–120.4)
    西湖街道 329903001 → 西湖社区 329903001001 → grids C1 …001 (120.2–120.3), C2 …002
Buildings: A1 has 001 and 002; every other grid has 001.

NOW = 2026-11-20 15:00 (a Friday). The default window is the last 30 days: [10-21 15:00, 11-20 15:00).

 id grid cat   reported     dispatched   deadline     handled      closed       notes
 1  A1   0505  11-20 09:00  11-20 09:10  11-20 11:10  11-20 10:00  11-20 10:30  on time, 0.8333 h
 2  A1   0102  11-19 10:00  11-19 10:05  11-19 15:35  11-19 16:35  11-19 17:00  late, 6.5 h
 3  A1b2 0110  11-10 09:00  11-10 09:30  11-17 09:30  -            -            open, overdue
 4  A2   0505  11-20 14:00  11-20 14:05  11-20 16:05  -            -            open, not yet due
 5  A2   0505  11-20 08:00  -            -            -            -            void
 6  B1   0401  11-18 10:00  11-18 10:10  11-18 12:10  11-18 11:10  -            open (checked, not closed)
 7  B1   0102  10-01 10:00  10-01 10:30  10-09 10:30  10-25 10:00  10-25 12:00  reported before the window,
                                                                               closed in it, late, 575.5 h
 8  C1   0505  11-20 10:00  11-20 10:10  11-20 12:10  -            -            parked
 9  C2   0601  09-01 09:00  09-01 09:30  09-04 09:30  -            -            open, overdue (stuck)
10  C2   0601  11-20 14:59:59 -          -            -            -            open, not dispatched
11  A1   0505  11-20 16:00  -            -            -            -            after NOW (as_of must hide it)

At as_of = NOW over the default window:
  reported: city 8 (1,2,3,4,5,6,8,10); 东城区 6; 西城区 2; 东街街道 5; 南苑街道 1
  open: city 5 (3,4,6,9,10); 东城区 3; 西城区 2; 东街街道 2; 南苑街道 1
  overdue: city 2 (3,9); 东城区 1; 西城区 1
  closed: city 3 (1,2,7), closed on time 1 (1) → on-time rate 1/(3+2) = 0.2; 东城区 1/(3+1) = 0.25
  median handling hours: median(0.8333, 6.5, 575.5) = 6.5
  reported today (since 11-20 00:00): 5 (1,4,5,8,10)
  top categories: 0505 ×4 (1,4,5,8), then 0102, 0110, 0401, 0601 ×1 each (ties by code)
At as_of = 11-20 12:00: open 3 (3,6,9), overdue 2 (3,9).
"""
from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert

from queries.bulk import restart_sequence
from queries.meta import set_meta
from queries.state import rebuild_closures, rebuild_open_events
from queries.schema import (
    areas, buildings, categories, departments, event_id_seq, event_log, event_log_id_seq, events, metadata, workers,
)

NOW = datetime(2026, 11, 20, 15, 0)
STATE_AS_OF = datetime(2026, 11, 20, 16, 0)
SINCE = NOW - timedelta(days=30)
CITY = "329900"
CATEGORIES_CSV = Path(__file__).resolve().parent.parent / "dashboard" / "catalog" / "event-categories.csv"

# code, level, name, parent, kind, (west, south, east, north), households
AREAS = [
    ("329900", 0, "云州市", None, "市", (120.0, 31.0, 120.4, 31.2), 1800),
    ("329902", 1, "东城区", "329900", "市辖区", (120.0, 31.0, 120.2, 31.2), 1200),
    ("329903", 1, "西城区", "329900", "市辖区", (120.2, 31.0, 120.4, 31.2), 600),
    ("329902001", 2, "东街街道", "329902", "街道", (120.0, 31.0, 120.1, 31.2), 600),
    ("329902002", 2, "南苑街道", "329902", "街道", (120.1, 31.0, 120.2, 31.2), 600),
    ("329903001", 2, "西湖街道", "329903", "街道", (120.2, 31.0, 120.4, 31.2), 600),
    ("329902001001", 3, "东街社区", "329902001", "居委会", (120.0, 31.0, 120.1, 31.2), 600),
    ("329902002001", 3, "南苑社区", "329902002", "居委会", (120.1, 31.0, 120.2, 31.2), 600),
    ("329903001001", 3, "西湖社区", "329903001", "居委会", (120.2, 31.0, 120.4, 31.2), 600),
    ("329902001001001", 4, "东街第01网格", "329902001001", "网格", (120.0, 31.0, 120.05, 31.2), 300),
    ("329902001001002", 4, "东街第02网格", "329902001001", "网格", (120.05, 31.0, 120.1, 31.2), 300),
    ("329902002001001", 4, "南苑第01网格", "329902002001", "网格", (120.1, 31.0, 120.15, 31.2), 300),
    ("329902002001002", 4, "南苑第02网格", "329902002001", "网格", (120.15, 31.0, 120.2, 31.2), 300),
    ("329903001001001", 4, "西湖第01网格", "329903001001", "网格", (120.2, 31.0, 120.3, 31.2), 300),
    ("329903001001002", 4, "西湖第02网格", "329903001001", "网格", (120.3, 31.0, 120.4, 31.2), 300),
]
A1, A2 = "329902001001001", "329902001001002"
B1, B2 = "329902002001001", "329902002001002"
C1, C2 = "329903001001001", "329903001001002"
GRIDS = (A1, A2, B1, B2, C1, C2)


def _d(text: str | None) -> datetime | None:
    """Parse 'MM-DD HH:MM[:SS]' in 2026."""
    if text is None:
        return None
    fmt = "%Y-%m-%d %H:%M:%S" if text.count(":") == 2 else "%Y-%m-%d %H:%M"
    return datetime.strptime(f"2026-{text}", fmt)


# id, grid, building suffix, category, reported, dispatched, deadline, handled, checked, closed, status, flags
EVENTS = [
    (1, A1, "001", "0505", "11-20 09:00", "11-20 09:10", "11-20 11:10", "11-20 10:00", "11-20 10:20", "11-20 10:30", "closed", {}),
    (2, A1, "001", "0102", "11-19 10:00", "11-19 10:05", "11-19 15:35", "11-19 16:35", "11-19 16:50", "11-19 17:00", "closed", {}),
    (3, A1, "002", "0110", "11-10 09:00", "11-10 09:30", "11-17 09:30", None, None, None, "dispatched", {}),
    (4, A2, "001", "0505", "11-20 14:00", "11-20 14:05", "11-20 16:05", None, None, None, "dispatched", {}),
    (5, A2, "001", "0505", "11-20 08:00", None, None, None, None, None, "void", {"is_void": True}),
    (6, B1, "001", "0401", "11-18 10:00", "11-18 10:10", "11-18 12:10", "11-18 11:10", "11-18 12:00", None, "checked", {}),
    (7, B1, "001", "0102", "10-01 10:00", "10-01 10:30", "10-09 10:30", "10-25 10:00", "10-25 11:00", "10-25 12:00", "closed", {}),
    (8, C1, "001", "0505", "11-20 10:00", "11-20 10:10", "11-20 12:10", None, None, None, "parked", {"is_parked": True}),
    (9, C2, "001", "0601", "09-01 09:00", "09-01 09:30", "09-04 09:30", None, None, None, "dispatched", {}),
    (10, C2, "001", "0601", "11-20 14:59:59", None, None, None, None, None, "reported", {}),
    (11, A1, "001", "0505", "11-20 16:00", None, None, None, None, None, "reported", {}),
]


def _rect(west, south, east, north) -> str:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def area_rows() -> list[dict]:
    """Return the hand city's area rows."""
    rows = []
    for code, level, name, parent, kind, (w, s, e, n), households in AREAS:
        rows.append(dict(
            code=code, level=level, name=name, parent_code=parent, kind=kind, households=households,
            population=int(households * 2.6), area_m2=(e - w) * 95_300 * (n - s) * 110_900,
            centroid_lat=(s + n) / 2, centroid_lon=(w + e) / 2, min_lat=s, min_lon=w, max_lat=n, max_lon=e,
            geometry=_rect(w, s, e, n),
        ))
    return rows


def building_rows() -> list[dict]:
    """Return one building per grid, two in A1, each at a point inside its grid."""
    rows = []
    bounds = {code: box for code, _, _, _, _, box, _ in AREAS}
    for grid in GRIDS:
        w, s, e, n = bounds[grid]
        for i, suffix in enumerate(("001", "002") if grid == A1 else ("001",)):
            rows.append(dict(code=grid + suffix, grid_code=grid, name=f"{i + 1}号楼", lat=s + (n - s) * (0.4 + 0.2 * i),
                             lon=(w + e) / 2, footprint=None, households=150 if grid == A1 else 300, floors=6 + i))
    return rows


def category_rows() -> list[dict]:
    """Return the event catalogue from the packaged CSV."""
    with open(CATEGORIES_CSV, encoding="utf-8") as fh:
        return [dict(code=r["code"], class_code=r["class_code"], class_name=r["class_name"], name=r["name"],
                     limit_value=float(r["limit"]), limit_unit=r["unit"], urgent=r["urgent"] == "true",
                     department_kind="城管执法局", source_of_limit=r["source_of_limit"])
                for r in csv.DictReader(fh)]


# Who reported (personal data: shown masked, in full only on an audited "show").
REPORTERS = {3: "李娜 13812345678", 6: "王芳 13912345678"}


def event_rows() -> list[dict]:
    """Return the hand-made events."""
    rows = []
    for eid, grid, bsuffix, cat, rep, disp, dead, handled, checked, closed, status, flags in EVENTS:
        rows.append(dict(
            id=eid, source="grid_worker", external_id=None, category_code=cat, class_code=cat[:2],
            urgent=cat.startswith("04"), description=f"手工事件 {eid}", lat=31.1, lon=120.0,
            district_code=grid[:6], street_code=grid[:9], community_code=grid[:12], grid_code=grid,
            building_code=grid + bsuffix, status=status, reported_at=_d(rep),
            accepted_at=None if status == "reported" else _d(rep), verified_at=None,
            registered_at=_d(disp), dispatched_at=_d(disp), handled_at=_d(handled), checked_at=_d(checked),
            closed_at=_d(closed), deadline_at=_d(dead), department_code=grid[:6] + "-01", worker_id=1,
            extension_count=0, return_count=0, rework_count=0,
            is_parked=flags.get("is_parked", False), is_void=flags.get("is_void", False),
            reporter=REPORTERS.get(eid),
        ))
    return rows


def build_hand_city(engine: Engine) -> None:
    """Create the schema on ``engine`` and fill it with the hand city."""
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(areas), area_rows())
        conn.execute(insert(buildings), building_rows())
        conn.execute(insert(categories), category_rows())
        conn.execute(insert(departments), [
            dict(code="329902-01", name="东城区城管执法局", kind="城管执法局", district_code="329902"),
            dict(code="329903-01", name="西城区城管执法局", kind="城管执法局", district_code="329903"),
            dict(code="329900-12", name="市12345热线中心", kind="热线", district_code=None),
        ])
        conn.execute(insert(workers), [dict(id=1, name="张伟", phone="13800001234", kind="full_time", grid_code=A1)])
        conn.execute(insert(events), event_rows())
        conn.execute(insert(event_log), [dict(id=e["id"], event_id=e["id"], occurred_at=e["reported_at"],
                                              action="report", from_status=None, to_status="reported",
                                              actor="hand", note=None) for e in event_rows()])
        # The newest thing the store knows is event 11 at 16:00: the current state is as of then, so
        # as_of = NOW (15:00) is answered from history and as_of ≥ 16:00 from open_events.
        restart_sequence(conn, event_id_seq, len(EVENTS) + 1)
        restart_sequence(conn, event_log_id_seq, len(EVENTS) + 1)
        rebuild_open_events(conn, as_of=STATE_AS_OF)
        rebuild_closures(conn)
        set_meta(conn, "city_code", CITY)
        set_meta(conn, "seeded_at", NOW.isoformat())
        set_meta(conn, "data_version", "1")
        add_users(conn)


PASSWORD = "hand-city-password-1"
# name: (role, scope code). Events 1–7 are 东城区's (department 329902-01), 8–10 西城区's (329903-01).
USERS = {
    "leader": ("city_leader", CITY),
    "admin": ("admin", CITY),
    "dongcheng": ("district_manager", "329902"),
    "xicheng": ("district_manager", "329903"),
    "dongjie": ("street_operator", "329902001"),
    "nanyuan": ("street_operator", "329902002001"),  # a community
    "dept_dc": ("department_handler", "329902-01"),
    "dept_xc": ("department_handler", "329903-01"),
    "dept_city": ("department_handler", "329900-12"),
    "viewer": ("viewer", "329903"),
}


def add_users(conn) -> None:
    """Add one user of each role and level (password PASSWORD), hashed once for the session's template."""
    from dashboard import auth
    from queries import users as user_queries

    digest = auth.hash_password(PASSWORD)
    for name, (role, code) in USERS.items():
        scope = auth.check_scope(conn, role, code)
        user_queries.add_user(conn, name=name, display_name=f"测试{name}", password_hash=digest, role=role,
                              scope_kind=scope.kind, scope_code=scope.code, now=NOW)
