"""The live-push benchmark `gridcc bench live` runs (issue 5 §4): many screens, one server, a steady write rate.

Three processes on this one machine, all stamping times with ``time.monotonic()`` (CLOCK_MONOTONIC,
one clock for the whole host):
- the server: ``python -m dashboard serve --threads 16`` on a throw-away copy of the bench store, with
  the real clock (no GRIDCC_NOW: new reports must be within minutes of the server's now); its memory
  (VmRSS, VmHWM) and CPU time (utime + stime) are read from /proc/<pid>/ twice a second;
- the screens (``python -m bench.live_cases client PLAN``): one asyncio process with raw sockets, one
  connection per screen on ``GET /api/v1/live/stream`` (HTTP/1.1, chunked, parsed by hand) and, in the
  "push + refresh" variant, a second keep-alive connection per screen for ``GET /api/v1/areas/{code}``,
  like a browser's own pool. One event loop costs far less CPU than 200 threads contending for the GIL,
  and every CPU cycle the client spends is one the server (sharing the 2 cores) does not get; the
  loop's own lag is measured and reported so a slow client cannot pass for a slow server. A stream
  that ends or fails reconnects after the server's ``retry:`` with ``?v=<last v>``, as EventSource does;
- the writer (this process): one POST of one new report to ``/api/v1/events`` every 1/rate s, on a
  fixed schedule (a pool of threads, so one slow answer does not delay the next send), at random
  buildings of random grids of the city (read from the store before the server opens it).

The version a POST made: every POST bumps the data version by exactly one and nothing else writes, so
the versions start+1 … start+n are the n POSTs in commit order — which, with POSTs overlapping, need
not be the order of their answers. The order of the event ids the answers carry is the commit order
(ids come from one sequence drawn under the store's one write lock), so the k-th smallest id made
version start+k; the bench checks that the version moved by exactly the POSTs that succeeded. (Without
ids it falls back to an upper bound: start + successful POSTs sent before the answer arrived.)

Push latency of POST j at screen s: the arrival of s's first message (hello or change) with v ≥ j's
version, minus the arrival of j's 2xx (negative when the push beat the POST's own answer). Refresh
latency (variant 2), only for the (screen, POST) pairs whose grid lies in the screen's scope: the
arrival of the first figures answer requested after a message with v ≥ j's version, minus j's 2xx.
"""
from __future__ import annotations

import asyncio
import random
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from bench.stats import percentile

ROOT = Path(__file__).resolve().parent.parent
REFRESH_JITTER_S = 0.3
REFRESH_GAP_S = 1.0  # a screen refreshes its figures at most once a second
SETTLE_S = 3.0  # after the last POST, how long the screens keep listening for the tail
REQUEST_TIMEOUT_S = 30.0
OVERRUN_S = 30.0  # the writer gives up on POSTs this far behind their schedule (an overloaded server)


# -- the store, before the server opens it ---------------------------------------------------------------
def prepare(settings, *, districts_share: float, seed: int) -> dict:
    """Add the tokens (a writer, the city, one per district) and read the city's buildings; return the plan's base."""
    import numpy as np

    from bench.access_cases import city_code, create_bench_token
    from dashboard import access
    from dashboard.seed.catalogue import SOURCE_SHARE, category_mix
    from dashboard.seed.events import SOURCE_PHRASE
    from dashboard.store import init_schema, make_engine
    from queries import areas as area_queries
    from queries import simulation as q
    from queries.schema import SOURCES, DISTRICT
    from queries.scope import Scope
    import pandas as pd

    engine = make_engine(settings)
    try:
        init_schema(engine)
        with engine.begin() as conn:
            now = settings.now()
            city = city_code(conn)
            city_scope = access.scope_of(conn, "area", city)
            districts = [a.code for a in area_queries.child_areas(conn, scope=city_scope, code=city)]
            writer = create_bench_token(conn, now=now, name="bench-live-writer")
            city_token = create_bench_token(conn, now=now, name="bench-live-city", scope_code=city)
            district_tokens = {d: create_bench_token(conn, now=now, name=f"bench-live-{d}", scope_code=d)
                               for d in districts}
            prefixes = {d: Scope(d, DISTRICT).prefix for d in districts}
            places = q.places(conn, scope=city_scope)
            cats = q.category_limits(conn)
    finally:
        engine.dispose()
    by_grid: dict[str, list[int]] = {}
    for i, p in enumerate(places):
        by_grid.setdefault(p.grid_code, []).append(i)
    codes = [c.code for c in cats]
    mix = category_mix(pd.DataFrame({"code": codes, "class_code": [c.class_code for c in cats]}))
    share = np.array([SOURCE_SHARE[s] for s in SOURCES])
    return {"city": city, "districts": districts, "prefixes": prefixes, "writer": writer,
            "city_token": city_token, "district_tokens": district_tokens, "districts_share": districts_share,
            "places": [(p.grid_code, p.lat, p.lon) for p in places], "by_grid": by_grid,
            "codes": codes, "names": [c.name for c in cats], "mix": mix, "sources": list(SOURCES), "share": share,
            "phrase": SOURCE_PHRASE, "rng": np.random.default_rng(seed)}


