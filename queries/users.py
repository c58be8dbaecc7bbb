"""Users and the audit log: reads and writes (SQLAlchemy Core, bound parameters only)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from queries import sessions
from queries.schema import areas, audit_log, audit_log_id_seq, departments, users, web_sessions


@dataclass(frozen=True)
class User:
    """A person who signs in, without the password hash."""

    name: str
    display_name: str
    role: str
    scope_kind: str
    scope_code: str
    disabled: bool
    failed_sign_ins: int
    locked_until: datetime | None
    must_change_password: bool = False


_USER_COLUMNS = (users.c.name, users.c.display_name, users.c.role, users.c.scope_kind, users.c.scope_code,
                 users.c.disabled, users.c.failed_sign_ins, users.c.locked_until,
                 func.coalesce(users.c.must_change_password, False))


def add_user(conn: Connection, *, name: str, display_name: str, password_hash: str, role: str, scope_kind: str,
             scope_code: str, now: datetime, must_change_password: bool = False) -> None:
    """Store a new user; raise ValueError when the name is taken."""
    if get_user(conn, name=name) is not None:
        raise ValueError(f"a user called {name!r} exists already")
    conn.execute(insert(users).values(
        name=name, display_name=display_name, password_hash=password_hash, role=role, scope_kind=scope_kind,
        scope_code=scope_code, disabled=False, failed_sign_ins=0, locked_until=None, created_at=now,
        password_changed_at=now, must_change_password=must_change_password))


def get_user(conn: Connection, *, name: str) -> User | None:
    """Return the user called ``name``, or None."""
    row = conn.execute(select(*_USER_COLUMNS).where(users.c.name == name).limit(1)).first()
    return None if row is None else User(*row)


def password_hash(conn: Connection, *, name: str) -> str | None:
    """Return the stored hash of ``name``'s password, or None."""
    return conn.execute(select(users.c.password_hash).where(users.c.name == name).limit(1)).scalar()


def list_users(conn: Connection, *, limit: int = 10_000) -> list[User]:
    """Return every user, by name."""
    return [User(*r) for r in conn.execute(select(*_USER_COLUMNS).order_by(users.c.name).limit(limit))]


def set_disabled(conn: Connection, *, name: str, disabled: bool) -> bool:
    """Disable (or enable) a user; return False when there is none."""
    sessions.changed()  # a session of this user must be looked at again
    return conn.execute(update(users).where(users.c.name == name).values(disabled=disabled)).rowcount > 0


def set_password(conn: Connection, *, name: str, password_hash: str, now: datetime,
                 must_change: bool = False) -> bool:
    """Store a new password hash and clear the lock-out; return False when there is no such user.

    ``must_change``: the password is a one-time one an administrator gave; the user must replace it.
    """
    sessions.changed()  # a session of this user must be looked at again
    return conn.execute(update(users).where(users.c.name == name).values(
        password_hash=password_hash, password_changed_at=now, failed_sign_ins=0, locked_until=None,
        must_change_password=must_change)).rowcount > 0


def record_failure(conn: Connection, *, name: str, locked_until: datetime | None) -> None:
    """Count one failed sign-in (and lock the user until ``locked_until`` when given)."""
    values = {"failed_sign_ins": users.c.failed_sign_ins + 1}
    if locked_until is not None:
        values["locked_until"] = locked_until
    conn.execute(update(users).where(users.c.name == name).values(**values))


def record_success(conn: Connection, *, name: str, rehashed: str | None = None) -> None:
    """Clear the failure count after a sign-in (storing a fresher hash when the parameters changed)."""
    values = {"failed_sign_ins": 0, "locked_until": None}
    if rehashed is not None:
        values["password_hash"] = rehashed
    conn.execute(update(users).where(users.c.name == name).values(**values))


def audit(conn: Connection, *, at: datetime, actor: str, action: str, outcome: str, target: str | None = None,
          source: str | None = None, detail: str | None = None) -> None:
    """Append one row to the audit log (in the caller's transaction)."""
    conn.execute(insert(audit_log).values(  # one statement: the id is drawn inside it
        id=audit_log_id_seq.next_value(), occurred_at=at, actor=actor[:64], action=action[:32],
        target=None if target is None else target[:128], outcome=outcome[:16],
        source=None if source is None else source[:64], detail=detail))


