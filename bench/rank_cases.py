"""The cases `gridcc bench rankings` times: the rankings at 10 M events (issue 7 §4).

Runs on a throw-away copy of the bench store. The copy is upgraded (as `gridcc serve` would), given a year of
field work and 12345 follow-ups by the demo's own generator (the bench store predates them), and its closed
months are frozen (timed: what the freezer thread does once a month). Then, in-process, as a city leader:
``rank_service.ranking`` for each level of the last closed month (2026-10, frozen) with the 12-period sparklines
and the previous period's ranks, every rep from a cold start (the live-month memo and the app cache cleared);
and the live month (2026-11, counted from the events) once cold, then as the page sees it within the refresh.

A closed period's table is kept an hour once computed (its months never change): "again" times that.
Targets: 5,000 grid workers for a month ≤ 200 ms; district, street and department ≤ 100 ms; sparklines
included. Prints a Markdown table and writes bench/results/rankings.json.
"""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench.access_cases import as_principal, city_principal
from bench.stats import percentile, timed

log = logging.getLogger("bench")
TARGETS_MS = {"worker": 200.0, "district": 100.0, "street": 100.0, "department": 100.0, "community": 100.0,
              "grid": 200.0}
CLOSED_MONTH = "2026-10"
LIVE_MONTH = "2026-11"


def _stats(ms: list[float]) -> dict:
    return {"p50": round(percentile(ms, 0.5), 1), "p95": round(percentile(ms, 0.95), 1), "n": len(ms)}


def prepare(copy_settings, now: datetime, seed: int, memory_limit: str) -> dict:
    """Upgrade the copy, add field work and follow-ups, freeze the closed months; return the timings."""
    from dashboard import rank_service
    from dashboard.seed import fieldwork
    from dashboard.store import init_schema, make_engine

    out = {}
    engine = make_engine(copy_settings.with_(duckdb_memory_limit=memory_limit))
    began = time.perf_counter()
    init_schema(engine)
    out["upgrade_s"] = round(time.perf_counter() - began, 1)
    began = time.perf_counter()
    with engine.connect() as conn:
        out["fieldwork"] = str(fieldwork.refill(conn))
        conn.commit()
    out["fieldwork_s"] = round(time.perf_counter() - began, 1)
    began = time.perf_counter()
    months = rank_service.freeze_due(engine, now=now, calendar=copy_settings.calendar())
    out["freeze_s"] = round(time.perf_counter() - began, 1)
    out["frozen_months"] = [m.isoformat() for m in months]
    engine.dispose()
    return out


def ranking_cases(settings, reps: int) -> dict:
    """Time rank_service.ranking per level for the closed month (cold every rep) and the live month."""
    from dashboard import rank_service
    from dashboard.app import create_app

    app = create_app(settings)
    ctx = app.server.extensions["gridcc"]
    with ctx.engine.connect() as conn:
        principal = city_principal(conn)
    scope = principal.scope

    def cold():
        ctx.cache.clear()
        rank_service._live.clear()
        rank_service._memo.clear()
        rank_service._units_memo.clear()

    out = {}
    for level in ("worker", "grid", "community", "street", "district", "department"):
        def call(level=level, period=CLOSED_MONTH):
            with as_principal(app.server, principal):
                return rank_service.ranking(scope, level=level, period=period)
        table = call()  # warm DuckDB's buffers
        ranked = sum(r.rank is not None for r in table.rows)
        out[f"{level} {CLOSED_MONTH}"] = {
            "rows": len(table.rows), "ranked": ranked, "provisional": table.provisional,
            "spark_points": sum(len(r.spark) for r in table.rows),
            "cold": _stats(timed(call, reps, before=cold)),
            "again": _stats(timed(call, reps)),  # a closed period's table, kept (rank_service._memo)
        }
        log.info("%s: %s", level, out[f"{level} {CLOSED_MONTH}"])
    for level in ("worker", "street", "department"):
        def live(level=level):
            with as_principal(app.server, principal):
                return rank_service.ranking(scope, level=level, period=LIVE_MONTH)
        cold()
        began = time.perf_counter()
        table = live()
        first = (time.perf_counter() - began) * 1000
        out[f"{level} {LIVE_MONTH} (live)"] = {
            "rows": len(table.rows), "provisional": table.provisional, "first_ms": round(first, 1),
            "within_refresh": _stats(timed(live, reps)),
        }
        log.info("%s live: %s", level, out[f"{level} {LIVE_MONTH} (live)"])
    app.server.extensions["gridcc_live"].stop()
    ctx.engine.dispose()
    return out


def main(argv: list[str], *, start, root: Path) -> int:
    """Parse ``gridcc bench rankings`` arguments, prepare a copy of the bench store, time, print the table."""
    parser = argparse.ArgumentParser(prog="gridcc bench rankings", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="events in the bench store (default 10 M)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--store", type=Path, default=None, help="DuckDB file (default data/bench-<events>.duckdb)")
    parser.add_argument("--reps", type=int, default=20, help="runs of each case")
    parser.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()), help="folder for the store's copy")
    parser.add_argument("--upgrade-memory-limit", default="6GB",
                        help="DuckDB memory limit for preparing the copy only (the timed runs keep the settings')")
    parser.add_argument("--out", type=Path, default=root / "bench" / "results" / "rankings.json")
    args = parser.parse_args(argv)
    settings, results = start(args)
    from bench.run import BENCH_NOW, copy_store

    with tempfile.TemporaryDirectory(prefix="bench-rank-", dir=args.tmp) as folder:
        copy = copy_store(settings, Path(folder))
        results["prepare"] = prepare(copy, BENCH_NOW, args.seed, args.upgrade_memory_limit)
        results["cases"] = ranking_cases(copy, args.reps)
        shutil.rmtree(folder, ignore_errors=True)
    results.update({"reps": args.reps, "memory_limit": settings.duckdb_memory_limit,
                    "threads": settings.duckdb_threads, "command": "gridcc bench rankings " + " ".join(argv)})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(markdown(results))
    return 0


def markdown(results: dict) -> str:
    """Return the timings as a Markdown table."""
    p = results["prepare"]
    lines = [f"Rankings on {results['events']:,} events, city scope, {results['reps']} reps, DuckDB "
             f"{results['memory_limit']} / {results['threads']} threads. Prepare: upgrade {p['upgrade_s']} s, "
             f"field work {p['fieldwork_s']} s, freezing {len(p['frozen_months'])} months {p['freeze_s']} s.",
             "", "| ranking | rows | cold p50 / p95 ms | again p50 / p95 ms | target |", "|---|---:|---:|---:|---:|"]
    for name, c in results["cases"].items():
        level = name.split()[0]
        if "cold" in c:
            target = TARGETS_MS[level]
            over = " **(over)**" if c["cold"]["p95"] > target else ""
            lines.append(f"| {name} | {c['rows']:,} | {c['cold']['p50']} / {c['cold']['p95']}{over} | "
                         f"{c['again']['p50']} / {c['again']['p95']} | ≤ {target:g} |")
        else:
            lines.append(f"| {name}: first {c['first_ms']} ms, then | {c['rows']:,} | "
                         f"{c['within_refresh']['p50']} / {c['within_refresh']['p95']} | — | — |")
    return "\n".join(lines)
