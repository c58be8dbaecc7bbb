"""Presenter tours (issue 8 §3; docs/presenter.md): the checks and the writes behind /tours, the top bar's
"加入讲稿 Add to tour" dialog and /present.

A tour is one presenter's list of saved views (slides), all shown as of one cut-off (``as_of``). Everything
that reaches here from a browser — titles, notes, cut-offs, a page's address, ids — is checked here; a
problem is a ``TourProblem`` whose message the caller shows in the user's language. The writes run the
queries of queries/tours.py under the store's write lock, with the caller as the owner: nobody reads or
writes another's tour (a forged id is "not found").
"""
from __future__ import annotations

import unicodedata
from contextlib import contextmanager
from datetime import datetime

from dashboard import access, context, views
from dashboard.auth import WALL_ROLE
from dashboard.i18n import t
from queries import tours as tour_queries
from queries.tours import Slide, Tour, TourRow

MAX_TITLE = 200
MAX_NOTE = 2000
MAX_SLIDES = 60
MAX_TOURS = 200
MAX_ID = 2 ** 53  # an id beyond this is forged (and would not fit the store's BIGINT either way)
EARLIEST = views.EARLIEST

__all__ = ["MAX_TITLE", "MAX_NOTE", "MAX_SLIDES", "MAX_TOURS", "Slide", "Tour", "TourRow", "TourProblem",
           "may_tour", "owner", "clean_title", "clean_note", "clean_as_of", "clean_view", "clean_id", "slide_view",
           "default_as_of", "create_tour", "update_tour", "delete_tour", "add_slide", "update_slide", "move_slide",
           "delete_slide", "my_tours", "my_tour", "my_slides"]


class TourProblem(ValueError):
    """Something a presenter typed or sent that cannot be stored; ``message(lang)`` says what, in words."""

    def __init__(self, key: str, **values):
        super().__init__(t(key, "en", **values))
        self.key = key
        self.values = values

    def message(self, lang: str) -> str:
        return t(self.key, lang, **self.values)


# -- who ---------------------------------------------------------------------------------------------------------
def may_tour(principal) -> bool:
    """Whether ``principal`` may keep tours: a signed-in person (not an API token, not a wall display's PC, not
    a screen switched to public-wall mode)."""
    return (principal is not None and principal.kind == "user" and principal.role != WALL_ROLE
            and not principal.public_wall)


def owner() -> str:
    """Return this request's caller's name when they may keep tours; raise TourProblem otherwise."""
    principal = access.current()
    if not may_tour(principal):
        raise TourProblem("tour.err.not_allowed")
    return principal.name


# -- the checks (pure) ------------------------------------------------------------------------------------------
def _no_controls(text: str, *, keep_lines: bool = False) -> bool:
    allowed = {"\n", "\t"} if keep_lines else set()
    return not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") and ch not in allowed for ch in text)


def clean_title(value) -> str:
    """Return a title (trimmed, 1–200 characters, one line, no control characters) or raise TourProblem."""
    if not isinstance(value, str) or not value.strip():
        raise TourProblem("tour.err.title_empty")
    value = " ".join(value.split())
    if len(value) > MAX_TITLE:
        raise TourProblem("tour.err.title_long", limit=MAX_TITLE)
    if not _no_controls(value):
        raise TourProblem("tour.err.control")
    return value


