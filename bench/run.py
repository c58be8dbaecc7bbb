"""The overview benchmark at 10 M events (issue 2 §5): run with `gridcc bench` or `python bench/run.py`.

`gridcc bench ingest` runs the ingest benchmark instead (bench/ingest_cases.py): batched and single
POSTs, time until an event is counted, and transitions, on a throw-away copy of the same store.
`gridcc bench access` runs the access benchmark (bench/access_cases.py): the gate's cost per request,
the audit row's on the write path, a sign-in, on a throw-away copy too.

Measures, on one seeded store with "now" frozen so runs compare:
- each overview callback's server time, uncached (cache cleared before each call) and from cache, p50/p95;
- the same screens from a pandas DataFrame filtered in the callback (bench/naive.py), and the ratio;
- the bytes each map update and each polygon layer sends;
- a real server's memory (waitress in a child process, peak RSS after the timed requests);
- in headless Chromium, the time from a drill click to the repainted map.
The server runs on a throw-away copy of the store, given the bench user and an API token first (the
gate answers nothing without a caller; sign-ins write sessions and audit rows, which stay in the copy).
Prints a Markdown table and writes bench/results/overview.json; copy the figures to docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import access_cases, ingest_cases, overview_cases  # noqa: E402
from dashboard.settings import Settings  # noqa: E402
from dashboard.store import make_engine  # noqa: E402

log = logging.getLogger("bench")
BENCH_NOW = datetime(2026, 11, 20, 15, 0)


def ensure_store(path: Path, events: int, seed: int) -> Settings:
    """Seed ``path`` with ``events`` events unless it already holds exactly that seed."""
    from dashboard import seed as seeding
    from queries.meta import get_meta

    settings = Settings(store_url=f"duckdb:///{path}", frozen_now=BENCH_NOW, cache_type="SimpleCache")
    if path.exists():
        engine = make_engine(settings)
        with engine.connect() as conn:
            have = (get_meta(conn, "events"), get_meta(conn, "seed"), get_meta(conn, "seeded_at"))
        engine.dispose()
        if have == (str(events), str(seed), BENCH_NOW.isoformat()):
            log.info("reusing %s", path)
            return settings
    log.info("seeding %s with %d events (once; reused by later runs)", path, events)
    engine = make_engine(settings)
    start = time.perf_counter()
    seeding.seed_store(engine, events=events, seed=seed, now=BENCH_NOW, progress=True)
    engine.dispose()
    log.info("seeded in %.0f s", time.perf_counter() - start)
    return settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_and_measure(settings: Settings, reps: int, browser: bool, tmp: Path) -> dict:
    """Start a real server on a copy of the store; drive it over HTTP (and Chromium); return memory and timings."""
    tmp.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-serve-", dir=tmp) as folder:
        start = time.perf_counter()
        copy = copy_store(settings, Path(folder))
        log.info("copied the store for the server in %.0f s", time.perf_counter() - start)
        # Before the server opens the copy: DuckDB lets one process at a time open a file.
        token = access_cases.prepare_store(copy)
        return _serve_and_measure(copy, token, reps, browser)


def _serve_and_measure(settings: Settings, token: str, reps: int, browser: bool) -> dict:
    port = free_port()
    env = dict(os.environ, GRIDCC_STORE=settings.store_url, GRIDCC_NOW=BENCH_NOW.isoformat())
    proc = subprocess.Popen([sys.executable, "-m", "dashboard", "serve", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                overview_cases.api_get(base + "/api/v1/areas", token, timeout=2)
                break
            except OSError:
                time.sleep(0.25)
        else:
            raise RuntimeError(f"the server on {settings.store_url} did not answer /api/v1/areas within 50 s")
        out = {"http": overview_cases.http_cases(base, reps, token)}
        if browser:
            out["browser"] = overview_cases.browser_drill(base, token)
        status = Path(f"/proc/{proc.pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        out["server_rss_mb"] = int(fields["VmRSS"].split()[0]) / 1024
        out["server_peak_rss_mb"] = int(fields["VmHWM"].split()[0]) / 1024
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def copy_store(settings: Settings, folder: Path) -> Settings:
    """Copy the DuckDB file of ``settings`` into ``folder`` and return settings on the copy."""
    source = Path(settings.store_url.removeprefix("duckdb:///"))
    target = folder / source.name
    shutil.copy(source, target)
    if source.with_suffix(source.suffix + ".wal").exists():
        shutil.copy(source.with_suffix(source.suffix + ".wal"), target.with_suffix(target.suffix + ".wal"))
    return settings.with_(store_url=f"duckdb:///{target}")


def ingest_main(argv: list[str]) -> int:
    """Run the ingest benchmark on a copy of the bench store and print its table."""
    parser = argparse.ArgumentParser(prog="gridcc bench ingest", description=ingest_cases.__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="events in the bench store (default 10 M)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--store", type=Path, default=None, help="DuckDB file (default data/bench-<events>.duckdb)")
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=500, help="single-event POSTs")
    parser.add_argument("--visibility", type=int, default=50, help="POSTs timed until counted by the API")
    parser.add_argument("--transitions", type=int, default=300)
    parser.add_argument("--profile", type=Path, default=None, help="write cProfile stats of the batched case here")
    parser.add_argument("--tmp", type=Path, default=ROOT / "data", help="folder for the store's copy")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ingest.json")
    args = parser.parse_args(argv)
    settings, results = _start(args)
    args.tmp.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-", dir=args.tmp) as folder:
        start = time.perf_counter()
        copy = copy_store(settings, Path(folder))
        log.info("copied the store in %.0f s", time.perf_counter() - start)
        results["cases"] = ingest_cases.ingest_cases(
            copy, batches=args.batches, batch_size=args.batch_size, posts=args.posts, visibility=args.visibility,
            transitions=args.transitions, profile_to=args.profile)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(ingest_cases.markdown(results))
    return 0


def access_main(argv: list[str]) -> int:
    """Run the access benchmark on a copy of the bench store and print its tables."""
    parser = argparse.ArgumentParser(prog="gridcc bench access", description=access_cases.__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="events in the bench store (default 10 M)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--store", type=Path, default=None, help="DuckDB file (default data/bench-<events>.duckdb)")
    parser.add_argument("--reps", type=int, default=300, help="requests per gate variant")
    parser.add_argument("--writes", type=int, default=300, help="submits and transitions, each with and without audit")
    parser.add_argument("--sign-ins", type=int, default=20)
    parser.add_argument("--tmp", type=Path, default=ROOT / "data", help="folder for the store's copy")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "access.json")
    args = parser.parse_args(argv)
    settings, results = _start(args)
    args.tmp.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-access-", dir=args.tmp) as folder:
        start = time.perf_counter()
        copy = copy_store(settings, Path(folder))
        log.info("copied the store in %.0f s", time.perf_counter() - start)
        results["cases"] = access_cases.access_cases(copy, reps=args.reps, writes=args.writes,
                                                     sign_ins=args.sign_ins)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(access_cases.markdown(results))
    return 0


def live_main(argv: list[str]) -> int:
    """Run the live-push benchmark (issue 5 §4): a real server on a copy of the bench store, screens and writes over HTTP."""
    from bench import live_cases

    parser = argparse.ArgumentParser(prog="gridcc bench live", description=live_cases.__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="events in the bench store (default 10 M)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--store", type=Path, default=None, help="DuckDB file (default data/bench-<events>.duckdb)")
    parser.add_argument("--screens", type=int, default=200, help="live streams held open (default 200)")
    parser.add_argument("--rate", type=float, default=50, help="single-event POSTs per second (default 50)")
    parser.add_argument("--seconds", type=float, default=60, help="how long the POSTs go on (default 60)")
    parser.add_argument("--refresh-seconds", type=float, default=None, help="the same for 'refresh' (default --seconds)")
    parser.add_argument("--variants", default="push,refresh",
                        help="push (streams only), refresh (each screen also fetches its figures); default both")
    parser.add_argument("--district-share", type=float, default=0.5, help="share of screens on a district's token")
    parser.add_argument("--threads", type=int, default=16, help="the server's --threads (default 16)")
    parser.add_argument("--tmp", type=Path, default=ROOT / "data", help="folder for the store's copy")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "live.json")
    args = parser.parse_args(argv)
    settings, results = _start(args)
    args.tmp.mkdir(parents=True, exist_ok=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results["command"] = "gridcc bench live " + " ".join(argv)
    with tempfile.TemporaryDirectory(prefix="bench-live-", dir=args.tmp) as folder:
        start = time.perf_counter()
        copy = copy_store(settings, Path(folder))
        log.info("copied the store in %.0f s", time.perf_counter() - start)
        results.update(live_cases.live_cases(
            copy, screens=args.screens, rate=args.rate, seconds=args.seconds,
            refresh_seconds=args.refresh_seconds or args.seconds, variants=args.variants.split(","),
            threads=args.threads, districts_share=args.district_share, folder=Path(folder), port_fn=free_port,
            save=lambda partial: args.out.write_text(json.dumps({**results, **partial}, indent=2, default=str))))
    args.out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(live_cases.markdown(results))
    return 0


def heat_main(argv: list[str]) -> int:
    """Run the heat-layer benchmark (issue 5 §2) read-only on the bench store and print its table."""
    from bench import heat_cases

    parser = argparse.ArgumentParser(prog="gridcc bench heat", description=heat_cases.__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="events in the bench store (default 10 M)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--store", type=Path, default=None, help="DuckDB file (default data/bench-<events>.duckdb)")
    parser.add_argument("--reps", type=int, default=20, help="runs of each case")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "heat.json")
    args = parser.parse_args(argv)
    settings, results = _start(args)
    # The store itself, read-only (nothing is written): an older store must be upgraded first, by
    # opening it once read-write (gridcc serve, or dashboard.store.init_schema), which fills events.h3.
    results.update(heat_cases.heat_cases(settings.store_url.split("///", 1)[1], reps=args.reps,
                                         memory_limit=settings.duckdb_memory_limit, threads=settings.duckdb_threads))
    results["command"] = "gridcc bench heat " + " ".join(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(heat_cases.markdown(results))
    return 0


def _start(args) -> tuple:
    """Return the bench store's settings (seeding it on first use) and the results' header."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    store = args.store or ROOT / "data" / f"bench-{args.events}.duckdb"
    settings = ensure_store(store, args.events, args.seed)
    results: dict = {
        "date": datetime.now().isoformat(timespec="minutes"), "events": args.events,
        "machine": f"{platform.node()} · {os.cpu_count()} cores · {platform.python_version()}",
    }
    return settings, results


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["ingest"]:
        return ingest_main(argv[1:])
    if argv[:1] == ["access"]:
        return access_main(argv[1:])
    if argv[:1] == ["heat"]:
        return heat_main(argv[1:])
    if argv[:1] == ["live"]:
        return live_main(argv[1:])
    if argv[:1] == ["backlog"]:  # the backlog desk (bench/backlog_cases.py)
        from bench import backlog_cases

        return backlog_cases.main(argv[1:], start=_start, root=ROOT)
    if argv[:1] == ["sla"]:  # the SLA page's loaders (bench/sla_cases.py)
        from bench import sla_cases

        return sla_cases.main(argv[1:], start=_start, root=ROOT)
    if argv[:1] == ["wall"]:  # the wall left running (bench/wall_soak.py)
        from bench import wall_soak

        return wall_soak.main(argv[1:])
    if argv[:1] == ["rankings"]:  # the rankings (bench/rank_cases.py)
        from bench import rank_cases

        return rank_cases.main(argv[1:], start=_start, root=ROOT)
    parser = argparse.ArgumentParser(prog="gridcc bench", description=__doc__.splitlines()[0],
                                     epilog="The other benchmarks: gridcc bench ingest --help, gridcc bench access --help, "
                                            "gridcc bench heat --help, gridcc bench live --help.")
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--store", type=Path, default=None, help="DuckDB file (default data/bench-<events>.duckdb)")
    parser.add_argument("--reps", type=int, default=40)
    parser.add_argument("--no-naive", action="store_true", help="skip the pandas baseline")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium drill timing")
    parser.add_argument("--tmp", type=Path, default=ROOT / "data", help="folder for the server's copy of the store")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "overview.json")
    args = parser.parse_args(argv)
    settings, results = _start(args)
    results["callbacks"] = overview_cases.callback_cases(settings, args.reps)
    gc.collect()
    results["server"] = serve_and_measure(settings, max(10, args.reps // 2), browser=not args.no_browser,
                                          tmp=args.tmp)
    if not args.no_naive:
        results["naive"] = overview_cases.naive_cases(settings, max(5, args.reps // 4))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(overview_cases.markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

