"""The cases `gridcc bench heat` times: the heat layer's query and its hideout at 10 M events (issue 5 §2).

Read-only on the bench store itself (the query writes nothing, so no copy is needed): for the city, a
district and a street, each at its resolution (dashboard.heat.resolution_for), over the last hour, 24
hours and 7 days before the store's data time, `queries.heat.heat_cells` then `dashboard.heat.heat_hideout`;
and the city's 7 days with each filter. Reports p50/p95 of the query, of query + builder, the cells and
the hideout's size as Dash sends it. The targets: a map update ≤ 100 KB; the query well inside a refresh.
"""
from __future__ import annotations

import time
from datetime import datetime

from bench.stats import percentile

LEVEL_NAMES = {0: "city", 1: "district", 2: "street"}
BYTES_TARGET = 100_000


def _engine(path, memory_limit: str, threads: int):
    from sqlalchemy import create_engine

    return create_engine(f"duckdb:///{path}", connect_args={
        "read_only": True, "config": {"memory_limit": memory_limit, "threads": threads}})


def _areas(conn, scope):
    """Return the city, its first district and that district's first street (by code)."""
    from queries import areas as aq
    from queries.schema import DISTRICT, STREET, areas
    from sqlalchemy import select

    def first(level, parent):
        return conn.execute(select(areas.c.code).where(areas.c.level == level, areas.c.parent_code == parent)
                            .order_by(areas.c.code).limit(1)).scalar()

    district = first(DISTRICT, scope.area_code)
    street = first(STREET, district)
    return [aq.get_area(conn, scope=scope, code=code) for code in (scope.area_code, district, street)]


def heat_cases(path, *, reps: int = 20, memory_limit: str = "512MB", threads: int = 2) -> dict:
    """Time the heat query and builder on the store at ``path`` (read-only); return the cases."""
    from dash._utils import to_json

    from bench.access_cases import city_code
    from dashboard.heat import WINDOWS, heat_hideout, resolution_for
    from queries.heat import heat_cells
    from queries.meta import get_meta
    from queries.scope import Scope

    engine = _engine(path, memory_limit, threads)
    cases = []
    with engine.connect() as conn:
        scope = Scope(city_code(conn), 0)
        until = datetime.fromisoformat(get_meta(conn, "seeded_at"))
        with_h3 = conn.exec_driver_sql("SELECT count(h3), count(*) FROM events").fetchall()[0]
        plans = [(area, window, {}) for area in _areas(conn, scope) for window in WINDOWS]
        city = plans[0][0]
        plans += [(city, "7d", {"classes": ("04",)}), (city, "7d", {"sources": ("hotline",)}),
                  (city, "7d", {"urgent_only": True}), (city, "7d", {"classes": ("01", "05"), "urgent_only": True})]
        for area, window, filters in plans:
            resolution = resolution_for(area.level)
            since = until - WINDOWS[window]
            args = dict(scope=scope, area=area, resolution=resolution, since=since, until=until, **filters)
            heat_cells(conn, **args)  # warm: the first read of a column pays for its pages
            query_ms, total_ms = [], []
            for _ in range(reps):
                start = time.perf_counter()
                cells = heat_cells(conn, **args)
                middle = time.perf_counter()
                payload = to_json(heat_hideout(cells, "zh", resolution))
                end = time.perf_counter()
                query_ms.append((middle - start) * 1000)
                total_ms.append((end - start) * 1000)
            hideout = heat_hideout(cells, "zh", resolution)
            cases.append({
                "level": LEVEL_NAMES[area.level], "code": area.code, "window": window, "resolution": resolution,
                "filters": {k: list(v) if isinstance(v, tuple) else v for k, v in filters.items()},
                "cells": len(cells), "events": hideout["total"], "bytes": len(payload.encode()),
                "query_p50_ms": round(percentile(query_ms, 0.5), 1), "query_p95_ms": round(percentile(query_ms, 0.95), 1),
                "total_p50_ms": round(percentile(total_ms, 0.5), 1), "total_p95_ms": round(percentile(total_ms, 0.95), 1),
            })
    engine.dispose()
    return {"until": until.isoformat(), "events_with_h3": with_h3[0], "events": with_h3[1], "reps": reps,
            "memory_limit": memory_limit, "threads": threads, "cases": cases}


def markdown(results: dict) -> str:
    """Return the cases as a Markdown table."""
    lines = [f"Heat layer on {results['events']:,} events ({results['events_with_h3']:,} with h3), window ending "
             f"{results['until']}, {results['reps']} reps, DuckDB {results['memory_limit']} / {results['threads']} threads",
             "", "| area | window | res | filter | cells | events | query p50 / p95 ms | + hideout p50 / p95 ms | bytes |",
             "|---|---|---|---|---:|---:|---:|---:|---:|"]
    for c in results["cases"]:
        filters = ", ".join(f"{k}={v}" for k, v in c["filters"].items()) or "—"
        over = " **(over)**" if c["bytes"] > BYTES_TARGET else ""
        lines.append(f"| {c['level']} {c['code']} | {c['window']} | {c['resolution']} | {filters} | {c['cells']:,} | "
                     f"{c['events']:,} | {c['query_p50_ms']} / {c['query_p95_ms']} | {c['total_p50_ms']} / "
                     f"{c['total_p95_ms']} | {c['bytes']:,}{over} |")
    return "\n".join(lines)
