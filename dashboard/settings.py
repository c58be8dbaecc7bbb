"""Settings from the environment (``GRIDCC_*``), overridable per app for tests."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from dashboard.worktime import WorkCalendar


def _number(env, name: str, kind, default=None):
    """Return the number in environment variable ``name`` (``default`` when unset), or say which one is wrong."""
    text = (env.get(name) or "").strip()
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"{name}={text[:40]!r} is not a {'whole ' if kind is int else ''}number") from None
    if value != value or value < 0 or value in (float("inf"),):
        raise ValueError(f"{name}={text[:40]!r} must be a finite number of at least 0")
    return value


def _self_url(text: str) -> str:
    """Return GRIDCC_SELF_URL when it is an http(s) address with a host and nothing after the path, else say why."""
    from urllib.parse import urlsplit

    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"GRIDCC_SELF_URL={text[:60]!r} must be an http(s) address of this server, e.g. "
                         "http://127.0.0.1:8050")
    return text.strip().rstrip("/")


def _default_data_dir() -> Path:
    return Path(os.environ.get("GRIDCC_DATA_DIR", Path.cwd() / "data"))


@dataclass(frozen=True)
class Settings:
    """Everything that varies between a demo, a test and a city's deployment."""

    store_url: str = ""
    data_dir: Path = field(default_factory=_default_data_dir)
    timezone: str = "Asia/Shanghai"
    # Freeze "now" (naive local time) for tests and reproducible demos; None means the wall clock.
    frozen_now: datetime | None = None
    cache_type: str = "SimpleCache"
    cache_timeout_s: int = 300
    # A tile layer is never on by default: the areas are the base map. Set an intranet tile server
    # (天地图 / AMap / a local server) as a Leaflet URL template to show one.
    tile_url: str = ""
    # Where the tour export's headless browser finds this app (GRIDCC_SELF_URL); empty: the loopback port
    # the request came in on.
    self_url: str = ""
    tile_attribution: str = ""
    # DuckDB's own memory cap, so the whole server stays within its budget.
    duckdb_memory_limit: str = "512MB"
    duckdb_threads: int = 2
    secret_key: str = ""  # signs session cookies; when empty, a random key kept in data_dir/secret_key
    secure_cookies: bool = False  # set when served over HTTPS (GRIDCC_SECURE_COOKIES=1)
    session_lifetime: timedelta = timedelta(hours=12)
    session_idle: timedelta = timedelta(minutes=30)
    # A wall display's session (role wall_display): no idle limit, this lifetime (GRIDCC_WALL_SESSION_DAYS).
    wall_session_lifetime: timedelta = timedelta(days=30)
    # How long a checked session is trusted before its row is read again. A change this process makes
    # (sign-out, disable, password) takes effect at once; one made by another process within this time.
    session_recheck_s: float = 1.0
    # Live screens: each open stream holds a server thread, so the server adds this many to its pool;
    # a screen past the limit polls instead (GRIDCC_LIVE_MAX_STREAMS).
    live_max_streams: int = 256
    public_wall: bool = False  # every screen of this server masks everything personal (GRIDCC_PUBLIC_WALL=1)
    # The SLA clock: working hours ("08:30-12:00,13:30-17:30") and a CSV of local calendar changes
    # (date,workday) on top of the statutory calendar.
    work_hours: str = "08:30-12:00,13:30-17:30"
    calendar_overrides: str = ""
    # Alert rules and their webhooks (docs/alerts.md): a JSON/TOML rules file (the defaults when empty), the
    # webhooks (a JSON file or inline JSON; none: nothing is sent), how often the rules are checked in seconds
    # (0: never — what a Settings built in code gets; GRIDCC_ALERT_EVERY_S defaults to 30), attempts per
    # message, and the address links in messages start with (an intranet URL; empty: a path only).
    alert_rules: str = ""
    webhooks: str = ""
    alert_every_s: float = 0.0
    webhook_tries: int = 6
    alert_link_base: str = ""
    # Rankings (issue 7; docs/metrics.md): how long a month not frozen yet is counted once and kept (seconds),
    # and how often the freezer closes months due (seconds; 0: never — a Settings built in code;
    # GRIDCC_RANK_FREEZE_EVERY_S defaults to 3600).
    rank_refresh_s: float = 300.0
    rank_freeze_every_s: float = 0.0
    rankings: str = ""  # the ranking configuration file (TOML/JSON, GRIDCC_RANKINGS); empty: dashboard/catalog/rankings.toml
    wall_playlists: str = ""  # the wall's playlists (TOML/JSON, GRIDCC_WALL_PLAYLISTS); empty: dashboard/catalog/wall.toml

    def __post_init__(self):
        if not self.store_url:
            object.__setattr__(self, "store_url", f"duckdb:///{Path(self.data_dir) / 'gridcc.duckdb'}")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def now(self) -> datetime:
        """Return the current naive local time (or the frozen one), to the second."""
        if self.frozen_now is not None:
            return self.frozen_now
        return datetime.now(self.tz).replace(tzinfo=None, microsecond=0)

    def secret(self) -> str:
        """Return the key that signs session cookies: GRIDCC_SECRET_KEY, or one made once and kept in data_dir."""
        if self.secret_key:
            return self.secret_key
        path = Path(self.data_dir) / "secret_key"
        if not path.exists():
            import secrets

            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it a moment ago
                pass
            else:
                with os.fdopen(fd, "w") as out:
                    out.write(secrets.token_hex(32))
        key = path.read_text().strip()
        if len(key) < 32:
            raise ValueError(f"{path} holds a key shorter than 32 characters: delete it to make a new one")
        return key

    def calendar(self) -> "WorkCalendar":
        """Return the working-time calendar these settings describe."""
        from dashboard.worktime import WorkCalendar, load_overrides, parse_periods

        overrides = load_overrides(self.calendar_overrides) if self.calendar_overrides else {}
        return WorkCalendar(periods=parse_periods(self.work_hours), overrides=overrides)

    def with_(self, **changes) -> "Settings":
        """Return a copy with ``changes`` applied."""
        return replace(self, **changes)


