"""Web fixtures: the flaskr trio over an initialised archive, accounts of every role, one dossier with a document."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from records.access.identity import Identity, Role
from records.model import Registration
from records.settings import Settings
from web import create_app
from web.bootstrap import Services

OPERATOR = Identity.operator("test-setup")
PASSWORD = "correct horse 1"


@dataclass
class World:
    """What the fixtures set up: the dossier in department A, its document, and who may see it."""

    dossier: str
    item: str
    other_dossier: str
    tokens: dict[str, str]


@pytest.fixture
def app(services: Services, make_settings: Callable[..., Settings]) -> Iterator[Flask]:
    app = create_app(make_settings(), services=services)
    app.config["TESTING"] = True
    yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


ROLES: dict[str, tuple[Role, tuple[str, ...]]] = {
    "admin": (Role.ADMIN, ()), "archivist": (Role.ARCHIVIST, ()), "handler_a": (Role.HANDLER, ("A",)),
    "handler_b": (Role.HANDLER, ("B",)), "manager": (Role.MANAGER, ()), "regulator": (Role.REGULATOR, ()),
    "regulator_none": (Role.REGULATOR, ()), "regulator_expired": (Role.REGULATOR, ()), "auditor": (Role.AUDITOR, ()),
}


@pytest.fixture
def world(services: Services, clock: Any) -> World:
    """GIVEN accounts of every role, dossier X (department A) with one text document, dossier Y (department B)."""
    access, records = services.access, services.records
    for name, (role, depts) in ROLES.items():
        access.add_user(OPERATOR, name, role, departments=depts, password=PASSWORD)
    received = clock.now - timedelta(days=1)
    x = records.register_complaint("test", Registration(
        matter="律师收费过高投诉", received_at=received, complainant="张三", respondent="某律师事务所",
        department="A", category="收费"))
    y = records.register_complaint("test", Registration(
        matter="法律援助人员态度投诉", received_at=received, complainant="李四", department="B"))
    result = services.ingest.ingest_bytes("test", "投诉书：某律师事务所收费过高，要求退费。".encode("gb18030"),
                                          "投诉书.txt", dossier=x.archive_number)
    services.ingest.ingest_bytes("test", "法律援助人员态度恶劣。".encode(), "y.txt", dossier=y.archive_number)
    assert result.item_number, result
    access.grant_regulator_access(OPERATOR, "regulator", purpose="年度检查", dossiers=[x.archive_number],
                                  expires_at=clock.now + timedelta(days=30))
    access.grant_regulator_access(OPERATOR, "regulator_expired", purpose="专项检查", dossiers=[x.archive_number],
                                  expires_at=clock.now + timedelta(hours=1))
    tokens = {n: access.create_token(OPERATOR, n).token for n in ("handler_a", "regulator", "auditor", "handler_b")}
    clock.now = clock.now + timedelta(hours=2)  # regulator_expired's grant has now ended
    return World(x.archive_number, result.item_number, y.archive_number, tokens)


def sign_in_as(client: FlaskClient, name: str | None) -> FlaskClient:
    """Put ``name`` and its current session generation in the signed session (the form is tested separately)."""
    generation = client.application.extensions["dossier"].access.session_generation(name) if name else None
    with client.session_transaction() as s:
        s.clear()
        if name:
            s["user"] = name
            s["gen"] = generation
    return client


def csrf_token(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, f"no CSRF token on {path}"
    return m.group(1)


class LogCounter:
    """Access-log entries written since the last call (reading the log as the console logs one itself)."""

    def __init__(self, services: Services) -> None:
        self._access = services.access
        self._seen = self._count()

    def _count(self) -> int:
        return len(self._access.read_audit_log(OPERATOR))

    def new_entries(self) -> list[Any]:
        entries = self._access.read_audit_log(OPERATOR)
        fresh = entries[self._seen:-1]  # the last one is this very read
        self._seen = len(entries)
        return fresh


@pytest.fixture
def log(services: Services, world: World) -> LogCounter:
    return LogCounter(services)
