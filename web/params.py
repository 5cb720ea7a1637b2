"""Query-string parameters read the same way by the pages and the API: checked, or a 400.

A parameter that cannot be read is the caller's mistake, so it is answered with a 400 naming
the parameter and the form it takes (``InvalidInputError``), never passed on for a service to
trip over: ``?since=garbage`` used to be ignored silently, ``?since=2026-02-30`` and
``?month=9999999999-01`` used to escape as ValueError / OverflowError (a 500).
"""

from __future__ import annotations

import re
from datetime import MAXYEAR, MINYEAR, date

from flask import request

from records.errors import InvalidInputError
from retention.statistics import parse_month

__all__ = ["InvalidParameterError", "date_param", "month_param"]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class InvalidParameterError(InvalidInputError, ValueError):
    """A query-string parameter is not in the form it takes; the message names both.

    The value is shortened in the message: it is echoed back to whoever sent it.
    """

    code = "invalid_parameter"

    def __init__(self, name: str, value: str, expected: str) -> None:
        shown = value if len(value) <= 40 else value[:40] + "…"
        super().__init__(f"{name}: {shown!r} is not {expected}")
        self.name = name
        self.value = value


def date_param(name: str) -> date | None:
    """``?name=YYYY-MM-DD`` as a date; None when absent or empty.

    The first and last years are refused too: a day there, taken as midnight in the archive's
    zone, has no UTC counterpart, and the access log compares in UTC.
    """
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidParameterError(name, raw, "a date YYYY-MM-DD (e.g. 2026-10-01)") from None
    if not MINYEAR < day.year < MAXYEAR:
        raise InvalidParameterError(name, raw, f"a date YYYY-MM-DD between {MINYEAR + 1:04d} and {MAXYEAR - 1}")
    return day


def month_param(name: str = "month") -> str | None:
    """``?month=YYYY-MM`` checked like a report's month (``parse_month``); None when absent or empty.

    Raises:
        InvalidPeriodError: not a month YYYY-MM of the calendar (``2026-13``, ``0000-01``, ``9999999999-01``).
    """
    raw = request.args.get(name)
    return parse_month(raw) if raw else None
