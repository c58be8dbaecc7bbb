"""Time the backlog desk's actions (dashboard/desk.act) on a throw-away copy of a bench store.

    flock /tmp/gridcc-bench.lock python -m bench.desk_actions data/bench-10000000.duckdb /tmp/desk-bench.duckdb

Copies the store (the original is never written), then, as a district manager of the first district
with the most dispatched cases, times ``act`` from the call to its return (the commit and the live
listener's call included) for selections of 1, 50 and 500 dispatched cases: urge, supervise and
whistle; and the delay from the call to the listener's call (what a live screen waits for before its
own refresh). Prints one JSON line per case; deletes the copy unless --keep.
"""
from __future__ import annotations

import json
import shutil
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from bench.stats import percentile

REPS = {1: 20, 50: 10, 500: 5}


def main(argv: list[str]) -> None:
    from sqlalchemy import func, select, text

    from dashboard import desk
    from dashboard.ingest import Ingestor
    from dashboard.settings import Settings
    from dashboard.store import make_engine
    from queries.schema import DISTRICT, departments, open_events
    from queries.scope import Scope

    source, copy = Path(argv[0]), Path(argv[1])
    keep = "--keep" in argv
    shutil.copy(source, copy)
    try:
        engine = make_engine(Settings(store_url=f"duckdb:///{copy}"))
        _add_columns(engine)  # a store from before the desk: its columns, empty (no backfill of 10 M rows)
        with engine.connect() as conn:
            as_of = datetime.fromisoformat(conn.execute(text("SELECT value FROM store_meta WHERE key = 'state_as_of'"))
                                           .scalar())
            district = conn.execute(select(open_events.c.district_code).where(open_events.c.status == "dispatched")
                                    .group_by(open_events.c.district_code)
                                    .order_by(func.count().desc(), open_events.c.district_code).limit(1)).scalar()
            ids = list(conn.execute(select(open_events.c.id).where(open_events.c.district_code == district,
                                                                   open_events.c.status == "dispatched")
                                    .order_by(open_events.c.id).limit(5000)).scalars())
            called = list(conn.execute(select(departments.c.code).where(departments.c.district_code == district)
                                       .order_by(departments.c.code).limit(10)).scalars())
        now = as_of + timedelta(minutes=1)
        ingestor = Ingestor(engine, tz=Settings().tz, now=lambda: now, calendar=Settings().calendar())
        heard: list[float] = []
        ingestor.listeners.append(lambda *_: heard.append(time.perf_counter()))
        scope = Scope(district, DISTRICT)
        print(json.dumps({"store": str(source), "district": district, "dispatched_cases": len(ids),
                          "open_cases": _count(engine, open_events)}))
        cursor = 0
        for action, inputs in (("urge", {}), ("supervise", {"follow_up_at": now + timedelta(days=2)}),
                               ("whistle", {"departments": called[:3]})):
            for size, reps in REPS.items():
                took, told = [], []
                for _ in range(reps):
                    chosen = [ids[(cursor + k) % len(ids)] for k in range(size)]
                    cursor += size
                    heard.clear()
                    start = time.perf_counter()
                    result = desk.act(ingestor, chosen, action, reason="bench", actor="bench",
                                      role="district_manager", scope=scope, audit_from="bench", **inputs)
                    took.append((time.perf_counter() - start) * 1000)
                    told.append((heard[0] - start) * 1000 if heard else float("nan"))
                done = len(result.done)
                print(json.dumps({"action": action, "cases": size, "reps": reps, "done_last": done,
                                  "p50_ms": round(percentile(took, 0.5), 1), "p95_ms": round(percentile(took, 0.95), 1),
                                  "listener_p95_ms": round(percentile(told, 0.95), 1)}))
        engine.dispose()
    finally:
        if not keep:
            for path in (copy, copy.with_name(copy.name + ".wal")):
                path.unlink(missing_ok=True)


def _add_columns(engine) -> None:
    """Add what the schema has and the store lacks, skipping the closures' SLA backfill (not timed here).

    The backfill rebuilds closures from 10 M events and needs more than the default 512 MB; this copy
    only needs the columns to exist.
    """
    from dashboard.store import CLOSURES_SLA_FILLED, init_schema
    from queries.meta import set_meta
    from queries.schema import metadata

    metadata.create_all(engine)
    with engine.begin() as conn:
        set_meta(conn, CLOSURES_SLA_FILLED, "1")
    init_schema(engine)


def _count(engine, table) -> int:
    from sqlalchemy import func, select

    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


if __name__ == "__main__":
    main(sys.argv[1:])
