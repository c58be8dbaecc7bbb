"""The cases `gridcc bench sla` times: every SLA page loader at 10 M events, city scope, 30 days (issue 6 §5).

Runs on a throw-away copy of the bench store (opening it read-write upgrades an older store: the closures'
SLA columns are backfilled once, as `gridcc serve` would), in-process, as a city leader's request: each
loader of dashboard/data.py's SLA section with the cache cleared before every rep (uncached server time),
then from cache.
The target: each loader ≤ 100 ms p95 uncached. Prints a Markdown table and writes bench/results/sla.json.
"""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.access_cases import as_principal, city_principal
from bench.stats import percentile, timed

log = logging.getLogger("bench")
TARGET_MS = 100.0


def _stats(ms: list[float]) -> dict:
    return {"p50": round(percentile(ms, 0.5), 1), "p95": round(percentile(ms, 0.95), 1), "n": len(ms)}


def _size(value) -> int:
    if hasattr(value, "rows"):
        return value.total
    return len(value) if isinstance(value, (list, tuple)) else 1


def loader_cases(settings, reps: int, now) -> dict:
    """Time each SLA loader for the city over the 30 days before ``now``; return the cases."""
    from dashboard import data
    from dashboard.app import create_app

    app = create_app(settings)
    ctx = app.server.extensions["gridcc"]
    with ctx.engine.connect() as conn:
        principal = city_principal(conn)
    scope = principal.scope
    code, as_of = scope.area_code, now
    since, until = as_of - timedelta(days=30), as_of
    window = (since, until, as_of)
    calls = {
        "sla_trend day": lambda: data.sla_trend(scope, code, "day", *window),
        "sla_trend week": lambda: data.sla_trend(scope, code, "week", *window),
        "sla_trend month": lambda: data.sla_trend(scope, code, "month", *window),
        **{f"sla_split {by}": (lambda by=by: data.sla_split(scope, code, by, *window))
           for by in ("class", "department", "area", "street")},
        **{f"sla_backlog_age {by}": (lambda by=by: data.sla_backlog_age(scope, code, by, as_of))
           for by in ("class", "area")},
        "sla_lights": lambda: data.sla_lights(scope, code, as_of),
        "sla_funnel": lambda: data.sla_funnel(scope, code, *window),
        **{f"sla_handling {by}": (lambda by=by: data.sla_handling(scope, code, by, *window))
           for by in ("class", "category", "department")},
        **{f"sla_exceptions {by}": (lambda by=by: data.sla_exceptions(scope, code, by, *window))
           for by in ("department", "area")},
        "sla_cases handle late": lambda: data.sla_cases(scope, code, {"figure": "handle", "part": "late"}, *window),
        "sla_cases light red": lambda: data.sla_cases(scope, code, {"figure": "light", "key": "red"}, *window),
        "sla_cases age gt30d": lambda: data.sla_cases(scope, code, {"figure": "age", "bin": "gt30d"}, *window),
    }
    out = {}
    for name, fn in calls.items():
        def call(fn=fn):
            with as_principal(app.server, principal):  # a fresh flask.g per call, as each callback is a request
                return fn()
        size = _size(call())  # warm DuckDB's buffers
        out[name] = {"rows": size, "uncached": _stats(timed(call, reps, before=ctx.cache.clear)),
                     "cached": _stats(timed(call, reps))}
        log.info("%s: %s", name, out[name])
    app.server.extensions["gridcc_live"].stop()
    ctx.engine.dispose()
    return {"since": since.isoformat(), "until": until.isoformat(), "as_of": as_of.isoformat(), "loaders": out}


def main(argv: list[str], *, start, root: Path) -> int:
    """Parse ``gridcc bench sla`` arguments, copy the bench store, time the loaders, print the table."""
    parser = argparse.ArgumentParser(prog="gridcc bench sla", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="events in the bench store (default 10 M)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--store", type=Path, default=None, help="DuckDB file (default data/bench-<events>.duckdb)")
    parser.add_argument("--reps", type=int, default=20, help="runs of each case")
    parser.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()), help="folder for the store's copy")
    parser.add_argument("--upgrade-memory-limit", default="6GB",
                        help="DuckDB memory limit for upgrading the copy only (the timed runs keep the settings')")
    parser.add_argument("--out", type=Path, default=root / "bench" / "results" / "sla.json")
    args = parser.parse_args(argv)
    settings, results = start(args)
    from bench.run import BENCH_NOW, copy_store
    from dashboard.store import init_schema, make_engine

    with tempfile.TemporaryDirectory(prefix="bench-sla-", dir=args.tmp) as folder:
        began = time.perf_counter()
        copy = copy_store(settings, Path(folder))
        # An older store: the closures' SLA columns are filled here, once. The rebuild sorts every closed event
        # and ran out of memory at DuckDB's 512 MB on the 10 M store (2026-11-23), so it gets more; untimed.
        engine = make_engine(copy.with_(duckdb_memory_limit=args.upgrade_memory_limit))
        init_schema(engine)
        engine.dispose()
        results["prepare_s"] = round(time.perf_counter() - began, 1)
        results.update(loader_cases(copy, args.reps, BENCH_NOW))
        shutil.rmtree(folder, ignore_errors=True)
    results.update({"reps": args.reps, "memory_limit": settings.duckdb_memory_limit,
                    "threads": settings.duckdb_threads, "command": "gridcc bench sla " + " ".join(argv)})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(markdown(results))
    return 0


def markdown(results: dict) -> str:
    """Return the loader timings as a Markdown table."""
    lines = [f"SLA page loaders on {results['events']:,} events, city, [{results['since']}, {results['until']}), "
             f"{results['reps']} reps, DuckDB {results['memory_limit']} / {results['threads']} threads",
             "", "| loader | rows | uncached p50 / p95 ms | cached p50 / p95 ms |", "|---|---:|---:|---:|"]
    for name, c in results["loaders"].items():
        over = " **(over)**" if c["uncached"]["p95"] > TARGET_MS else ""
        lines.append(f"| {name} | {c['rows']:,} | {c['uncached']['p50']} / {c['uncached']['p95']}{over} | "
                     f"{c['cached']['p50']} / {c['cached']['p95']} |")
    return "\n".join(lines)
