"""SQL functions whose spelling differs between DuckDB and PostgreSQL: the one place for dialects."""
from __future__ import annotations

from sqlalchemy import Float, Integer
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
