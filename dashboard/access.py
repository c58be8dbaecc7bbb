"""Who is asking and what they may do: the gate in front of every route, sessions, CSRF, sign-in and sign-out.

Every request but a short list of open ones (the sign-in page, static files, the API's description and
Open311's service list) needs a caller: a browser session or, on the API and Open311, a token. The
caller becomes a ``Principal`` in ``flask.g``; ``dashboard.data.request_scope()`` reads its scope, so
every query is cut to it. A browser's writes carry a CSRF token (the session's, echoed by
dash-renderer from the ``_csrf_token`` cookie as ``X-CSRFToken``). docs/access.md has the whole design.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from datetime import timedelta
from urllib.parse import quote, urlsplit

import flask
from sqlalchemy import Connection

from dashboard import auth, context
from dashboard.i18n import normalise, t
from dashboard.ingest import Recent
from queries import areas as area_queries
from queries import sessions as session_queries
from queries import users as user_queries
from queries.schema import CITY, DISTRICT
from queries.scope import Scope

log = logging.getLogger(__name__)

SESSION_COOKIE = "gridcc_session"
CSRF_COOKIE = "_csrf_token"  # the cookie dash-renderer reads and echoes as X-CSRFToken on every callback
CSRF_HEADER = "X-CSRFToken"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOUCH_EVERY = timedelta(minutes=1)
# Sign-in attempts from one address: more failures than this in the window are refused before checking.
SOURCE_FAILURES = 20
SOURCE_WINDOW_S = 15 * 60

# What each role may do: read its scope, act on cases (transitions, later the backlog desk), reveal
# personal data on an explicit "show", administer users and read the audit log.
RIGHTS = {
    "city_leader": frozenset({"read"}),
    "district_manager": frozenset({"read", "act", "reveal"}),
    "street_operator": frozenset({"read", "act", "reveal"}),
    "department_handler": frozenset({"read", "act", "reveal"}),
    "viewer": frozenset({"read"}),
    "admin": frozenset({"read", "admin"}),
    auth.WALL_ROLE: frozenset({"read"}),
}
# A system with an API token reports and moves events and reads them whole (each such read is audited).
TOKEN_RIGHTS = frozenset({"read", "act", "reveal"})

# Paths anyone may open: the sign-in page and static files, and descriptions that hold no data.
OPEN_PATHS = frozenset({"/auth/sign-in", "/auth/sign-out", "/_favicon.ico", "/api/v1/openapi.json"})
# Dash's page routes: a path that only they match is a page, never open (e.g. "/assets//x").
PAGE_ENDPOINTS = frozenset({"/", "/<path:path>"})
OPEN_PREFIXES = ("/assets/", "/_dash-component-suites/", "/open311/v2/discovery.", "/open311/v2/services")
PASSWORD_PATH = "/auth/password"
# Paths that a token may open (a browser session may too).
TOKEN_PREFIXES = ("/api/", "/open311/")


@dataclass(frozen=True)
class Principal:
    """The caller of this request: a signed-in user or a system with an API token."""

    name: str
    display_name: str
    kind: str  # "user" or "token"
    role: str | None  # a user's role (auth.ROLES); None for a token
    scope: Scope
    rights: frozenset[str]
    public_wall: bool = False  # this screen is seen by visitors: nothing personal, whatever the role
    session: str | None = None  # the session id's hash (users only)
    must_change_password: bool = False  # a one-time password: nothing opens until the user chose their own

    def may(self, right: str) -> bool:
        """Return True when this caller has ``right`` (never "reveal" on a public wall)."""
        return right in self.rights and not (right == "reveal" and self.public_wall)


class Refused(Exception):
    """A request the gate or a route refuses: ``status`` and a message for the caller."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def current() -> Principal | None:
    """Return the caller of this request, or None outside a request or before the gate ran."""
    return flask.g.get("gridcc_principal") if flask.has_request_context() else None


def require(right: str = "read") -> Principal:
    """Return the caller when they have ``right``; raise Refused (401 or 403) otherwise."""
    principal = current()
    if principal is None:
        raise Refused(401, "sign in first")
    if not principal.may(right):
        raise Refused(403, f"your role may not {right} here" if right != "reveal" or not principal.public_wall
                      else "nothing personal is shown on a public wall")
    return principal