def clean_note(value) -> str:
    """Return a note (≤ 2,000 characters; lines kept, no other control characters; None is empty) or raise."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TourProblem("tour.err.control")
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(value) > MAX_NOTE:
        raise TourProblem("tour.err.note_long", limit=MAX_NOTE)
    if not _no_controls(value, keep_lines=True):
        raise TourProblem("tour.err.control")
    return value


def clean_as_of(value, now: datetime) -> datetime:
    """Return a cut-off as a naive local minute between 2000-01-01 and ``now``, from a datetime or the text of a
    datetime-local input ("2026-11-20T15:00"); raise TourProblem otherwise."""
    if isinstance(value, str):
        if not 10 <= len(value.strip()) <= 32:
            raise TourProblem("tour.err.as_of")
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise TourProblem("tour.err.as_of") from None
    if not isinstance(value, datetime) or value.tzinfo is not None:
        raise TourProblem("tour.err.as_of")
    value = value.replace(second=0, microsecond=0)
    if not EARLIEST <= value <= now:
        raise TourProblem("tour.err.as_of_range", earliest=f"{EARLIEST:%Y-%m-%d}", now=f"{now:%Y-%m-%d %H:%M}")
    return value


def clean_view(url) -> views.View:
    """Return the View of a page's address (window.location, parsed, never trusted) when it can be a slide: it
    parses and its page honours a cut-off. Raise TourProblem otherwise (the backlog: it is always live)."""
    try:
        view = views.parse(url)
    except ValueError as error:
        raise TourProblem("tour.err.view", why=str(error)[:200]) from None
    if view.path not in views.FREEZABLE:
        raise TourProblem("tour.err.live_page")
    return view


def clean_id(value) -> int:
    """Return a tour's or slide's id from a browser (an int or its digits, 1 … 2^53); raise TourProblem."""
    if isinstance(value, bool):
        raise TourProblem("tour.err.not_found")
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 16:
        value = int(value.strip())
    if not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise TourProblem("tour.err.not_found")
    return value


def slide_view(slide: Slide) -> views.View:
    """Return the slide's View (``slide.view``); ValueError when what is stored no longer parses."""
    return slide.view


def query_of(view: views.View) -> str:
    """Return the stored query text of a view (its address without the path)."""
    url = view.url()
    return url.partition("?")[2]


def default_as_of(url, now: datetime) -> datetime:
    """Return a new tour's cut-off: the page's ``as_of`` when it is frozen, else now rounded down to the minute."""
    frozen = views.as_of_of(url, now=now) if isinstance(url, str) else None
    return frozen or now.replace(second=0, microsecond=0)


# -- reads ---------------------------------------------------------------------------------------------------
def my_tours() -> list[TourRow]:
    """Return the caller's tours with their slide counts (the latest changed first)."""
    name = owner()
    with context.current().connect() as conn:
        return tour_queries.tour_rows(conn, owner=name)


def my_tour(tour_id) -> tuple[Tour, list[Slide]] | None:
    """Return the caller's tour ``tour_id`` and its slides; None when it is not theirs, not there or forged."""
    try:
        tour_id = clean_id(tour_id)
    except TourProblem:
        return None
    name = owner()
    with context.current().connect() as conn:
        found = tour_queries.tour(conn, owner=name, tour_id=tour_id)
        return (found, tour_queries.slides(conn, owner=name, tour_id=tour_id)) if found is not None else None


def my_slides(tour_id) -> list[Slide]:
    found = my_tour(tour_id)
    return found[1] if found is not None else []


# -- writes -------------------------------------------------------------------------------------------------------
@contextmanager
def _write():
    """Yield a connection in a transaction under the store's write lock (one writer at a time)."""
    ctx = context.current()
    with ctx.ingestor.write_lock, ctx.engine.begin() as conn:
        yield conn


def _now() -> datetime:
    return context.current().settings.now()


def create_tour(title, as_of) -> int:
    """Create an empty tour for the caller (at most 200 a person); return its id. Audited."""
    name = owner()
    now = _now()
    title = clean_title(title)
    as_of = clean_as_of(as_of, now)
    with _write() as conn:
        if tour_queries.count_tours(conn, owner=name) >= MAX_TOURS:
            raise TourProblem("tour.err.too_many_tours", limit=MAX_TOURS)
        tour_id = tour_queries.create(conn, owner=name, title=title, as_of=as_of, now=now)
    access.audit("tour.create", target=f"tour:{tour_id}", detail=f"{title[:120]} · as of {views.fmt_as_of(as_of)}")
    return tour_id


