"""Users and the audit log: reads and writes (SQLAlchemy Core, bound parameters only)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update

from queries.schema import audit_log, audit_log_id_seq, users


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
    return conn.execute(update(users).where(users.c.name == name).values(disabled=disabled)).rowcount > 0


def set_password(conn: Connection, *, name: str, password_hash: str, now: datetime,
                 must_change: bool = False) -> bool:
    """Store a new password hash and clear the lock-out; return False when there is no such user.

    ``must_change``: the password is a one-time one an administrator gave; the user must replace it.
    """
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
    conn.execute(insert(audit_log).values(
        id=conn.execute(audit_log_id_seq.next_value()).scalar(), occurred_at=at, actor=actor[:64], action=action[:32],
        target=None if target is None else target[:128], outcome=outcome[:16],
        source=None if source is None else source[:64], detail=detail))


def audit_rows(conn: Connection, *, since: datetime, until: datetime, limit: int = 1000) -> list:
    """Return the audit rows of [since, until), oldest first."""
    return conn.execute(select(audit_log).where(audit_log.c.occurred_at >= since, audit_log.c.occurred_at < until)
                        .order_by(audit_log.c.id).limit(limit)).fetchall()
