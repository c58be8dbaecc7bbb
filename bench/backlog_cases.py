"""The backlog desk's benchmark `gridcc bench backlog` runs (issue 6 §5): pages of the desk, and an action reaching a second screen.

On a throw-away copy of the 10 M-event store, in one process (the app's own callbacks, timed with
``time.perf_counter`` inside a request context, as the server runs them; the HTTP and Dash envelope
around a callback is not included):
- the frame's cold build: the open cases in scope with their names (queries.backlog.open_cases) and
  their texts (dashboard.backlog.table), for the whole city and for the largest district;
- a page of 100 rows for a getRowsRequest (warm frame), per kind of request: the default order, a deep
  page, a sort by the light (the share of every case), a sort by place, a text filter, a search, the
  red quick filter, and a filter on the light — each ``reps`` times, interleaved;
- an action by one user reaching a second screen: user A (a district's duty operator) urges one case
  through the desk's callback (desk.act: one transaction, one data version); screen B (the same
  district's manager) waits on the app's live hub, as its stream does, and when the change arrives
  asks for its rows as the page does after its tick (the frame is rebuilt at the new version). The
  time is from A's click (the callback called) to B's rows answered. The browser adds its tick's
  0–300 ms jitter and the SSE hop on top (docs/live.md measured the push at 212 ms p95 for 200 screens).
"""
from __future__ import annotations

import gc
import statistics
import threading
import time

from bench.stats import percentile

KINDS = {
    "default order, rows 0-100": ({"startRow": 0, "endRow": 100}, "", []),
    "deep page, rows 20000-20100": ({"startRow": 20000, "endRow": 20100}, "", []),
    "sort by light (share of every case)": ({"startRow": 0, "endRow": 100,
                                              "sortModel": [{"colId": "light", "sort": "desc"}]}, "", []),
    "sort by place desc": ({"startRow": 100, "endRow": 200, "sortModel": [{"colId": "place", "sort": "desc"}]},
                           "", []),
    "text filter (category contains)": ({"startRow": 0, "endRow": 100, "filterModel": {
        "category": {"filterType": "text", "type": "contains", "filter": "垃圾"}}}, "", []),
    "search": ({"startRow": 0, "endRow": 100}, "社区", []),
    "quick filter 红灯 + sort by age": ({"startRow": 0, "endRow": 100,
                                      "sortModel": [{"colId": "age", "sort": "desc"}]}, "", ["red"]),
    "filter on the light (超时)": ({"startRow": 0, "endRow": 100, "filterModel": {
        "light": {"filterType": "text", "type": "equals", "filter": "超时"}}}, "", []),
}


def _stats(ms: list[float]) -> dict:
    return {"n": len(ms), "median_ms": round(statistics.median(ms), 1), "p95_ms": round(percentile(ms, 95), 1),
            "max_ms": round(max(ms), 1)}


def _principal(conn, name: str, role: str, code: str):
    from dashboard import access

    return access.Principal(name=name, display_name=name, kind="user", role=role,
                            scope=access.scope_of(conn, "area", code), rights=access.RIGHTS[role], session="0" * 64)


