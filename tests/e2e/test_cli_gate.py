"""The console is a caller like any other: one policy, one access-log entry per call (issue #9).

Every `dossier` command that reads or changes dossier data is called once as a caller the policy
allows and once as one it refuses; each call must leave exactly one access-log entry naming the
right actor, action, object and outcome. `--as NAME` is accepted only after that account
authenticates (password on standard input, or its API token in DOSSIER_TOKEN); then the
account's role, departments and grants apply in full — a regulator gets only granted dossiers,
and a stamped PDF instead of the original.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from records.access.identity import Identity, Role
from records.model import Registration
from records.settings import Settings
from web.bootstrap import build_services, init_archive
from web.cli import main

SETUP = Identity.operator("test-setup")
READER = Identity.operator("test-reader")
PASSWORD = "correct horse 1"


@dataclass
class Archive:
    data_dir: Path
    x: str          # dossier of department A, granted to the regulator
    y: str          # dossier of department B
    item: str       # a text document in x
    token: str      # handler_a's API token
    locked: str = ""  # an encrypted .docx in x, filed without its password (for `dossier unlock`)

    def run(self, *args: str, who: str | None = None, password: str = PASSWORD, token: str | None = None) -> Result:
        """``dossier`` as the console (``who`` None), or as account ``who`` signed in with its password."""
        sign_in = ["--as", who, "--password-stdin"] if who and token is None else (["--as", who] if who else [])
        env = {"DOSSIER_TOKEN": token} if token else {}
        return CliRunner().invoke(main, ["--data-dir", str(self.data_dir), *sign_in, *args],
                                  input=password + "\n" if who and token is None else None, env=env)

    def entries(self) -> list[dict[str, object]]:
        """The access log, without the entries the test's own reads of it leave."""
        svc = build_services(_settings(self.data_dir))
        try:
            return [dataclasses.asdict(e.event) for e in svc.access.read_audit_log(READER)
                    if e.event.actor != READER.name]
        finally:
            svc.close()


def _settings(data_dir: Path) -> Settings:
    from records.settings import load_settings

    return load_settings(data_dir=data_dir)


@pytest.fixture
def archive(settings: Settings) -> Iterator[Archive]:
    init_archive(settings)
    svc = build_services(settings)
    try:
        for name, role, depts in (("handler_a", Role.HANDLER, ["A"]), ("handler_b", Role.HANDLER, ["B"]),
                                  ("regulator", Role.REGULATOR, []), ("regulator_none", Role.REGULATOR, []),
                                  ("auditor", Role.AUDITOR, []), ("admin", Role.ADMIN, []),
                                  ("archivist", Role.ARCHIVIST, []), ("manager", Role.MANAGER, [])):
            svc.access.add_user(SETUP, name, role, departments=depts, password=PASSWORD)
        received = svc.clock() - timedelta(days=1)
        x = svc.records.register_complaint("test", Registration(
            matter="律师收费过高投诉", received_at=received, complainant="张三", respondent="某律师事务所",
            department="A", category="收费")).archive_number
        y = svc.records.register_complaint("test", Registration(
            matter="法律援助人员态度投诉", received_at=received, complainant="李四", department="B")).archive_number
        item = svc.ingest.ingest_bytes("test", "投诉书：某律师事务所收费过高，要求退费。".encode(), "投诉书.txt",
                                       dossier=x).item_number
        assert item
        svc.ingest.ingest_bytes("test", "法律援助人员态度恶劣。".encode(), "y.txt", dossier=y)
        svc.access.grant_regulator_access(SETUP, "regulator", purpose="年度检查", dossiers=[x],
                                          expires_at=svc.clock() + timedelta(days=30))
        token = svc.access.create_token(SETUP, "handler_a").token
        from tests.e2e.test_cli_unlock import DOC_PASSWORD, encrypted_docx

        locked = svc.ingest.ingest_bytes("test", encrypted_docx("加密的投诉材料", DOC_PASSWORD), "加密.docx",
                                         dossier=x).item_number
    finally:
        svc.close()
    yield Archive(settings.data_dir, x, y, item, token, locked or "")


def _one_entry(archive: Archive, before: int, *, actor: str, action: str, outcome: str,
               ref: str | None = None) -> dict[str, object]:
    fresh = archive.entries()[before:]
    assert len(fresh) == 1, [(e["actor"], e["action"], e["outcome"], e["object_ref"]) for e in fresh]
    [e] = fresh
    assert (e["actor"], str(e["action"]), str(e["outcome"])) == (actor, action, outcome)
    if ref is not None:
        assert e["object_ref"] == ref
    return e


def _password_file(tmp: Path) -> Path:
    from tests.e2e.test_cli_unlock import DOC_PASSWORD

    f = tmp / "document-password.txt"
    f.write_text(DOC_PASSWORD + "\n", encoding="utf-8")
    return f


