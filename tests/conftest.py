"""Shared fixtures: settings over tmp_path, an initialised embedded archive, services, CLI runner.

The server plugins in tests/servers start real PostgreSQL, SeaweedFS (S3), OpenBao, a KMS
stand-in, OpenSearch and Elasticsearch on 127.0.0.1 when a test first asks for them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner

from migrations import migrate
from records.db import make_engine
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


class FastPasswordHasher(PasswordHasher):
    """Real argon2id with small parameters (as tests/unit/access's ``FAST_HASHER``): ~8 ms a hash, not ~0.3 s."""

    def __init__(self, time_cost: int = 1, memory_cost: int = 8192, parallelism: int = 1, **kwargs: Any) -> None:
        super().__init__(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, **kwargs)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Accounts made and checked in-process hash with small argon2id parameters.

    Hashing, checking, the stored ``$argon2id$`` form and re-hashing when parameters change behave
    the same; only the cost differs. At argon2-cffi's RFC 9106 defaults the nine accounts of the web
    tests' ``world`` (466 tests) alone took a third of the suite's 30 minutes. A test that needs
    particular parameters passes its own ``hasher=`` to AccessService, as the access tests do;
    `dossier` subprocesses keep the defaults (and re-hash a test's account at its first sign-in).
    """
    monkeypatch.setattr("records.access.service.PasswordHasher", FastPasswordHasher)


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


def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_catalogue_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite catalogue at the newest schema, migrated once for the session."""
    path = tmp_path_factory.mktemp("catalogue-template") / "catalogue.sqlite3"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_catalogue_template(postgres_server: Any) -> str:
    """A PostgreSQL database at the newest schema, migrated once for the session (never used itself)."""
    name = str(postgres_server.create_database())
    _migrate(postgres_server.url(name))
    return name


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def services(request: pytest.FixtureRequest, make_settings: Callable[..., Settings], clock: FrozenClock) -> Iterator[Services]:
    """An initialised archive on each catalogue database: embedded SQLite and a real PostgreSQL."""
    # The catalogue starts as a copy of one migrated once for the session, so init_archive finds
    # its schema current (the migrations are deterministic: no ids, no clock). Running all of them
    # for each of the ~900 tests here cost 0.3-1 s a test; init_archive itself (data directory,
    # master key, key pin, audit key) still runs whole. Migrating from empty is tested on its own.
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        name = server.create_database(template=request.getfixturevalue("postgres_catalogue_template"))
        settings = make_settings(database={"url": server.url(name)})
    else:
        settings = make_settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # as init_archive makes it
        shutil.copyfile(request.getfixturevalue("sqlite_catalogue_template"),
                        Path(settings.database_url.removeprefix("sqlite:///")))
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