def audit_rows(conn: Connection, *, since: datetime, until: datetime, limit: int = 1000) -> list:
    """Return the audit rows of [since, until), oldest first."""
    return conn.execute(select(audit_log).where(audit_log.c.occurred_at >= since, audit_log.c.occurred_at < until)
                        .order_by(audit_log.c.id).limit(limit)).fetchall()


# -- the user management page (/admin/users): whom a manager sees, and what they may give ---------------
MAX_MANAGED = 5000  # the most users or scope choices one read returns


@dataclass(frozen=True)
class ManagedUser:
    """A user as the management page lists them: what they answer for, named, and their state."""

    name: str
    display_name: str
    role: str
    scope_kind: str
    scope_code: str
    scope_name: str | None  # the area's or department's name; None when it no longer exists
    disabled: bool
    locked_until: datetime | None
    must_change_password: bool
    created_at: datetime
    last_sign_in: datetime | None  # when their newest app session began (web_sessions); None: never


@dataclass(frozen=True)
class ScopeChoice:
    """An area (city to community) or a department a new user could answer for."""

    kind: str  # "area" or "department"
    code: str
    name: str
    level: int | None  # the area's level (0 city … 3 community); None for a department


def managed_users(conn: Connection, *, district: str | None, roles: Sequence[str] = (),
                  district_roles: Sequence[str] = (), limit: int = MAX_MANAGED) -> list[ManagedUser]:
    """Return the users a manager sees, by name: everyone when ``district`` is None (an administrator).

    Otherwise only users of ``roles`` whose area lies below ``district``, whose department serves it, or
    (for ``district_roles``) whose area is the district itself. The last sign-in is the start of the
    user's newest row in web_sessions (one row per sign-in), not a scan of the much larger audit log.
    """
    last = (select(web_sessions.c.user_name, func.max(web_sessions.c.created_at).label("at"))
            .group_by(web_sessions.c.user_name).subquery())
    stmt = (
        select(users.c.name, users.c.display_name, users.c.role, users.c.scope_kind, users.c.scope_code,
               func.coalesce(areas.c.name, departments.c.name), users.c.disabled, users.c.locked_until,
               func.coalesce(users.c.must_change_password, False), users.c.created_at, last.c.at)
        .select_from(users
                     .outerjoin(areas, and_(users.c.scope_kind == "area", areas.c.code == users.c.scope_code))
                     .outerjoin(departments, and_(users.c.scope_kind == "department",
                                                  departments.c.code == users.c.scope_code))
                     .outerjoin(last, last.c.user_name == users.c.name))
        .order_by(users.c.name)
        .limit(min(max(limit, 0), MAX_MANAGED))
    )
    if district is not None:
        below = and_(users.c.scope_kind == "area", func.length(users.c.scope_code) > len(district),
                     func.substr(users.c.scope_code, 1, len(district)) == district)
        itself = and_(users.c.scope_kind == "area", users.c.scope_code == district,
                      users.c.role.in_(list(district_roles)))
        serving = and_(users.c.scope_kind == "department", departments.c.district_code == district)
        stmt = stmt.where(users.c.role.in_(list(roles)), or_(below, itself, serving))
    return [ManagedUser(*row) for row in conn.execute(stmt)]


def scope_choices(conn: Connection, *, district: str | None, max_level: int = 3,
                  limit: int = MAX_MANAGED) -> list[ScopeChoice]:
    """Return the areas (levels 0…``max_level``) and departments inside ``district`` (None: the whole city).

    Areas come first in code order (a parent before its children), then departments in code order.
    """
    limit = min(max(limit, 0), MAX_MANAGED)
    area_stmt = select(areas.c.code, areas.c.name, areas.c.level).where(areas.c.level <= max_level)
    department_stmt = select(departments.c.code, departments.c.name)
    if district is not None:
        area_stmt = area_stmt.where(func.substr(areas.c.code, 1, len(district)) == district)
        department_stmt = department_stmt.where(departments.c.district_code == district)
    found = [ScopeChoice("area", code, name, level)
             for code, name, level in conn.execute(area_stmt.order_by(areas.c.code).limit(limit))]
    found += [ScopeChoice("department", code, name, None)
              for code, name in conn.execute(department_stmt.order_by(departments.c.code).limit(limit))]
    return found[:limit]