def _calls(a: Archive, tmp: Path) -> list[tuple[list[str], str, str | None, str, str]]:
    """(arguments, allowed caller, refused caller, action, object) for every command on dossier data."""
    letter = tmp / "letter.txt"
    letter.write_text("补充材料：收费票据。", encoding="utf-8")
    return [
        (["show", a.x], "handler_a", "handler_b", "view_dossier", a.x),
        (["list"], "handler_a", "admin", "list_dossiers", None),
        (["search", "收费"], "handler_a", "auditor", "search", None),
        (["related", a.x, "--json"], "handler_a", "handler_b", "search", a.x),
        (["text", a.item], "handler_a", "handler_b", "view_text", a.item),
        (["get", a.item, "-o", str(tmp / "out.bin")], "handler_a", "handler_b", "download_document", a.item),
        (["get", a.item, "-o", str(tmp / "reg.pdf")], "regulator", "regulator_none", "download_document", a.item),
        (["compile", a.x, "-o", str(tmp / "volume.pdf")], "archivist", "handler_a", "export", a.x),
        (["add", a.x, str(letter)], "handler_a", "handler_b", "file_document", a.x),
        (["reclassify", a.item, "evidence", "--reason", "实为证据材料"], "handler_a", "handler_b", "reclassify", a.item),
        (["ingest", str(letter), "--dossier", a.x], "archivist", "auditor", "file_document", a.x),
        (["new", "--matter", "新投诉", "--complainant", "王五", "--department", "A"], "handler_a", "regulator",
         "register", None),
        (["advance", a.x, "accepted"], "handler_a", "handler_b", "advance", a.x),
        (["notice", a.x, "acceptance"], "handler_a", "regulator", "file_document", a.x),
        (["extend", a.x, "--days", "30", "--reason", "案情复杂", "--approved-by", "主任"], "handler_a", "handler_b",
         "advance", a.x),
        (["withdraw", a.y, "--reason", "重复登记"], "manager", "auditor", "advance", a.y),
        (["intake", "list", "--json"], "archivist", "handler_a", "manage_intake", None),
        (["intake", "retry", "--all-failed"], "admin", "manager", "manage_intake", None),
        # retention and the archive as a whole: decided by the same policy, logged once
        (["retention", "due"], "archivist", "handler_a", "view_retention", "due"),
        (["retention", "show", a.x], "manager", "regulator", "view_retention", a.x),
        (["retention", "rules"], "auditor", "handler_a", "view_retention", "rules"),
        (["retention", "plan", "--reason", "规则更新"], "archivist", "manager", "retention_plan", "all"),
        (["hold", "add", a.x, "--reason", "审计调阅"], "manager", "handler_a", "hold", a.x),
        (["hold", "list"], "auditor", "regulator", "view_retention", "holds"),
        (["hold", "lift", a.x, "--reason", "调阅结束"], "archivist", "auditor", "hold_lift", a.x),
        (["dispose", "list"], "manager", "handler_b", "view_retention", "dispositions"),
        (["verify"], "auditor", "handler_a", "verify_vault", None),
        (["inventory", "--no-progress"], "auditor", "manager", "inventory", None),
        (["reindex"], "admin", "handler_a", "reindex", None),
        (["remind", "--dry-run", "--json"], "archivist", "handler_a", "send_reminders", None),
        (["calendar", "import", str(Path(__file__).parents[2] / "docs" / "calendars" / "2027.example.json")],
         "archivist", "handler_a", "manage_calendar", "calendar:2027"),
        (["calendar", "show", "2027"], "admin", "manager", "manage_calendar", "calendar:2027"),
        (["keys", "rotate"], "admin", "archivist", "manage_keys", None),
        (["backup", str(tmp / "backup")], "admin", "archivist", "manage_keys", None),
        (["audit", "expire-details", "--keep-months", "1"], "admin", "archivist", "manage_keys", None),
        # statistics reports and the register: listings limited to the caller's scope, files need export rights
        (["report", "monthly", "2025-10", "--format", "csv", "-o", str(tmp / "m.csv")], "manager", "admin",
         "list_dossiers", None),
        (["report", "weekly", "2025-W44", "-o", str(tmp / "w.html")], "manager", "admin", "list_dossiers", None),
        (["report", "persons", "2025-10", "-o", str(tmp / "p.xlsx")], "archivist", "admin", "list_dossiers", None),
        (["report", "register", "--from", "2025-01-01", "--to", "2025-12-31", "-o", str(tmp / "r.xlsx")], "archivist",
         "admin", "list_dossiers", None),
        # opening an encrypted item with its password is filing (its text replaced in place, issue #13)
        (["unlock", a.locked, "--password-file", str(_password_file(tmp))], "handler_a", "handler_b",
         "file_document", a.locked),
        # last: it withdraws the text document the reads above use
        (["withdraw-item", a.item, "--reason", "空白扫描件"], "handler_a", "handler_b", "file_document", a.item),
    ]