def update_tour(tour_id, *, title=None, as_of=None) -> None:
    """Rename the caller's tour and/or change its cut-off; raise TourProblem (not found, bad values)."""
    name = owner()
    now = _now()
    tour_id = clean_id(tour_id)
    title = clean_title(title) if title is not None else None
    as_of = clean_as_of(as_of, now) if as_of is not None else None
    with _write() as conn:
        if not tour_queries.update(conn, owner=name, tour_id=tour_id, title=title, as_of=as_of, now=now):
            raise TourProblem("tour.err.not_found")


def delete_tour(tour_id) -> None:
    """Delete the caller's tour with its slides; raise TourProblem when it is not theirs. Audited."""
    name = owner()
    tour_id = clean_id(tour_id)
    with _write() as conn:
        found = tour_queries.tour(conn, owner=name, tour_id=tour_id)
        if found is None or not tour_queries.delete(conn, owner=name, tour_id=tour_id):
            raise TourProblem("tour.err.not_found")
    access.audit("tour.delete", target=f"tour:{tour_id}", detail=found.title[:120])


def add_slide(tour_id, *, url, title, note="") -> int:
    """Append the view at ``url`` (a page's address) to the caller's tour; return the slide's id."""
    name = owner()
    now = _now()
    tour_id = clean_id(tour_id)
    view = clean_view(url)
    title = clean_title(title)
    note = clean_note(note)
    with _write() as conn:
        if tour_queries.tour(conn, owner=name, tour_id=tour_id) is None:
            raise TourProblem("tour.err.not_found")
        if tour_queries.count_slides(conn, owner=name, tour_id=tour_id) >= MAX_SLIDES:
            raise TourProblem("tour.err.too_many_slides", limit=MAX_SLIDES)
        slide_id = tour_queries.add_slide(conn, owner=name, tour_id=tour_id, title=title, note=note,
                                          path=view.path, query=query_of(view), now=now)
    if slide_id is None:
        raise TourProblem("tour.err.not_found")
    return slide_id


def new_tour_with_slide(*, tour_title, as_of, url, title, note="") -> tuple[int, int]:
    """Create a tour and put the view at ``url`` on it as its first slide; return (tour id, slide id).

    The slide is checked before the tour is made, so a refused slide leaves no empty tour behind.
    """
    owner()
    clean_view(url)
    clean_title(title)
    clean_note(note)
    tour_id = create_tour(tour_title, as_of)
    return tour_id, add_slide(tour_id, url=url, title=title, note=note)


def update_slide(slide_id, *, title=None, note=None) -> None:
    """Change a slide's title and/or note; raise TourProblem when it is not on one of the caller's tours."""
    name = owner()
    slide_id = clean_id(slide_id)
    title = clean_title(title) if title is not None else None
    note = clean_note(note) if note is not None else None
    with _write() as conn:
        if not tour_queries.update_slide(conn, owner=name, slide_id=slide_id, title=title, note=note, now=_now()):
            raise TourProblem("tour.err.not_found")


def move_slide(slide_id, offset) -> bool:
    """Move a slide one place up (-1) or down (+1); False at the tour's ends. TourProblem when not the caller's."""
    name = owner()
    slide_id = clean_id(slide_id)
    if offset not in (-1, 1):
        raise TourProblem("tour.err.not_found")
    with _write() as conn:
        if tour_queries.slide(conn, owner=name, slide_id=slide_id) is None:
            raise TourProblem("tour.err.not_found")
        return tour_queries.move_slide(conn, owner=name, slide_id=slide_id, offset=offset, now=_now())


def delete_slide(slide_id) -> None:
    """Delete a slide of the caller's; raise TourProblem when it is not on one of their tours."""
    name = owner()
    slide_id = clean_id(slide_id)
    with _write() as conn:
        if not tour_queries.delete_slide(conn, owner=name, slide_id=slide_id, now=_now()):
            raise TourProblem("tour.err.not_found")
