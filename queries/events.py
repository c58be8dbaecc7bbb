"""One event in full, for its detail: where, what, who reported it, and every step of its log.

The reporter, the description and log notes are returned whole: the loader masks them
(dashboard/privacy.py). Times are naive local times, as stored.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from queries.schema import areas, buildings, categories, departments, event_log, events, workers
from queries.scope import Scope

# An event id is a BIGINT: anything outside it is no event (and never reaches the engine).
MAX_ID = 2**63 - 1
LOG_LIMIT = 500


@dataclass(frozen=True)
class LogStep:
    """One row of an event's log: the step, when, the status it left, and what it decided."""

    id: int
    action: str  # report, accept, …, extend, return, park, unpark, rework, void, self_resolve
    at: datetime
    from_status: str | None
    status: str  # the status after the step
    department_code: str | None  # set by dispatch, extend, unpark, rework, return
    deadline_at: datetime | None  # the deadline after the step (dispatch, extend, unpark, rework)
    actor: str | None
    note: str | None  # free text: may hold personal numbers, masked by the loader


@dataclass(frozen=True)
class EventDetail:
    """An event's row with the names of its place, department, worker and category, and its log."""

    id: int
    source: str
    external_id: str | None
    category_code: str
    category_name: str | None
    class_code: str
    class_name: str | None
    urgent: bool
    description: str | None
    reporter: str | None  # whole here; the loader masks it
    lat: float | None
    lon: float | None
    status: str
    is_parked: bool
    is_void: bool
    extension_count: int
    return_count: int
    rework_count: int
    reported_at: datetime
    accepted_at: datetime | None
    verified_at: datetime | None
    registered_at: datetime | None
    dispatched_at: datetime | None
    handled_at: datetime | None
    checked_at: datetime | None
    closed_at: datetime | None
    deadline_at: datetime | None
    clock_started_at: datetime | None
    updated_at: datetime | None
    district_code: str
    district_name: str | None
    street_code: str
    street_name: str | None
    community_code: str
    community_name: str | None
    grid_code: str
    grid_name: str | None
    building_code: str | None
    building_name: str | None
    department_code: str | None
    department_name: str | None
    worker_id: int | None
    worker_name: str | None
    limit_value: float | None  # the category's handling limit (处置时限)
    limit_unit: str | None  # hours, work_hours or work_days
    log: tuple[LogStep, ...] = ()


def event_detail(conn: Connection, *, scope: Scope, event_id: int) -> EventDetail | None:
    """Return event ``event_id`` with its names and log, or None when it is unknown or outside ``scope``.

    Both cases answer the same None, so a caller cannot learn that an event exists elsewhere.
    """
    if isinstance(event_id, bool) or not isinstance(event_id, int) or not 0 < event_id <= MAX_ID:
        return None
    district, street, community, grid = (areas.alias(n) for n in ("d", "s", "c", "g"))
    e = events
    stmt = (
        select(
            e, categories.c.name.label("category_name"), categories.c.class_name,
            categories.c.limit_value, categories.c.limit_unit,
            district.c.name.label("district_name"), street.c.name.label("street_name"),
            community.c.name.label("community_name"), grid.c.name.label("grid_name"),
            buildings.c.name.label("building_name"), departments.c.name.label("department_name"),
            workers.c.name.label("worker_name"),
        )
        .select_from(
            e.outerjoin(categories, categories.c.code == e.c.category_code)
            .outerjoin(district, district.c.code == e.c.district_code)
            .outerjoin(street, street.c.code == e.c.street_code)
            .outerjoin(community, community.c.code == e.c.community_code)
            .outerjoin(grid, grid.c.code == e.c.grid_code)
            .outerjoin(buildings, buildings.c.code == e.c.building_code)
            .outerjoin(departments, departments.c.code == e.c.department_code)
            .outerjoin(workers, workers.c.id == e.c.worker_id)
        )
        .where(e.c.id == event_id, scope.events_clause(e))
        .limit(1)
    )
    row = conn.execute(stmt).mappings().first()
    if row is None:
        return None
    log = conn.execute(
        select(event_log).where(event_log.c.event_id == event_id)
        .order_by(event_log.c.occurred_at, event_log.c.id).limit(LOG_LIMIT)
    ).fetchall()
    fields = {name: row[name] for name in EventDetail.__dataclass_fields__ if name != "log"}
    fields.update(urgent=bool(fields["urgent"]), is_parked=bool(fields["is_parked"]),
                  is_void=bool(fields["is_void"]))
    steps = tuple(LogStep(id=r.id, action=r.action, at=r.occurred_at, from_status=r.from_status, status=r.to_status,
                          department_code=r.department_code, deadline_at=r.deadline_at, actor=r.actor, note=r.note)
                  for r in log)
    return EventDetail(**fields, log=steps)