def test_every_command_on_dossier_data_is_decided_and_logged_once(archive: Archive, tmp_path: Path) -> None:
    for args, allowed, refused, action, ref in _calls(archive, tmp_path):
        if refused is not None:
            before = len(archive.entries())
            r = archive.run(*args, who=refused)
            assert r.exit_code == 11, (args, refused, r.output)
            _one_entry(archive, before, actor=refused, action=action, outcome="refused", ref=ref)
        before = len(archive.entries())
        r = archive.run(*args, who=allowed)
        assert r.exit_code == 0, (args, allowed, r.output)
        e = _one_entry(archive, before, actor=allowed, action=action, outcome="allowed", ref=ref)
        assert e["details"].get("auth") == "password"  # type: ignore[union-attr]


def test_the_console_acts_as_console_user_and_is_logged(archive: Archive, tmp_path: Path) -> None:
    me = f"console:{getpass.getuser()}"
    for args, _allowed, _refused, action, ref in _calls(archive, tmp_path):
        before = len(archive.entries())
        r = archive.run(*args)
        assert r.exit_code == 0, (args, r.output)
        e = _one_entry(archive, before, actor=me, action=action, outcome="allowed", ref=ref)
        assert e["role"] == "console"
    exported = json.loads(archive.run("audit", "export", "--json").stdout)
    assert {"view_dossier", "view_text", "download_document", "search", "list_dossiers"} <= {
        x["action"] for x in exported if x["actor"] == me}


def test_as_without_credentials_is_refused_and_logged(archive: Archive) -> None:
    before = len(archive.entries())
    for password in ("", "wrong password"):
        r = archive.run("show", archive.x, who="regulator", password=password)
        assert r.exit_code == 10 and archive.x not in r.stdout
    fresh = archive.entries()[before:]
    assert [(e["action"], str(e["outcome"])) for e in fresh] == [("sign_in", "refused")] * 2
    # No terminal and no --password-stdin: refused, never trusted by name.
    r = CliRunner().invoke(main, ["--data-dir", str(archive.data_dir), "--as", "handler_a", "show", archive.x])
    assert r.exit_code == 10


def test_a_token_stands_for_its_account(archive: Archive) -> None:
    before = len(archive.entries())
    r = archive.run("show", archive.x, token=archive.token)
    assert r.exit_code == 0
    e = _one_entry(archive, before, actor="handler_a", action="view_dossier", outcome="allowed", ref=archive.x)
    assert e["details"]["auth"] == "token"  # type: ignore[index]
    assert archive.run("show", archive.y, token=archive.token).exit_code == 11
    assert archive.run("show", archive.x, who="handler_b", token=archive.token).exit_code == 10  # not its account
    assert archive.run("show", archive.x, token="dos_not-a-token").exit_code == 10


def test_a_regulator_gets_only_granted_dossiers_and_stamped_copies(archive: Archive, tmp_path: Path) -> None:
    out = tmp_path / "copy.pdf"
    r = archive.run("get", archive.item, "-o", str(out), who="regulator")
    assert r.exit_code == 0, r.output
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and "投诉书".encode() not in data  # a stamped PDF, never the text original
    assert archive.run("show", archive.y, who="regulator").exit_code == 11
    hits = json.loads(archive.run("search", "投诉", "--json", who="regulator").stdout)
    assert {h["archive_number"] for h in hits["hits"]} == {archive.x}
    listed = json.loads(archive.run("list", "--json", who="regulator").stdout)
    assert [d["archive_number"] for d in listed] == [archive.x]


def test_four_eyes_needs_two_signed_in_people(archive: Archive) -> None:
    """Review and approval each need an authenticated account; the console alone cannot dispose."""
    assert archive.run("dispose", "review").exit_code == 11                       # the console is no archivist
    assert archive.run("dispose", "review", who="archivist", password="guess").exit_code == 10
    assert archive.run("dispose", "approve", "nothing", who="manager", password="guess").exit_code == 10


def test_importing_a_package_is_decided_before_it_is_read(archive: Archive, tmp_path: Path) -> None:
    """import-bag: the policy answers first (IMPORT), so a refused caller learns nothing of the package."""
    package = tmp_path / "incoming-bag"
    package.mkdir()
    before = len(archive.entries())
    r = archive.run("import-bag", str(package), who="handler_a")
    assert r.exit_code == 11, r.output
    _one_entry(archive, before, actor="handler_a", action="import", outcome="refused", ref="incoming-bag")
    before = len(archive.entries())
    r = archive.run("import-bag", str(package), who="archivist")
    assert r.exit_code == 6, r.output  # allowed, then found not to be a valid package
    _one_entry(archive, before, actor="archivist", action="import", outcome="allowed", ref="incoming-bag")