def scope_of(conn: Connection, kind: str, code: str) -> Scope:
    """Return the query scope of a user's (kind, code); raise LookupError when it no longer exists.

    A department sees its own cases in the district it serves (the whole city for a city department).
    """
    if kind == "department":
        if not area_queries.department_exists(conn, code=code):
            raise LookupError(f"there is no department {code!r}")
        district = area_queries.department_district(conn, code=code)
        if district is not None:
            return Scope(district, DISTRICT, department=code)
        roots = area_queries.root_area_codes(conn)
        if not roots:
            raise LookupError("the store holds no areas")
        return Scope(roots[0], CITY, department=code)
    level = area_queries.scope_area_level(conn, code=code)
    if level is None:
        raise LookupError(f"there is no area {code!r}")
    return Scope(code, level)


def fingerprint(password_hash: str, role: str, scope_kind: str, scope_code: str) -> str:
    """Return what a session remembers of its user: a new password, role or scope ends the session."""
    text = "\x1f".join((password_hash, role, scope_kind, scope_code))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def csrf_token(session_hash: str) -> str:
    """Return the CSRF token of a session: an HMAC of its id hash under the app's secret key."""
    key = flask.current_app.secret_key
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, b"csrf:" + session_hash.encode(), hashlib.sha256).hexdigest()


def source() -> str:
    """Return where the request came from (the peer address; a proxy's X-Forwarded-For is not trusted)."""
    return (flask.request.remote_addr or "?")[:64]


def audit(action: str, outcome: str = "ok", *, target: str | None = None, detail: str | None = None,
          actor: str | None = None) -> None:
    """Append one row to the audit log for this request's caller, in its own transaction."""
    ctx = context.current()
    principal = current()
    who = actor or (principal.name if principal else "anonymous")
    with ctx.ingestor.write_lock, ctx.engine.begin() as conn:
        user_queries.audit(conn, at=ctx.settings.now(), actor=who, action=action, outcome=outcome, target=target,
                           source=source(), detail=detail)


# -- who is asking ---------------------------------------------------------------------------------------
def _bearer() -> str | None:
    scheme, _, token = flask.request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _from_token(token: str) -> Principal | None:
    ctx = context.current()
    name = ctx.ingestor.authenticate(token)
    if name is None:
        return None
    scope = ctx.ingestor.token_scope(name) or _whole_city()
    return Principal(name=name, display_name=name, kind="token", role=None, scope=scope, rights=TOKEN_RIGHTS)


def _remembered(key, look):
    """Return ``look()``, remembered a few seconds per app (scopes change only with an area import)."""
    return flask.current_app.extensions["gridcc_scopes"].get(key, look)


def _whole_city() -> Scope:
    def look() -> Scope:
        with context.current().connect() as conn:
            roots = area_queries.root_area_codes(conn)
        if not roots:
            raise LookupError("the store holds no areas: run `gridcc seed` first")
        return Scope(roots[0], CITY)
    return _remembered(("city",), look)


def _from_session() -> Principal | None:
    """Return the signed-in user of this request's session cookie, ending a session that no longer holds."""
    session_id = flask.session.get("sid")
    if not isinstance(session_id, str) or not 20 <= len(session_id) <= 100:
        return None
    ctx = context.current()
    settings = ctx.settings
    digest = _digest(session_id)
    now = settings.now()
    memo = flask.current_app.extensions["gridcc_sessions"]
    remembered = memo.get(digest)
    generation = session_queries.generation()
    if remembered is not None:
        principal, row, at, seen_generation = remembered
        # Trusted for a moment unless this process changed a session or user since: the timers still hold.
        if (seen_generation == generation and time.monotonic() - at < settings.session_recheck_s
                and now - row.created_at <= _lifetime(row.role, settings) and now - row.seen_at < TOUCH_EVERY):
            return principal
    with ctx.connect() as conn:
        row = session_queries.live(conn, id_sha256=digest)
        if row is None:
            return None
        why = None
        if row.disabled:
            why = "user disabled"
        elif row.fingerprint != fingerprint(row.password_hash, row.role, row.scope_kind, row.scope_code):
            why = "password, role or scope changed"
        elif now - row.created_at > _lifetime(row.role, settings):
            why = "older than the session lifetime"
        elif now - row.seen_at > settings.session_idle and row.role != auth.WALL_ROLE:
            why = "idle too long"
        if why is None:
            try:
                scope = _remembered((row.scope_kind, row.scope_code),
                                    lambda: scope_of(conn, row.scope_kind, row.scope_code))
            except LookupError:
                why = "scope no longer exists"
    if why is not None:
        with ctx.ingestor.write_lock, ctx.engine.begin() as conn:
            if session_queries.end(conn, id_sha256=digest, now=now):
                user_queries.audit(conn, at=now, actor=row.user_name, action="session.end", outcome="ended",
                                   source=source(), detail=why)
        return None
    if now - row.seen_at >= TOUCH_EVERY:
        with ctx.ingestor.write_lock, ctx.engine.begin() as conn:
            session_queries.touch(conn, id_sha256=digest, now=now)
        row = replace(row, seen_at=now)
    principal = Principal(name=row.user_name, display_name=row.display_name, kind="user", role=row.role, scope=scope,
                          rights=RIGHTS.get(row.role, frozenset()),
                          public_wall=row.public_wall or settings.public_wall or row.role == auth.WALL_ROLE,
                          session=digest,
                          must_change_password=bool(row.must_change_password))
    if len(memo) > 10_000:
        memo.clear()
    memo[digest] = (principal, row, time.monotonic(), generation)
    return principal


