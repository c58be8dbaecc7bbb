"""Rankings (issue 7), end to end: a period → its months → frozen or live counts → scored, ranked rows.

What the rankings page, ``GET /api/v1/rankings`` and the Excel export call; docs/metrics.md ("Rankings") defines
every count and indicator, docs/rankings.md the page.

- **Counts.** A frozen month (closed: ``settle_days`` after its end) is read from ``rank_facts``; any other month
  is counted from the events as of ``min(as_of, month end)`` (queries/rankings.py ``facts_frame``). Live months are kept
  for ``GRIDCC_RANK_REFRESH_S`` seconds (default 300): rankings are for the monthly review, not a live screen, and
  the header says when the counts are as of. A quarter or a year is the sum of its months; a custom period is
  counted directly.
- **Scores.** The period's own rows are scored by ``dashboard.rankings.score_rows`` (each indicator's points);
  the previous period's ranks and the 12-period sparklines by ``_scores`` / ``_ranks`` here (``scores_frame``
  wraps them), the same rules on whole columns at once (5,000 grid workers × 13 periods row by row took a
  second). ``tests/test_rank_service.py`` holds the two to the same scores and ranks.
- **Kept.** A closed period's table (all its months frozen) is kept an hour (``_memo``); unit lists five minutes.
- **Freezing** runs off the request path: ``freeze_due`` (a thread started with the app, and ``gridcc seed``)
  closes every month due; a request never waits for it.
"""
from __future__ import annotations

import contextlib
import gc
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from dashboard import context
from dashboard import rank_config
from dashboard import rankings as scoring
from queries import areas as area_queries
from queries import rankings as rank_queries
from queries.areas import Area
from queries.schema import RANK_COUNTS
from queries.scope import Scope

log = logging.getLogger(__name__)

HISTORY = 12


@dataclass(frozen=True)
class Ranking:
    """One ranked table: the units of ``level`` in ``area`` over ``period``, scored by ``scheme``."""

    level: str
    scheme: str
    area: Area
    period: scoring.Period
    as_of: datetime  # what was asked (now, when live)
    cutoff: datetime  # what the counts are as of: the latest of the period's months' cut-offs
    provisional: bool  # a month of the period is not frozen yet (暂定)
    config_label: str
    items: tuple  # the scheme's rank_config.Item rows, in order
    min_volume: int
    rows: tuple  # dashboard.rankings.Row, in display order
    history: tuple = ()  # the sparkline's periods (oldest first), for labels


# -- choosing -------------------------------------------------------------------------------------------------


def _now() -> datetime:
    return context.current().settings.now().replace(second=0, microsecond=0)


def _resolve(conn, scope: Scope, level: str, scheme: str | None, area_code: str | None) -> tuple[str, Area]:
    """Return (scheme, area) after checking level, scheme and area; ValueError / LookupError otherwise."""
    if level not in rank_queries.LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {', '.join(rank_queries.LEVELS)}")
    allowed = rank_queries.levels_for(scope)
    if level not in allowed:
        raise ValueError(f"level {level!r} cannot be ranked from your scope; allowed: {', '.join(allowed) or 'none'}")
    scheme = scheme or scoring.DEFAULT_SCHEME[level]
    if scheme not in scoring.SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; expected one of {', '.join(scoring.SCHEMES)}")
    if level not in scoring.SCHEME_LEVELS[scheme]:
        fits = [s for s in scoring.SCHEMES if level in scoring.SCHEME_LEVELS[s]]
        raise ValueError(f"scheme {scheme!r} does not rank level {level!r}; for {level}: {', '.join(fits)}")
    code = area_code or scope.area_code
    if not isinstance(code, str) or len(code) > 15:
        raise LookupError("no such area in your scope")
    target = area_queries.get_area(conn, scope=scope, code=code)
    if target is None:
        raise LookupError(f"no area {code!r} in your scope")
    return scheme, target


def _months(period: scoring.Period) -> list[tuple[date, datetime, datetime]]:
    """Return (month, since, until) of each month of ``period``."""
    out = []
    for m in period.months:
        nxt = date(m.year + (m.month == 12), m.month % 12 + 1, 1)
        out.append((m, datetime.combine(m, datetime.min.time()), datetime.combine(nxt, datetime.min.time())))
    return out


