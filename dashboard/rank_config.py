"""The ranking configuration: schemes of weighted indicators, minimum volumes, grade bands (issue 7 §1).

A city's file (``dashboard/catalog/rankings.toml``, or ``GRIDCC_RANKINGS=/path.toml|json``) is the default;
an administrator saves versions (``rank_configs``), each in force from the first day of a month on. The
configuration of month M is the latest version with effective_from ≤ M (then the highest id), else the file's;
a frozen month keeps the configuration it was frozen with. Closed periods never change: a version may not
start in or before a frozen month, nor before the current month.
"""
from __future__ import annotations

import json
import math
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from dashboard import webhook
from dashboard.rankings import INDICATORS, SCHEME_INDICATORS, SCHEMES, Period

PACKAGED = Path(__file__).resolve().parent / "catalog" / "rankings.toml"
SETTING = "GRIDCC_RANKINGS"
MAX_WEIGHT = 1000.0
MAX_MIN_VOLUME = 1_000_000
MAX_LIMIT_MINUTES = 7 * 24 * 60
MAX_SETTLE_DAYS = 31
MAX_GRADES = 10
MAX_NOTE = 500
MAX_MONTHS_AHEAD = 36
_CLASS = re.compile(r"[0-9]{2}")
_GRADE = re.compile(r"[A-Za-z0-9+\-\u4e00-\u9fff]{1,8}")
_TOP_KEYS = ("settle_days", "verify_limit_minutes", "check_limit_minutes", "patrol_classes", "grades", "schemes")


class ConfigError(webhook.ConfigError):
    """A configuration refused: the message names the key at fault (``schemes.worker.items[2].weight``)."""

    def __init__(self, key: str, problem: str, origin: str | None = None):
        self.key = key
        self.problem = problem
        super().__init__(f"{origin + ': ' if origin else ''}{key}: {problem}" if key else
                         f"{origin + ': ' if origin else ''}{problem}")


@dataclass(frozen=True)
class Item:
    """One indicator of a scheme and its weight (0: shown, not scored)."""

    indicator: str
    weight: float


@dataclass(frozen=True)
class Scheme:
    """A weighted set of indicators (考核方案) and its minimum volume per month."""

    key: str
    items: tuple[Item, ...]
    min_volume: int


@dataclass(frozen=True)
class Config:
    """A whole ranking configuration."""

    schemes: Mapping[str, Scheme]
    grades: tuple[tuple[str, float], ...]  # descending floors, the last 0
    settle_days: int
    verify_limit_minutes: int
    check_limit_minutes: int
    patrol_classes: tuple[str, ...]

    def __hash__(self) -> int:
        return hash(self.to_json())

    def to_dict(self) -> dict:
        """Return the configuration as the file's structure (what parse() reads)."""
        return {
            "settle_days": self.settle_days,
            "verify_limit_minutes": self.verify_limit_minutes,
            "check_limit_minutes": self.check_limit_minutes,
            "patrol_classes": list(self.patrol_classes),
            "grades": {name: _number_out(floor) for name, floor in self.grades},
            "schemes": {key: {"min_volume": scheme.min_volume,
                              "items": [{"indicator": i.indicator, "weight": _number_out(i.weight)}
                                        for i in scheme.items]}
                        for key, scheme in self.schemes.items()},
        }

    def to_json(self) -> str:
        """Return the configuration as JSON (what a version's body and a frozen month hold)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "Config":
        """Return the configuration in ``text`` (JSON); ConfigError when it is not a valid one."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as error:
            raise ConfigError("", f"not valid JSON ({error})") from None
        return parse(data)


def _number_out(value: float):
    return int(value) if float(value).is_integer() else value


# -- parsing ---------------------------------------------------------------------------------------------------
def _int(value, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            isinstance(value, float) and not (math.isfinite(value) and value.is_integer())):
        raise ConfigError(key, f"must be a whole number, not {value!r}"[:200])
    if not low <= value <= high:
        raise ConfigError(key, f"must lie between {low} and {high}, not {value!r}")
    return int(value)


