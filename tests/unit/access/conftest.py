"""Fixtures of the access-control tests: an AccessService over the `services` archive (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher

from records.access.identity import Identity
from records.access.log import AccessLog
from records.access.service import AccessService
from web.bootstrap import Services

# Real argon2id with small parameters: the behaviour under test is the same, each hash takes ~1 ms.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


@pytest.fixture
def access_log(tmp_path: Path, clock) -> AccessLog:  # type: ignore[no-untyped-def]
    """A log that signs a checkpoint every 4 entries, its key and file under tmp_path."""
    return AccessLog(signing_key=tmp_path / "audit" / "audit-signing.key",
                     checkpoint_file=tmp_path / "audit" / "audit-checkpoints.jsonl", checkpoint_every=4, clock=clock)


@pytest.fixture
def access(services: Services, access_log: AccessLog, clock) -> AccessService:  # type: ignore[no-untyped-def]
    return AccessService(services.uow, access_log, clock=clock, hasher=FAST_HASHER)


@pytest.fixture
def console() -> Identity:
    return Identity.operator("cli:test")