def _lifetime(role: str | None, settings) -> timedelta:
    """Return how long a session of ``role`` may last: a wall display's for weeks, anyone else's for hours."""
    return settings.wall_session_lifetime if role == auth.WALL_ROLE else settings.session_lifetime


def _is_open(path: str) -> bool:
    rule = flask.request.url_rule
    if rule is not None and rule.endpoint in PAGE_ENDPOINTS:
        return False
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES) or (
        # Open311 creates requests with its own api_key field, checked by the route.
        path.startswith("/open311/v2/requests.") and flask.request.method == "POST")


def _wants_page() -> bool:
    """Return True for a browser asking for a page (redirect it to sign in) rather than data (answer 401)."""
    path = flask.request.path
    return (flask.request.method == "GET" and not path.startswith(("/_", "/api/", "/open311/", "/geo/"))
            and "text/html" in flask.request.headers.get("Accept", "text/html"))


def _csrf_ok(principal: Principal) -> bool:
    """Return True when an unsafe request of a browser session carries its CSRF token and comes from here."""
    origin = flask.request.headers.get("Origin")
    if origin is not None and urlsplit(origin).netloc != flask.request.host:
        return False
    sent = flask.request.headers.get(CSRF_HEADER) or ""
    if not sent and flask.request.mimetype == "application/x-www-form-urlencoded":
        sent = flask.request.form.get(CSRF_FIELD, "")
    return bool(sent) and hmac.compare_digest(sent.encode(), csrf_token(principal.session).encode())


def gate():
    """Before every request: find the caller or refuse; check CSRF on a browser's writes."""
    path = flask.request.path
    if _is_open(path):
        return None
    principal = None
    token = _bearer()
    if token is None and path.startswith("/open311/"):
        token = flask.request.args.get("api_key") or None
    if token is not None:
        if path.startswith(TOKEN_PREFIXES):
            principal = _from_token(token)
        if principal is None:
            return _unauthorized("the API token is not valid (or was revoked)")
    else:
        principal = _from_session()
    if principal is None:
        if _wants_page():
            target = flask.request.full_path.rstrip("?")
            lang = "&lang=en" if flask.request.args.get("lang") == "en" else ""  # sign in in the page's language
            return flask.redirect(f"/auth/sign-in?next={quote(target, safe='')}{lang}", 303)
        return _unauthorized("sign in first (/auth/sign-in), or send an API token as 'Authorization: Bearer <token>'")
    flask.g.gridcc_principal = principal
    if flask.request.method not in SAFE_METHODS and principal.kind == "user" and not _csrf_ok(principal):
        audit("csrf", "refused", target=path[:128], detail=flask.request.method)
        return _json(403, "forbidden", "this request lacks the page's CSRF token (reload the page and try again)")
    if principal.must_change_password and path != PASSWORD_PATH:
        if _wants_page():
            return flask.redirect(PASSWORD_PATH, 303)
        return _json(403, "forbidden", f"choose your own password first ({PASSWORD_PATH})")
    return None


