"""What the command line prints keeps credentials out, and back-end outages exit 14 (issue #17 (4), (5))."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from records.settings import Settings
from web.cli import main

SECRETS = ("pg-pw-1", "search-pw-2", "s3-pw-3", "bao-pw-4", "bao-token-5", "s3-secret-6", "token-param-7",
           "search-pw-8")
CONFIG = """
[database]
url = "postgresql+psycopg://dossier:pg-pw-1@127.0.0.1:5432/dossier?application_name=x"
[search]
backend = "opensearch"
url = "https://admin:search-pw-2@127.0.0.1:9200,https://admin:search-pw-8@127.0.0.2:9200"
[vault]
backend = "s3"
s3_bucket = "dossier"
s3_endpoint_url = "http://key:s3-pw-3@127.0.0.1:8333"
s3_access_key_id = "key"
s3_secret_access_key = "s3-secret-6"
[keys]
provider = "openbao"
openbao_url = "http://ops:bao-pw-4@127.0.0.1:8200/?token=token-param-7"
openbao_token = "bao-token-5"
"""


def test_config_show_masks_every_credential_urls_included(tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    """GIVEN a password in every URL setting and in each secret field WHEN `config show` THEN none is printed."""
    make_settings()  # clears the developer's DOSSIER_* variables
    data_dir = tmp_path / "archive"
    data_dir.mkdir()
    (data_dir / "dossier.toml").write_text(CONFIG, encoding="utf-8")
    r = CliRunner().invoke(main, ["--data-dir", str(data_dir), "config", "show"])
    assert r.exit_code == 0, r.output
    assert [s for s in SECRETS if s in r.output] == []
    # What an operator checks is still there: hosts, users, the other settings.
    assert "postgresql+psycopg://dossier:***@127.0.0.1:5432/dossier?application_name=x" in r.output
    assert "https://admin:***@127.0.0.1:9200,https://admin:***@127.0.0.2:9200" in r.output
    assert "http://key:***@127.0.0.1:8333" in r.output and "http://ops:***@127.0.0.1:8200/?token=***" in r.output


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_catalogue_database_down_exits_14_and_hides_its_password(settings: Settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """GIVEN PostgreSQL unreachable WHEN any command opens the archive THEN exit 14 ("unavailable"), not
    8 "run dossier init" (which was the answer before) nor 70, and the URL's password is not printed."""
    monkeypatch.setenv("DOSSIER_DATABASE__URL", f"postgresql+psycopg://dossier:pg-pw-1@127.0.0.1:{_closed_port()}/x")
    r = CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), "list"])
    assert r.exit_code == 14, r.output
    assert "catalogue database unavailable" in r.output and "pg-pw-1" not in r.output


def test_local_vault_directory_missing_exits_14_not_6(settings: Settings, tmp_path: Path) -> None:
    """GIVEN the vault directory gone (a volume not mounted) WHEN `dossier get` THEN exit 14, not "integrity" (6)."""
    run = lambda *a: CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), *a])  # noqa: E731
    assert run("init").exit_code == 0
    number = run("new", "--complainant", "张三", "--matter", "拖延").output.strip()
    (tmp_path / "a.txt").write_text("投诉书")
    assert run("add", number, str(tmp_path / "a.txt")).exit_code == 0
    vault = settings.data_dir / "vault"
    vault.rename(tmp_path / "unmounted")
    r = run("get", f"{number}-01", "-o", str(tmp_path / "out.txt"))
    assert r.exit_code == 14, r.output
    assert not (tmp_path / "out.txt").exists()
