"""The archive numbering scheme (ARC-3) as a pure rule."""

from __future__ import annotations

from datetime import date

import pytest

from records.errors import NumberingError
from records.numbering import NumberingScheme


def test_default_number_is_year_month_serial() -> None:
    """The seeds' year(2) month(2) serial, with a 3-digit serial by default (ARC-3-01)."""
    assert NumberingScheme().format(date(2026, 11, 3), 7) == "2611-007"


def test_serial_restarts_each_year_month() -> None:
    """Each year-month is its own series (ARC-3-02)."""
    scheme = NumberingScheme()
    assert scheme.series(date(2026, 11, 30)) != scheme.series(date(2026, 12, 1))
    assert scheme.series(date(2026, 11, 1)) == scheme.series(date(2026, 11, 30))


def test_serial_width_is_configurable_and_a_minimum() -> None:
    """Width pads; a busy month keeps counting past it instead of failing (ARC-3 design note)."""
    scheme = NumberingScheme("{yy}{mm}{serial}", serial_width=2)
    assert scheme.format(date(2026, 1, 5), 3) == "260103"
    assert scheme.format(date(2026, 1, 5), 100) == "2601100"


def test_custom_template_with_prefix_and_full_year() -> None:
    """An agency prefix and a four-digit year are possible."""
    scheme = NumberingScheme("TS-{yyyy}-{serial}", serial_width=4)
    assert scheme.format(date(2026, 11, 3), 12) == "TS-2026-0012"
    assert scheme.series(date(2026, 1, 1)) == scheme.series(date(2026, 12, 31))
    assert scheme.parse_serial("TS-2026-0012") == ("TS-2026-#", 12)


@pytest.mark.parametrize("template", ["{yy}{mm}", "{yy}-{serial}-{serial}", "{yy}{month}-{serial}"])
def test_invalid_templates_are_refused(template: str) -> None:
    """A template without exactly one serial, or with unknown fields, is a configuration error."""
    with pytest.raises(NumberingError):
        NumberingScheme(template)
