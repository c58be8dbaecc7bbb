"""The wall's playlists: which views a video wall rotates through, how long each stays (issue 8 §1).

A playlist file (``dashboard/catalog/wall.toml``, or ``GRIDCC_WALL_PLAYLISTS=/path.toml|json``) holds one or
more ``[[playlist]]`` tables, each with a ``name`` (what ``/wall?playlist=`` asks for), a ``title``, an
optional ``resume_s`` (how long after the last touch the rotation resumes) and its ``[[playlist.view]]``
entries: ``url`` (a view's address, checked by ``dashboard.views.parse``), ``dwell_s`` and an optional
``title``. A bad file stops the server at start-up with a message naming the entry at fault
(``playlist[2].view[1].dwell_s``), like the rankings' configuration. Pure: no Dash, no SQL.
"""
from __future__ import annotations

import math
import os
import re
import threading
import unicodedata
from pathlib import Path
from typing import NamedTuple

from dashboard import views, webhook
from dashboard.i18n import t

PACKAGED = Path(__file__).resolve().parent / "catalog" / "wall.toml"
SETTING = "GRIDCC_WALL_PLAYLISTS"
MIN_DWELL_S = 5
MAX_DWELL_S = 3600
DEFAULT_RESUME_S = 60
MIN_RESUME_S = 5
MAX_RESUME_S = 3600
MAX_PLAYLISTS = 50
MAX_VIEWS = 50
MAX_TITLE = 40
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
_PLAYLIST_KEYS = ("name", "title", "resume_s", "view")
_VIEW_KEYS = ("url", "dwell_s", "title")


class ConfigError(webhook.ConfigError):
    """A playlist file refused: the message names the file and the entry at fault."""

    def __init__(self, key: str, problem: str, origin: str | None = None):
        self.key = key
        self.problem = problem
        where = ": ".join(part for part in (origin, key) if part)
        super().__init__(f"{where}: {problem}" if where else problem)


class WallView(NamedTuple):
    """One stop of a playlist: a view, how long it stays, its title on the wall (None: the page's)."""

    view: views.View
    dwell_s: float
    title: str | None = None

    def label(self, lang: str) -> str:
        """Return the title the wall's header shows for this view."""
        return self.title or t(views.PAGES[self.view.path], lang)


class Playlist(NamedTuple):
    """A named rotation of views."""

    name: str
    title: str
    views: tuple[WallView, ...]
    resume_s: float = DEFAULT_RESUME_S

    def at(self, index) -> tuple[int, WallView]:
        """Return (index, view) of stop ``index`` counted round the playlist (any integer; else the first)."""
        if not isinstance(index, int) or isinstance(index, bool):
            index = 0
        index %= len(self.views)
        return index, self.views[index]