def _json(status: int, error: str, message: str) -> flask.Response:
    response = flask.jsonify({"error": error, "message": message})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _unauthorized(message: str) -> flask.Response:
    if flask.request.path.startswith("/open311/"):  # GeoReport v2's own error shape
        response = flask.jsonify([{"code": 401, "description": message}])
        response.status_code = 401
    else:
        response = _json(401, "unauthorized", message)
    if flask.request.path.startswith(TOKEN_PREFIXES):
        response.headers["WWW-Authenticate"] = 'Bearer realm="gridcc"'
    return response


def after(response: flask.Response) -> flask.Response:
    """After every request: keep the CSRF cookie in step with the session; add the security headers."""
    principal = current()
    if principal is not None and principal.kind == "user":
        expected = csrf_token(principal.session)
        if flask.request.cookies.get(CSRF_COOKIE) != expected:
            _set_csrf_cookie(response, expected)
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _set_csrf_cookie(response: flask.Response, value: str) -> None:
    settings = context.current().settings
    response.set_cookie(CSRF_COOKIE, value, httponly=False, samesite="Strict", secure=settings.secure_cookies,
                        path="/")


# -- sign-in throttling by address ------------------------------------------------------------------------
class _Failures:
    """Failed sign-ins per address in a sliding window (this process only; the per-user lock-out is stored)."""

    def __init__(self, limit: int = SOURCE_FAILURES, window_s: float = SOURCE_WINDOW_S):
        self.limit, self.window_s = limit, window_s
        self._seen: dict[str, deque] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str) -> deque:
        times = self._seen.setdefault(address, deque())
        cutoff = time.monotonic() - self.window_s
        while times and times[0] < cutoff:
            times.popleft()
        return times

    def blocked(self, address: str) -> bool:
        with self._lock:
            return len(self._recent(address)) >= self.limit

    def add(self, address: str) -> None:
        with self._lock:
            if len(self._seen) > 10_000:  # never grows without bound under a spray of addresses
                self._seen.clear()
            self._recent(address).append(time.monotonic())


# -- the sign-in and sign-out routes -----------------------------------------------------------------------
bp = flask.Blueprint("auth", __name__, url_prefix="/auth")


def safe_next(target: str | None) -> str:
    """Return ``target`` when it is a path on this site (no open redirect), else "/"."""
    if not isinstance(target, str) or not target.startswith("/") or target.startswith(("//", "/\\", "/auth/")):
        return "/"
    if len(target) > 2000 or any(ord(c) < 32 or c == "\\" for c in target):
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target


