"""Spreadsheet cells the archive writes (CSV, XLSX): text that a spreadsheet would run is defused.

A category, a respondent or any other name typed at registration ends up in the monthly
statistics and the inventory report. Opened in Excel, LibreOffice or WPS, a cell that starts
with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one of them) is read as a
formula: ``=HYPERLINK("http://x","y")`` becomes a live link, ``=cmd|…`` worse. Following
OWASP's rule for CSV injection, every such text cell is written with a leading single quote,
which spreadsheets show as text. Numbers stay numbers: only ``str`` values are touched, so
counts, shares and days keep their type (and a negative number is never quoted).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["FORMULA_TRIGGERS", "safe_cell", "safe_row"]

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value``, or — for text a spreadsheet would evaluate — the same text behind a single quote."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def safe_row(values: Iterable[object]) -> list[object]:
    """:func:`safe_cell` over one row."""
    return [safe_cell(v) for v in values]
