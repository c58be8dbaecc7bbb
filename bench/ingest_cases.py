"""The cases `gridcc bench ingest` times: the write API on a copy of the bench store.

Everything goes through Flask's test client, in-process (no HTTP server, no network): JSON in,
``Ingestor`` and the store, JSON out. What is timed is the app's own work per request.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from bench.stats import percentile

TOKEN_NAME = "bench-ingest"


def _stats(ms: list[float]) -> dict:
    return {"p50": round(percentile(ms, 0.5), 2), "p95": round(percentile(ms, 0.95), 2),
            "max": round(max(ms), 2), "n": len(ms)}


def rss_mb() -> dict:
    """Return this process's resident memory now and at its peak, in MB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return {"rss_mb": round(int(fields["VmRSS"].split()[0]) / 1024), "peak_rss_mb": round(int(fields["VmHWM"].split()[0]) / 1024)}


class Reports:
    """Realistic new reports: the seed's source shares and category mix, at the city's buildings."""

    def __init__(self, conn, scope, *, now: datetime, tz, seed: int = 1):
        import pandas as pd

        from dashboard.seed.catalogue import SOURCE_SHARE, category_mix
        from dashboard.seed.events import SOURCE_PHRASE
        from queries import simulation as q
        from queries.schema import SOURCES

        self.rng = np.random.default_rng(seed)
        self.now, self.tz = now, tz
        places = q.places(conn, scope=scope)
        self.lat = np.array([p.lat for p in places])
        self.lon = np.array([p.lon for p in places])
        self.district = np.array([p.grid_code[:6] for p in places], dtype=object)
        cats = q.category_limits(conn)
        self.codes = [c.code for c in cats]
        self.names = [c.name for c in cats]
        self.mix = category_mix(pd.DataFrame({"code": self.codes, "class_code": [c.class_code for c in cats]}))
        self.sources = list(SOURCES)
        self.share = np.array([SOURCE_SHARE[s] for s in SOURCES])
        self.phrase = SOURCE_PHRASE
        self.serial = 0

    def make(self, n: int, *, district: str | None = None, within_s: int = 6 * 3600) -> list[dict]:
        """Return ``n`` records reported in the ``within_s`` seconds before now (in ``district`` if given)."""
        pool = np.flatnonzero(self.district == district) if district else np.arange(len(self.lat))
        pick = pool[self.rng.integers(0, len(pool), n)]
        src = self.rng.choice(len(self.sources), size=n, p=self.share)
        ago = self.rng.integers(60, within_s, n)
        out = []
        for i in range(n):
            self.serial += 1
            source = self.sources[src[i]]
            cat = int(self.rng.choice(len(self.codes), p=self.mix[src[i]]))
            at = (self.now - timedelta(seconds=int(ago[i]))).replace(tzinfo=self.tz)
            out.append({"id": f"bench-{self.serial:09d}", "source": source, "category": self.codes[cat],
                        "reported_at": at.isoformat(), "lat": float(self.lat[pick[i]]), "lon": float(self.lon[pick[i]]),
                        "description": f"{self.phrase[source]}：{self.names[cat]}",
                        "reporter": "139****0000" if source in ("hotline", "citizen") else None})
        return out


