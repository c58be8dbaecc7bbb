"""A view and its address: which page, drilled where, filtered how (issue 8 §2).

A view is a page path and its query — everything a pasted link needs to show the same screen. The cut-off
(``as_of``), the language and ``embed`` are not part of the view: a wall playlist or a presenter's tour shows
one view at its own cut-off and language. ``parse`` is where a URL from outside (a playlist file, a tour
dialog, a form) is checked; nothing here trusts it.
"""
from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit

# The pages a view can show, with the catalogue key of their title.
PAGES = {"/": "page.overview", "/sla": "sla.title", "/rankings": "rank.title", "/backlog": "page.backlog"}
# The pages that honour ?as_of= (the backlog desk is always live: it is where cases are acted on).
FREEZABLE = frozenset({"/", "/sla", "/rankings"})
MAX_URL = 2000
MAX_VALUE = 200
# Kept out of a View: the cut-off, the language and the frame are chosen by whoever shows it.
FRAME_KEYS = frozenset({"as_of", "lang", "embed"})
# The query keys each page understands.
KEYS: dict[str, frozenset[str]] = {
    "/": frozenset({"area", "building", "metric", "heat", "heat_window", "heat_class", "heat_source", "heat_urgent"}),
    "/sla": frozenset({"area", "period", "start", "end", "grain", "split_by", "age_by", "handling_by",
                       "exceptions_by"}),
    "/rankings": frozenset({"level", "scheme", "period", "area", "norm", "compare"}),
    "/backlog": frozenset({"quick", "q", "sort", "filter"}),
}
EARLIEST = datetime(2000, 1, 1)


class View(NamedTuple):
    """A page and its query (sorted key/value pairs, without as_of, lang and embed)."""

    path: str
    query: tuple[tuple[str, str], ...] = ()

    def get(self, key: str, default: str | None = None) -> str | None:
        """Return the value of query ``key``, else ``default``."""
        return next((value for name, value in self.query if name == key), default)

    @property
    def freezable(self) -> bool:
        """Whether the page honours ``as_of``."""
        return self.path in FREEZABLE

    def url(self, *, as_of: datetime | None = None, lang: str | None = None, embed: bool = False) -> str:
        """Return the view's address: path, its query, then ``as_of`` (naive local minute), ``lang``, ``embed=1``."""
        pairs = list(self.query)
        if as_of is not None:
            pairs.append(("as_of", fmt_as_of(as_of)))
        if lang in ("zh", "en"):
            pairs.append(("lang", lang))
        if embed:
            pairs.append(("embed", "1"))
        return self.path + ("?" + urlencode(pairs) if pairs else "")


def fmt_as_of(moment: datetime) -> str:
    """Return ``moment`` as the URL writes a cut-off: ``2026-11-20T15:00`` (naive local minute)."""
    return f"{moment:%Y-%m-%dT%H:%M}"


def _split(text) -> tuple[str, list[tuple[str, str]]]:
    if not isinstance(text, str):
        raise ValueError("a view's address must be text")
    if len(text) > MAX_URL:
        raise ValueError(f"a view's address may be at most {MAX_URL} characters (this one has {len(text)})")
    text = text.strip()
    if not text:
        raise ValueError("a view's address is empty")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise ValueError("a view's address may not contain control characters")
    parts = urlsplit(text)
    if parts.scheme and parts.scheme not in ("http", "https"):
        raise ValueError(f"a view's address must be a page of this app, not a {parts.scheme}: link")
    path = parts.path or "/"
    if not path.startswith("/"):
        path = "/" + path
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query),
                          max_num_fields=40)
    except ValueError as error:
        raise ValueError(f"the address's query cannot be read ({error})") from None
    return path, pairs


def parse(text) -> View:
    """Return the View of an address ("/sla?area=…", "http://host/sla?…" — the host is ignored — or "sla?…").

    Raise ValueError, with a message that says what is wrong, for anything that is not a view of this app.
    """
    path, pairs = _split(text)
    if path not in PAGES:
        raise ValueError(f"{path[:60]!r} is not a page a view can show (one of: {', '.join(PAGES)})")
    seen: dict[str, str] = {}
    for key, value in pairs:
        if key in FRAME_KEYS:
            continue
        if key not in KEYS[path]:
            raise ValueError(f"the page {path} has no setting {key[:40]!r} "
                             f"(it understands: {', '.join(sorted(KEYS[path]))})")
        if key in seen:
            raise ValueError(f"the setting {key!r} appears twice in the address")
        if len(value) > MAX_VALUE:
            raise ValueError(f"the setting {key!r} is longer than {MAX_VALUE} characters")
        if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
            raise ValueError(f"the setting {key!r} contains control characters")
        if value:
            seen[key] = value
    return View(path, tuple(sorted(seen.items())))


def _frame_value(text, key: str) -> str | None:
    try:
        _, pairs = _split(text)
    except ValueError:
        return None
    values = [value for name, value in pairs if name == key]
    return values[0] if len(values) == 1 else None


def as_of_of(text, *, now: datetime | None = None) -> datetime | None:
    """Return the address's ``as_of`` as a naive local minute; None when absent, unreadable, with an offset,
    before 2000 or after ``now`` (when given)."""
    value = _frame_value(text, "as_of")
    if value is None or len(value) > 32:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is not None or moment < EARLIEST or (now is not None and moment > now):
        return None
    return moment.replace(second=0, microsecond=0)


def lang_of(text) -> str | None:
    """Return the address's ``lang`` when it is zh or en, else None."""
    value = _frame_value(text, "lang")
    return value if value in ("zh", "en") else None