def _float(value, key: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(key, f"must be a number, not {value!r}"[:200])
    if not math.isfinite(value):
        raise ConfigError(key, f"must be a finite number, not {value!r}")
    if not low <= value <= high:
        raise ConfigError(key, f"must lie between {low:g} and {high:g}, not {value!r}")
    return float(value)


def _mapping(value, key: str, keys: tuple[str, ...] | None = None) -> Mapping:
    if not isinstance(value, Mapping):
        raise ConfigError(key, f"must be a table of keys, not {type(value).__name__}")
    if keys is not None:
        unknown = [k for k in value if k not in keys]
        if unknown:
            raise ConfigError(f"{key}.{unknown[0]}" if key else str(unknown[0])[:60],
                              f"unknown key (expected {', '.join(keys)})")
        missing = [k for k in keys if k not in value]
        if missing:
            raise ConfigError(f"{key}.{missing[0]}" if key else missing[0], "missing")
    return value


def _scheme(key: str, value) -> Scheme:
    where = f"schemes.{key}"
    value = _mapping(value, where, ("min_volume", "items"))
    min_volume = _int(value["min_volume"], f"{where}.min_volume", 0, MAX_MIN_VOLUME)
    items = value["items"]
    allowed = SCHEME_INDICATORS[key]
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{where}.items", "must be a non-empty list of {indicator, weight}")
    if len(items) > len(allowed):
        raise ConfigError(f"{where}.items", f"{len(items)} items; the {key} scheme has {len(allowed)} indicators")
    parsed, seen = [], set()
    for i, item in enumerate(items):
        at = f"{where}.items[{i}]"
        item = _mapping(item, at, ("indicator", "weight"))
        indicator = item["indicator"]
        if not isinstance(indicator, str) or indicator not in INDICATORS:
            raise ConfigError(f"{at}.indicator", f"unknown indicator {str(indicator)[:60]!r}")
        if indicator not in allowed:
            raise ConfigError(f"{at}.indicator", f"{indicator} is not an indicator of the {key} scheme "
                                                 f"(it takes {', '.join(allowed)})")
        if indicator in seen:
            raise ConfigError(f"{at}.indicator", f"{indicator} appears twice")
        seen.add(indicator)
        parsed.append(Item(indicator, _float(item["weight"], f"{at}.weight", 0.0, MAX_WEIGHT)))
    if not any(item.weight > 0 for item in parsed):
        raise ConfigError(f"{where}.items", "every weight is 0: at least one item must count")
    return Scheme(key, tuple(parsed), min_volume)


def _grades(value) -> tuple[tuple[str, float], ...]:
    value = _mapping(value, "grades")
    if not 1 <= len(value) <= MAX_GRADES:
        raise ConfigError("grades", f"must hold 1 to {MAX_GRADES} bands, not {len(value)}")
    bands = []
    for name, floor in value.items():
        key = f"grades.{str(name)[:20]}"
        if not isinstance(name, str) or not _GRADE.fullmatch(name):
            raise ConfigError(key, "a grade's name is 1 to 8 letters or digits")
        floor = _float(floor, key, 0.0, 100.0)
        if bands and floor >= bands[-1][1]:
            raise ConfigError(key, f"the bands must descend: {floor:g} is not below {bands[-1][0]}'s {bands[-1][1]:g}")
        bands.append((name, floor))
    if bands[-1][1] != 0:
        raise ConfigError(f"grades.{bands[-1][0]}", "the last band must start at 0, so that every score has a grade")
    return tuple(bands)


def _classes(value) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError("patrol_classes", "must be a non-empty list of two-digit class codes")
    if len(value) > 99:
        raise ConfigError("patrol_classes", f"{len(value)} codes; there are at most 99 classes")
    for i, code in enumerate(value):
        if not isinstance(code, str) or not _CLASS.fullmatch(code):
            raise ConfigError(f"patrol_classes[{i}]", f"must be a two-digit class code such as \"01\", "
                                                      f"not {str(code)[:20]!r}")
        if code in value[:i]:
            raise ConfigError(f"patrol_classes[{i}]", f"{code} appears twice")
    return tuple(value)


def parse(data: Mapping) -> Config:
    """Return the configuration ``data`` (the file's structure) describes; ConfigError naming the key otherwise."""
    data = _mapping(data, "", _TOP_KEYS)
    schemes = _mapping(data["schemes"], "schemes", SCHEMES)
    return Config(
        schemes={key: _scheme(key, schemes[key]) for key in SCHEMES},
        grades=_grades(data["grades"]),
        settle_days=_int(data["settle_days"], "settle_days", 0, MAX_SETTLE_DAYS),
        verify_limit_minutes=_int(data["verify_limit_minutes"], "verify_limit_minutes", 1, MAX_LIMIT_MINUTES),
        check_limit_minutes=_int(data["check_limit_minutes"], "check_limit_minutes", 1, MAX_LIMIT_MINUTES),
        patrol_classes=_classes(data["patrol_classes"]),
    )


def load_file(path: str | None = None) -> Config:
    """Return the configuration in ``path`` (TOML or JSON); None: GRIDCC_RANKINGS, else the packaged file."""
    source = path if path is not None and path.strip() else os.environ.get(SETTING, "").strip() or str(PACKAGED)
    try:
        document, origin = webhook.read_config(source, SETTING)
    except ConfigError:
        raise
    except webhook.ConfigError as error:
        raise ConfigError("", str(error)) from None
    try:
        return parse(document)
    except ConfigError as error:
        raise ConfigError(error.key, error.problem, origin) from None


_loaded: dict[str, Config] = {}
_loaded_lock = threading.Lock()


def _source() -> str:
    """Return where this app's file is: its settings' GRIDCC_RANKINGS in a request, else the environment's."""
    import flask

    if flask.has_app_context():
        from dashboard import context

        ctx = flask.current_app.extensions.get(context.EXTENSION_KEY)
        configured = getattr(getattr(ctx, "settings", None), "rankings", "") if ctx is not None else ""
        if configured:
            return configured
    return os.environ.get(SETTING, "").strip()


def base() -> Config:
    """Return the file's configuration (read once per process and file)."""
    source = _source()
    with _loaded_lock:
        if source not in _loaded:
            _loaded[source] = load_file(source or None)
        return _loaded[source]


# -- versions --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Version:
    """A saved version: in force from ``effective_from`` on (until a later one starts)."""

    id: int
    effective_from: date
    created_by: str
    created_at: datetime
    note: str | None
    body: str

    @property
    def label(self) -> str:
        return f"#{self.id}"

    def config(self) -> Config:
        return Config.from_json(self.body)


class SaveRefused(ValueError):
    """A version save() will not write; ``code`` names the rule (rankcfg.refused.<code>), ``params`` fill it in."""

    def __init__(self, code: str, message: str, **params):
        super().__init__(message)
        self.code = code
        self.params = params


FILE_LABEL = "file"


def _month(day: date) -> date:
    return date(day.year, day.month, 1)


def _add_months(day: date, n: int) -> date:
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def effective(conn, month: date) -> tuple[Config, str]:
    """Return the configuration of ``month`` and its label ("#3" for version 3, "file" for the file's).

    A frozen month gets the configuration it was frozen with.
    """
    from queries import rank_configs as q

    month = _month(month)
    version = q.version_for(conn, month=month)
    label = version_label(version)
    frozen = q.frozen_config(conn, month=month)
    if frozen is not None:
        return Config.from_json(frozen), label
    if version is not None:
        return Config.from_json(version.body), label
    return base(), label


def version_label(version) -> str:
    """Return a version's label: "#<id>", or "file" for none (the file's configuration)."""
    return FILE_LABEL if version is None else f"#{version.id}"


def versions(conn) -> list[Version]:
    """Return the saved versions, oldest effective month first."""
    from queries import rank_configs as q

    return [Version(v.id, v.effective_from, v.created_by, v.created_at, v.note, v.body) for v in q.list_versions(conn)]


def first_allowed(conn, now: datetime) -> date:
    """Return the first month a new version may start from: this month, or the month after the last frozen one."""
    from queries import rank_configs as q

    first = _month(now.date())
    last = q.last_frozen_month(conn)
    if last is not None and last >= first:
        first = _add_months(last, 1)
    return first


def save(conn, *, config: Config, effective_from: date, user: str, note: str, now: datetime,
         source: str | None = None) -> int:
    """Save ``config`` as a new version in force from ``effective_from`` (in the caller's transaction); return its id.

    Refuse (SaveRefused) a day that is not a month's first, a month before the current one or in or before a
    frozen month, and more than 36 months ahead. Writes an audit row naming the version.
    """
    from queries import rank_configs as q
    from queries import users as user_queries

    if not isinstance(config, Config):
        raise SaveRefused("invalid", "the configuration is not a Config")
    if not isinstance(effective_from, date) or isinstance(effective_from, datetime) or effective_from.day != 1:
        raise SaveRefused("not_month_start", f"a version starts on a month's first day, not {effective_from}")
    current = _month(now.date())
    if effective_from < current:
        raise SaveRefused("past", f"{effective_from:%Y-%m} is before the current month ({current:%Y-%m}): "
                                  "closed periods never change", month=f"{effective_from:%Y-%m}",
                          current=f"{current:%Y-%m}")
    last = q.last_frozen_month(conn)
    if last is not None and effective_from <= last:
        raise SaveRefused("frozen", f"{effective_from:%Y-%m} is in or before the frozen month {last:%Y-%m}: "
                                    "closed periods never change", month=f"{effective_from:%Y-%m}",
                          frozen=f"{last:%Y-%m}")
    if effective_from > _add_months(current, MAX_MONTHS_AHEAD):
        raise SaveRefused("too_far", f"{effective_from:%Y-%m} is more than {MAX_MONTHS_AHEAD} months ahead",
                          month=f"{effective_from:%Y-%m}", n=MAX_MONTHS_AHEAD)
    user = (user or "").strip()
    if not user:
        raise SaveRefused("no_user", "a version needs the name of who saves it")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise SaveRefused("note_long", f"the note is {len(note)} characters; at most {MAX_NOTE}", n=MAX_NOTE)
    body = config.to_json()
    parse(json.loads(body))  # what is written must read back
    version_id = q.insert_version(conn, effective_from=effective_from, body=body, created_by=user, created_at=now,
                                  note=note or None)
    user_queries.audit(conn, at=now, actor=user, action="rankcfg.save", outcome="ok", target=f"#{version_id}",
                       source=source, detail=f"effective from {effective_from:%Y-%m}" + (f"; {note}" if note else ""))
    return version_id


# -- use -------------------------------------------------------------------------------------------------------
def params(config: Config, work_days: int):
    """Return the fact parameters (queries.rankings.FactParams) ``config`` sets, with ``work_days``."""
    from queries.rankings import FactParams

    return FactParams(verify_limit_minutes=config.verify_limit_minutes,
                      check_limit_minutes=config.check_limit_minutes,
                      patrol_classes=tuple(config.patrol_classes), work_days=int(work_days))


def min_volume(scheme: Scheme, period: Period) -> int:
    """Return the minimum volume of ``period``: the scheme's per month × its months (custom: × ⌈days / 30⌉)."""
    months = len(period.months) if period.months else math.ceil(period.days / 30)
    return scheme.min_volume * months


# -- the administrator's page ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class AdminState:
    """What the configuration page shows: what is in force this month, how far months are closed, the versions."""

    today: date
    month: date  # this month's first day
    label: str  # the version in force this month ("#3" or "file")
    in_force_from: date | None  # that version's first month (None: the file)
    last_frozen: date | None
    first_allowed: date  # the first month a new version may start from
    form: Config  # the configuration in force from first_allowed: what a new version starts from
    versions: tuple[Version, ...]


def admin_state(conn, now: datetime) -> AdminState:
    """Return the configuration page's state at ``now`` (naive local time)."""
    from queries import rank_configs as q

    month = _month(now.date())
    version = q.version_for(conn, month=month)
    first = first_allowed(conn, now)
    return AdminState(today=now.date(), month=month, label=version_label(version),
                      in_force_from=None if version is None else version.effective_from,
                      last_frozen=q.last_frozen_month(conn), first_allowed=first, form=effective(conn, first)[0],
                      versions=tuple(versions(conn)))


def read_admin_state() -> AdminState:
    """Return the configuration page's state for this request's app, now."""
    from dashboard import context

    ctx = context.current()
    with ctx.connect() as conn:
        return admin_state(conn, ctx.settings.now())


def save_version(config: Config, *, effective_from: date, note: str) -> int:
    """Save ``config`` as a new version for this request's caller (an administrator), under the write lock."""
    from dashboard import access, context

    principal = access.require("admin")
    ctx = context.current()
    with ctx.ingestor.write_lock, ctx.engine.begin() as conn:
        return save(conn, config=config, effective_from=effective_from, user=principal.name, note=note,
                    now=ctx.settings.now(), source=access.source())
