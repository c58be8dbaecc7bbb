"""API tokens of the systems that push events: only a SHA-256 of each token is stored."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from queries.areas import scope_area_level
from queries.schema import api_tokens

PREFIX = "gcc_"


def digest(token: str) -> str:
    """Return the stored form of ``token``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(conn: Connection, *, name: str, now: datetime, scope_code: str | None = None) -> str:
    """Create a token called ``name`` (for the area ``scope_code``, or everything) and return it, once."""
    if conn.execute(select(api_tokens.c.name).where(api_tokens.c.name == name)).first() is not None:
        raise ValueError(f"a token called {name!r} exists already: revoke it or choose another name")
    if scope_code is not None and scope_area_level(conn, code=scope_code) is None:
        raise ValueError(f"no area {scope_code!r} (a city, district, street or community code)")
    token = PREFIX + secrets.token_urlsafe(32)
    conn.execute(insert(api_tokens).values(name=name, token_sha256=digest(token), created_at=now,
                                           scope_code=scope_code))
    return token


def token_scope_code(conn: Connection, *, name: str) -> str | None:
    """Return the area code a token is limited to, or None for the whole store."""
    return conn.execute(select(api_tokens.c.scope_code).where(api_tokens.c.name == name).limit(1)).scalar()


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
    return conn.execute(select(api_tokens.c.name, api_tokens.c.created_at, api_tokens.c.revoked_at,
                               api_tokens.c.scope_code)
                        .order_by(api_tokens.c.name).limit(limit)).fetchall()