def _page(lang: str, *, error: str | None = None, status: int = 200, name: str = "",
          next_path: str = "/") -> flask.Response:
    from layouts import signin

    token = secrets.token_urlsafe(32)
    html = signin.page(lang=lang, csrf=token, error=error, name=name, next_path=next_path)
    response = flask.Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    # The page has no script at all: nothing inline may run, and it may not be framed.
    response.headers["Content-Security-Policy"] = ("default-src 'none'; style-src 'self'; img-src 'self' data:; "
                                                   "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    _set_csrf_cookie(response, token)
    return response


@bp.get("/sign-in")
def sign_in_page():
    """Show the sign-in form (Chinese, or English with ?lang=en)."""
    args = flask.request.args
    return _page(normalise(args.get("lang")), next_path=safe_next(args.get("next")))


@bp.post("/sign-in")
def sign_in():
    """Check the name and password; on success start a new session and go where the user was going."""
    ctx = context.current()
    form = flask.request.form
    lang = normalise(form.get("lang"))
    next_path = safe_next(form.get("next"))
    name = form.get("name", "")
    name = name.strip() if isinstance(name, str) else ""
    sent, cookie = form.get(CSRF_FIELD, ""), flask.request.cookies.get(CSRF_COOKIE, "")
    if not sent or not cookie or not hmac.compare_digest(sent.encode(), cookie.encode()):
        return _page(lang, error=t("signin.expired", lang), status=400, name=name[:64], next_path=next_path)
    address = source()
    failures = flask.current_app.extensions["gridcc_failures"]
    if failures.blocked(address):
        audit("sign_in", "throttled", actor=name[:64] or "?")
        return _page(lang, error=t("signin.throttled", lang), status=429, name=name[:64], next_path=next_path)
    now = ctx.settings.now()
    password = form.get("password", "")
    with ctx.connect() as conn:  # the slow hash check runs before, not under, the store's write lock
        check = auth.check_password(conn, name=name, password=password)
    with ctx.ingestor.write_lock, ctx.engine.begin() as conn:
        try:
            user = auth.sign_in(conn, name=name, password=password, now=now, source=address, check=check)
        except auth.SignInRefused as refused:
            user, reason = None, refused
        else:
            try:
                scope_of(conn, user.scope_kind, user.scope_code)
            except LookupError:
                user_queries.audit(conn, at=now, actor=user.name, action="sign_in", outcome="refused",
                                   source=address, detail="scope no longer exists")
                user, reason = None, None
            else:
                # A browser left signed in: the session it came with ends, whoever signs in now.
                came_with = flask.session.get("sid")
                if isinstance(came_with, str) and session_queries.end(conn, id_sha256=_digest(came_with), now=now):
                    user_queries.audit(conn, at=now, actor=user.name, action="session.end", outcome="ended",
                                       source=address, detail="another sign-in on this browser")
                session_id = secrets.token_urlsafe(32)
                session_queries.start(conn, id_sha256=_digest(session_id), user_name=user.name, now=now,
                                      fingerprint=fingerprint(user_queries.password_hash(conn, name=user.name),
                                                              user.role, user.scope_kind, user.scope_code),
                                      source=address)
    if user is None:
        failures.add(address)
        # One answer for a wrong name, a wrong password and a locked user: a guesser learns nothing.
        message = t("signin.no_scope", lang) if reason is None else t("signin.refused", lang)
        return _page(lang, error=message, name=name[:64], next_path=next_path)
    # A new session, never the one the browser came with (no session fixation).
    flask.session.clear()
    flask.session["sid"] = session_id
    flask.session.permanent = True
    if user.role == auth.WALL_ROLE and next_path == "/":
        next_path = "/wall"  # a wall PC signs in once and shows the wall
    response = flask.redirect(next_path, 303)
    _set_csrf_cookie(response, csrf_token(_digest(session_id)))
    return response


@bp.post("/sign-out")
def sign_out():
    """End this browser's session (a form post with the CSRF token) and show the sign-in page."""
    principal = _from_session()
    lang = normalise(flask.request.form.get("lang"))
    if principal is not None:
        flask.g.gridcc_principal = principal
        if not _csrf_ok(principal):
            audit("csrf", "refused", target="/auth/sign-out", detail="POST")
            return _json(403, "forbidden", "this request lacks the page's CSRF token (reload the page and try again)")
        ctx = context.current()
        with ctx.ingestor.write_lock, ctx.engine.begin() as conn:
            now = ctx.settings.now()
            session_queries.end(conn, id_sha256=principal.session, now=now)
            user_queries.audit(conn, at=now, actor=principal.name, action="sign_out", outcome="ok", source=source())
    flask.session.clear()
    response = flask.redirect(f"/auth/sign-in?lang={lang}", 303)
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


def _password_page(principal: Principal, lang: str, *, error: str | None = None, status: int = 200) -> flask.Response:
    from layouts import signin

    html = signin.password_page(lang=lang, csrf=csrf_token(principal.session), error=error,
                                forced=principal.must_change_password, name=principal.name)
    response = flask.Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = ("default-src 'none'; style-src 'self'; img-src 'self' data:; "
                                                   "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    return response


@bp.get("/password")
def password_page():
    """Show the form to change one's own password (the only page open while a one-time password is in use)."""
    return _password_page(current(), normalise(flask.request.args.get("lang")))


@bp.post("/password")
def change_password():
    """Check the current password and store a new one; every session of the user ends, this one restarts."""
    principal = current()
    form = flask.request.form
    lang = normalise(form.get("lang"))
    old, new, again = (form.get(k, "") for k in ("current", "new", "again"))
    ctx = context.current()
    now = ctx.settings.now()
    with ctx.connect() as conn:
        stored = user_queries.password_hash(conn, name=principal.name)
    problem = None
    if not auth.verify_password(stored, old):
        # As many guesses as sign-in allows, no more: then the user is locked and signed out everywhere.
        with ctx.ingestor.write_lock, ctx.engine.begin() as conn:
            user = user_queries.get_user(conn, name=principal.name)
            locks = user.failed_sign_ins + 1 >= auth.MAX_FAILURES
            user_queries.record_failure(conn, name=user.name, locked_until=now + auth.LOCK_FOR if locks else None)
            user_queries.audit(conn, at=now, actor=principal.name, action="password.change", outcome="refused",
                               target=principal.name, source=source(), detail="wrong_current")
            if locks:
                session_queries.end_all(conn, user_name=user.name, now=now)
                user_queries.audit(conn, at=now, actor=principal.name, action="session.end", outcome="ended",
                                   source=source(), detail="locked: wrong current passwords")
        if locks:
            flask.session.clear()
            return flask.redirect(f"/auth/sign-in?lang={lang}", 303)
        return _password_page(principal, lang, error=t("password.wrong_current", lang))
    if new != again:
        problem = "password.mismatch"
    elif new == old or new.strip().lower() == principal.name.lower():
        problem = "password.same"
    else:
        try:
            digest = auth.hash_password(new)
        except ValueError:
            problem = "password.short"
    if problem is not None:
        audit("password.change", "refused", target=principal.name, detail=problem.split(".")[1])
        return _password_page(principal, lang, error=t(problem, lang, n=auth.MIN_PASSWORD), status=200)
    session_id = secrets.token_urlsafe(32)
    with ctx.ingestor.write_lock, ctx.engine.begin() as conn:
        user_queries.set_password(conn, name=principal.name, password_hash=digest, now=now)
        ended = session_queries.end_all(conn, user_name=principal.name, now=now)
        user = user_queries.get_user(conn, name=principal.name)
        session_queries.start(conn, id_sha256=_digest(session_id), user_name=user.name, now=now, source=source(),
                              fingerprint=fingerprint(digest, user.role, user.scope_kind, user.scope_code))
        user_queries.audit(conn, at=now, actor=principal.name, action="password.change", outcome="ok",
                           target=principal.name, source=source(), detail=f"{ended} sessions ended")
    flask.session.clear()
    flask.session["sid"] = session_id
    flask.session.permanent = True
    response = flask.redirect("/" if lang == "zh" else "/?lang=en", 303)
    _set_csrf_cookie(response, csrf_token(_digest(session_id)))
    return response


@bp.post("/public-wall")
def public_wall():
    """Turn this session's public-wall masking on or off (``on=1`` / ``on=0``)."""
    principal = current()
    on = flask.request.values.get("on") == "1"
    if principal is None or principal.kind != "user":
        return _unauthorized("sign in first")
    if not on and context.current().settings.public_wall:
        return _json(409, "conflict", "this server is a public wall (GRIDCC_PUBLIC_WALL): masking cannot be turned off")
    if not on and principal.role == auth.WALL_ROLE:
        return _json(409, "conflict", "a wall display always masks: its masking cannot be turned off")
    ctx = context.current()
    with ctx.ingestor.write_lock, ctx.engine.begin() as conn:
        session_queries.set_public_wall(conn, id_sha256=principal.session, on=on)
        user_queries.audit(conn, at=ctx.settings.now(), actor=principal.name, action="public_wall",
                           outcome="ok", source=source(), detail="on" if on else "off")
    return flask.jsonify({"public_wall": on})


def init_app(server: flask.Flask) -> None:
    """Put the gate in front of every route and add the /auth routes."""
    settings = server.extensions[context.EXTENSION_KEY].settings
    server.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        # The cookie lasts as long as the longest session (a wall display's); the store decides when one ends.
        PERMANENT_SESSION_LIFETIME=max(settings.session_lifetime, settings.wall_session_lifetime),
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    server.extensions["gridcc_failures"] = _Failures()
    server.extensions["gridcc_scopes"] = Recent()
    server.extensions["gridcc_sessions"] = {}  # session id hash -> (principal, row, when, generation)
    server.register_blueprint(bp)
    server.before_request(gate)
    server.after_request(after)

    from dash.exceptions import DependencyException

    @server.errorhandler(DependencyException)
    def _unknown_component_file(error):
        # Dash raises this for a component-suite path it does not serve (a probe, a traversal): a 404.
        if flask.request.path.startswith("/_dash-component-suites/"):
            return _json(404, "not_found", "no such file")
        raise error
