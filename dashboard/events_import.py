"""``gridcc import-events FILE``: events from CSV, Excel or JSON Lines, through the same ingest path as the API.

The columns are the API's fields (docs/ingest.md). Timestamps without an offset are the city's local
time. The whole file is one transaction: every problem is listed with its line, and nothing is
stored unless the file is clean. Line numbers count the header as line 1 (CSV, Excel).
"""
from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from dashboard.contract import FIELDS, BadLine

CHUNK = 5_000
NUMBER_FIELDS = ("lat", "lon")
INTEGER_FIELDS = ("worker",)


class UnreadableFile(ValueError):
    """The file cannot be read as the format its name says."""


def read_records(path: Path) -> Iterator[tuple[int, object]]:
    """Yield (line, record) for every record of ``path`` (.csv, .xlsx, .jsonl / .ndjson / .json)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv(path)
    if suffix in (".xlsx", ".xlsm"):
        return _excel(path)
    if suffix in (".jsonl", ".ndjson", ".json"):
        return _jsonl(path)
    raise UnreadableFile(f"{path.name}: unknown format {suffix or '(none)'}; use .csv, .xlsx or .jsonl")


def _clean(row: dict) -> dict:
    """Turn a table row (all text, or Excel's cells) into an API record: blanks dropped, numbers typed."""
    record = {}
    for key, value in row.items():
        if key is None or value is None:
            continue
        key = str(key).strip()
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                continue
        if isinstance(value, float) and value.is_integer() and key in ("id", "worker", "category", "department"):
            value = int(value)
        if key in NUMBER_FIELDS and isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                pass  # left as text: validation says it must be a number
        if key in INTEGER_FIELDS and isinstance(value, str) and value.isdigit():
            value = int(value)
        if key == "category" and isinstance(value, int):
            value = f"{value:04d}"  # Excel turns 0505 into 505
        if isinstance(value, float) and not math.isfinite(value):
            value = str(value)
        record[key] = value
    return record


def _csv(path: Path) -> Iterator[tuple[int, object]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [name.strip() for name in reader.fieldnames or []]
            unknown = [name for name in header if name and name not in FIELDS]
            if unknown:
                # Said once, on the header's line, instead of on every row; the rows are still checked.
                hint = " (is the file separated by ';' or tabs? use commas)" if len(header) == 1 else ""
                yield 1, BadLine(f"unknown column(s) {', '.join(unknown)[:200]}{hint}; the columns are the API's "
                                 "fields (docs/ingest.md)")
            for row in reader:
                if None in row:
                    yield reader.line_num, BadLine("more cells than the header has columns")
                    continue
                yield reader.line_num, _clean({k: v for k, v in row.items() if k and k.strip() not in unknown})
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"{path.name}: not UTF-8 text ({error.reason} at byte {error.start}); "
                             "save it as CSV UTF-8") from None


def _excel(path: Path) -> Iterator[tuple[int, object]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise UnreadableFile(f"{path.name}: not an Excel workbook ({type(error).__name__})") from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        return
    names = [None if h is None else str(h).strip() for h in header]
    for line, values in enumerate(rows, start=2):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        yield line, _clean({n: (v if not isinstance(v, datetime) else v.replace(microsecond=0))
                            for n, v in zip(names, values)})
    book.close()


def _jsonl(path: Path) -> Iterator[tuple[int, object]]:
    try:
        with open(path, encoding="utf-8-sig") as fh:
            for line, text in enumerate(fh, start=1):
                if not text.strip():
                    continue
                try:
                    yield line, json.loads(text)
                except (ValueError, RecursionError) as error:
                    yield line, BadLine(f"not valid JSON: {str(error)[:120]}")
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"{path.name}: not UTF-8 text ({error.reason})") from None


def chunks(records: Iterator[tuple[int, object]], size: int = CHUNK) -> Iterator[tuple[list[int], list]]:
    """Group (line, record) pairs into (lines, records) chunks of ``size``."""
    lines, batch = [], []
    for line, record in records:
        lines.append(line)
        batch.append(record)
        if len(batch) == size:
            yield lines, batch
            lines, batch = [], []
    if batch:
        yield lines, batch


def count_records(path: Path) -> int | None:
    """Return a quick upper bound of the records in ``path`` for the progress bar (None for Excel)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return None
    with open(path, "rb") as fh:
        lines = sum(1 for _ in fh)
    return max(0, lines - (1 if path.suffix.lower() == ".csv" else 0))
