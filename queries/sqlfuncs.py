"""SQL functions whose spelling differs between DuckDB and PostgreSQL: the one place for dialects."""
from __future__ import annotations

from sqlalchemy import BigInteger, Float, Integer, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class minutes_between(FunctionElement):
    """Return the whole minutes elapsed from ``start`` to ``end`` (floored), as an integer."""

    type = Integer()
    inherit_cache = True
    name = "minutes_between"


@compiles(minutes_between)
def _minutes_between_pg(element, compiler, **kw):
    start, end = list(element.clauses)
    return "CAST(FLOOR(EXTRACT(EPOCH FROM (%s - %s)) / 60) AS INTEGER)" % (
        compiler.process(end, **kw), compiler.process(start, **kw))


@compiles(minutes_between, "duckdb")
def _minutes_between_duckdb(element, compiler, **kw):
    start, end = list(element.clauses)
    return "CAST(FLOOR(date_diff('second', %s, %s) / 60) AS INTEGER)" % (
        compiler.process(start, **kw), compiler.process(end, **kw))


class median(FunctionElement):
    """Return the continuous median of a numeric expression (an aggregate)."""

    type = Float()
    inherit_cache = True
    name = "median"


@compiles(median)
def _median_pg(element, compiler, **kw):
    (expr,) = list(element.clauses)
    return "percentile_cont(0.5) WITHIN GROUP (ORDER BY %s)" % compiler.process(expr, **kw)


@compiles(median, "duckdb")
def _median_duckdb(element, compiler, **kw):
    (expr,) = list(element.clauses)
    return "quantile_cont(%s, 0.5)" % compiler.process(expr, **kw)


class day_bucket(FunctionElement):
    """Return the local date of a naive local timestamp (a cast: cheaper than date_trunc in DuckDB)."""

    inherit_cache = True
    name = "day_bucket"


@compiles(day_bucket)
def _day_bucket(element, compiler, **kw):
    (expr,) = list(element.clauses)
    return "CAST(%s AS DATE)" % compiler.process(expr, **kw)


# An H3 index (as a 64-bit integer) keeps its resolution in bits 52–55 and the digit of resolution r
# in bits 3·(15 − r) … 3·(15 − r) + 2; digits below the cell's resolution are all 7. Its parent at p
# is the same index with the resolution field set to p and digits p+1 … 15 set to 7: two bitwise
# operations, the same on every engine (H3 indexes fit a signed BIGINT: bit 63 is always 0).
_H3_RESOLUTION_MASK = 0xF << 52
_H3_KEEP = ~_H3_RESOLUTION_MASK  # negative as a signed 64-bit integer, as both engines read it


def h3_digits_mask(resolution: int) -> int:
    """Return the bits of the H3 digits finer than ``resolution`` (each 0b111), as an integer."""
    return sum(7 << 3 * (15 - r) for r in range(resolution + 1, 16))


def h3_parent(column, resolution: int):
    """Return the SQL expression of the H3 parent at ``resolution`` (0–15) of an integer H3 cell column.

    ``column`` must hold cells at ``resolution`` or finer; the result is NULL where it is NULL.
    """
    if isinstance(resolution, bool) or not isinstance(resolution, int) or not 0 <= resolution <= 15:
        raise ValueError(f"an H3 resolution is an integer from 0 to 15, not {resolution!r}")
    keep = literal_column(f"({_H3_KEEP})", BigInteger())  # constants computed here, never input
    fill = literal_column(str((resolution << 52) | h3_digits_mask(resolution)), BigInteger())
    return column.bitwise_and(keep).bitwise_or(fill)