def from_env(environ: dict | None = None) -> Settings:
    """Read settings from ``GRIDCC_*`` environment variables."""
    env = os.environ if environ is None else environ
    kw: dict = {}
    if env.get("GRIDCC_DATA_DIR"):
        kw["data_dir"] = Path(env["GRIDCC_DATA_DIR"])
    if env.get("GRIDCC_STORE"):
        kw["store_url"] = env["GRIDCC_STORE"]
    if env.get("GRIDCC_TIMEZONE"):
        kw["timezone"] = env["GRIDCC_TIMEZONE"]
    if env.get("GRIDCC_NOW"):
        kw["frozen_now"] = datetime.fromisoformat(env["GRIDCC_NOW"]).replace(tzinfo=None)
    if env.get("GRIDCC_CACHE_TYPE"):
        kw["cache_type"] = env["GRIDCC_CACHE_TYPE"]
    if env.get("GRIDCC_TILE_URL"):
        kw["tile_url"] = env["GRIDCC_TILE_URL"]
    if env.get("GRIDCC_SELF_URL"):
        kw["self_url"] = _self_url(env["GRIDCC_SELF_URL"])
        kw["tile_attribution"] = env.get("GRIDCC_TILE_ATTRIBUTION", "")
    if env.get("GRIDCC_DUCKDB_MEMORY_LIMIT"):
        kw["duckdb_memory_limit"] = env["GRIDCC_DUCKDB_MEMORY_LIMIT"]
    if env.get("GRIDCC_WORK_HOURS"):
        kw["work_hours"] = env["GRIDCC_WORK_HOURS"]
    if env.get("GRIDCC_CALENDAR_OVERRIDES"):
        kw["calendar_overrides"] = env["GRIDCC_CALENDAR_OVERRIDES"]
    if env.get("GRIDCC_SECRET_KEY"):
        kw["secret_key"] = env["GRIDCC_SECRET_KEY"]
    if env.get("GRIDCC_SECURE_COOKIES"):
        kw["secure_cookies"] = env["GRIDCC_SECURE_COOKIES"] == "1"
    if env.get("GRIDCC_PUBLIC_WALL"):
        kw["public_wall"] = env["GRIDCC_PUBLIC_WALL"] == "1"
    if env.get("GRIDCC_SESSION_HOURS"):
        kw["session_lifetime"] = timedelta(hours=_number(env, "GRIDCC_SESSION_HOURS", float))
    if env.get("GRIDCC_SESSION_RECHECK_S"):
        kw["session_recheck_s"] = _number(env, "GRIDCC_SESSION_RECHECK_S", float)
    if env.get("GRIDCC_WALL_SESSION_DAYS"):
        kw["wall_session_lifetime"] = timedelta(days=_number(env, "GRIDCC_WALL_SESSION_DAYS", float))
    if env.get("GRIDCC_SESSION_IDLE_MINUTES"):
        kw["session_idle"] = timedelta(minutes=_number(env, "GRIDCC_SESSION_IDLE_MINUTES", float))
    if env.get("GRIDCC_LIVE_MAX_STREAMS"):
        kw["live_max_streams"] = _number(env, "GRIDCC_LIVE_MAX_STREAMS", int)
    kw["alert_rules"] = env.get("GRIDCC_ALERT_RULES", "")
    kw["webhooks"] = env.get("GRIDCC_WEBHOOKS", "")
    kw["alert_every_s"] = _number(env, "GRIDCC_ALERT_EVERY_S", float, 30)
    kw["webhook_tries"] = _number(env, "GRIDCC_WEBHOOK_TRIES", int, 6)
    kw["alert_link_base"] = env.get("GRIDCC_ALERT_LINK_BASE", "")
    kw["rank_refresh_s"] = _number(env, "GRIDCC_RANK_REFRESH_S", float, 300)
    kw["rank_freeze_every_s"] = _number(env, "GRIDCC_RANK_FREEZE_EVERY_S", float, 3600)
    kw["rankings"] = env.get("GRIDCC_RANKINGS", "").strip()
    kw["wall_playlists"] = env.get("GRIDCC_WALL_PLAYLISTS", "").strip()
    return Settings(**kw)