def _work_days(calendar, since: datetime, cutoff: datetime) -> int:
    """Return the working days from ``since`` up to ``cutoff`` (a day counts once it has begun)."""
    day, last, n = since.date(), cutoff.date(), 0
    if cutoff == datetime.combine(last, datetime.min.time()):
        last -= timedelta(days=1)
    while day <= last:
        n += calendar.is_workday(day)
        day += timedelta(days=1)
    return n


# -- counts ---------------------------------------------------------------------------------------------------

_live: dict[tuple, tuple[float, datetime, dict]] = {}  # (app, scope, level, area, since, until, explicit cutoff) → (at, cutoff, facts)
_live_lock = threading.Lock()
_LIVE_MAX = 256


def _token(ctx) -> object:
    """Return the app's own key object: held by every entry made under it, so no later app can share its id."""
    return ctx.__dict__.setdefault("_rank_token", object())


def _refresh_s() -> float:
    return float(getattr(context.current().settings, "rank_refresh_s", 300) or 0)


def _live_facts(conn, scope: Scope, level: str, area: Area, since: datetime, until: datetime, cutoff: datetime,
                live: bool, config) -> tuple[datetime, pd.DataFrame]:
    """Return (cut-off, facts) of [since, until) counted from the events; live cut-offs are kept for a while."""
    ctx = context.current()
    key = (_token(ctx), scope, level, area.code, since, until, None if live else cutoff)
    with _live_lock:
        hit = _live.get(key)
    if hit is not None and (not live or time.monotonic() - hit[0] < _refresh_s()):
        return hit[1], hit[2]
    calendar = ctx.settings.calendar()
    params = rank_config.params(config, _work_days(calendar, since, min(cutoff, until)))
    found = rank_queries.facts_frame(conn, scope=scope, level=level, area=area, since=since, until=until,
                                     cutoff=cutoff, params=params)
    with _live_lock:
        if len(_live) >= _LIVE_MAX:
            _live.pop(next(iter(_live)))
        _live[key] = (time.monotonic(), cutoff, found)
    return cutoff, found


@dataclass
class _Counts:
    """The counts of the periods a ranking needs, one frame per period, plus what they are as of."""

    frames: dict  # period key → DataFrame indexed by unit code, columns RANK_COUNTS
    cutoffs: dict  # period key → the latest cut-off of its months
    provisional: dict  # period key → True when a month of it was counted live


def _frame(found=None) -> pd.DataFrame:
    """Return a counts frame (unit code → RANK_COUNTS), empty when ``found`` is None."""
    if found is None or not len(found):
        return pd.DataFrame(columns=list(RANK_COUNTS), dtype="int64")
    return found


def _counts(conn, scope: Scope, level: str, area: Area, periods: Sequence[scoring.Period], as_of: datetime,
            explicit: bool, configs, needed: Sequence[str] | None = None) -> _Counts:
    """Count every period of ``periods``: frozen months in one read, the others from the events.

    The first period's months get every count (its rows show them all); the others only ``needed`` (when given).
    """
    frozen = configs.frozen
    wanted = sorted({m for p in periods for m in p.months})
    # A frozen month answers any as_of after its freeze; an earlier as_of is counted as it stood then.
    usable = [m for m in wanted if m in frozen and as_of >= frozen[m].frozen_at]
    whole = [m for m in usable if m in set(periods[0].months)] if needed is not None else usable
    some = [m for m in usable if m not in set(whole)]
    stored = rank_queries.frozen_frames(conn, scope=scope, level=level, area=area, months=whole) if whole else {}
    if some:
        stored.update(rank_queries.frozen_frames(conn, scope=scope, level=level, area=area, months=some,
                                                 columns=needed))
    month_frames: dict[date, tuple[pd.DataFrame, datetime, bool]] = {}
    for p in periods:
        for m, since, until in _months(p):
            if m in month_frames:
                continue
            if since > as_of:
                month_frames[m] = (_frame(), since, False)
            elif m in stored:
                month_frames[m] = (_frame(stored[m]), frozen[m].as_of, False)
            else:
                cutoff = min(as_of, until)
                cut, found = _live_facts(conn, scope, level, area, since, until, cutoff,
                                         live=not explicit and until > as_of, config=configs(m))
                month_frames[m] = (_frame(found), cut, True)
    frames, cutoffs, provisional = {}, {}, {}
    for p in periods:
        if p.months:
            parts = [month_frames[m] for m in p.months]
            frames[p.key] = _sum([f for f, _, _ in parts])
            # What the counts are as of: the latest cut-off of the months begun by as_of (a month still to come
            # counts nothing and is as of nothing).
            begun = [c for m, (_, c, _) in zip(p.months, parts) if datetime.combine(m, datetime.min.time()) <= as_of]
            cutoffs[p.key] = max(begun) if begun else p.since
            provisional[p.key] = any(live for _, _, live in parts)
        else:  # custom: counted directly, as of min(as_of, until)
            cutoff = min(as_of, p.until)
            if p.since > as_of:
                frames[p.key], cutoffs[p.key] = _frame(), p.since
            else:
                cut, found = _live_facts(conn, scope, level, area, p.since, p.until, cutoff,
                                         live=not explicit and p.until > as_of, config=configs(p.since.date()))
                frames[p.key], cutoffs[p.key] = _frame(found), cut
            provisional[p.key] = True
    return _Counts(frames, cutoffs, provisional)


