"""Managing users in the app (issue 4, 权随责走): who may manage whom, and the page's reads and audited writes.

An administrator manages everyone; a district manager the street operators, department handlers and
viewers of their own district (``dashboard.auth.may_manage``); nobody else manages users. Every write
checks the caller again and, inside the store's write lock, the rule for the user as stored now; its audit
row is written in the same transaction as its effect, and a refusal writes one with outcome "refused".
A manager never types someone else's password: adding a user or resetting a password makes a one-time
password, shown once, that the user must replace at their first sign-in.
"""
from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from dashboard import access, auth, context
from dashboard.i18n import t
from queries import sessions as session_queries
from queries import users as user_queries
from queries.users import ManagedUser, ScopeChoice

# The roles that manage anyone at all (auth.may_manage refuses every other role whatever the target).
MANAGER_ROLES = ("admin", "district_manager")
# A district manager also manages viewers of the whole district, not only of what lies below it.
DISTRICT_ROLES = ("viewer",)
NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
SCOPE_CODE = re.compile(r"[A-Za-z0-9-]{1,16}")  # area codes are digits; department codes like 329902-01
MAX_DISPLAY_NAME = 64
DISPLAY_NAME_PUNCTUATION = frozenset(" ·.-_'()（）")  # 阿依古丽·买买提, O'Brien, 张三 (东街)
# One-time passwords: 3 groups of 4 characters without look-alikes (no 0/o, 1/l/i), easy to read out and
# copy by hand; 31^12 ≈ 2^59 possibilities.
OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
OTP_GROUPS, OTP_GROUP_LENGTH = 3, 4


class Refusal(Exception):
    """A request the page refuses: ``key`` names its message in dashboard.i18n; ``detail`` goes to the audit row."""

    def __init__(self, key: str, detail: str | None = None, **values):
        super().__init__(t(key, "en", **values))
        self.key = key
        self.detail = detail or key.split(".", 1)[1]
        self.values = values

    def message(self, lang: str) -> str:
        """Return the message in ``lang``."""
        return t(self.key, lang, **self.values)


@dataclass(frozen=True)
class Manager:
    """A caller who may manage some users: their name, role and scope (as dashboard.auth states it)."""

    name: str
    role: str
    scope: auth.Scope

    @property
    def district(self) -> str | None:
        """Return the district a district manager answers for; None for an administrator (everyone)."""
        return None if self.role == "admin" else self.scope.code

    def may_manage(self, conn: Connection, role: str, scope: auth.Scope) -> bool:
        """Return True when this manager may create or change a user who is (or becomes) ``role`` over ``scope``."""
        return auth.may_manage(conn, manager_role=self.role, manager_scope=self.scope, role=role, scope=scope)


@dataclass(frozen=True)
class Done:
    """What an action did: a message key, whom it was about, the one-time password (add and reset only)."""

    key: str
    name: str
    sessions_ended: int = 0
    password: str | None = None


def manager() -> Manager | None:
    """Return this request's caller as a manager of users, or None when they may manage no one here.

    Nothing is managed on a public wall: the page would show staff names and one-time passwords.
    """
    principal = access.current()
    if principal is None or principal.kind != "user" or principal.role not in MANAGER_ROLES or principal.public_wall:
        return None
    scope = principal.scope
    kind, code = ("department", scope.department) if scope.department else ("area", scope.area_code)
    return Manager(principal.name, principal.role, auth.Scope(kind, code))


def grantable_roles(who: Manager) -> tuple[str, ...]:
    """Return the roles ``who`` may give, in the order of auth.ROLES."""
    return tuple(auth.ROLES) if who.role == "admin" else auth.DISTRICT_GRANTS


def new_password() -> str:
    """Return a random one-time password like "k7mp-3xqa-9tnw" (14 characters, ≈ 59 bits)."""
    return "-".join("".join(secrets.choice(OTP_ALPHABET) for _ in range(OTP_GROUP_LENGTH)) for _ in range(OTP_GROUPS))


def user_state(user: ManagedUser, now: datetime) -> str:
    """Return "disabled", "locked" (too many failed sign-ins, until a time after ``now``) or "active"."""
    if user.disabled:
        return "disabled"
    return "locked" if user.locked_until is not None and user.locked_until > now else "active"


# -- reads (no caching: a change must show at once) ----------------------------------------------------------
def read_users(who: Manager) -> list[ManagedUser]:
    """Return the users ``who`` may manage, by name (the SQL filter mirrors auth.may_manage, which has the last word)."""
    with context.current().connect() as conn:
        rows = user_queries.managed_users(conn, district=who.district, roles=auth.DISTRICT_GRANTS,
                                          district_roles=DISTRICT_ROLES)
        return [row for row in rows if who.may_manage(conn, row.role, auth.Scope(row.scope_kind, row.scope_code))]


