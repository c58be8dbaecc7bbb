"""Presenter tours (issue 8 §3; docs/presenter.md): a presenter's saved views, shown as of one cut-off time.

Every function takes the owner: a tour is its owner's alone. Reading or writing a tour (or a slide of a tour)
that belongs to someone else behaves exactly as if it did not exist (None, [], False). Checks of the values
(lengths, limits, the view) are dashboard/tours.py's; these functions store what they are given.
"""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, func, insert, select
from sqlalchemy import delete as _delete
from sqlalchemy import update as update_

from queries.schema import tour_id_seq, tour_slide_id_seq, tour_slides, tours


class Tour(NamedTuple):
    id: int
    owner: str
    title: str
    as_of: datetime
    created_at: datetime
    updated_at: datetime


class Slide(NamedTuple):
    id: int
    tour_id: int
    position: int
    title: str
    note: str
    path: str
    query: str

    @property
    def view(self):
        """The slide's dashboard.views.View (parsed again, never trusted); ValueError when it no longer parses."""
        from dashboard import views  # pure: no store, no request

        return views.parse(f"{self.path}?{self.query}" if self.query else self.path)


class TourRow(NamedTuple):
    """A tour as the list of tours shows it: the tour and how many slides it has."""

    tour: Tour
    slides: int


_TOUR_COLS = (tours.c.id, tours.c.owner, tours.c.title, tours.c.as_of, tours.c.created_at, tours.c.updated_at)
_SLIDE_COLS = (tour_slides.c.id, tour_slides.c.tour_id, tour_slides.c.position, tour_slides.c.title,
               tour_slides.c.note, tour_slides.c.path, tour_slides.c.query)


def tours_of(conn: Connection, *, owner: str) -> list[Tour]:
    """Return ``owner``'s tours, the most recently changed first."""
    rows = conn.execute(select(*_TOUR_COLS).where(tours.c.owner == owner)
                        .order_by(tours.c.updated_at.desc(), tours.c.id.desc()))
    return [Tour(*row) for row in rows]


def tour_rows(conn: Connection, *, owner: str) -> list[TourRow]:
    """Return ``owner``'s tours with their slide counts, the most recently changed first."""
    counts = (select(tour_slides.c.tour_id, func.count().label("n")).group_by(tour_slides.c.tour_id)
              .subquery())
    rows = conn.execute(select(*_TOUR_COLS, func.coalesce(counts.c.n, 0))
                        .select_from(tours.outerjoin(counts, counts.c.tour_id == tours.c.id))
                        .where(tours.c.owner == owner)
                        .order_by(tours.c.updated_at.desc(), tours.c.id.desc()))
    return [TourRow(Tour(*row[:6]), int(row[6])) for row in rows]


def count_tours(conn: Connection, *, owner: str) -> int:
    """Return how many tours ``owner`` has."""
    return int(conn.execute(select(func.count()).select_from(tours).where(tours.c.owner == owner)).scalar())


def tour(conn: Connection, *, owner: str, tour_id: int) -> Tour | None:
    """Return ``owner``'s tour ``tour_id``; None when there is none or it is someone else's."""
    row = conn.execute(select(*_TOUR_COLS).where(tours.c.id == tour_id, tours.c.owner == owner)).first()
    return Tour(*row) if row is not None else None


def slides(conn: Connection, *, owner: str, tour_id: int) -> list[Slide]:
    """Return the slides of ``owner``'s tour ``tour_id`` in showing order; [] for someone else's tour."""
    rows = conn.execute(select(*_SLIDE_COLS)
                        .select_from(tour_slides.join(tours, tours.c.id == tour_slides.c.tour_id))
                        .where(tour_slides.c.tour_id == tour_id, tours.c.owner == owner)
                        .order_by(tour_slides.c.position, tour_slides.c.id))
    return [Slide(*row) for row in rows]


def slide(conn: Connection, *, owner: str, slide_id: int) -> Slide | None:
    """Return the slide ``slide_id`` of one of ``owner``'s tours; None otherwise."""
    row = conn.execute(select(*_SLIDE_COLS)
                       .select_from(tour_slides.join(tours, tours.c.id == tour_slides.c.tour_id))
                       .where(tour_slides.c.id == slide_id, tours.c.owner == owner)).first()
    return Slide(*row) if row is not None else None


def create(conn: Connection, *, owner: str, title: str, as_of: datetime, now: datetime) -> int:
    """Store a new, empty tour of ``owner``; return its id."""
    tour_id = int(conn.execute(select(tour_id_seq.next_value())).scalar())
    conn.execute(insert(tours).values(id=tour_id, owner=owner, title=title, as_of=as_of, created_at=now,
                                      updated_at=now))
    return tour_id


