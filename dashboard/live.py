"""Live: tell every open screen within a second that the data changed, and where (issue 5 §1).

One ``Hub`` per app. The ingestor publishes a ``Change`` (the new data version, the grids touched)
right after each commit; a watcher thread also reads the store's version every second, so a write
made by another process (PostgreSQL) or by an area import reaches the screens too.

Screens listen on ``GET /api/v1/live/stream`` (server-sent events) or, when a proxy blocks or buffers
the stream, ``GET /api/v1/live/poll?v=N`` (a long poll). Both answer the same message::

    {"v": 1234, "at": "2026-11-23T09:15:02", "now": "…", "areas": ["329902001001001", …]}

``v`` is the data version, ``at`` the store's data time (state_as_of), ``now`` the server's clock (a
beat proves the screen is still connected); ``areas`` are the grid codes changed since the screen's
last message, only those inside the caller's scope — or ``["*"]`` for "anything may have changed"
(a write seen by the watcher, a screen that fell too far behind). The page decides from ``areas``
whether the area in view is affected; the data itself comes through the page's own callbacks, cached
under the data version, so a thousand screens on the same view cost one query.

Each open stream holds one server thread (waitress): the server sizes its pool for
``Settings.live_max_streams``; past that a stream is refused with 503 and the page falls back to polling.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime

import flask

from dashboard import access, context
from queries import meta as meta_queries
from queries.scope import Scope

log = logging.getLogger(__name__)

EVERYTHING = "*"
BEAT_S = 5.0  # a message at least this often, so a screen can tell "quiet" from "cut off"
MIN_GAP_S = 0.25  # at most four messages a second per screen: a burst of writes is folded into one
WATCH_S = 1.0  # how often the watcher reads the store's version
STREAM_S = 600.0  # a stream ends after this long; the browser reconnects at once (and the gate checks again)
POLL_S = 20.0  # a long poll answers after this long at the latest
IDLE_S = 60.0  # the watcher stops after this long with no screen listening (a poll or a stream restarts it)
KEEP = 1024  # changes remembered; a screen further behind is told "everything"
RETRY_MS = 1500  # EventSource's reconnect delay
# Some proxies hold the first bytes of a response back; 2 KB of comment pushes the stream past them.
PADDING = ":" + " " * 2048 + "\n\n"
MAX_AREAS = 500  # more grids than this in one message become "everything"


@dataclass(frozen=True)
class Change:
    """One committed write: the data version it made, the store's data time, the grids it touched."""

    version: int
    at: datetime | None
    grids: tuple[str, ...]


class Hub:
    """The changes of one app, for its screens to wait on."""

    def __init__(self, engine=None):
        self._engine = engine
        self._cond = threading.Condition()
        self._changes: deque[Change] = deque(maxlen=KEEP)
        self.version = -1
        self.at: datetime | None = None
        self.listeners = 0
        self._interest = 0.0  # when a screen last listened (the watcher stops after IDLE_S without one)
        self._watcher: threading.Thread | None = None
        self._stopped = threading.Event()

    # -- writers ------------------------------------------------------------------------------------
    def publish(self, change: Change) -> None:
        """Record ``change`` and wake every waiting screen (called right after the write's commit)."""
        with self._cond:
            if change.version <= self.version:
                return
            self._changes.append(change)
            self.version = change.version
            # The data time moves forward only, like the store's state_as_of.
            self.at = max((t for t in (self.at, change.at) if t is not None), default=None)
            self._cond.notify_all()

    # -- readers ------------------------------------------------------------------------------------
    def since(self, version: int) -> tuple[int, datetime | None, set[str]]:
        """Return (current version, data time, grids changed after ``version``); {"*"} when too far behind."""
        with self._cond:
            return self._since(version)

    def _since(self, version: int) -> tuple[int, datetime | None, set[str]]:
        if version >= self.version:
            return self.version, self.at, set()
        if not self._changes or self._changes[0].version > version + 1:
            return self.version, self.at, {EVERYTHING}
        grids: set[str] = set()
        for change in reversed(self._changes):
            if change.version <= version:
                break
            grids.update(change.grids)
        return self.version, self.at, grids

    def wait(self, version: int, timeout: float) -> tuple[int, datetime | None, set[str]]:
        """Block until the version passes ``version`` or ``timeout`` seconds pass; return ``since(version)``."""
        with self._cond:
            self._cond.wait_for(lambda: self.version > version or self._stopped.is_set(), timeout)
            return self._since(version)

    # -- the watcher --------------------------------------------------------------------------------
    def ensure_watching(self) -> None:
        """Start the thread that reads the store's version every second (once per hub)."""
        if self._engine is None:
            return
        with self._cond:
            self._interest = time.monotonic()
            if self._watcher is not None and self._watcher.is_alive():
                return
            self._watcher = threading.Thread(target=self._watch, name="gridcc-live-watch", daemon=True)
            self._watcher.start()

    def check_store(self) -> None:
        """Read the store's version once; publish "everything changed" if it moved past what was published."""
        with self._engine.connect() as conn:
            version, at = meta_queries.live_marks(conn)
        with self._cond:
            if version > self.version:
                self._changes.append(Change(version, at, (EVERYTHING,)))
                self.version = version
                self.at = at
                self._cond.notify_all()

    def _watch(self) -> None:
        while not self._stopped.wait(WATCH_S):
            with self._cond:
                if self.listeners == 0 and time.monotonic() - self._interest > IDLE_S:
                    self._watcher = None
                    return
            try:
                self.check_store()
            except Exception:  # a store that is busy or gone: try again in a second, never die
                log.exception("live: reading the store's version failed")

    def stop(self) -> None:
        """Stop the watcher and release every waiting screen (server shutdown, tests)."""
        self._stopped.set()
        with self._cond:
            self._cond.notify_all()