def read_scope_choices(who: Manager, role: object) -> list[ScopeChoice]:
    """Return the areas and departments ``who`` may give a new user of ``role``; none for a role they may not give."""
    if not isinstance(role, str) or role not in grantable_roles(who):
        return []
    wanted = auth.ROLES[role][2]
    with context.current().connect() as conn:
        choices = user_queries.scope_choices(conn, district=who.district)
        fits = [c for c in choices if (c.kind == "department" if wanted == "department" else c.level in wanted)]
        return [c for c in fits if who.may_manage(conn, role, auth.Scope(c.kind, c.code))]


# -- checks of what the browser sent (a forged callback may send anything) ---------------------------------------
def valid_name(value: object) -> str:
    """Return a sign-in name (1–64 of A–Z a–z 0–9 . _ -, surrounding blanks dropped); raise Refusal otherwise."""
    if isinstance(value, str) and len(value) <= 200:
        value = value.strip()
        if NAME.fullmatch(value):
            return value
    raise Refusal("users.bad_name")


def _name_character(c: str) -> bool:
    return c in DISPLAY_NAME_PUNCTUATION or unicodedata.category(c)[0] in "LM" or unicodedata.category(c) == "Nd"


def valid_display_name(value: object) -> str:
    """Return a person's or post's name (1–64 letters, digits, spaces and · . - _ ' ( ), blanks trimmed).

    Raise Refusal otherwise: a name travels on into exports and other systems, so markup, quotes and
    formula characters are not let in.
    """
    if isinstance(value, str) and len(value) <= 1000:
        value = value.strip()
        if 0 < len(value) <= MAX_DISPLAY_NAME and all(map(_name_character, value)):
            return value
    raise Refusal("users.bad_display_name")


def valid_role(value: object) -> str:
    """Return a role of auth.ROLES; raise Refusal otherwise."""
    if isinstance(value, str) and value in auth.ROLES:
        return value
    raise Refusal("users.bad_role")


def valid_scope_code(value: object) -> str:
    """Return an area or department code (≤ 16 of digits, letters, -); raise Refusal otherwise."""
    if isinstance(value, str) and SCOPE_CODE.fullmatch(value):
        return value
    raise Refusal("users.bad_scope")


def selected_name(rows: object) -> str:
    """Return the sign-in name of the one row selected in the grid; raise Refusal unless there is exactly one."""
    if isinstance(rows, list) and len(rows) == 1 and isinstance(rows[0], dict):
        try:
            return valid_name(rows[0].get("name"))
        except Refusal:
            pass
    raise Refusal("users.pick_one")


# -- writes -------------------------------------------------------------------------------------------------
def _describe(role: str, scope_kind: str, scope_code: str) -> str:
    return f"{role} of {scope_kind} {scope_code}"


def _refuse(who: Manager, action: str, target: str | None, refusal: Refusal) -> Refusal:
    """Audit a refusal found outside the write lock; return it for the caller to raise."""
    access.audit(action, "refused", target=target, detail=refusal.detail, actor=who.name)
    return refusal


def _check_first(who: Manager, action: str, target: str, check: Callable[[Connection], object]) -> None:
    """Run ``check`` on a read connection before a password is hashed, so a refusal costs no argon2 work.

    The write checks again under the lock; this only refuses early (audited, like any refusal).
    """
    with context.current().connect() as conn:
        try:
            check(conn)
        except Refusal as refusal:
            refused = refusal
        else:
            return
    raise _refuse(who, action, target, refused)


def _write(who: Manager, action: str, target: str, change: Callable[[Connection, datetime], tuple[Done, str]]) -> Done:
    """Run ``change`` under the write lock in one transaction with its audit row; a Refusal is audited the same way.

    ``change`` checks everything before it writes anything, and returns what it did and the audit detail.
    """
    ctx = context.current()
    now = ctx.settings.now()
    with ctx.ingestor.write_lock, ctx.engine.begin() as conn:
        try:
            done, detail = change(conn, now)
        except Refusal as refusal:
            outcome, detail, result = "refused", refusal.detail, refusal
        else:
            outcome, result = "ok", done
        user_queries.audit(conn, at=now, actor=who.name, action=action, outcome=outcome, target=target,
                           source=access.source(), detail=detail)
    if isinstance(result, Refusal):
        raise result
    return result


