"""The ranking configuration's versions (``rank_configs``) and the frozen months' configurations (issue 7).

The rules (which month a version may start from, what a body holds) live in ``dashboard.rank_config``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, insert, select

from queries.schema import rank_config_id_seq, rank_configs, rank_periods

MAX_VERSIONS = 10_000


@dataclass(frozen=True)
class VersionRow:
    """One saved version of the configuration."""

    id: int
    effective_from: date
    body: str
    created_by: str
    created_at: datetime
    note: str | None


def _version(row) -> VersionRow:
    return VersionRow(int(row.id), row.effective_from, row.body, row.created_by, row.created_at, row.note)


def insert_version(conn: Connection, *, effective_from: date, body: str, created_by: str, created_at: datetime,
                   note: str | None) -> int:
    """Append a version (in the caller's transaction); return its id."""
    version_id = int(conn.execute(select(rank_config_id_seq.next_value())).scalar())
    conn.execute(insert(rank_configs).values(id=version_id, effective_from=effective_from, body=body,
                                             created_by=created_by[:64], created_at=created_at, note=note))
    return version_id


def list_versions(conn: Connection, *, limit: int = MAX_VERSIONS) -> list[VersionRow]:
    """Return the saved versions, oldest effective month first (then by id)."""
    rows = conn.execute(select(rank_configs).order_by(rank_configs.c.effective_from, rank_configs.c.id).limit(limit))
    return [_version(row) for row in rows]


def version_for(conn: Connection, *, month: date) -> VersionRow | None:
    """Return the version in force in ``month`` (a first day): the latest effective_from ≤ it, then the highest id."""
    row = conn.execute(select(rank_configs).where(rank_configs.c.effective_from <= month)
                       .order_by(rank_configs.c.effective_from.desc(), rank_configs.c.id.desc()).limit(1)).first()
    return None if row is None else _version(row)


def frozen_config(conn: Connection, *, month: date) -> str | None:
    """Return the configuration (JSON) ``month`` was frozen with, or None when it is not frozen."""
    return conn.execute(select(rank_periods.c.config).where(rank_periods.c.month == month)).scalar()


def last_frozen_month(conn: Connection) -> date | None:
    """Return the latest frozen month (its first day), or None when none is."""
    value = conn.execute(select(rank_periods.c.month).order_by(rank_periods.c.month.desc()).limit(1)).scalar()
    return value if value is None or isinstance(value, date) and not isinstance(value, datetime) else value.date()