def screens_plan(base: dict, n: int) -> list[dict]:
    """Return ``n`` screens: a share on district tokens (round-robin over the districts), the rest on the city's."""
    out = []
    share = base["districts_share"] if base["districts"] else 0.0
    n_district = 0
    for i in range(n):
        if int((i + 1) * share) > int(i * share):  # spread evenly: every other screen at a share of 0.5
            d = base["districts"][n_district % len(base["districts"])]
            n_district += 1
            out.append({"id": i, "kind": "district", "code": d, "prefix": base["prefixes"][d],
                        "token": base["district_tokens"][d]})
        else:
            out.append({"id": i, "kind": "city", "code": base["city"], "prefix": "", "token": base["city_token"]})
    return out


def make_posts(base: dict, n: int, run: str) -> list[dict]:
    """Return ``n`` new reports (reported_at filled in at send time): random grids, a random building in each."""
    rng = base["rng"]
    grids = list(base["by_grid"])
    out = []
    for j in range(n):
        grid = grids[int(rng.integers(len(grids)))]
        members = base["by_grid"][grid]
        code, lat, lon = base["places"][members[int(rng.integers(len(members)))]]
        src = int(rng.choice(len(base["sources"]), p=base["share"]))
        cat = int(rng.choice(len(base["codes"]), p=base["mix"][src]))
        source = base["sources"][src]
        out.append({"grid": code, "body": {
            "id": f"live-{run}-{j:06d}", "source": source, "category": base["codes"][cat],
            "lat": float(lat), "lon": float(lon), "description": f"{base['phrase'][source]}：{base['names'][cat]}",
            **({"reporter": "139****0000"} if source in ("hotline", "citizen") else {})}})
    return out


# -- the server ----------------------------------------------------------------------------------------------
def _proc_fields(pid: int) -> dict:
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return {"rss_mb": int(fields["VmRSS"].split()[0]) / 1024, "hwm_mb": int(fields["VmHWM"].split()[0]) / 1024,
            "cpu_s": (int(stat[11]) + int(stat[12])) / tick, "threads": int(fields["Threads"])}


def machine_cpu() -> tuple[float, float]:
    """Return the whole machine's (busy, total) CPU seconds so far (/proc/stat), over all cores."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / tick, sum(fields[:8]) / tick


class Monitor(threading.Thread):
    """Samples a process's memory, CPU time and threads twice a second."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.samples, self._halt = pid, [], threading.Event()

    def run(self):
        while not self._halt.is_set():
            try:
                self.samples.append((time.monotonic(), _proc_fields(self.pid)))
            except (OSError, ValueError, IndexError):
                return
            self._halt.wait(0.5)

    def stop(self):
        self._halt.set()
        self.join(timeout=5)


def start_server(store_url: str, port: int, threads: int, log_path: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("GRIDCC_NOW", "GRIDCC_STORE")}
    with open(log_path, "ab") as log_file:
        return subprocess.Popen([sys.executable, "-m", "dashboard", "serve", "--store", store_url, "--port", str(port),
                                 "--threads", str(threads)], env=env, cwd=ROOT, stdout=log_file, stderr=log_file)


