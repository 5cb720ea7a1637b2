"""`dossier remind`: the daily deadline digest, sent to a real SMTP server (aiosmtpd) started by the test.

The caseload is set up on the fixture clock (2026-11-03); the command runs with ``--as-of 2026-11-03``,
so what it computes is the same whatever day the suite runs.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner, Result

from records.access.identity import Identity
from records.settings import Settings, load_settings
from tests.integration.records.reminder_caseload import make_caseload
from web.bootstrap import build_services, init_archive
from web.cli import main

if TYPE_CHECKING:
    from tests.conftest import FrozenClock

READER = Identity.operator("test-reader")
PASSWORD = "correct horse 1"


@dataclass
class Inbox:
    """An aiosmtpd handler: keeps every message it accepts; refuses the recipients in ``refuse``."""

    refuse: set[str] = field(default_factory=set)
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def by_recipient(self) -> dict[str, EmailMessage]:
        return {rcpt: msg for rcpts, msg in self.messages for rcpt in rcpts}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd), for the length of one test."""
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@dataclass
class Office:
    data_dir: Path
    numbers: dict[str, str]

    def run(self, *args: str, who: str | None = None) -> Result:
        sign_in = ["--as", who, "--password-stdin"] if who else []
        return CliRunner().invoke(main, ["--data-dir", str(self.data_dir), *sign_in, "remind", *args],
                                  input=PASSWORD + "\n" if who else None)

    def entries(self) -> list[Any]:
        svc = build_services(load_settings(data_dir=self.data_dir))
        try:
            return [e.event for e in svc.access.read_audit_log(READER) if e.event.actor != READER.name]
        finally:
            svc.close()


@pytest.fixture
def office(settings: Settings, clock: FrozenClock, smtp: tuple[Inbox, int]) -> Office:
    """GIVEN the caseload on the fixture clock, and the digest configured for the test's SMTP server:
    addresses from the template ``{name}@example.org``, the manager's given explicitly."""
    init_archive(settings)
    svc = build_services(settings, clock=clock)
    try:
        numbers = make_caseload(svc)
    finally:
        svc.close()
    (settings.data_dir / "dossier.toml").write_text(f"""
[reminders]
smtp_host = "127.0.0.1"
smtp_port = {smtp[1]}
sender = "dossier@example.org"
address_template = "{{name}}@example.org"
addresses = {{ manager = "boss@example.org" }}
link_base = "https://dossier.example.org/"
""", encoding="utf-8")
    return Office(settings.data_dir, numbers)


def test_the_digest_reaches_each_handler_and_manager_over_smtp(office: Office, smtp: tuple[Inbox, int]) -> None:
    """GIVEN the caseload and a real SMTP server
    WHEN the console runs `dossier remind --as-of 2026-11-03`
    THEN handler_a, handler_b and the manager each get one message from the configured sender, whose subject
    counts the three lists and whose body names each dossier with its deadline and link; nobody else gets mail;
    the run is one allowed send_reminders entry."""
    inbox = smtp[0]
    before = len(office.entries())
    r = office.run("--as-of", "2026-11-03")
    assert r.exit_code == 0, r.output
    assert "3 digest(s) sent, 0 failed" in r.output
    got = inbox.by_recipient()
    assert set(got) == {"handler_a@example.org", "handler_b@example.org", "boss@example.org"}
    a = got["handler_a@example.org"]
    assert a["From"] == "dossier@example.org" and "handler_a" in a["To"]
    assert a["Subject"] == "[Dossier] 期限提醒 2026-11-03：已逾期 2，今日到期 1，3日内到期 2"
    body = a.get_content()
    n = office.numbers
    assert f"{n['a_late']}  收费过高（逾期）  受理期限（acceptance）  应于 2026-10-27 前办结，已逾期 7 天" in body
    assert f"{n['a_conclusion']}" in body and "办结期限（conclusion）" in body
    assert f"{n['a_today']}" in body and "今日（2026-11-03）到期" in body
    assert f"https://dossier.example.org/dossiers/{n['a_soon']}" in body
    assert n["b_late"] not in body and n["a_later"] not in body
    assert n["b_late"] in got["handler_b@example.org"].get_content()
    assert n["b_late"] in got["boss@example.org"].get_content()
    fresh = office.entries()[before:]
    assert [(str(e.action), str(e.outcome), e.role) for e in fresh] == [("send_reminders", "allowed", "console")]


def test_a_refused_recipient_does_not_stop_the_others(office: Office, smtp: tuple[Inbox, int]) -> None:
    """GIVEN the SMTP server refuses handler_b's mailbox
    WHEN the digest runs THEN handler_a and the manager still get theirs, the failure is named, and the exit is 14."""
    inbox = smtp[0]
    inbox.refuse.add("handler_b@example.org")
    r = office.run("--as-of", "2026-11-03")
    assert r.exit_code == 14, r.output
    assert "not sent to handler_b" in r.output and "550" in r.output
    assert set(inbox.by_recipient()) == {"handler_a@example.org", "boss@example.org"}


def test_dry_run_json_lists_the_digests_and_sends_nothing(office: Office, smtp: tuple[Inbox, int]) -> None:
    """WHEN the archivist runs `dossier remind --dry-run --json`
    THEN it prints each recipient with address and lists, sends no mail, and logs one send_reminders entry."""
    before = len(office.entries())
    r = office.run("--as-of", "2026-11-03", "--dry-run", "--json", who="archivist")
    assert r.exit_code == 0, r.output
    digest = {d["person"]: d for d in json.loads(r.stdout)}
    assert set(digest) == {"handler_a", "handler_b", "manager"}
    assert digest["manager"]["address"] == "boss@example.org"
    late = digest["handler_a"]["overdue"][0]
    assert (late["archive_number"], late["clock"], late["due_on"], late["days_overdue"]) == (
        office.numbers["a_late"], "acceptance", "2026-10-27", 7)
    assert [i["archive_number"] for i in digest["handler_a"]["due_today"]] == [office.numbers["a_today"]]
    assert smtp[0].messages == []
    fresh = office.entries()[before:]
    assert [(e.actor, str(e.action), str(e.outcome), e.details.get("dry_run")) for e in fresh] == [
        ("archivist", "send_reminders", "allowed", "true")]


def test_a_handler_is_refused_and_logged_once(office: Office, smtp: tuple[Inbox, int]) -> None:
    """WHEN handler_a (signed in) runs `dossier remind` THEN it is refused (exit 11), one refused entry, no mail."""
    before = len(office.entries())
    r = office.run("--as-of", "2026-11-03", who="handler_a")
    assert r.exit_code == 11, r.output
    fresh = office.entries()[before:]
    assert [(e.actor, str(e.action), str(e.outcome)) for e in fresh] == [("handler_a", "send_reminders", "refused")]
    assert smtp[0].messages == []