def ingest_cases(settings, *, batches: int, batch_size: int, posts: int, visibility: int, transitions: int,
                 profile_to: Path | None = None) -> dict:
    """Time batched ingest, single posts, time-to-visible and transitions; return the figures."""
    from dashboard.app import create_app
    from queries import tokens
    from queries.simulation import top_scope

    started = time.perf_counter()
    app = create_app(settings)  # upgrades an older store's schema (adds the columns it lacks)
    ctx = app.server.extensions["gridcc"]
    out: dict = {"app_start_s": round(time.perf_counter() - started, 1)}
    with ctx.engine.begin() as conn:
        token = tokens.create_token(conn, name=f"{TOKEN_NAME}-{time.time_ns()}", now=settings.now())
    with ctx.engine.connect() as conn:
        scope = top_scope(conn)
        reports = Reports(conn, scope, now=settings.now(), tz=settings.tz)
        out["events_before"] = conn.exec_driver_sql("SELECT count(*) FROM events").scalar()
    client = app.server.test_client()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(path: str, body) -> tuple[float, dict]:
        data = json.dumps(body, ensure_ascii=False).encode()
        start = time.perf_counter()
        response = client.post(path, data=data, headers=headers)
        ms = (time.perf_counter() - start) * 1000
        if response.status_code >= 300:
            raise RuntimeError(f"{path}: {response.status_code} {response.get_data(as_text=True)[:500]}")
        return ms, response.get_json()

    # (a) sustained batched ingest: bodies built first, so only the request is timed.
    bodies = [reports.make(batch_size) for _ in range(batches)]
    profiler = None
    if profile_to is not None:
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    batch_ms = []
    wall = time.perf_counter()
    for body in bodies:
        ms, answer = post("/api/v1/events", body)
        assert answer["created"] == len(body), answer["created"]
        batch_ms.append(ms)
    wall = time.perf_counter() - wall
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(profile_to))
    del bodies
    out["batched"] = {"batches": batches, "batch_size": batch_size, "events": batches * batch_size,
                      "seconds": round(wall, 1), "events_per_s": round(batches * batch_size / wall),
                      "batch_ms": _stats(batch_ms), "first_batch_ms": round(batch_ms[0]), **rss_mb()}

    # (b) one event per POST.
    single_ms, created = [], []
    for record in reports.make(posts):
        ms, answer = post("/api/v1/events", record)
        single_ms.append(ms)
        created.append(answer["events"][0]["event_id"])
    out["single"] = _stats(single_ms)

    # (c) from a POST's 201 to the event counted in GET /api/v1/areas/{district} ("reported", last 30 days).
    district = sorted(set(reports.district))[len(set(reports.district)) // 2]

    def reported() -> int:
        return client.get(f"/api/v1/areas/{district}").get_json()["area"]["figures"]["reported"]

    visible_ms, polls = [], []
    for _ in range(visibility):
        before = reported()
        post("/api/v1/events", reports.make(1, district=district))
        posted = time.perf_counter()
        n = 0
        while True:
            n += 1
            if reported() == before + 1:
                break
            if time.perf_counter() - posted > 10:
                raise RuntimeError("an ingested event was not counted within 10 s")
        visible_ms.append((time.perf_counter() - posted) * 1000)
        polls.append(n)
    out["visible"] = {**_stats(visible_ms), "district": district, "max_polls": max(polls)}

    # (d) transitions: the single posts' events through the loop, one step per POST.
    at = settings.now().replace(tzinfo=settings.tz).isoformat()
    step_ms = []
    loop = ("accept", "register", "dispatch", "handle", "check", "close")
    for event_id in created:
        for action in loop:
            if len(step_ms) >= transitions:
                break
            ms, _ = post(f"/api/v1/events/{event_id}/transitions", {"action": action, "at": at})
            step_ms.append(ms)
        if len(step_ms) >= transitions:
            break
    out["transitions"] = _stats(step_ms)
    with ctx.engine.connect() as conn:
        out["events_after"] = conn.exec_driver_sql("SELECT count(*) FROM events").scalar()
    out.update(rss_mb())
    ctx.engine.dispose()
    return out


def markdown(results: dict) -> str:
    """Return the figures as the Markdown table of docs/benchmarks.md."""
    r = results["cases"]
    b, s, v, t = r["batched"], r["single"], r["visible"], r["transitions"]
    target = lambda ok: "met" if ok else "**missed**"  # noqa: E731
    lines = [
        f"Run {results['date']} on {results['machine']}; store of {r['events_before']:,} events "
        f"(a copy), Flask test client in-process.", "",
        "| case | figure | target | |", "|---|---|---|---|",
        f"| batched ingest, {b['batches']} × {b['batch_size']:,} | **{b['events_per_s']:,} events/s** "
        f"({b['events']:,} in {b['seconds']} s); per batch p50 {b['batch_ms']['p50']:,.0f} / p95 "
        f"{b['batch_ms']['p95']:,.0f} ms | ≥ 5,000 events/s | {target(b['events_per_s'] >= 5000)} |",
        f"| one event per POST ({s['n']}) | p50 {s['p50']} / p95 **{s['p95']}** / max {s['max']} ms | ≤ 20 ms p95 | "
        f"{target(s['p95'] <= 20)} |",
        f"| POST 201 → counted in `GET /api/v1/areas/{v['district']}` ({v['n']}) | p50 {v['p50']} / p95 **{v['p95']}** / "
        f"max {v['max']} ms (at most {v['max_polls']} polls) | ≤ 1 s | {target(v['p95'] <= 1000)} |",
        f"| transition per POST ({t['n']}) | p50 {t['p50']} / p95 {t['p95']} / max {t['max']} ms | — | |",
        f"| process memory | {r['rss_mb']} MB RSS, peak {r['peak_rss_mb']} MB | — | |",
    ]
    return "\n".join(lines)
