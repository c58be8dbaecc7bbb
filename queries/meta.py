"""Key-value facts about the store: its data version, when and how it was seeded."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from queries.schema import store_meta

DATA_VERSION = "data_version"
STATE_AS_OF = "state_as_of"  # the instant the open_events projection (and the data) is current to


def get_meta(conn: Connection, key: str, default: str | None = None) -> str | None:
    """Return the value stored under ``key``, or ``default``."""
    value = conn.execute(select(store_meta.c.value).where(store_meta.c.key == key)).scalar()
    return default if value is None else value


def set_meta(conn: Connection, key: str, value: str) -> None:
    """Store ``value`` under ``key``, replacing any earlier value."""
    conn.execute(delete(store_meta).where(store_meta.c.key == key))
    conn.execute(insert(store_meta).values(key=key, value=value))


def data_version(conn: Connection) -> int:
    """Return the store's data version: it changes whenever events change, so caches key on it."""
    return int(get_meta(conn, DATA_VERSION, "0"))


def bump_data_version(conn: Connection) -> int:
    """Advance the data version after a write and return the new one."""
    version = data_version(conn) + 1
    set_meta(conn, DATA_VERSION, str(version))
    return version


def live_marks(conn: Connection) -> tuple[int, datetime | None]:
    """Return (data version, data time 'state_as_of') in one read: what a live screen is told."""
    rows = dict(conn.execute(select(store_meta.c.key, store_meta.c.value)
                             .where(store_meta.c.key.in_((DATA_VERSION, STATE_AS_OF)))).all())
    at = rows.get(STATE_AS_OF)
    return int(rows.get(DATA_VERSION) or 0), datetime.fromisoformat(at) if at else None