def wait_ready(base_url: str, token: str, proc: subprocess.Popen, seconds: float = 300) -> float:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before answering")
        try:
            _get(base_url + "/api/v1/areas", token, timeout=5)
            return time.monotonic() - start
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the server did not answer /api/v1/areas within {seconds:.0f} s")


def _get(url: str, token: str, timeout: float = 30) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    return urllib.request.urlopen(request, timeout=timeout).read()


# -- the writer ----------------------------------------------------------------------------------------------
def post_events(host: str, port: int, token: str, posts: list[dict], rate: float, tz, workers: int = 64) -> dict:
    """POST ``posts`` one by one at ``rate`` per second on a fixed schedule; return each one's times and status.

    Open loop: up to ``workers`` POSTs in flight, so a slow server does not slow the offered rate (50
    independent sources do not wait for each other); past OVERRUN_S behind schedule the rest are not sent.
    """
    import http.client
    import queue

    todo: queue.Queue = queue.Queue()
    local = threading.local()
    results: list[dict | None] = [None] * len(posts)
    inflight = [0, 0]  # now, max
    lock = threading.Lock()

    def worker():
        while True:
            item = todo.get()
            if item is None:
                return
            j, due = item
            if time.monotonic() > cutoff:  # the server fell this far behind: stop, and say so
                results[j] = {"due": due, "sent": None, "answered": None, "status": None, "grid": posts[j]["grid"],
                              "error": f"not sent: more than {OVERRUN_S:.0f} s behind the schedule"}
                continue
            body = dict(posts[j]["body"])
            body["reported_at"] = (datetime.now(tz) - timedelta(seconds=60)).isoformat(timespec="seconds")
            data = json.dumps(body).encode()
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            with lock:
                inflight[0] += 1
                inflight[1] = max(inflight[1], inflight[0])
            sent = time.monotonic()
            status, error, event_id, data_version = None, None, None, None
            for attempt in (1, 2):
                try:
                    if getattr(local, "conn", None) is None:
                        local.conn = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT_S)
                    local.conn.request("POST", "/api/v1/events", body=data, headers=headers)
                    response = local.conn.getresponse()
                    text = response.read()
                    status = response.status
                    if status >= 300:
                        error = text[:300].decode("utf-8", "replace")
                    else:
                        answer = json.loads(text)
                        event_id = answer["events"][0]["event_id"]
                        data_version = answer.get("data_version")
                    break
                except (OSError, http.client.HTTPException) as exc:  # a dropped keep-alive: once more, fresh
                    local.conn = None
                    error = repr(exc)
                    if attempt == 2:
                        break
            answered = time.monotonic()
            with lock:
                inflight[0] -= 1
            results[j] = {"due": due, "sent": sent, "answered": answered, "status": status, "error": error,
                          "grid": posts[j]["grid"], "event_id": event_id, "data_version": data_version}

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for t in threads:
        t.start()
    t0 = time.monotonic() + 0.2
    cutoff = t0 + len(posts) / rate + OVERRUN_S
    for j in range(len(posts)):
        due = t0 + j / rate
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        todo.put((j, due))
    for _ in threads:
        todo.put(None)
    for t in threads:
        t.join()
    return {"t0": t0, "posts": results, "max_inflight": inflight[1]}


# -- the screens (the client process) -------------------------------------------------------------------------
class Screen:
    def __init__(self, spec: dict):
        self.spec = spec
        self.messages: list[tuple[float, int, str, int]] = []  # (arrival, v, event, areas named)
        self.refreshes: list[tuple[int, float, float, int | None]] = []  # (v asked for, start, end, status)
        self.errors: list[str] = []
        self.disconnects = 0
        self.connects = 0
        self.last_v: int | None = None
        self.pending_v: int | None = None
        self.wake = asyncio.Event()
        self.hello = asyncio.Event()


async def _read_head(reader) -> tuple[int, dict]:
    line = await reader.readline()
    if not line:
        raise ConnectionError("closed before the status line")
    status = int(line.split()[1])
    headers = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        k, _, v = line.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers


