"""Reads of the audit log for the administrator's page and export (SQLAlchemy Core, bound parameters only).

Audit rows are city-wide: they are not cut to an area, so there is no ``scope`` argument here. Only an
administrator may read them, and that check is the caller's (``access.current().may("admin")`` in the
page's callbacks and the export route) — never call these for anyone else.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from queries.schema import audit_log

MAX_ROWS = 100_000  # the most rows one read returns, whatever ``limit`` asks for
MAX_OFFSET = 10_000_000
MAX_DISTINCT = 500


@dataclass(frozen=True)
class AuditRow:
    """One audit row: when (local wall-clock time), who, what, on what, how it ended, from where, details."""

    id: int
    occurred_at: datetime
    actor: str
    action: str
    target: str | None
    outcome: str
    source: str | None
    detail: str | None


_COLUMNS = (audit_log.c.id, audit_log.c.occurred_at, audit_log.c.actor, audit_log.c.action, audit_log.c.target,
            audit_log.c.outcome, audit_log.c.source, audit_log.c.detail)


def _where(since: datetime, until: datetime, actor: str | None, action: str | None, outcome: str | None,
           text: str | None) -> ColumnElement[bool]:
    """Return the condition of the filters; an action ending in "." is a prefix ("event." → event.accept, …)."""
    parts = [audit_log.c.occurred_at >= since, audit_log.c.occurred_at < until]
    if actor:
        parts.append(audit_log.c.actor == actor)
    if action:
        parts.append(audit_log.c.action.startswith(action, autoescape=True) if action.endswith(".")
                     else audit_log.c.action == action)
    if outcome:
        parts.append(audit_log.c.outcome == outcome)
    if text:
        # autoescape: a % or _ typed in the search box is a character, not a wildcard.
        parts.append(or_(audit_log.c.target.icontains(text, autoescape=True),
                         audit_log.c.detail.icontains(text, autoescape=True)))
    return and_(*parts)


def audit_entries(conn: Connection, *, since: datetime, until: datetime, actor: str | None = None,
                  action: str | None = None, outcome: str | None = None, text: str | None = None,
                  limit: int = 100, offset: int = 0) -> list[AuditRow]:
    """Return the audit rows of [since, until) (local time) matching the filters, newest first.

    ``limit`` is capped at MAX_ROWS; a ``limit`` below 1 or an ``offset`` outside [0, MAX_OFFSET] is a ValueError.
    """
    if not 0 <= offset <= MAX_OFFSET or limit < 1:
        raise ValueError(f"limit must be at least 1 and offset within 0…{MAX_OFFSET:,}")
    statement = (select(*_COLUMNS).where(_where(since, until, actor, action, outcome, text))
                 .order_by(audit_log.c.occurred_at.desc(), audit_log.c.id.desc())
                 .limit(min(limit, MAX_ROWS)).offset(offset))
    return [AuditRow(*row) for row in conn.execute(statement)]


def audit_count(conn: Connection, *, since: datetime, until: datetime, actor: str | None = None,
                action: str | None = None, outcome: str | None = None, text: str | None = None) -> int:
    """Return how many audit rows of [since, until) (local time) match the filters."""
    statement = select(func.count()).select_from(audit_log).where(_where(since, until, actor, action, outcome, text))
    return conn.execute(statement).scalar_one()


def audit_actions(conn: Connection, *, limit: int = MAX_DISTINCT) -> list[str]:
    """Return the distinct actions in the audit log, alphabetically."""
    statement = select(audit_log.c.action).distinct().order_by(audit_log.c.action).limit(limit)
    return list(conn.execute(statement).scalars())


def audit_outcomes(conn: Connection, *, limit: int = MAX_DISTINCT) -> list[str]:
    """Return the distinct outcomes in the audit log, alphabetically."""
    statement = select(audit_log.c.outcome).distinct().order_by(audit_log.c.outcome).limit(limit)
    return list(conn.execute(statement).scalars())
