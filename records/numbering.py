"""The archive numbering scheme (ARC-3), pure.

The default template ``{yy}{mm}-{serial}`` gives the seeds' year(2) month(2) serial
(ARC-3-01) with a configurable serial width; the serial restarts whenever the rest of the
number changes, i.e. each year-month by default (ARC-3-02). Allocation itself (atomic,
gap-free, never reused) is the catalogue's job: see ``records.tables.allocate_serial``.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import date

from records.errors import NumberingError

_FIELDS = frozenset({"yyyy", "yy", "mm", "serial"})


@dataclass(frozen=True, slots=True)
class NumberingScheme:
    template: str = "{yy}{mm}-{serial}"
    serial_width: int = 3

    def __post_init__(self) -> None:
        names = [f for _, f, _, _ in string.Formatter().parse(self.template) if f is not None]
        unknown = set(names) - _FIELDS
        if unknown:
            raise NumberingError(f"unknown field(s) {sorted(unknown)} in numbering template {self.template!r}")
        if names.count("serial") != 1:
            raise NumberingError(f"numbering template {self.template!r} needs exactly one {{serial}}")
        if self.serial_width < 1:
            raise NumberingError("serial width must be at least 1")

    def series(self, on: date) -> str:
        """The series a number allocated on ``on`` belongs to; serials count within it."""
        return self._render(on, "#")

    def format(self, on: date, serial: int) -> str:
        # The width is a minimum: a month with more cases than the width allows keeps counting
        # (1000 after 999) rather than failing, and stays unique because the series is fixed.
        return self._render(on, f"{serial:0{self.serial_width}d}")

    def parse_serial(self, number: str) -> tuple[str, int] | None:
        """Split a number made by this scheme into (series, serial); None if it doesn't fit."""
        pattern = "".join(
            re.escape(lit) + (f"(?P<{name}>\\d+)" if name else "")
            for lit, name, _, _ in string.Formatter().parse(self.template)
        )
        m = re.fullmatch(pattern, number)
        if not m:
            return None
        serial = int(m.group("serial"))
        series_text = number[: m.start("serial")] + "#" + number[m.end("serial"):]
        return series_text, serial

    def _render(self, on: date, serial_text: str) -> str:
        return self.template.format(
            yyyy=f"{on.year:04d}", yy=f"{on.year % 100:02d}", mm=f"{on.month:02d}", serial=serial_text
        )