async def _read_body(reader, headers) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        out = bytearray()
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return bytes(out)
            out += chunk[:-2]
    return await reader.readexactly(int(headers.get("content-length", 0)))


async def stream_screen(screen: Screen, host: str, port: int, stop: asyncio.Event) -> None:
    """Hold the screen's stream open; on its end or failure, reconnect after ``retry`` with ``?v=last``."""
    token = screen.spec["token"]
    retry = 1.5
    while not stop.is_set():
        writer = None
        try:
            reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
            path = "/api/v1/live/stream" + (f"?v={screen.last_v}" if screen.last_v is not None else "")
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                         f"Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n".encode())
            status, headers = await _read_head(reader)
            if status != 200:
                body = await _read_body(reader, headers)
                screen.errors.append(f"stream {status}: {body[:200]!r}")
                raise ConnectionError(f"status {status}")
            chunked = headers.get("transfer-encoding", "").lower() == "chunked"
            screen.connects += 1
            buffer = b""
            while True:
                if chunked:
                    size = int((await reader.readline()).split(b";")[0], 16)
                    if size == 0:
                        raise ConnectionError("the stream ended")
                    data = (await reader.readexactly(size + 2))[:-2]
                else:
                    data = await reader.read(65536)
                    if not data:
                        raise ConnectionError("the stream ended")
                arrived = time.monotonic()
                buffer += data
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    event, body = "message", None
                    for line in block.decode().split("\n"):
                        if line.startswith("event:"):
                            event = line[6:].strip()
                        elif line.startswith("data:"):
                            body = line[5:].strip()
                        elif line.startswith("retry:"):
                            retry = int(line[6:].strip()) / 1000
                    if body is None:
                        continue
                    msg = json.loads(body)
                    v = msg.get("v")
                    areas = msg.get("areas") or []
                    screen.messages.append((arrived, v, event, len(areas)))
                    if isinstance(v, int):
                        screen.last_v = v
                    if event == "hello":
                        screen.hello.set()
                    if event in ("hello", "change") and areas and isinstance(v, int):
                        screen.pending_v = v
                        screen.wake.set()
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
            if stop.is_set():
                break
            screen.disconnects += 1
            screen.errors.append(f"stream: {exc!r}"[:200])
        finally:
            if writer is not None:
                writer.close()
        if not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), retry)
            except asyncio.TimeoutError:
                pass


async def refresh_screen(screen: Screen, host: str, port: int, stop: asyncio.Event, after: asyncio.Event) -> None:
    """Fetch the screen's figures after each message naming an area, at most once a second (keep-alive)."""
    token = screen.spec["token"]
    path = f"/api/v1/areas/{screen.spec['code']}"
    reader = writer = None
    last_start = -1e9
    await after.wait()
    while not stop.is_set():
        await screen.wake.wait()
        screen.wake.clear()
        gap = last_start + REFRESH_GAP_S - time.monotonic()
        # As the page does (assets/gridcc-live.js): at most once a second, after a random 0-300 ms.
        await asyncio.sleep(max(gap, 0) + random.random() * REFRESH_JITTER_S)
        v = screen.pending_v
        start = last_start = time.monotonic()
        status = None
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port, limit=1 << 22)
            # ?v=: an answer at least as new as the version this screen was told of will do (shared by screens).
            target = path if v is None else f"{path}?v={int(v)}"
            writer.write(f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                         f"Accept: application/json\r\n\r\n".encode())
            status, headers = await asyncio.wait_for(_read_head(reader), REQUEST_TIMEOUT_S)
            await asyncio.wait_for(_read_body(reader, headers), REQUEST_TIMEOUT_S)
            if status != 200:
                screen.errors.append(f"refresh {status}")
            if headers.get("connection", "").lower() == "close":
                writer.close()
                writer = None
        except (OSError, ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as exc:
            screen.errors.append(f"refresh: {exc!r}"[:200])
            if writer is not None:
                writer.close()
            writer = None
        screen.refreshes.append((v, start, time.monotonic(), status))


async def _lag(stop: asyncio.Event, out: list[float]) -> None:
    while not stop.is_set():
        t = time.monotonic()
        await asyncio.sleep(0.1)
        out.append((time.monotonic() - t - 0.1) * 1000)


async def client_main_async(plan: dict) -> dict:
    host, port = plan["host"], plan["port"]
    screens = [Screen(spec) for spec in plan["screens"]]
    stop, go_refresh = asyncio.Event(), asyncio.Event()
    lags: list[float] = []
    tasks = [asyncio.create_task(_lag(stop, lags))]
    for screen in screens:
        tasks.append(asyncio.create_task(stream_screen(screen, host, port, stop)))
        if plan["refresh"]:
            tasks.append(asyncio.create_task(refresh_screen(screen, host, port, stop, go_refresh)))
        await asyncio.sleep(plan.get("stagger_s", 0.01))
    try:
        await asyncio.wait_for(asyncio.gather(*(s.hello.wait() for s in screens)), 120)
    except asyncio.TimeoutError:
        pass
    ready = sum(s.hello.is_set() for s in screens)
    print(f"READY {ready}", flush=True)
    go_refresh.set()
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)  # the writer says when to stop
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    times = os.times()
    return {"ready": ready, "loop_lag_ms": lags, "cpu_s": times.user + times.system,
            "screens": [{"spec": {k: v for k, v in s.spec.items() if k != "token"}, "messages": s.messages,
                         "refreshes": s.refreshes, "errors": s.errors, "disconnects": s.disconnects,
                         "connects": s.connects} for s in screens]}