def _title(value, key: str, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(key, "must be a non-empty text")
    value = value.strip()
    if len(value) > MAX_TITLE:
        raise ConfigError(key, f"is longer than {MAX_TITLE} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        raise ConfigError(key, "contains control characters")
    return value


def _seconds(value, key: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(key, f"must be a number of seconds ({low:g}–{high:g})")
    if not low <= value <= high:
        raise ConfigError(key, f"must be between {low:g} and {high:g} seconds (it is {value:g})")
    return float(value)


def _unknown(entry: dict, allowed: tuple[str, ...], key: str) -> None:
    extra = sorted(str(k)[:40] for k in entry if k not in allowed)
    if extra:
        raise ConfigError(key, f"unknown key(s) {', '.join(map(repr, extra))} (allowed: {', '.join(allowed)})")


def _view(entry, key: str) -> WallView:
    if not isinstance(entry, dict):
        raise ConfigError(key, "must be a table with url and dwell_s")
    _unknown(entry, _VIEW_KEYS, key)
    if "url" not in entry:
        raise ConfigError(f"{key}.url", "is missing")
    if "dwell_s" not in entry:
        raise ConfigError(f"{key}.dwell_s", "is missing")
    try:
        view = views.parse(entry["url"])
    except ValueError as error:
        raise ConfigError(f"{key}.url", str(error)) from None
    return WallView(view, _seconds(entry["dwell_s"], f"{key}.dwell_s", MIN_DWELL_S, MAX_DWELL_S),
                    _title(entry.get("title"), f"{key}.title", required=False))


def _playlist(entry, key: str) -> Playlist:
    if not isinstance(entry, dict):
        raise ConfigError(key, "must be a table with name, title and its views")
    _unknown(entry, _PLAYLIST_KEYS, key)
    name = entry.get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ConfigError(f"{key}.name", "must be 1–40 letters, digits, '-' or '_' (it is what /wall?playlist= names)")
    title = _title(entry.get("title"), f"{key}.title", required=True)
    resume = _seconds(entry.get("resume_s", DEFAULT_RESUME_S), f"{key}.resume_s", MIN_RESUME_S, MAX_RESUME_S)
    stops = entry.get("view")
    if not isinstance(stops, list) or not stops:
        raise ConfigError(f"{key}.view", "a playlist needs at least one [[playlist.view]]")
    if len(stops) > MAX_VIEWS:
        raise ConfigError(f"{key}.view", f"at most {MAX_VIEWS} views a playlist (it has {len(stops)})")
    return Playlist(name, title, tuple(_view(stop, f"{key}.view[{i + 1}]") for i, stop in enumerate(stops)), resume)


def parse(document) -> dict[str, Playlist]:
    """Return the playlists of a parsed file by name, in file order; raise ConfigError naming the entry at fault."""
    if not isinstance(document, dict):
        raise ConfigError("", "the file must hold [[playlist]] tables")
    _unknown(document, ("playlist",), "")
    entries = document.get("playlist")
    if not isinstance(entries, list) or not entries:
        raise ConfigError("playlist", "the file needs at least one [[playlist]]")
    if len(entries) > MAX_PLAYLISTS:
        raise ConfigError("playlist", f"at most {MAX_PLAYLISTS} playlists (the file has {len(entries)})")
    found: dict[str, Playlist] = {}
    for i, entry in enumerate(entries):
        playlist = _playlist(entry, f"playlist[{i + 1}]")
        if playlist.name in found:
            raise ConfigError(f"playlist[{i + 1}].name", f"the name {playlist.name!r} is used twice")
        found[playlist.name] = playlist
    return found


def load_file(path: str | None = None) -> dict[str, Playlist]:
    """Return the playlists in ``path`` (TOML or JSON); None: GRIDCC_WALL_PLAYLISTS, else the packaged file."""
    source = path if path is not None and path.strip() else os.environ.get(SETTING, "").strip() or str(PACKAGED)
    try:
        document, origin = webhook.read_config(source, SETTING)
    except webhook.ConfigError as error:
        raise ConfigError("", str(error)) from None
    try:
        return parse(document)
    except ConfigError as error:
        raise ConfigError(error.key, error.problem, origin) from None


_loaded: dict[str, dict[str, Playlist]] = {}
_loaded_lock = threading.Lock()


def playlists(source: str = "") -> dict[str, Playlist]:
    """Return the playlists of ``source`` (a file's path; empty: the environment's or the packaged file), read once."""
    with _loaded_lock:
        if source not in _loaded:
            _loaded[source] = load_file(source or None)
        return _loaded[source]


def find(found: dict[str, Playlist], name) -> Playlist:
    """Return the playlist ``name`` (None or empty: the first); raise LookupError saying which exist."""
    if name is None or name == "":
        return next(iter(found.values()))
    if isinstance(name, str) and name in found:
        return found[name]
    shown = name[:40] if isinstance(name, str) else type(name).__name__
    raise LookupError(f"no playlist named {shown!r} (there are: {', '.join(found)})")


def client_config(playlist: Playlist, lang: str) -> dict:
    """Return what the wall's browser code needs: each view's title and dwell, the resume time (no URLs)."""
    return {"name": playlist.name, "title": playlist.title, "resume_s": playlist.resume_s,
            "views": [{"title": v.label(lang), "dwell_s": v.dwell_s, "page": v.view.path} for v in playlist.views]}