def message(version: int, at: datetime | None, grids: set[str], scope: Scope, now: datetime) -> dict:
    """Return the message a screen of ``scope`` gets: only grids inside its scope are named."""
    if EVERYTHING in grids:
        areas = [EVERYTHING]
    else:
        areas = sorted(code for code in grids if scope.covers(code))
        if len(areas) > MAX_AREAS:
            areas = [EVERYTHING]
    return {"v": version, "at": at.isoformat(timespec="seconds") if at else None,
            "now": now.isoformat(timespec="seconds"), "areas": areas}


def hub() -> Hub:
    """Return the hub of the app serving this request."""
    return flask.current_app.extensions["gridcc_live"]


def _start_version(hub_: Hub) -> int:
    """Return the version a new screen starts from: ``?v=`` if sane, else the current one."""
    raw = flask.request.args.get("v", "")
    try:
        version = int(raw)
    except ValueError:
        return hub_.version
    return version if 0 <= version <= hub_.version else hub_.version


def stream():
    """``GET /api/v1/live/stream``: server-sent events, one per change (at most 4/s) and a beat every 5 s."""
    principal = access.current()
    if principal is None:  # the gate answered already; never reached
        flask.abort(401)
    live = hub()
    settings = context.current().settings
    ctx = context.current()
    limit = settings.live_max_streams
    with live._cond:
        if live.listeners >= limit:
            response = flask.jsonify({"error": "busy", "message": f"this server holds {limit} live streams at most: "
                                      "poll /api/v1/live/poll instead"})
            response.status_code = 503
            response.headers["Retry-After"] = "30"
            return response
        live.listeners += 1
    live.ensure_watching()
    scope = principal.scope
    session = principal.session if principal.kind == "user" else None
    version = _start_version(live)
    from queries import sessions as session_queries

    seen = [session_queries.generation()]

    def events():
        nonlocal version
        started = time.monotonic()
        try:
            yield f"retry: {RETRY_MS}\n{PADDING}"
            current, at, grids = live.since(version)
            yield _event("hello", message(current, at, grids if current > version else set(), scope, settings.now()))
            version = current
            last_sent = time.monotonic()
            while time.monotonic() - started < STREAM_S and not live._stopped.is_set():
                gap = MIN_GAP_S - (time.monotonic() - last_sent)
                if gap > 0:
                    time.sleep(gap)
                current, at, grids = live.wait(version, BEAT_S)
                if session is not None and not _session_alive(ctx, session, seen):
                    yield _event("ended", {"reason": "session"})
                    return
                yield _event("change" if current > version else "beat",
                             message(current, at, grids, scope, settings.now()))
                version = current
                last_sent = time.monotonic()
        finally:
            with live._cond:
                live.listeners -= 1

    response = flask.Response(events(), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: do not buffer this response
    return response


def _session_alive(ctx, session: str, seen: list) -> bool:
    """Return True while the stream's session is live: read again only after a session or user changed."""
    from queries import sessions as session_queries

    generation = session_queries.generation()
    if generation == seen[0]:
        return True
    try:
        with ctx.engine.connect() as conn:
            row = session_queries.live(conn, id_sha256=session)
    except Exception:
        return True  # a busy store is not a signed-out user; the next beat looks again
    seen[0] = generation
    return row is not None and not row.disabled and row.fingerprint == access.fingerprint(
        row.password_hash, row.role, row.scope_kind, row.scope_code)


def _event(name: str, body: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(body, separators=(',', ':'))}\n\n"


def poll():
    """``GET /api/v1/live/poll?v=N``: answer the next change after version N, or a beat after 20 s."""
    principal = access.current()
    if principal is None:
        flask.abort(401)
    live = hub()
    live.ensure_watching()
    raw = flask.request.args.get("v", "")
    try:
        version = int(raw) if raw else -1
    except ValueError:
        return _bad("v must be a whole number: the data version of the screen's last message")
    try:
        wait = min(max(float(flask.request.args.get("wait", POLL_S)), 0.0), POLL_S)
    except ValueError:
        return _bad("wait must be a number of seconds (at most 20)")
    if version < 0 or version > live.version:
        current, at, grids = live.since(live.version)
        grids = {EVERYTHING}
    else:
        current, at, grids = live.wait(version, wait)
    response = flask.jsonify(message(current, at, grids, principal.scope, context.current().settings.now()))
    response.headers["Cache-Control"] = "no-store"
    return response


def _bad(text: str):
    response = flask.jsonify({"error": "bad_request", "message": text})
    response.status_code = 400
    return response


def init_app(server: flask.Flask, engine) -> Hub:
    """Give ``server`` its hub and the two live routes; return the hub (the ingestor publishes to it)."""
    live = Hub(engine)
    with engine.connect() as conn:
        live.version, live.at = meta_queries.live_marks(conn)
    server.extensions["gridcc_live"] = live
    server.add_url_rule("/api/v1/live/stream", "live_stream", stream, methods=["GET"])
    server.add_url_rule("/api/v1/live/poll", "live_poll", poll, methods=["GET"])
    return live
