"""No wall-clock time bombs: code reads "now" from the archive's clock (records/clock.py) only.

A page that computed its window from ``datetime.now()`` while the tests' world ran on a frozen
clock made the suite fail on a fixed calendar day (2026-12-03). Code under test must take its
time from the clock the composition root hands it, so every test passes whatever the date.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("records", "ingest", "search", "retention", "web")
# (object, attribute) calls that read the wall clock's date or time of day.
WALL_CLOCK = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today")}
THE_CLOCK = REPO / "records" / "clock.py"


def _wall_clock_reads(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), filename=str(path))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else None
            if (name, node.func.attr) in WALL_CLOCK:
                lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("package", PACKAGES)
def test_only_the_archive_clock_reads_the_wall_clock(package: str) -> None:
    offenders = {str(p.relative_to(REPO)): lines for p in sorted((REPO / package).rglob("*.py"))
                 if p != THE_CLOCK and (lines := _wall_clock_reads(p))}
    assert offenders == {}, "read time from the archive's clock (records.clock / Services.clock), not the wall clock"


def test_the_guard_sees_a_wall_clock_read(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.py"
    bomb.write_text("import datetime as dt\nfrom datetime import date\nx = dt.datetime.now()\ny = date.today()\n")
    assert _wall_clock_reads(bomb) == [3, 4]
