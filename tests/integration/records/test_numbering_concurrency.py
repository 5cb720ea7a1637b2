"""Archive numbers stay unique and gap-free when several processes register at once (ARC-3)."""

from __future__ import annotations

import multiprocessing as mp
from datetime import datetime, timezone
from typing import Any

import pytest

from records.settings import load_settings
from web.bootstrap import build_services, init_archive

PROCESSES = 6
EACH = 15
FIXED_NOW = datetime(2026, 11, 3, 2, 0, tzinfo=timezone.utc)


def _register_many(overrides: dict[str, Any], barrier: Any, out: Any) -> None:
    services = build_services(load_settings(**overrides), clock=lambda: FIXED_NOW)
    barrier.wait()
    from records.model import Registration

    numbers = []
    for i in range(EACH):
        reg = Registration(matter=f"并发登记 {i}", complainant="张三", received_at=FIXED_NOW)
        numbers.append(services.records.register_complaint("worker", reg).archive_number)
    services.close()
    out.put(numbers)


def _run_concurrently(overrides: dict[str, Any]) -> list[str]:
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(PROCESSES), ctx.Queue()
    # daemon + terminate in `finally`: a worker that dies must fail this test, not hang the run at exit.
    procs = [ctx.Process(target=_register_many, args=(overrides, barrier, out), daemon=True) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    numbers: list[str] = []
    try:
        for _ in procs:
            numbers.extend(out.get(timeout=180))
        for p in procs:
            p.join(timeout=60)
            assert p.exitcode == 0
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
            p.join(timeout=10)
        barrier.abort()
        out.cancel_join_thread()
        out.close()
    return numbers


def _assert_gap_free(numbers: list[str]) -> None:
    assert len(numbers) == PROCESSES * EACH
    assert sorted(numbers) == [f"2611-{i:03d}" for i in range(1, PROCESSES * EACH + 1)]


@pytest.mark.slow
def test_concurrent_registrations_on_sqlite_get_distinct_consecutive_numbers(settings) -> None:  # type: ignore[no-untyped-def]
    """Six processes registering at once on the embedded catalogue: 90 numbers, none twice, none skipped."""
    init_archive(settings)
    _assert_gap_free(_run_concurrently({"data_dir": settings.data_dir}))


@pytest.mark.slow
@pytest.mark.postgres
def test_concurrent_registrations_on_postgresql_get_distinct_consecutive_numbers(make_settings, postgres_url: str) -> None:  # type: ignore[no-untyped-def]
    """The same on a real PostgreSQL server."""
    settings = make_settings(database={"url": postgres_url})
    init_archive(settings)
    _assert_gap_free(_run_concurrently({"data_dir": settings.data_dir, "database": {"url": postgres_url}}))