def _sum(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return _frame({})
    if len(frames) == 1:
        return frames[0]
    return pd.concat(frames).groupby(level=0, sort=False).sum()


# -- scoring whole columns ------------------------------------------------------------------------------------


def _scores(cols: Mapping[str, np.ndarray], scheme) -> np.ndarray:
    """Return each unit's exact score (NaN: nothing to count) from whole count columns, as score_rows does."""
    n = len(next(iter(cols.values()))) if cols else 0
    weighted, weights = np.zeros(n), np.zeros(n)
    for item in scheme.items:
        if item.weight <= 0:
            continue
        ind = scoring.INDICATORS[item.indicator]
        num = sum(cols[name].astype(float) * factor for name, factor in ind.numerator)
        den = cols[ind.denominator].astype(float)
        has = den > 0
        value = np.clip(np.divide(num, den, out=np.zeros(n), where=has), 0.0, 1.0)
        s = 1.0 - value if ind.lower_is_better else value
        weighted += np.where(has, item.weight * s, 0.0)
        weights += np.where(has, item.weight, 0.0)
    return np.divide(100.0 * weighted, weights, out=np.full(n, np.nan), where=weights > 0)


def _ranks(shown: np.ndarray, volume: np.ndarray, codes: np.ndarray, min_volume: int) -> tuple[list, np.ndarray]:
    """Return (rank or None per unit, apart per unit): by shown score ↓, volume ↓, code ↑; apart ranked on their own."""
    apart = volume < min_volume
    rank: list = [None] * len(shown)
    scored = ~np.isnan(shown)
    for part in (scored & ~apart, scored & apart):
        idx = np.flatnonzero(part)
        order = idx[np.lexsort((codes[idx], -volume[idx], -shown[idx]))]
        for r, i in enumerate(order.tolist(), 1):
            rank[i] = r
    return rank, apart


def scores_frame(frame: pd.DataFrame, scheme, grades, min_volume: int, volume: str) -> pd.DataFrame:
    """Return score, volume, apart, rank and grade per unit of ``frame`` (counts by unit code), by the rules of
    ``dashboard.rankings.score_rows`` on whole columns: an item counts when its weight and denominator are above 0;
    score = 100 × Σ w·s / Σ w; ranked by the score as shown (2 decimals), then volume (more first), then code;
    units below ``min_volume`` ranked apart, in their own sequence; no item → no score, no rank.
    """
    codes = [str(c) for c in frame.index]
    cols = scoring._frame_columns(frame, codes)
    exact = _scores(cols, scheme)
    shown = scoring.shown_scores(exact)
    vol = cols[volume]
    rank, apart = _ranks(shown, vol, np.array(codes, dtype=object), min_volume)
    out = pd.DataFrame({"code": codes, "score": exact, "volume": vol, "apart": apart}, index=codes)
    out["rank"] = pd.array(rank, dtype="Int64")
    out["grade"] = pd.Series([None if np.isnan(v) else scoring.grade_of(float(v), grades) for v in shown],
                             index=out.index, dtype=object)
    return out


# -- the tables -----------------------------------------------------------------------------------------------


class _Configs:
    """The configuration of each month, from one read of the versions and the frozen months (not two per month)."""

    def __init__(self, conn, frozen: Mapping | None = None):
        self.frozen = rank_queries.frozen(conn) if frozen is None else frozen
        self._versions = rank_config.versions(conn)
        self._seen: dict[date, tuple] = {}

    def effective(self, month: date) -> tuple:
        """Return (configuration, label) of ``month``, as ``rank_config.effective`` does."""
        month = month.replace(day=1)
        if month not in self._seen:
            version = None
            for v in self._versions:  # oldest effective month first, then by id: the last one that started wins
                if v.effective_from <= month:
                    version = v
            label = rank_config.version_label(version)
            if month in self.frozen:
                config = _parsed(self.frozen[month].config)
            elif version is not None:
                config = _parsed(version.body)
            else:
                config = rank_config.base()
            self._seen[month] = (config, label)
        return self._seen[month]

    def __call__(self, month: date):
        return self.effective(month)[0]


_parsed_cache: dict[str, object] = {}


def _parsed(text: str):
    """Return the configuration in JSON ``text``, parsed once per process (frozen and saved ones never change)."""
    config = _parsed_cache.get(text)
    if config is None:
        if len(_parsed_cache) > 256:
            _parsed_cache.clear()
        config = _parsed_cache[text] = rank_config.Config.from_json(text)
    return config


def _as_of(as_of: datetime | None) -> tuple[datetime, bool]:
    if as_of is None:
        return _now(), False
    return as_of.replace(second=0, microsecond=0), True


# A closed period's table never changes (its months are frozen, their configuration with them): kept here, by
# what it was computed from, for a while (a unit added since shows within the hour, with nothing to count).
_memo: dict[tuple, tuple[float, Ranking]] = {}
_memo_lock = threading.Lock()
_MEMO_MAX, _MEMO_S = 64, 3600.0


def ranking(scope: Scope, *, level: str, scheme: str | None = None, area: str | None = None, period: str,
            as_of: datetime | None = None, history: bool = True) -> Ranking:
    """Return the ranked table of ``level`` for ``period`` (docs/metrics.md); see the module's docstring."""
    as_of, explicit = _as_of(as_of)
    p = scoring.parse_period(period, today=as_of.date())
    with context.current().connect() as conn:
        scheme, target = _resolve(conn, scope, level, scheme, area)
        frozen = rank_queries.frozen(conn)
        months = {m for q in [p, scoring.previous(p), *(scoring.history(p, HISTORY) if history else [])]
                  for m in q.months}
        closed = bool(p.months) and all(m in frozen and as_of >= frozen[m].frozen_at for m in months)
        key = (_token(context.current()), scope, level, scheme, target.code, p.key, history,
               tuple(sorted((m, frozen[m].frozen_at) for m in months)) if closed else None)
        if closed:
            with _memo_lock:
                hit = _memo.get(key)
            if hit is not None and time.monotonic() - hit[0] < _MEMO_S:
                return hit[1]
        table = _ranking(conn, scope, level, scheme, target, p, as_of, explicit, history, frozen)
        if closed:
            with _memo_lock:
                if len(_memo) >= _MEMO_MAX:
                    _memo.pop(next(iter(_memo)))
                _memo[key] = (time.monotonic(), table)
        return table


_units_memo: dict[tuple, tuple[float, list]] = {}
_UNITS_S = 300.0


def _units(conn, scope: Scope, level: str, area: Area) -> list:
    """Return the units of ``level`` in ``area`` (reference data: areas, workers, departments), kept five minutes."""
    key = (_token(context.current()), scope, level, area.code)
    with _memo_lock:
        hit = _units_memo.get(key)
    if hit is not None and time.monotonic() - hit[0] < _UNITS_S:
        return hit[1]
    found = rank_queries.units(conn, scope=scope, level=level, area=area)
    with _memo_lock:
        if len(_units_memo) >= _MEMO_MAX:
            _units_memo.pop(next(iter(_units_memo)))
        _units_memo[key] = (time.monotonic(), found)
    return found


@contextlib.contextmanager
def _gc_paused():
    """Hold the cyclic garbage collector while a table's ~50,000 small objects are made (none of them cyclic):
    its full passes over the whole process doubled the time of a grid-worker ranking, at random."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _ranking(conn, scope, level, scheme, target, p, as_of, explicit, with_spark: bool, frozen=None) -> Ranking:
    with _gc_paused():
        return _ranking_of(conn, scope, level, scheme, target, p, as_of, explicit, with_spark, frozen)


def _ranking_of(conn, scope, level, scheme, target, p, as_of, explicit, with_spark: bool,
                frozen=None) -> Ranking:
    config_of = _Configs(conn, frozen)  # the frozen months read once per request
    first = p.months[0] if p.months else p.since.date().replace(day=1)
    config, label = config_of.effective(first)
    sch = config.schemes[scheme]
    volume = scoring.SCHEME_VOLUME[scheme]
    units = _units(conn, scope, level, target)
    prev = scoring.previous(p)
    hist = scoring.history(p, HISTORY) if with_spark else []
    periods = {q.key: q for q in [p, prev, *hist]}
    needed = sorted({volume, "handled", "closed", "overdue_open",
                     *(n for cfg in {id(c): c for c in (config_of(m) for q in periods.values() for m in q.months)}.values()
                       for it in cfg.schemes[scheme].items
                       for n in (*(x for x, _ in scoring.INDICATORS[it.indicator].numerator),
                                 scoring.INDICATORS[it.indicator].denominator))} - {"to_handle", "to_close"})
    counts = _counts(conn, scope, level, target, list(periods.values()), as_of, explicit, config_of, needed)
    codes = [u.code for u in units]
    code_array = np.array(codes, dtype=object)

    def shown_of(q) -> tuple[np.ndarray, np.ndarray, Any]:
        """Return (shown scores, volumes, scheme) of period ``q`` for the units, in ``codes`` order."""
        cfg = config_of(q.months[0] if q.months else q.since.date().replace(day=1))
        q_scheme = cfg.schemes[scheme]
        needed = [volume, *(n for it in q_scheme.items for n, _ in scoring.INDICATORS[it.indicator].numerator),
                  *(scoring.INDICATORS[it.indicator].denominator for it in q_scheme.items)]
        cols = scoring._frame_columns(counts.frames[q.key], codes, needed)
        return scoring.shown_scores(_scores(cols, q_scheme)), cols[volume], q_scheme

    min_vol = rank_config.min_volume(sch, p)
    rows = scoring.score_rows(units, counts.frames[p.key], sch, config.grades, min_vol)
    shown, vols, prev_scheme = shown_of(prev)
    prev_rank, prev_apart = _ranks(shown, vols, code_array, rank_config.min_volume(prev_scheme, prev))
    before = {c: (None if a else r) for c, r, a in zip(codes, prev_rank, prev_apart.tolist())}
    lines = [[None if v != v else v for v in shown_of(q)[0].tolist()] for q in hist]
    sparks = dict(zip(codes, zip(*lines))) if lines else {}
    rows = [_with_history(r, before.get(r.code), sparks.get(r.code, ())) for r in rows]
    return Ranking(level=level, scheme=scheme, area=target, period=p, as_of=as_of, cutoff=counts.cutoffs[p.key],
                   provisional=counts.provisional[p.key], config_label=label, items=tuple(sch.items),
                   min_volume=min_vol, rows=tuple(rows), history=tuple(hist))


def _with_history(row, prev_rank: int | None, spark: tuple):
    """Return ``row`` with its previous rank, the change (up is positive) and its sparkline (oldest first).

    A copy made without dataclasses.replace (its __init__ costs 30 µs a row: 150 ms for 5,000 grid workers).
    """
    change = None if prev_rank is None or row.rank is None or row.apart else prev_rank - row.rank
    copy = object.__new__(type(row))
    copy.__dict__.update(row.__dict__, prev_rank=prev_rank, change=change, spark=spark)
    return copy


def compare(scope: Scope, *, level: str, scheme: str | None = None, area: str | None = None, period: str,
            other: str, as_of: datetime | None = None) -> tuple[Ranking, Ranking]:
    """Return the rankings of ``period`` and ``other`` (the same units, level and scheme) to set side by side."""
    as_of, explicit = _as_of(as_of)
    p = scoring.parse_period(period, today=as_of.date())
    q = scoring.parse_period(other, today=as_of.date())
    with context.current().connect() as conn:
        scheme, target = _resolve(conn, scope, level, scheme, area)
        return (_ranking(conn, scope, level, scheme, target, p, as_of, explicit, True),
                _ranking(conn, scope, level, scheme, target, q, as_of, explicit, False))


def case_page(scope: Scope, *, level: str, scheme: str | None = None, area: str | None = None, period: str,
              as_of: datetime | None = None, unit: str, count: str, offset: int = 0,
              limit: int = 50) -> tuple[int, list]:
    """Return (how many, one page of) the cases behind ``count`` of ``unit`` over ``period`` (its numerator's list)."""
    as_of, _ = _as_of(as_of)
    p = scoring.parse_period(period, today=as_of.date())
    if count not in rank_queries.COUNT_SOURCES:
        raise ValueError(f"unknown count {count!r}")
    if not isinstance(unit, str) or not unit or len(unit) > 16:
        raise ValueError("unit must be a unit's code")
    with context.current().connect() as conn:
        scheme, target = _resolve(conn, scope, level, scheme, area)
        if unit not in {u.code for u in rank_queries.units(conn, scope=scope, level=level, area=target)}:
            raise LookupError(f"no unit {unit!r} of level {level} in this area")
        config = _Configs(conn)(p.months[0] if p.months else p.since.date().replace(day=1))
        cutoff = min(as_of, p.until)
        params = rank_config.params(config, _work_days(context.current().settings.calendar(), p.since, cutoff))
        return rank_queries.cases(conn, scope=scope, level=level, area=target, unit=unit, count=count, since=p.since,
                                  until=p.until, cutoff=cutoff, params=params, offset=max(0, int(offset)),
                                  limit=max(1, min(int(limit), 200)))


# -- freezing -------------------------------------------------------------------------------------------------

_freezing = threading.Lock()


def freeze_due(engine, *, now: datetime, calendar, lock=None) -> list[date]:
    """Freeze every month due (``settle_days`` after its end), oldest first; return the months frozen.

    One at a time per process, each month in its own transaction under the store's write ``lock`` (the
    ingestor's); queries.rankings.freeze refuses a month frozen already, so no month is written twice.
    """
    if not _freezing.acquire(blocking=False):
        return []
    try:
        now = now.replace(second=0, microsecond=0)
        done = []
        with engine.connect() as conn:
            base = rank_config.effective(conn, date(now.year, now.month, 1))[0]
            due = rank_queries.due_months(conn, now=now, settle_days=base.settle_days)
        for month in due:
            # Counted outside the write lock (seconds at 10 M events); only the write holds it (~50 ms).
            with engine.connect() as conn:
                config, _ = rank_config.effective(conn, month)
                _, since, until = _months(scoring.parse_period(month.strftime("%Y-%m"), today=now.date()))[0]
                params = rank_config.params(config, _work_days(calendar, since, until))
                counts = rank_queries.all_facts(conn, since=since, until=until, cutoff=until, params=params)
            with lock or contextlib.nullcontext(), engine.begin() as conn:
                if rank_queries.freeze(conn, month=month, now=now, config=config.to_json(), params=params,
                                       counts=counts):
                    done.append(month)
        if done:
            log.info("rankings: froze %s", ", ".join(m.strftime("%Y-%m") for m in done))
        return done
    finally:
        _freezing.release()


def start_freezer(engine, settings, *, lock=None, every_s: float = 3600.0, stopped=lambda: False):
    """Start a daemon thread that freezes due months at once and then every ``every_s`` seconds (0: never)."""
    if not every_s:
        return None

    def run():
        while not stopped():
            try:
                freeze_due(engine, now=settings.now(), calendar=settings.calendar(), lock=lock)
            except Exception:  # tried again next round; the pages count those months live meanwhile
                log.exception("rankings: freezing failed")
            for _ in range(int(max(1.0, every_s))):
                if stopped():
                    return
                time.sleep(1.0)

    thread = threading.Thread(target=run, name="gridcc-rank-freezer", daemon=True)
    thread.start()
    return thread
