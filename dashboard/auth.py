"""Who may sign in and as what (issue 4, first part): roles, scopes, passwords, lock-out, and their audit.

Power follows responsibility (权随责走): each role goes with the level of the hierarchy it answers for,
so a role's scope must be an area of that level (or a department for a department handler).
Passwords are hashed with argon2id; five failed sign-ins in a row lock a user for 15 minutes. Every
sign-in, failed or not, is written to the audit log in the same transaction as its effect.
The sign-in page, sessions and the per-user scope of every screen are the next part of issue 4.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection

from queries import areas as area_queries
from queries import users as q

# role: (中文, English, the scope it takes: the area levels it may have, or "department")
ROLES = {
    "city_leader": ("市领导", "City leader", (0,)),
    "district_manager": ("区管理员", "District manager", (1,)),
    "street_operator": ("街道中心操作员", "Street center operator", (2, 3)),
    "department_handler": ("部门处置人员", "Department handler", "department"),
    "viewer": ("只读用户", "Viewer (read-only)", (0, 1, 2, 3)),
    "admin": ("系统管理员", "Administrator", (0,)),
    # A video wall's PC (issue 8): reads its area, always masked, signed in for weeks (docs/wall.md).
    "wall_display": ("大屏终端", "Wall display", (0, 1, 2, 3)),
}
# The role of a wall PC: its session outlives the idle and 12-hour limits, and it never sees anything personal.
WALL_ROLE = "wall_display"
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
MIN_PASSWORD = 10
_HASHER = PasswordHasher()  # argon2id with the library's current defaults
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a password anyone has")


class SignInRefused(Exception):
    """A sign-in that did not succeed; ``reason`` is the same for every cause a guesser could use."""

    def __init__(self, reason: str, *, locked: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.locked = locked


@dataclass(frozen=True)
class Scope:
    """What a user answers for: an area code (kind 'area') or a department code (kind 'department')."""

    kind: str
    code: str


def hash_password(password: str) -> str:
    """Return the argon2id hash of ``password`` after checking it is long enough."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > 256:
        raise ValueError("a password may have at most 256 characters")
    return _HASHER.hash(password)


def verify_password(stored: str | None, password) -> bool:
    """Return True when ``password`` matches the stored argon2 hash (constant work when there is none)."""
    try:
        _HASHER.verify(stored or _DUMMY_HASH, password if isinstance(password, str) else "")
        return stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_scope(conn: Connection, role: str, code: str) -> Scope:
    """Return the scope ``code`` gives ``role``, or raise ValueError saying why it cannot have it."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of: {', '.join(ROLES)}")
    wanted = ROLES[role][2]
    if wanted == "department":
        if not area_queries.department_exists(conn, code=code):
            raise ValueError(f"a {role} needs a department as scope; there is no department {code!r}")
        return Scope("department", code)
    level = area_queries.scope_area_level(conn, code=code)
    if level is None:
        raise ValueError(f"no area {code!r} (a city, district, street or community code)")
    if level not in wanted:
        raise ValueError(f"a {role} answers for {_levels(wanted)}; {code} is a {_levels((level,))}")
    return Scope("area", code)


# The roles a district manager may give, inside their own district (no one acts above their level).
DISTRICT_GRANTS = ("street_operator", "department_handler", "viewer")


def may_manage(conn: Connection, *, manager_role: str, manager_scope: Scope, role: str, scope: Scope) -> bool:
    """Return True when a manager of ``manager_role`` over ``manager_scope`` may create or change a user
    who is (or becomes) ``role`` over ``scope``.

    An administrator manages everyone; a district manager the street operators, department handlers
    and viewers of their own district; nobody else manages users.
    """
    if manager_role == "admin":
        return True
    if manager_role != "district_manager" or role not in DISTRICT_GRANTS or manager_scope.kind != "area":
        return False
    district = manager_scope.code
    if scope.kind == "department":
        return area_queries.department_district(conn, code=scope.code) == district
    return scope.code.startswith(district) and len(scope.code) > len(district) or (
        role == "viewer" and scope.code == district)


@dataclass(frozen=True)
class PasswordCheck:
    """The slow half of a sign-in: whether ``password`` matches the hash stored for ``name`` just now."""

    name: str
    stored: str | None
    matches: bool


def check_password(conn: Connection, *, name: str, password: str) -> PasswordCheck:
    """Verify a password (about a quarter of a second of CPU): no writes, so callers run it outside any lock."""
    known = isinstance(name, str) and 0 < len(name) <= 64
    stored = q.password_hash(conn, name=name) if known else None
    return PasswordCheck(name if known else "", stored, verify_password(stored, password))


def sign_in(conn: Connection, *, name: str, password: str, now: datetime, source: str,
            check: PasswordCheck | None = None) -> q.User:
    """Return the user whose name and password these are, or raise SignInRefused; audit either way.

    ``check`` is the password's verification done beforehand (outside the store's write lock); it
    counts only if the stored hash has not changed since. The caller commits: the failure count, a
    lock and the audit row are one transaction.
    """
    refused = "wrong name or password"  # never says which: a guesser learns nothing from it
    user = q.get_user(conn, name=name) if isinstance(name, str) and 0 < len(name) <= 64 else None
    stored = q.password_hash(conn, name=name) if user else None
    if check is None or check.name != (name if user else "") or check.stored != stored:
        check = PasswordCheck(name, stored, verify_password(stored, password))
    matches = check.matches and stored is not None
    who = name[:64] if isinstance(name, str) else "?"
    if user is not None and user.locked_until is not None and user.locked_until > now:
        q.audit(conn, at=now, actor=who, action="sign_in", outcome="locked", source=source)
        raise SignInRefused(f"too many failed sign-ins: try again after {user.locked_until:%H:%M}", locked=True)
    if user is None or not matches or user.disabled:
        if user is not None and not user.disabled:
            # A lock that ran out starts the count again: one more slip does not lock for another 15 minutes.
            failures = 0 if user.locked_until is not None else user.failed_sign_ins
            if failures == 0 and user.locked_until is not None:
                q.record_success(conn, name=user.name)
            locks = failures + 1 >= MAX_FAILURES
            q.record_failure(conn, name=user.name, locked_until=now + LOCK_FOR if locks else None)
        q.audit(conn, at=now, actor=who, action="sign_in", outcome="refused", source=source,
                detail="disabled" if user is not None and user.disabled and matches else None)
        raise SignInRefused(refused)
    q.record_success(conn, name=user.name,
                     rehashed=_HASHER.hash(password) if _HASHER.check_needs_rehash(stored) else None)
    q.audit(conn, at=now, actor=user.name, action="sign_in", outcome="ok", source=source)
    return user


def _levels(levels) -> str:
    names = ("city", "district", "street", "community")
    return " or ".join(names[level] for level in levels)
