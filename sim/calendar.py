"""Calendar dates <-> model time (years since the scenario's start, as decimal years).

A date ``d`` is mapped to the decimal year ``d.year + (day of year - 1) / days in that year``, and model
time is the difference from the start date. So 1 January of every year falls on a whole number of
years after a 1 January start, and "per calendar year" rates change exactly at year boundaries.
Files accept a year (``2020``), a year-month (``"2020-03"``) or a full date (``"2020-03-15"`` or a
TOML date).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

__all__ = ["CalendarDate", "date_of_decimal_year", "decimal_year", "parse_date"]

_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")


def parse_date(value: Any) -> dt.date:
    """Parse a year, ``"YYYY"``, ``"YYYY-MM"``, ``"YYYY-MM-DD"`` or a date object into a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise ValueError(f"expected a date like 2020, '2020-03' or '2020-03-15', got {value!r}")
    if isinstance(value, int):
        if not 1800 <= value <= 2300:
            raise ValueError(f"year out of range 1800..2300, got {value}")
        return dt.date(value, 1, 1)
    if isinstance(value, str):
        m = _DATE_RE.match(value.strip())
        if m:
            year, month, day = int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1)
            try:
                return dt.date(year, month, day)
            except ValueError as exc:
                raise ValueError(f"not a valid date: {value!r} ({exc})") from None
    raise ValueError(f"expected a date like 2020, '2020-03' or '2020-03-15', got {value!r}")


def decimal_year(d: dt.date) -> float:
    """The date as a decimal year (1 January = a whole number)."""
    start = dt.date(d.year, 1, 1)
    days_in_year = (dt.date(d.year + 1, 1, 1) - start).days
    return d.year + (d - start).days / days_in_year


def date_of_decimal_year(y: float) -> dt.date:
    """Inverse of :func:`decimal_year`, to the day."""
    year = int(y // 1)
    start = dt.date(year, 1, 1)
    days_in_year = (dt.date(year + 1, 1, 1) - start).days
    return start + dt.timedelta(days=int(round((y - year) * days_in_year)))


CalendarDate = Annotated[
    dt.date,
    BeforeValidator(parse_date),
    PlainSerializer(lambda d: d.isoformat(), return_type=str),
]
"""A date field that accepts the forms of :func:`parse_date` and writes ISO dates."""
