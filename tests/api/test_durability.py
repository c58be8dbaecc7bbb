"""A real `gridcc serve` killed with SIGKILL mid-stream keeps every event it acknowledged, each once."""
from __future__ import annotations

import http.client
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dashboard.settings import Settings
from dashboard.store import make_engine
from queries.schema import event_log, events, open_events
from queries.tokens import create_token
from tests import handcity

REPO = Path(__file__).resolve().parents[2]
POSTERS = 3
ACKED_BEFORE_KILL = 40
START_TIMEOUT_S = 20


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def store(tmp_path) -> tuple[str, str]:
    """Return (store URL, API token) of a hand city in a DuckDB file no process holds open."""
    url = f"duckdb:///{tmp_path / 's.duckdb'}"
    engine = make_engine(Settings(store_url=url, data_dir=tmp_path))
    handcity.build_hand_city(engine)
    with engine.begin() as conn:
        token = create_token(conn, name="durability", now=handcity.NOW)
    engine.dispose()  # DuckDB files are single-process: the server must be the only one to open it
    return url, token


class Server:
    """A `gridcc serve` subprocess on ``url``; fails the test with its stderr if it does not come up.

    ``token`` is the API token its readiness probe reads with (every data route needs a caller).
    """

    def __init__(self, url: str, folder: Path, token: str):
        self.token = token
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.stderr_path = folder / f"serve-{self.port}.log"
        env = dict(os.environ, GRIDCC_NOW=handcity.NOW.isoformat(), GRIDCC_CACHE_TYPE="NullCache")
        with open(self.stderr_path, "wb") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "dashboard", "serve", "--store", url, "--port", str(self.port),
                 "--threads", "8"],
                cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        self._wait_ready()

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")[-4000:]

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"gridcc serve exited with {self.proc.returncode}:\n{self.stderr()}")
            try:
                probe = urllib.request.Request(f"{self.base}/api/v1/areas",
                                               headers={"Authorization": f"Bearer {self.token}"})
                with urllib.request.urlopen(probe, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.kill()
        pytest.fail(f"gridcc serve did not answer within {START_TIMEOUT_S} s:\n{self.stderr()}")

    def post(self, path: str, body, token: str, timeout: float = 10) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"{self.base}{path}", data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


def _record(external_id: str) -> dict:
    return {"id": external_id, "source": "hotline", "category": "0505", "reported_at": "2026-11-20T14:00:00+08:00",
            "lat": 31.1, "lon": 120.01, "description": f"durability {external_id}"}


class Stream:
    """Threads that post singles and batches of three until the server goes away."""

    def __init__(self, server: Server, token: str):
        self.server, self.token = server, token
        self.acked: list[tuple[str, str]] = []  # answered 2xx: must be stored
        self.unsure: list[tuple[str, str]] = []  # sent, no answer: stored at most once
        self.refused: list[tuple[int, dict]] = []
        self._numbers = itertools.count()
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(POSTERS)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=15)
            assert not thread.is_alive(), "a poster hung after the server was killed"

    def _run(self, worker: int) -> None:
        while True:
            with self._lock:
                n = next(self._numbers)
            size = 3 if n % 4 == 3 else 1
            keys = [("hotline", f"K{worker}-{n}-{i}") for i in range(size)]
            body = _record(keys[0][1]) if size == 1 else [_record(k) for _, k in keys]
            try:
                status, answer = self.server.post("/api/v1/events", body, self.token)
            # Refused, reset or cut off mid-answer (http.client.IncompleteRead is an HTTPException, not an OSError:
            # uncaught, it ended the thread and left its keys in neither list): the server is gone.
            except (OSError, ValueError, http.client.HTTPException):
                with self._lock:
                    self.unsure.extend(keys)
                return
            with self._lock:
                if 200 <= status < 300:
                    self.acked.extend((r["source"], r["id"]) for r in answer["events"])
                else:
                    self.refused.append((status, answer))
                    return


def _stored(url: str) -> tuple[dict[tuple[str, str], int], dict[int, int], set[int]]:
    """Return ({(source, id): copies}, {event id: report rows}, open event ids) of the posted events."""
    engine = make_engine(Settings(store_url=url))
    try:
        with engine.connect() as conn:
            copies = {(r.source, r.external_id): r.n for r in conn.execute(
                select(events.c.source, events.c.external_id, func.count().label("n"))
                .where(events.c.external_id.like("K%"))
                .group_by(events.c.source, events.c.external_id))}
            reports = dict(conn.execute(
                select(event_log.c.event_id, func.count()).where(event_log.c.action == "report",
                                                                 event_log.c.event_id > len(handcity.EVENTS))
                .group_by(event_log.c.event_id)).fetchall())
            opened = {r[0] for r in conn.execute(select(open_events.c.id).where(
                open_events.c.id > len(handcity.EVENTS)))}
            stored_ids = {r[0] for r in conn.execute(select(events.c.id).where(events.c.external_id.like("K%")))}
    finally:
        engine.dispose()
    assert set(reports) == stored_ids == opened, "an event without its log row or its open_events row"
    assert set(reports.values()) <= {1}
    return copies, reports, opened


def test_dur001_sigkill_loses_no_acknowledged_event(store, tmp_path):
    url, token = store
    server = Server(url, tmp_path, token)
    stream = Stream(server, token)
    try:
        stream.start()
        deadline = time.monotonic() + 15
        while len(stream.acked) < ACKED_BEFORE_KILL and time.monotonic() < deadline:
            if stream.refused:
                pytest.fail(f"the server refused a good event: {stream.refused[0]}\n{server.stderr()}")
            time.sleep(0.02)
        assert len(stream.acked) >= ACKED_BEFORE_KILL, f"too few acknowledged:\n{server.stderr()}"
        server.kill()  # SIGKILL while the posters are still sending
    finally:
        server.kill()
        stream.join()
    assert not stream.refused, stream.refused[:3]
    assert stream.unsure, "no request was cut off: the kill did not happen mid-stream"

    copies, _, _ = _stored(url)
    assert {key: copies.get(key, 0) for key in stream.acked} == {key: 1 for key in stream.acked}
    assert set(copies) <= set(stream.acked) | set(stream.unsure)  # nothing stored that was not sent
    assert set(copies.values()) == {1}

    # A restarted server knows every acknowledged event: sent again, each is stored already.
    again = Server(url, tmp_path, token)
    try:
        status, answer = again.post("/api/v1/events", [_record(k) for _, k in stream.acked], token, timeout=30)
    finally:
        again.kill()
    assert (status, answer["created"], answer["existing"]) == (200, 0, len(stream.acked))
