"""Shared fixtures: settings over tmp_path, an initialised embedded archive, services, CLI runner.

The server plugins in tests/servers start real PostgreSQL, SeaweedFS (S3), OpenBao, a KMS
stand-in, OpenSearch and Elasticsearch on 127.0.0.1 when a test first asks for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from records.settings import Settings, load_settings
from web.bootstrap import Services, build_services, init_archive

pytest_plugins = [
    "tests.servers.postgres", "tests.servers.seaweedfs", "tests.servers.openbao", "tests.servers.kms",
    "tests.servers.dovecot", "tests.servers.opensearch", "tests.servers.elasticsearch",
]


class FrozenClock:
    """A settable 'now' for tests that walk through time (numbering by month, deadlines)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FrozenClock:
    # Fixed, not relative to the wall clock: the tests' own dates (receipts, grant expiries,
    # report months) are written against it, so the suite reads the same whatever day it runs.
    # Shifting it is no way to try "another day" (their hard-coded dates would lie in its
    # future, or subprocesses on the wall clock would lag behind it); code under test reads
    # this clock, and the few CLI subprocesses on the wall clock only compare times they made.
    return FrozenClock(datetime(2026, 11, 3, 2, 0, tzinfo=timezone.utc))  # 10:00 in Beijing


@pytest.fixture
def make_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Settings]:
    # The developer's own DOSSIER_* variables must not leak into tests.
    for name in [n for n in __import__("os").environ if n.startswith("DOSSIER_")]:
        monkeypatch.delenv(name)

    def make(**overrides: Any) -> Settings:
        overrides.setdefault("data_dir", tmp_path / "archive")
        return load_settings(**overrides)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def services(request: pytest.FixtureRequest, make_settings: Callable[..., Settings], clock: FrozenClock) -> Iterator[Services]:
    """An initialised archive on each catalogue database: embedded SQLite and a real PostgreSQL."""
    if request.param == "postgres":
        settings = make_settings(database={"url": request.getfixturevalue("postgres_url")})
    else:
        settings = make_settings()
    init_archive(settings)
    svc = build_services(settings, clock=clock)
    yield svc
    svc.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Kill any worker process a failed test left behind.

    multiprocessing joins non-daemon children at interpreter exit, so one stuck child would keep
    the whole run (and CI) waiting after the last test has already reported.
    """
    import multiprocessing

    for child in multiprocessing.active_children():
        child.kill()
        child.join(timeout=5)
