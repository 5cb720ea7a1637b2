"""`dossier user | token | grant | audit` through click's CliRunner on an embedded archive."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import web.cli.access  # noqa: F401  (registers the commands on `main` until app.py imports it)
from records.settings import Settings
from web.cli import main


@pytest.fixture
def archive(settings: Settings) -> Path:
    result = CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), "init"])
    assert result.exit_code == 0, result.output
    return settings.data_dir


def run(archive: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--data-dir", str(archive), *args], input=input)


def _log(archive: Path) -> list[dict[str, object]]:
    out = run(archive, "audit", "export", "--json")
    assert out.exit_code == 0, out.output
    return list(json.loads(out.stdout))


def test_users_are_added_listed_and_disabled(archive: Path) -> None:
    assert run(archive, "user", "add", "li", "--role", "handler", "--department", "一部",
               "--password-stdin", input="a long password\n").exit_code == 0
    assert run(archive, "user", "add", "gm", "--role", "manager").exit_code == 0
    assert run(archive, "user", "disable", "li").exit_code == 0
    users = {u["name"]: u for u in json.loads(run(archive, "user", "list", "--json").stdout)}
    assert users["li"]["active"] is False and users["li"]["has_password"] is True
    assert users["li"]["departments"] == ["一部"] and users["gm"]["departments"] is None
    listed = run(archive, "user", "list").output
    assert "(all)" in listed and "disabled" in listed
    bad = run(archive, "user", "add", "h2", "--role", "handler")
    assert bad.exit_code != 0 and "department" in bad.output


def test_token_is_printed_once_and_not_stored(archive: Path) -> None:
    """The token leaves only on stdout; the catalogue files hold no trace of it."""
    run(archive, "user", "add", "api", "--role", "archivist")
    result = run(archive, "token", "create", "api")
    token = result.stdout.strip()
    assert result.exit_code == 0 and token.startswith("dos_")
    stored = b"".join(p.read_bytes() for p in archive.glob("catalogue.sqlite3*"))
    assert token.encode() not in stored


def test_grants_are_added_listed_and_revoked(archive: Path) -> None:
    number = run(archive, "new", "--complainant", "张三", "--respondent", "某律所", "--matter", "收费问题").output.strip()
    run(archive, "user", "add", "监管员", "--role", "regulator")
    by_set = run(archive, "grant", "add", "--to", "监管员", "--dossiers", number, "--purpose", "专项检查",
                 "--expires", "2099-12-31")
    by_filter = run(archive, "grant", "add", "--to", "监管员", "--filter", "respondent:某律所 received:2026-01-01..",
                    "--purpose", "调阅案卷", "--expires", "2099-06-30T18:00:00+08:00", "--json")
    assert by_set.exit_code == 0 and by_filter.exit_code == 0, by_set.output + by_filter.output
    filter_grant = json.loads(by_filter.stdout)
    assert filter_grant["filter"] == "respondent:某律所 received:2026-01-01.."
    assert filter_grant["expires_at"] == "2099-06-30T10:00:00+00:00"
    assert run(archive, "grant", "revoke", by_set.stdout.strip()).exit_code == 0
    grants = {g["grant_id"]: g for g in json.loads(run(archive, "grant", "list", "--json").stdout)}
    assert grants[by_set.stdout.strip()]["status"] == "revoked"
    assert grants[by_set.stdout.strip()]["archive_numbers"] == [number]
    assert grants[filter_grant["grant_id"]]["status"] == "active"
    assert "专项检查" in run(archive, "grant", "list").output
    both = run(archive, "grant", "add", "--to", "监管员", "--dossiers", number, "--filter", "category:x",
               "--purpose", "p", "--expires", "2099-01-01")
    assert both.exit_code != 0 and "exactly one" in both.output
    changes = [e["details"] for e in _log(archive) if e["action"] == "manage_grants"]
    assert [c["change"] for c in changes] == ["add_grant", "add_grant", "revoke_grant", "list_grants", "list_grants"]


def test_audit_verify_passes_then_names_the_tampered_entry(archive: Path) -> None:
    for name in ("a", "b", "c"):
        run(archive, "user", "add", name, "--role", "auditor")
    ok = run(archive, "audit", "verify")
    assert ok.exit_code == 0 and ok.output.startswith("ok: 4 entries")  # the verification is logged first
    with sqlite3.connect(archive / "catalogue.sqlite3") as db:
        db.execute("DROP TRIGGER access_log_no_update")
        db.execute("UPDATE access_log SET actor = 'someone else' WHERE seq = 2")
    broken = run(archive, "audit", "verify")
    assert broken.exit_code == 1 and "BROKEN at entry 2" in broken.output
    as_json = json.loads(run(archive, "audit", "verify", "--json").stdout)
    assert as_json["ok"] is False and as_json["first_broken_seq"] == 2


def test_audit_export_by_dates_and_checkpoint(archive: Path) -> None:
    run(archive, "user", "add", "aud", "--role", "auditor")
    entries = _log(archive)
    assert entries[0]["seq"] == 1 and entries[0]["actor"].startswith("console:") and entries[0]["role"] == "console"
    assert {"prev_hash", "entry_hash", "at", "ip", "user_agent", "outcome", "grant_id", "purpose"} <= set(entries[0])
    past = run(archive, "audit", "export", "--from", "2000-01-01", "--to", "2000-12-31", "--json")
    assert json.loads(past.stdout) == []
    lines = run(archive, "audit", "export").stdout.splitlines()
    assert [json.loads(x)["seq"] for x in lines] == list(range(1, len(lines) + 1))
    cp = run(archive, "audit", "checkpoint")
    assert cp.exit_code == 0 and cp.output.startswith("checkpoint at entry")
    assert (archive / "audit-signing.key").stat().st_mode & 0o077 == 0
    assert json.loads((archive / "audit-checkpoints.jsonl").read_text().splitlines()[-1])["seq"] == len(lines) + 1
