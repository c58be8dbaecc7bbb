"""Signed-in browser sessions: start, look up, touch and end them (SQLAlchemy Core, bound parameters only)."""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, func, insert, select, update

from queries.schema import users, web_sessions


# Bumped by every change this process makes to sessions or to what they depend on (users): a caller
# that remembers a session for a moment compares generations and looks again after any change.
_generation = itertools.count(1)
_current = 0
_lock = threading.Lock()


def generation() -> int:
    """Return the number of the latest change to sessions or users made by this process."""
    return _current


def changed() -> None:
    """Record that sessions or users changed (every write function here and in queries.users calls it)."""
    global _current
    with _lock:
        _current = next(_generation)


@dataclass(frozen=True)
class SessionRow:
    """A live session and what its user looks like now (the caller decides whether it still holds)."""

    id_sha256: str
    user_name: str
    fingerprint: str
    created_at: datetime
    seen_at: datetime
    public_wall: bool
    # The user today: the fingerprint is recomputed from these to notice a changed password, role or scope.
    display_name: str
    role: str
    scope_kind: str
    scope_code: str
    disabled: bool
    password_hash: str
    must_change_password: bool


def start(conn: Connection, *, id_sha256: str, user_name: str, fingerprint: str, now: datetime,
          source: str | None) -> None:
    """Store a new session (the caller commits, with the sign-in's audit row)."""
    conn.execute(insert(web_sessions).values(
        id_sha256=id_sha256, user_name=user_name, fingerprint=fingerprint, created_at=now, seen_at=now,
        ended_at=None, source=None if source is None else source[:64], public_wall=False))


def live(conn: Connection, *, id_sha256: str) -> SessionRow | None:
    """Return the session with this id hash that has not ended, joined with its user; None otherwise."""
    row = conn.execute(
        select(web_sessions.c.id_sha256, web_sessions.c.user_name, web_sessions.c.fingerprint,
               web_sessions.c.created_at, web_sessions.c.seen_at, web_sessions.c.public_wall,
               users.c.display_name, users.c.role, users.c.scope_kind, users.c.scope_code, users.c.disabled,
               users.c.password_hash, func.coalesce(users.c.must_change_password, False))
        .join(users, users.c.name == web_sessions.c.user_name)
        .where(web_sessions.c.id_sha256 == id_sha256, web_sessions.c.ended_at.is_(None))
        .limit(1)).first()
    return None if row is None else SessionRow(*row)


def touch(conn: Connection, *, id_sha256: str, now: datetime) -> None:
    """Record that the session was used at ``now`` (callers do it at most once a minute)."""
    conn.execute(update(web_sessions).where(web_sessions.c.id_sha256 == id_sha256).values(seen_at=now))


def set_public_wall(conn: Connection, *, id_sha256: str, on: bool) -> None:
    """Turn the session's public-wall masking on or off."""
    changed()
    conn.execute(update(web_sessions).where(web_sessions.c.id_sha256 == id_sha256).values(public_wall=on))


def end(conn: Connection, *, id_sha256: str, now: datetime) -> bool:
    """End one session; return False when it had ended already (or never existed)."""
    changed()
    return conn.execute(update(web_sessions).where(web_sessions.c.id_sha256 == id_sha256,
                                                   web_sessions.c.ended_at.is_(None))
                        .values(ended_at=now)).rowcount > 0


def end_all(conn: Connection, *, user_name: str, now: datetime) -> int:
    """End every live session of ``user_name`` (on disable); return how many."""
    changed()
    return conn.execute(update(web_sessions).where(and_(web_sessions.c.user_name == user_name,
                                                        web_sessions.c.ended_at.is_(None)))
                        .values(ended_at=now)).rowcount