def client_main(plan_path: str) -> int:
    plan = json.loads(Path(plan_path).read_text())
    out = asyncio.run(client_main_async(plan))
    Path(plan["out"]).write_text(json.dumps(out))
    print("DONE", flush=True)
    return 0


# -- one run ------------------------------------------------------------------------------------------------
def run_variant(*, name: str, store_url: str, base: dict, screens: int, rate: float, seconds: float, refresh: bool,
                threads: int, folder: Path, tz, port: int) -> dict:
    """Start the server, connect the screens, post for ``seconds``, stop everything; return the figures."""
    host = "127.0.0.1"
    url = f"http://{host}:{port}"
    log_path = folder / f"server-{name}.log"
    proc = start_server(store_url, port, threads, log_path)
    client = None
    try:
        startup_s = wait_ready(url, base["writer"], proc)
        time.sleep(2)  # let the start-up settle before the first sample
        at_start = _proc_fields(proc.pid)
        monitor = Monitor(proc.pid)
        monitor.start()
        plan = {"host": host, "port": port, "refresh": refresh, "screens": screens_plan(base, screens),
                "out": str(folder / f"client-{name}.json"), "stagger_s": 0.01}
        plan_path = folder / f"plan-{name}.json"
        plan_path.write_text(json.dumps(plan))
        client = subprocess.Popen([sys.executable, "-m", "bench.live_cases", "client", str(plan_path)], cwd=ROOT,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = client.stdout.readline().strip()
        if not line.startswith("READY"):
            raise RuntimeError(f"the screens' process said {line!r}")
        ready = int(line.split()[1])
        time.sleep(1)
        connected = _proc_fields(proc.pid)
        start_v = json.loads(_get(url + "/api/v1/live/poll?wait=0", base["writer"]))["v"]
        posts = make_posts(base, int(rate * seconds), f"{name}-{time.time_ns()}")
        cpu_before = _proc_fields(proc.pid)["cpu_s"]
        busy_before, total_before = machine_cpu()
        wall = time.monotonic()
        written = post_events(host, port, base["writer"], posts, rate, tz)
        post_wall = time.monotonic() - wall
        cpu_posting = _proc_fields(proc.pid)["cpu_s"] - cpu_before
        busy_after, total_after = machine_cpu()
        machine = {"busy_cores": round((busy_after - busy_before) / post_wall, 2),
                   "cores": os.cpu_count(), "loadavg_1m_after": float(Path("/proc/loadavg").read_text().split()[0])}
        time.sleep(SETTLE_S)
        client.stdin.write("stop\n")
        client.stdin.flush()
        done = client.stdout.readline().strip()
        client.wait(timeout=60)
        if done != "DONE":
            raise RuntimeError(f"the screens' process ended with {done!r}")
        end_v = None  # read once the screens have let go of their connections (an overloaded server is slow)
        for _ in range(5):
            try:
                end_v = json.loads(_get(url + "/api/v1/live/poll?wait=0", base["writer"], timeout=60))["v"]
                break
            except OSError:
                time.sleep(5)
        monitor.stop()
        at_end = _proc_fields(proc.pid)
        screens_out = json.loads(Path(plan["out"]).read_text())
        server_errors = _log_errors(log_path)
        return analyse(name=name, written=written, screens_out=screens_out, start_v=start_v, end_v=end_v,
                       monitor=monitor.samples, at_start=at_start, connected=connected, at_end=at_end,
                       cpu_posting=cpu_posting, post_wall=post_wall, startup_s=startup_s, refresh=refresh,
                       ready=ready, rate=rate, seconds=seconds, n_screens=screens, server_errors=server_errors,
                       machine=machine)
    finally:
        if client is not None and client.poll() is None:
            client.kill()
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _log_errors(path: Path) -> dict:
    """Summarise the server's log: waitress's task-queue and connection-limit warnings, and anything else."""
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    depths = [int(ln.rsplit(" ", 1)[1]) for ln in lines if "Task queue depth is" in ln]
    return {"queue_depth_warnings": len(depths), "max_queue_depth": max(depths, default=0),
            "connection_limit_hits": sum("reached the connection limit" in ln for ln in lines),
            "other": [ln[:300] for ln in lines if ("Traceback" in ln or "ERROR" in ln or "WARNING" in ln)
                      and "Task queue depth" not in ln and "connection limit" not in ln][:20]}


def _stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {"p50": round(percentile(values, 0.5), 1), "p95": round(percentile(values, 0.95), 1),
            "p99": round(percentile(values, 0.99), 1), "max": round(max(values), 1), "n": len(values)}


def analyse(*, name, written, screens_out, start_v, end_v, monitor, at_start, connected, at_end, cpu_posting,
            post_wall, startup_s, refresh, ready, rate, seconds, n_screens, server_errors, machine) -> dict:
    import bisect

    posts = written["posts"]
    for p in posts:
        p["ok"] = p["status"] is not None and 200 <= p["status"] < 300
    ok = [p for p in posts if p["ok"]]
    if ok and all(isinstance(p.get("data_version"), int) for p in ok):
        # Exact: the POST's answer says which data version its write made (group commit writes several
        # requests in one version, so the k-th POST is no longer version start + k).
        for p in ok:
            p["version"] = p["data_version"]
        mapping = "the data version each POST answered (exact)"
    elif ok and all(p.get("event_id") is not None for p in ok):
        # Exact without group commit: event ids come from one sequence, drawn under the store's one write lock, so their
        # order is the commit order, which is the order of the versions.
        for rank, p in enumerate(sorted(ok, key=lambda p: int(p["event_id"])), start=1):
            p["version"] = start_v + rank
        mapping = "event id order (exact)"
    else:
        sent_ok = sorted(p["sent"] for p in ok)
        for p in ok:  # the highest version this POST can have made (exact with one POST in flight)
            p["version"] = start_v + bisect.bisect_right(sent_ok, p["answered"])
        mapping = "upper bound from send/answer times"
    post_ms = [(p["answered"] - p["sent"]) * 1000 for p in ok]
    late_ms = [(p["sent"] - p["due"]) * 1000 for p in posts if p["sent"] is not None]
    push, push_sent, refresh_ms, missing, missing_refresh = [], [], [], 0, 0
    disconnects = reconnected = 0
    stream_errors: Counter = Counter()
    refresh_errors: Counter = Counter()
    for s in screens_out["screens"]:
        msgs = [m for m in s["messages"] if isinstance(m[1], int)]
        times = [m[0] for m in msgs]
        # v is non-decreasing along a stream (and across its reconnects): a running max keeps it so
        vmax, running = -1, []
        for m in msgs:
            vmax = max(vmax, m[1])
            running.append(vmax)
        refreshes = sorted((r for r in s["refreshes"] if r[3] == 200 and r[0] is not None), key=lambda r: r[1])
        rmax, rrun = -1, []
        for r in refreshes:
            rmax = max(rmax, r[0])
            rrun.append(rmax)
        prefix = s["spec"]["prefix"]
        for p in ok:
            i = bisect.bisect_left(running, p["version"])
            if i == len(running):
                missing += 1
            else:
                push.append((times[i] - p["answered"]) * 1000)
                push_sent.append((times[i] - p["sent"]) * 1000)
            if refresh and p["grid"].startswith(prefix):
                k = bisect.bisect_left(rrun, p["version"])
                if k == len(rrun):
                    missing_refresh += 1
                else:
                    refresh_ms.append((refreshes[k][2] - p["answered"]) * 1000)
        disconnects += s["disconnects"]
        reconnected += max(0, s["connects"] - 1)
        for e in s["errors"]:
            (refresh_errors if e.startswith("refresh") else stream_errors)[e.split(":")[0][:60]] += 1
    n_refresh = sum(len(s["refreshes"]) for s in screens_out["screens"])
    rss = [f["rss_mb"] for _, f in monitor] or [at_end["rss_mb"]]
    threads = [f["threads"] for _, f in monitor] or [at_end["threads"]]
    lag = screens_out["loop_lag_ms"]
    kinds = Counter(s["spec"]["kind"] for s in screens_out["screens"])
    return {
        "variant": name, "screens": n_screens, "screens_ready": ready, "scopes": dict(kinds), "rate": rate,
        "seconds": seconds, "posts": len(posts), "posts_ok": len(ok),
        "post_errors": Counter(str(p["status"]) for p in posts if not p["ok"]),
        "post_error_samples": [p["error"] for p in posts if not p["ok"]][:5],
        "achieved_rate": round(len(ok) / post_wall, 1), "post_wall_s": round(post_wall, 1), "post_ms": _stats(post_ms),
        "post_late_ms": _stats(late_ms),
        "max_inflight": written["max_inflight"],
        "version_mapping": mapping, "versions": {"start": start_v, "end": end_v, "moved": None if end_v is None else end_v - start_v,
                     "expected": len(ok), "distinct_in_answers": len({p.get("data_version") for p in ok})},
        "push_ms": _stats(push), "push_from_send_ms": _stats(push_sent), "push_missing": missing,
        "push_pairs": len(push), "negative_push": sum(1 for x in push if x < 0),
        "refresh_ms": _stats(refresh_ms) if refresh else None, "refresh_missing": missing_refresh if refresh else None,
        "refreshes": n_refresh, "refresh_rate": round(n_refresh / (seconds + SETTLE_S), 1) if refresh else None,
        "refresh_errors": dict(refresh_errors), "stream_errors": dict(stream_errors),
        "disconnects": disconnects, "reconnected": reconnected,
        "server": {"startup_s": round(startup_s, 1), "rss_start_mb": round(at_start["rss_mb"]),
                   "rss_connected_mb": round(connected["rss_mb"]), "rss_peak_mb": round(max(rss)),
                   "rss_end_mb": round(at_end["rss_mb"]), "hwm_mb": round(at_end["hwm_mb"]),
                   "threads_peak": max(threads), "cpu_s_while_posting": round(cpu_posting, 1),
                   "cpu_cores_while_posting": round(cpu_posting / post_wall, 2), "log_problems": server_errors},
        "client": {"cpu_s": round(screens_out["cpu_s"], 1), "loop_lag_ms": _stats(lag)},
        "machine_while_posting": machine,
    }


def live_cases(settings, *, screens: int, rate: float, seconds: float, refresh_seconds: float, variants: list[str],
               threads: int, districts_share: float, folder: Path, port_fn, save=None) -> dict:
    """Prepare the copy once, then run each variant on a fresh server process; return the figures."""
    base = prepare(settings, districts_share=districts_share, seed=7)
    out = {"screens": screens, "rate": rate, "threads": threads, "store_url": settings.store_url.split("/")[-1],
           "districts": len(base["districts"]), "grids": len(base["by_grid"]), "variants": {}}
    for name in variants:
        refresh = name == "refresh"
        try:
            out["variants"][name] = run_variant(
                name=name, store_url=settings.store_url, base=base, screens=screens, rate=rate,
                seconds=refresh_seconds if refresh else seconds, refresh=refresh, threads=threads, folder=folder,
                tz=settings.tz, port=port_fn())
        except Exception as exc:  # one variant failing must not lose the others' figures
            import traceback

            traceback.print_exc()
            out["failed"] = {**out.get("failed", {}), name: repr(exc)}
        if save is not None:
            save(out)
    return out


def markdown(results: dict) -> str:
    lines = [f"(failed: {results['failed']})", ""] if results.get("failed") else []
    lines += [f"Live push: {results['screens']} screens, {results['rate']:g} events/s, server `--threads "
             f"{results['threads']}` ({results['machine']}, {results['events']:,} events)", "",
             "| | " + " | ".join(results["variants"]) + " |", "|---|" + "---|" * len(results["variants"])]

    def row(label, fn):
        cells = []
        for r in results["variants"].values():
            try:
                cells.append(fn(r))
            except (KeyError, TypeError):
                cells.append("—")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    def pct(s):
        return f"{s['p50']:.0f} / {s['p95']:.0f} / {s['p99']:.0f} / {s['max']:.0f}" if s and s.get("n") else "—"

    row("screens connected (city + district)", lambda r: f"{r['screens_ready']}/{r['screens']} "
        f"({r['scopes'].get('city', 0)} + {r['scopes'].get('district', 0)})")
    row("POSTs ok / scheduled; wall s; achieved rate", lambda r: f"{r['posts_ok']} / {r['posts']}; "
        f"{r['post_wall_s']:g} s; {r['achieved_rate']:g}/s")
    row("POST ms p50 / p95 (max in flight)", lambda r: f"{r['post_ms']['p50']:.0f} / {r['post_ms']['p95']:.0f} "
        f"({r['max_inflight']})")
    row("**push ms** after the POST's 2xx, p50 / p95 / p99 / max", lambda r: pct(r["push_ms"]))
    row("(screen, event) pairs; never pushed", lambda r: f"{r['push_pairs']:,}; {r['push_missing']}")
    row("refresh answer ms after the 2xx, p50 / p95 / p99 / max", lambda r: pct(r["refresh_ms"]))
    row("refreshes (per s); refresh pairs never served",
        lambda r: f"{r['refreshes']:,} ({r['refresh_rate']:g}/s); {r['refresh_missing']}" if r["refresh_ms"] else "—")
    row("errors: POST / stream / refresh", lambda r: f"{sum(r['post_errors'].values())} / "
        f"{sum(r['stream_errors'].values())} / {sum(r['refresh_errors'].values())}")
    row("disconnects; reconnected by themselves", lambda r: f"{r['disconnects']}; {r['reconnected']}")
    row("data version moved / POSTs ok (versions in the answers: group commit)",
        lambda r: f"{r['versions']['moved']} / {r['versions']['expected']} "
                  f"({r['versions'].get('distinct_in_answers', '—')})")
    row("server RSS MB: start / 200 connected / peak / end",
        lambda r: f"{r['server']['rss_start_mb']} / {r['server']['rss_connected_mb']} / {r['server']['rss_peak_mb']} "
        f"/ {r['server']['rss_end_mb']}")
    row("server CPU while posting (s; cores)", lambda r: f"{r['server']['cpu_s_while_posting']:g} s; "
        f"{r['server']['cpu_cores_while_posting']:g}")
    row("whole machine busy while posting (cores of 2; load avg 1 min)", lambda r: "{busy_cores:g}; {loadavg_1m_after:g}".format(**r["machine_while_posting"]))
    row("server threads (peak)", lambda r: str(r["server"]["threads_peak"]))
    row("client CPU s; event-loop lag ms p95 / max", lambda r: f"{r['client']['cpu_s']:g}; "
        f"{r['client']['loop_lag_ms']['p95']:.0f} / {r['client']['loop_lag_ms']['max']:.0f}")
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["client"]:
        sys.exit(client_main(sys.argv[2]))
    sys.exit("usage: python -m bench.live_cases client PLAN (or gridcc bench live)")
