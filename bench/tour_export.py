"""Time a 10-slide tour exported to PDF and to PPTX by a real server on a copy of the demo store.

    flock /tmp/gridcc-bench.lock python -m bench.tour_export data/demo.duckdb /tmp/tour-export-bench [--reps 2]

Copies the store (and its WAL) into the folder (the original is never opened), adds a 10-slide tour of the
demo city leader's (overview, SLA and rankings views of the city and two districts) frozen at the store's data
time, serves the copy with ``gridcc serve`` (waitress, 16 threads) with the clock frozen there too, signs in
through the form as a person does, then times GET /tours/<id>/export.pdf and .pptx end to end (the server's
Chromium photographing ten views, the figures, the document). Prints one JSON line per export and a summary;
deletes the copy unless --keep.
"""
from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USER, PASSWORD = "demo-leader", "gridcc-demo-2026"


def _slides(districts: list[str]) -> list[tuple[str, str, str]]:
    one, two = districts[0], districts[1]
    return [("全市综合态势", "/", ""), (f"{one} 综合态势", "/", f"area={one}"),
            (f"{two} 超期分布", "/", f"area={two}&metric=overdue"), ("全市按期率", "/sla", ""),
            (f"{one} 按期率（7日）", "/sla", f"area={one}&period=7d"), (f"{two} 按期率", "/sla", f"area={two}"),
            ("区县排名", "/rankings", "level=district"), ("街道排名", "/rankings", "level=street"),
            ("部门排名", "/rankings", "level=department"), (f"{one} 街道排名", "/rankings", f"level=street&area={one}")]


def prepare(store: Path) -> tuple[int, datetime]:
    """Add the tour to the copied store; return its id and the cut-off (the store's data time, to the minute)."""
    from sqlalchemy import select

    from dashboard.settings import Settings
    from dashboard.store import init_schema, make_engine
    from queries import tours as tour_queries
    from queries.schema import areas, store_meta

    engine = make_engine(Settings(store_url=f"duckdb:///{store}"))
    init_schema(engine)  # a store from before the tours: their tables
    try:
        with engine.begin() as conn:
            as_of = datetime.fromisoformat(conn.execute(select(store_meta.c.value).where(
                store_meta.c.key == "state_as_of")).scalar()).replace(second=0, microsecond=0)
            districts = list(conn.execute(select(areas.c.code).where(areas.c.level == 1).order_by(areas.c.code)
                                          .limit(2)).scalars())
            tour_id = tour_queries.create(conn, owner=USER, title="基准：十页讲稿", as_of=as_of, now=as_of)
            for title, path, query in _slides(districts):
                tour_queries.add_slide(conn, owner=USER, tour_id=tour_id, title=title, note="基准测试", path=path,
                                       query=query, now=as_of)
    finally:
        engine.dispose()
    return tour_id, as_of


def audited(store: Path) -> list[str]:
    """Return the outcome and detail of each tour.export audit row of the copied store."""
    from dashboard.settings import Settings
    from dashboard.store import make_engine
    from queries import users as user_queries

    engine = make_engine(Settings(store_url=f"duckdb:///{store}"))
    try:
        with engine.connect() as conn:
            rows = user_queries.audit_rows(conn, since=datetime(2000, 1, 1), until=datetime(2100, 1, 1), limit=100_000)
    finally:
        engine.dispose()
    return [f"{r.outcome}: {r.detail}" for r in rows if r.action == "tour.export"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign_in(base: str) -> urllib.request.OpenerDirector:
    """Sign in through the form as the demo city leader; return an opener holding the session cookie."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(base + "/auth/sign-in", timeout=30).read()
    csrf = next(c.value for c in jar if c.name == "_csrf_token")
    form = urllib.parse.urlencode({"name": USER, "password": PASSWORD, "csrf_token": csrf, "next": "/"}).encode()
    opener.open(urllib.request.Request(base + "/auth/sign-in", data=form), timeout=60).read()
    if not any(c.name == "gridcc_session" for c in jar):
        raise RuntimeError("the sign-in was refused")
    return opener


def main(argv: list[str]) -> int:
    source, folder = Path(argv[0]), Path(argv[1])
    reps = int(argv[argv.index("--reps") + 1]) if "--reps" in argv else 1
    folder.mkdir(parents=True, exist_ok=True)
    store = folder / "gridcc.duckdb"
    shutil.copy(source, store)
    if source.with_suffix(source.suffix + ".wal").exists():
        shutil.copy(source.with_suffix(source.suffix + ".wal"), store.with_suffix(".duckdb.wal"))
    proc = None
    try:
        tour_id, as_of = prepare(store)
        port = _free_port()
        env = dict(os.environ, GRIDCC_STORE=f"duckdb:///{store}", GRIDCC_NOW=as_of.isoformat(),
                   GRIDCC_DATA_DIR=str(folder))
        proc = subprocess.Popen([sys.executable, "-m", "dashboard", "serve", "--port", str(port)], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        for _ in range(240):
            try:
                urllib.request.urlopen(base + "/auth/sign-in", timeout=2).read()
                break
            except OSError:
                time.sleep(0.25)
        else:
            raise RuntimeError("the server did not start within 60 s")
        opener = sign_in(base)
        results: dict[str, list[float]] = {"pdf": [], "pptx": []}
        for rep in range(reps):
            for fmt in ("pdf", "pptx"):
                started = time.perf_counter()
                with opener.open(f"{base}/tours/{tour_id}/export.{fmt}?lang=zh", timeout=900) as answer:
                    body = answer.read()
                    status = answer.status
                seconds = time.perf_counter() - started
                results[fmt].append(seconds)
                if "--keep" in argv:
                    (folder / f"tour-{rep}.{fmt}").write_bytes(body)
                print(json.dumps({"format": fmt, "rep": rep, "slides": 10, "status": status, "seconds": round(seconds, 1),
                                  "bytes": len(body), "load_1m": os.getloadavg()[0]}), flush=True)
        print(json.dumps({"store": str(source), "as_of": as_of.isoformat(), "cores": os.cpu_count(),
                          **{f"{fmt}_s": [round(s, 1) for s in times] for fmt, times in results.items()},
                          **{f"{fmt}_s_per_slide": round(min(times) / 10, 2) for fmt, times in results.items()}}))
        proc.terminate()
        proc.wait(timeout=30)
        proc = None
        for row in audited(store):  # which slides failed, if any, and the server's own count of seconds
            print(json.dumps({"audit": row}, ensure_ascii=False))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        if "--keep" not in argv:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