def backlog_cases(settings, *, reps: int, actions: int) -> dict:
    """Time the desk on the store at ``settings`` (a throw-away copy: the actions write); return the figures."""
    import flask

    from bench.access_cases import city_code
    from callbacks import backlog as cb
    from dashboard import data
    from dashboard.app import create_app
    from queries.schema import open_events
    from sqlalchemy import func, select

    app = create_app(settings)
    ctx = app.server.extensions["gridcc"]
    hub = app.server.extensions["gridcc_live"]
    out: dict = {}
    try:
        with ctx.engine.connect() as conn:
            city = city_code(conn)
            district, in_district = conn.execute(
                select(open_events.c.district_code, func.count()).group_by(open_events.c.district_code)
                .order_by(func.count().desc()).limit(1)).one()
            city_leader = _principal(conn, "bench-desk-city", "city_leader", city)
            manager = _principal(conn, "bench-desk-b", "district_manager", district)
            operator = _principal(conn, "bench-desk-a", "district_manager", district)

        def call(principal, fn, *args):
            with app.server.test_request_context():
                flask.g.gridcc_principal = principal
                return fn(*args)

        # 1. The frame's cold build.
        out["scopes"] = {}
        for label, principal in (("city", city_leader), (f"district {district}", manager)):
            cold = []
            for _ in range(3):
                data._backlog_frames.clear()
                gc.collect()
                start = time.perf_counter()
                response, count, _ = call(principal, cb.update_rows, {"startRow": 0, "endRow": 100}, "", [], None,
                                          "zh")
                cold.append((time.perf_counter() - start) * 1000)
            out["scopes"][label] = {"open_cases": response["rowCount"], "cold_first_page": _stats(cold)}

        # 2. Warm pages, interleaved per kind, on the city's frame (the largest scope).
        timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
        call(city_leader, cb.update_rows, {"startRow": 0, "endRow": 100}, "", [], None, "zh")  # warm
        for _ in range(reps):
            for kind, (request, search, quick) in KINDS.items():
                start = time.perf_counter()
                response, _, _ = call(city_leader, cb.update_rows, request, search, quick, None, "zh")
                timings[kind].append((time.perf_counter() - start) * 1000)
                assert len(response["rowData"]) <= 100
        out["pages"] = {kind: _stats(ms) for kind, ms in timings.items()}
        everything = [m for ms in timings.values() for m in ms]
        out["pages_all"] = _stats(everything)

        # 3. An action by A reaching screen B.
        call(manager, cb.update_rows, {"startRow": 0, "endRow": 100}, "", [], None, "zh")  # B's screen is open
        response, _, _ = call(operator, cb.update_rows, {"startRow": 0, "endRow": 100}, "", ["red"], None, "zh")
        targets = [r["id"] for r in response["rowData"]][:actions]
        reach, act_ms, results = [], [], []
        for event_id in targets:
            seen = hub.version
            answered = {}

            def screen_b():
                version, _, grids = hub.wait(seen, timeout=10)
                if version > seen and grids:
                    rows, _, _ = call(manager, cb.update_rows, {"startRow": 0, "endRow": 100}, "", [],
                                      {"v": version}, "zh")  # the tick carries the version it was told of
                    answered["at"] = time.perf_counter()
                    answered["rows"] = len(rows["rowData"])

            waiter = threading.Thread(target=screen_b)
            waiter.start()
            time.sleep(0.05)  # B is waiting on the hub, as its open stream does
            start = time.perf_counter()
            message, _ = call(operator, cb.act, 1, "urge", "基准测试：请尽快处置", None, None, None, None,
                              [{"id": event_id}], "zh")
            act_ms.append((time.perf_counter() - start) * 1000)
            waiter.join(timeout=15)
            results.append(message.children)
            if "at" in answered:
                reach.append((answered["at"] - start) * 1000)
            time.sleep(0.2)
        out["action"] = {"district": district, "open_in_district": in_district, "actions": len(targets),
                         "reached": len(reach), "act_callback": _stats(act_ms) if act_ms else None,
                         "click_to_second_screen_rows": _stats(reach) if reach else None,
                         "results": sorted(set(results))[:3]}
        out["frames_cached"] = len(data._backlog_frames)
    finally:
        hub.stop()
        ctx.engine.dispose()
    return out


def markdown(results: dict) -> str:
    """Return the figures as the Markdown tables of docs/benchmarks.md."""
    lines = ["| scope | open cases | cold frame + first page median | p95 |", "|---|---:|---:|---:|"]
    for label, s in results["scopes"].items():
        c = s["cold_first_page"]
        lines.append(f"| {label} | {s['open_cases']:,} | {c['median_ms']} ms | {c['p95_ms']} ms |")
    lines += ["", "| page of 100 rows (warm frame, city scope) | median | p95 | max |", "|---|---:|---:|---:|"]
    for kind, s in results["pages"].items():
        lines.append(f"| {kind} | {s['median_ms']} ms | {s['p95_ms']} ms | {s['max_ms']} ms |")
    a = results["pages_all"]
    lines.append(f"| **all kinds together** ({a['n']} requests) | {a['median_ms']} ms | **{a['p95_ms']} ms** | "
                 f"{a['max_ms']} ms |")
    act = results["action"]
    lines += ["", "| action reaching a second screen | median | p95 | max |", "|---|---:|---:|---:|"]
    if act["act_callback"]:
        s = act["act_callback"]
        lines.append(f"| A's 催办 callback (desk.act, one case) | {s['median_ms']} ms | {s['p95_ms']} ms | "
                     f"{s['max_ms']} ms |")
    if act["click_to_second_screen_rows"]:
        s = act["click_to_second_screen_rows"]
        lines.append(f"| A's click → B's hub wake → B's rows answered ({act['reached']}/{act['actions']}) | "
                     f"{s['median_ms']} ms | **{s['p95_ms']} ms** | {s['max_ms']} ms |")
    return "\n".join(lines)


def main(argv: list[str], *, start, root) -> int:
    """`gridcc bench backlog`: time the desk on a copy of the bench store; print the tables."""
    import argparse
    import json
    import tempfile
    from pathlib import Path

    from bench.run import BENCH_NOW, copy_store

    parser = argparse.ArgumentParser(prog="gridcc bench backlog", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--reps", type=int, default=25)
    parser.add_argument("--actions", type=int, default=20)
    parser.add_argument("--tmp", type=Path, default=root / "data", help="folder for the store's copy")
    parser.add_argument("--in-place", action="store_true", help="run on --store itself (already a throw-away copy)")
    parser.add_argument("--out", type=Path, default=root / "bench" / "results" / "backlog.json")
    args = parser.parse_args(argv)
    settings, results = start(args)
    settings = settings.with_(frozen_now=BENCH_NOW, cache_type="SimpleCache")
    if args.in_place:
        results["backlog"] = backlog_cases(settings, reps=args.reps, actions=args.actions)
    else:
        with tempfile.TemporaryDirectory(dir=args.tmp) as folder:
            results["backlog"] = backlog_cases(copy_store(settings, Path(folder)), reps=args.reps,
                                               actions=args.actions)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(markdown(results["backlog"]))
    return 0

