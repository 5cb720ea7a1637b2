"""The first administrator's password reaches a terminal or a 0600 file, never a log (issue #17 (5))."""

from __future__ import annotations

import io
import os
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from records.access.identity import Identity, Role
from records.errors import ConfigurationError
from records.settings import Settings
from web.bootstrap import Services, init_archive
from web.cli.serve import INITIAL_PASSWORD_FILE, announce_first_admin


def test_not_a_terminal_the_password_goes_to_a_private_file(services: Services, tmp_path: Path) -> None:
    """GIVEN output that is not a terminal (a service log) THEN it names the file; the file holds the password."""
    out = io.StringIO()
    announce_first_admin(services.access, "test", tmp_path, None, out)
    path = tmp_path / INITIAL_PASSWORD_FILE
    password = path.read_text(encoding="utf-8").strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert services.access.authenticate("admin", password).role is Role.ADMIN
    assert password not in out.getvalue() and str(path) in out.getvalue()


def test_on_a_terminal_the_password_is_shown_once_and_no_file_is_written(services: Services, tmp_path: Path) -> None:
    """GIVEN a real terminal (a pseudo-terminal) THEN the password is shown there and nowhere else."""
    leader, follower = os.openpty()
    with os.fdopen(follower, "w", encoding="utf-8") as terminal:
        assert terminal.isatty()
        announce_first_admin(services.access, "test", tmp_path, None, terminal)
    shown = os.read(leader, 65536).decode()
    os.close(leader)
    password = shown.split("with password: ", 1)[1].split()[0]
    assert services.access.authenticate("admin", password).name == "admin"
    assert not (tmp_path / INITIAL_PASSWORD_FILE).exists()


def test_an_existing_password_file_is_never_overwritten(services: Services, tmp_path: Path) -> None:
    """GIVEN the file from an earlier first run THEN nothing is overwritten and no account is created."""
    (tmp_path / INITIAL_PASSWORD_FILE).write_text("older\n")
    with pytest.raises(ConfigurationError, match=INITIAL_PASSWORD_FILE):
        announce_first_admin(services.access, "test", tmp_path, None, io.StringIO())
    assert (tmp_path / INITIAL_PASSWORD_FILE).read_text() == "older\n"
    assert services.access.list_users(Identity.operator("t")) == []


def test_the_environment_password_is_neither_shown_nor_written(services: Services, tmp_path: Path) -> None:
    out = io.StringIO()
    announce_first_admin(services.access, "test", tmp_path, "from-the-env-123", out)
    assert out.getvalue() == "" and not (tmp_path / INITIAL_PASSWORD_FILE).exists()
    assert services.access.authenticate("admin", "from-the-env-123").name == "admin"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_under_a_service_manager_logs_where_the_password_is(make_settings: Callable[..., Settings]) -> None:
    """GIVEN `dossier serve` with its output captured (not a terminal) and no DOSSIER_ADMIN_PASSWORD
    THEN the captured output never holds the password, and the 0600 file does."""
    settings = make_settings()
    init_archive(settings)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DOSSIER_ADMIN_PASSWORD"}
    env["DOSSIER_DATA_DIR"] = str(settings.data_dir)
    proc = subprocess.Popen(
        [sys.executable, "-c", "import web.cli.serve; from web.cli import main; main()", "serve", "--port", str(port),
         "--workers", "1", "--intake-workers", "0"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
    finally:
        proc.terminate()
        out = proc.communicate(timeout=60)[0].decode()
    path = settings.data_dir / INITIAL_PASSWORD_FILE
    password = path.read_text(encoding="utf-8").strip()
    assert len(password) >= 16 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert password not in out and f"its password is in {path}" in out
