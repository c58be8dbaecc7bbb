"""Per-user preferences (user_prefs): a JSON text per (user, key), such as the backlog desk's view."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, delete, insert, select, update

from queries.schema import user_prefs

MAX_VALUE_CHARS = 64_000


def get_pref(conn: Connection, *, user: str, key: str) -> str | None:
    """Return the stored JSON text of ``user``'s preference ``key``, or None."""
    return conn.execute(select(user_prefs.c.value).where(
        user_prefs.c.user_name == user, user_prefs.c.key == key).limit(1)).scalar()


def set_pref(conn: Connection, *, user: str, key: str, value: str, now: datetime) -> None:
    """Store ``value`` (JSON text, at most MAX_VALUE_CHARS) as ``user``'s preference ``key``, replacing the old."""
    if len(value) > MAX_VALUE_CHARS:
        raise ValueError(f"a preference holds at most {MAX_VALUE_CHARS} characters")
    where = and_(user_prefs.c.user_name == user, user_prefs.c.key == key)
    changed = conn.execute(update(user_prefs).where(where).values(value=value, updated_at=now)).rowcount
    if not changed:
        conn.execute(insert(user_prefs).values(user_name=user, key=key, value=value, updated_at=now))


def delete_pref(conn: Connection, *, user: str, key: str) -> None:
    """Forget ``user``'s preference ``key`` (nothing when there is none)."""
    conn.execute(delete(user_prefs).where(user_prefs.c.user_name == user, user_prefs.c.key == key))