def _touch(conn: Connection, owner: str, tour_id: int, now: datetime, **values) -> bool:
    return conn.execute(update_(tours).where(tours.c.id == tour_id, tours.c.owner == owner)
                        .values(updated_at=now, **values)).rowcount > 0


def update(conn: Connection, *, owner: str, tour_id: int, title: str | None = None,  # noqa: A001 (spec's name)
           as_of: datetime | None = None, now: datetime) -> bool:
    """Change the title and/or the cut-off of ``owner``'s tour; False when it is not theirs (or not there)."""
    values = {key: value for key, value in (("title", title), ("as_of", as_of)) if value is not None}
    return _touch(conn, owner, tour_id, now, **values)


def delete(conn: Connection, *, owner: str, tour_id: int) -> bool:  # noqa: A001
    """Delete ``owner``'s tour with its slides; False when it is not theirs (or not there)."""
    if tour(conn, owner=owner, tour_id=tour_id) is None:
        return False
    conn.execute(_delete(tour_slides).where(tour_slides.c.tour_id == tour_id))
    conn.execute(_delete(tours).where(tours.c.id == tour_id, tours.c.owner == owner))
    return True


def count_slides(conn: Connection, *, owner: str, tour_id: int) -> int:
    """Return how many slides ``owner``'s tour has (0 for someone else's)."""
    return int(conn.execute(select(func.count()).select_from(
        tour_slides.join(tours, tours.c.id == tour_slides.c.tour_id))
        .where(tour_slides.c.tour_id == tour_id, tours.c.owner == owner)).scalar())


def add_slide(conn: Connection, *, owner: str, tour_id: int, title: str, note: str, path: str, query: str,
              now: datetime) -> int | None:
    """Append a slide to ``owner``'s tour; return its id, or None when the tour is not theirs."""
    if tour(conn, owner=owner, tour_id=tour_id) is None:
        return None
    last = conn.execute(select(func.max(tour_slides.c.position)).where(tour_slides.c.tour_id == tour_id)).scalar()
    slide_id = int(conn.execute(select(tour_slide_id_seq.next_value())).scalar())
    conn.execute(insert(tour_slides).values(id=slide_id, tour_id=tour_id, position=0 if last is None else last + 1,
                                            title=title, note=note, path=path, query=query))
    _touch(conn, owner, tour_id, now)
    return slide_id


def update_slide(conn: Connection, *, owner: str, slide_id: int, title: str | None = None, note: str | None = None,
                 now: datetime) -> bool:
    """Change a slide's title and/or note; False when it is not on one of ``owner``'s tours."""
    found = slide(conn, owner=owner, slide_id=slide_id)
    if found is None:
        return False
    values = {key: value for key, value in (("title", title), ("note", note)) if value is not None}
    if values:
        conn.execute(update_(tour_slides).where(tour_slides.c.id == slide_id).values(**values))
    _touch(conn, owner, found.tour_id, now)
    return True


def _renumber(conn: Connection, tour_id: int, order: list[int]) -> None:
    for position, slide_id in enumerate(order):
        conn.execute(update_(tour_slides).where(tour_slides.c.id == slide_id, tour_slides.c.tour_id == tour_id)
                     .values(position=position))


def move_slide(conn: Connection, *, owner: str, slide_id: int, offset: int, now: datetime) -> bool:
    """Move a slide ``offset`` places (-1 up, +1 down), renumbering the tour 0, 1, 2 …; False when it is not
    ``owner``'s or would leave the tour's ends."""
    found = slide(conn, owner=owner, slide_id=slide_id)
    if found is None:
        return False
    order = [s.id for s in slides(conn, owner=owner, tour_id=found.tour_id)]
    at = order.index(slide_id)
    to = at + int(offset)
    if to == at or not 0 <= to < len(order):
        return False
    order.insert(to, order.pop(at))
    _renumber(conn, found.tour_id, order)
    _touch(conn, owner, found.tour_id, now)
    return True


def delete_slide(conn: Connection, *, owner: str, slide_id: int, now: datetime) -> bool:
    """Delete a slide and renumber the rest; False when it is not on one of ``owner``'s tours."""
    found = slide(conn, owner=owner, slide_id=slide_id)
    if found is None:
        return False
    conn.execute(_delete(tour_slides).where(tour_slides.c.id == slide_id))
    _renumber(conn, found.tour_id, [s.id for s in slides(conn, owner=owner, tour_id=found.tour_id)])
    _touch(conn, owner, found.tour_id, now)
    return True
