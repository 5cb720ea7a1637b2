"""The archive's clock: the one place that reads the wall clock.

Every "now" in the archive — receipt dates, deadlines, grant expiry, the access log's time
stamps, the audit page's window — comes from a :data:`Clock` handed in by the composition root
(``web/bootstrap.py``). Tests hand in a frozen clock, so the suite passes whatever the date; a
guard test (``tests/unit/test_clock_guard.py``) fails if code reads the wall clock anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

__all__ = ["Clock", "system_clock"]

Clock = Callable[[], datetime]
"""Returns the aware UTC 'now'."""


def system_clock() -> datetime:
    """The real time, aware, in UTC."""
    return datetime.now(timezone.utc)
