"""The reads behind the Open311 GeoReport v2 endpoints: services (the catalogue) and service requests.

A service is an event subclass (categories); a service request is an event, with its category, its
department and the names of the areas it lies in. Times are naive local times, as stored.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, not_, or_, select

from queries.schema import areas, categories, departments, events
from queries.scope import Scope

MAX_SERVICES = 10_000
MAX_REQUESTS = 1000
# Closed for Open311: the loop ended, by closing or by voiding (作废) the report.
TERMINAL_STATUSES = ("closed", "void")
# The loop's timestamps, latest wins when the row has no updated_at (stores seeded before it existed).
_STAMPS = ("reported_at", "accepted_at", "verified_at", "registered_at", "dispatched_at", "handled_at",
           "checked_at", "closed_at")


@dataclass(frozen=True)
class Service:
    """One event subclass, offered as an Open311 service."""

    code: str
    name: str
    class_code: str
    class_name: str
    limit_value: float
    limit_unit: str
    urgent: bool


@dataclass(frozen=True)
class ServiceRequest:
    """One event as Open311 shows it, with the names it needs."""

    id: int
    source: str
    status: str
    is_void: bool
    is_parked: bool
    category_code: str
    category_name: str | None
    description: str | None
    department_name: str | None
    reported_at: datetime
    updated_at: datetime
    deadline_at: datetime | None
    area_names: tuple[str, ...]  # district, street, community, grid (the ones found)
    grid_code: str
    lat: float | None
    lon: float | None
    extension_count: int
    return_count: int
    rework_count: int

    @property
    def closed(self) -> bool:
        """Return True when the loop has ended (closed or void)."""
        return self.is_void or self.status in TERMINAL_STATUSES


_SERVICE_COLUMNS = (categories.c.code, categories.c.name, categories.c.class_code, categories.c.class_name,
                    categories.c.limit_value, categories.c.limit_unit, categories.c.urgent)


def _service(row) -> Service:
    return Service(code=row.code, name=row.name, class_code=row.class_code, class_name=row.class_name,
                   limit_value=float(row.limit_value), limit_unit=row.limit_unit, urgent=bool(row.urgent))


def services(conn: Connection, *, limit: int = MAX_SERVICES) -> list[Service]:
    """Return the event subclasses of the catalogue, by code (the catalogue is city-wide: no scope)."""
    rows = conn.execute(select(*_SERVICE_COLUMNS).order_by(categories.c.code).limit(limit))
    return [_service(r) for r in rows]


def service(conn: Connection, *, code: str) -> Service | None:
    """Return one event subclass, or None."""
    row = conn.execute(select(*_SERVICE_COLUMNS).where(categories.c.code == code).limit(1)).first()
    return None if row is None else _service(row)


def service_requests(
    conn: Connection,
    *,
    scope: Scope,
    ids: tuple[int, ...] | None = None,
    service_codes: tuple[str, ...] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    closed: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[ServiceRequest]:
    """Return the events in ``scope`` matching the filters, newest report first.

    ``since``/``until`` bound ``reported_at`` (both inclusive, naive local time); ``closed`` True keeps
    closed and void events, False the others, None both.
    """
    district, street, community, grid = (areas.alias(n) for n in ("d", "s", "c", "g"))
    conditions = [scope.events_clause(events)]
    if ids is not None:
        conditions.append(events.c.id.in_(ids))
    if service_codes is not None:
        conditions.append(events.c.category_code.in_(service_codes))
    if since is not None:
        conditions.append(events.c.reported_at >= since)
    if until is not None:
        conditions.append(events.c.reported_at <= until)
    if closed is not None:
        ended = or_(events.c.status.in_(TERMINAL_STATUSES), events.c.is_void)
        conditions.append(ended if closed else not_(ended))
    joined = (
        events.outerjoin(categories, categories.c.code == events.c.category_code)
        .outerjoin(departments, departments.c.code == events.c.department_code)
        .outerjoin(district, district.c.code == events.c.district_code)
        .outerjoin(street, street.c.code == events.c.street_code)
        .outerjoin(community, community.c.code == events.c.community_code)
        .outerjoin(grid, grid.c.code == events.c.grid_code)
    )
    stmt = (
        select(
            events.c.id, events.c.source, events.c.status, events.c.is_void, events.c.is_parked,
            events.c.category_code, categories.c.name.label("category_name"), events.c.description,
            departments.c.name.label("department_name"), events.c.deadline_at, events.c.updated_at,
            events.c.grid_code, events.c.lat, events.c.lon, events.c.extension_count, events.c.return_count,
            events.c.rework_count, *(events.c[s] for s in _STAMPS),
            district.c.name.label("district_name"), street.c.name.label("street_name"),
            community.c.name.label("community_name"), grid.c.name.label("grid_name"),
        )
        .select_from(joined)
        .where(and_(*conditions))
        .order_by(events.c.reported_at.desc(), events.c.id.desc())
        .limit(min(limit, MAX_REQUESTS))
        .offset(offset)
    )
    return [_service_request(row) for row in conn.execute(stmt)]


def _service_request(row) -> ServiceRequest:
    stamps = [row._mapping[s] for s in _STAMPS if row._mapping[s] is not None]
    names = (row.district_name, row.street_name, row.community_name, row.grid_name)
    return ServiceRequest(
        id=int(row.id), source=row.source, status=row.status, is_void=bool(row.is_void),
        is_parked=bool(row.is_parked), category_code=row.category_code, category_name=row.category_name,
        description=row.description, department_name=row.department_name, reported_at=row.reported_at,
        updated_at=row.updated_at or max(stamps), deadline_at=row.deadline_at,
        area_names=tuple(n for n in names if n), grid_code=row.grid_code, lat=row.lat, lon=row.lon,
        extension_count=int(row.extension_count), return_count=int(row.return_count),
        rework_count=int(row.rework_count),
    )
