"""API tokens of the systems that push events: only a SHA-256 of each token is stored."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from queries.schema import api_tokens

PREFIX = "gcc_"


def digest(token: str) -> str:
    """Return the stored form of ``token``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(conn: Connection, *, name: str, now: datetime) -> str:
    """Create a token called ``name`` and return it (the only time it is ever shown)."""
    if conn.execute(select(api_tokens.c.name).where(api_tokens.c.name == name)).first() is not None:
        raise ValueError(f"a token called {name!r} exists already: revoke it or choose another name")
    token = PREFIX + secrets.token_urlsafe(32)
    conn.execute(insert(api_tokens).values(name=name, token_sha256=digest(token), created_at=now))
    return token


def token_name(conn: Connection, *, token: str) -> str | None:
    """Return the name of a valid (not revoked) ``token``, or None."""
    return conn.execute(select(api_tokens.c.name).where(
        api_tokens.c.token_sha256 == digest(token), api_tokens.c.revoked_at.is_(None)).limit(1)).scalar()


def revoke_token(conn: Connection, *, name: str, now: datetime) -> bool:
    """Revoke the token called ``name``; return False when there is none."""
    result = conn.execute(update(api_tokens).where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
                          .values(revoked_at=now))
    return result.rowcount > 0


def list_tokens(conn: Connection, *, limit: int = 1000) -> list:
    """Return (name, created_at, revoked_at) of every token, by name."""
    return conn.execute(select(api_tokens.c.name, api_tokens.c.created_at, api_tokens.c.revoked_at)
                        .order_by(api_tokens.c.name).limit(limit)).fetchall()