def add_user(who: Manager, *, name: object, display_name: object, role: object, scope_code: object) -> Done:
    """Add a user of ``role`` over ``scope_code`` with a one-time password; raise Refusal (audited) when not allowed."""
    try:
        name = valid_name(name)
        display_name, role, code = valid_display_name(display_name), valid_role(role), valid_scope_code(scope_code)
    except Refusal as refusal:
        raise _refuse(who, "user.add", name if isinstance(name, str) and NAME.fullmatch(name) else None,
                      refusal) from None

    def check(conn: Connection) -> auth.Scope:
        if role not in grantable_roles(who):
            raise Refusal("users.not_allowed", f"not allowed: {role} of {code}")
        try:
            scope = auth.check_scope(conn, role, code)
        except ValueError:
            raise Refusal("users.scope_mismatch", f"{role} cannot have {code}") from None
        if not who.may_manage(conn, role, scope):
            raise Refusal("users.not_allowed", f"not allowed: {_describe(role, scope.kind, scope.code)}")
        if user_queries.get_user(conn, name=name) is not None:
            raise Refusal("users.name_taken")
        return scope

    _check_first(who, "user.add", name, check)
    password = new_password()
    digest = auth.hash_password(password)  # a quarter of a second of argon2: before the lock, not under it

    def change(conn: Connection, now: datetime) -> tuple[Done, str]:
        scope = check(conn)  # again, under the lock: nothing changed in between
        user_queries.add_user(conn, name=name, display_name=display_name, password_hash=digest, role=role,
                              scope_kind=scope.kind, scope_code=scope.code, now=now, must_change_password=True)
        return (Done("users.done.add", name, password=password),
                f"{_describe(role, scope.kind, scope.code)}; one-time password")

    return _write(who, "user.add", name, change)


def _managed(conn: Connection, who: Manager, name: str, *, not_self: bool) -> user_queries.User:
    """Return the stored user ``name`` when ``who`` may manage them as they are now; raise Refusal otherwise."""
    if not_self and name == who.name:
        raise Refusal("users.not_self")
    user = user_queries.get_user(conn, name=name)
    if user is None:
        raise Refusal("users.not_yours", "no such user")  # the same message: a manager learns no names outside
    if not who.may_manage(conn, user.role, auth.Scope(user.scope_kind, user.scope_code)):
        raise Refusal("users.not_yours", f"not allowed: {_describe(user.role, user.scope_kind, user.scope_code)}")
    return user


def disable_user(who: Manager, *, rows: object) -> Done:
    """Disable the selected user and end all their sessions; raise Refusal (audited) when not allowed."""
    try:
        name = selected_name(rows)
    except Refusal as refusal:
        raise _refuse(who, "user.disable", None, refusal) from None

    def change(conn: Connection, now: datetime) -> tuple[Done, str]:
        user = _managed(conn, who, name, not_self=True)
        user_queries.set_disabled(conn, name=name, disabled=True)
        ended = session_queries.end_all(conn, user_name=name, now=now)
        return (Done("users.done.disable", name, sessions_ended=ended),
                f"{_describe(user.role, user.scope_kind, user.scope_code)}; {ended} sessions ended")

    return _write(who, "user.disable", name, change)


def enable_user(who: Manager, *, rows: object) -> Done:
    """Enable the selected user again; raise Refusal (audited) when not allowed."""
    try:
        name = selected_name(rows)
    except Refusal as refusal:
        raise _refuse(who, "user.enable", None, refusal) from None

    def change(conn: Connection, now: datetime) -> tuple[Done, str]:
        user = _managed(conn, who, name, not_self=False)
        user_queries.set_disabled(conn, name=name, disabled=False)
        return Done("users.done.enable", name), _describe(user.role, user.scope_kind, user.scope_code)

    return _write(who, "user.enable", name, change)


def reset_password(who: Manager, *, rows: object) -> Done:
    """Give the selected user a one-time password and end all their sessions; raise Refusal (audited) when not allowed."""
    try:
        name = selected_name(rows)
    except Refusal as refusal:
        raise _refuse(who, "user.password_reset", None, refusal) from None
    _check_first(who, "user.password_reset", name, lambda conn: _managed(conn, who, name, not_self=True))
    password = new_password()
    digest = auth.hash_password(password)

    def change(conn: Connection, now: datetime) -> tuple[Done, str]:
        user = _managed(conn, who, name, not_self=True)
        user_queries.set_password(conn, name=name, password_hash=digest, now=now, must_change=True)
        ended = session_queries.end_all(conn, user_name=name, now=now)
        return (Done("users.done.password_reset", name, sessions_ended=ended, password=password),
                f"{_describe(user.role, user.scope_kind, user.scope_code)}; one-time password; "
                f"{ended} sessions ended; lock-out cleared")

    return _write(who, "user.password_reset", name, change)


# The row actions by their audit name (the page's buttons name them so).
ACTIONS: dict[str, Callable[..., Done]] = {"user.disable": disable_user, "user.enable": enable_user,
                                           "user.password_reset": reset_password}
