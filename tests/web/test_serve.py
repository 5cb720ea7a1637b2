"""`dossier serve`: the first administrator, and a real gunicorn answering on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from records.access.identity import Identity, Role
from records.settings import Settings
from web.bootstrap import Services, init_archive
from web.cli.serve import ensure_first_admin


def test_first_admin_is_created_once_with_a_generated_password(services: Services) -> None:
    """The first run creates 'admin' and returns its password; later runs create nothing."""
    password = ensure_first_admin(services.access, "test")
    assert password and len(password) >= 16
    assert services.access.authenticate("admin", password).role is Role.ADMIN
    assert ensure_first_admin(services.access, "test") is None


def test_first_admin_password_can_come_from_the_environment(services: Services) -> None:
    """With DOSSIER_ADMIN_PASSWORD the password is set and not printed."""
    assert ensure_first_admin(services.access, "test", "from-the-env-123") is None
    assert services.access.authenticate("admin", "from-the-env-123").name == "admin"
    assert [u.name for u in services.access.list_users(Identity.operator("t"))] == ["admin"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_answers_the_sign_in_page_with_gunicorn(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    """`dossier serve --port N` serves the sign-in page from several gunicorn workers."""
    settings = make_settings()
    init_archive(settings)
    port = _free_port()
    env = {**os.environ, "DOSSIER_DATA_DIR": str(settings.data_dir), "DOSSIER_ADMIN_PASSWORD": "first-admin-pw"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "import web.cli.serve; from web.cli import main; main()", "serve", "--port", str(port),
         "--workers", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline, body = time.monotonic() + 60, ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as resp:
                    body = resp.read().decode()
                    break
            except OSError:
                time.sleep(0.3)
        assert "csrf_token" in body, proc.stdout.read1(65536).decode() if proc.poll() is not None else "no answer"
    finally:
        proc.terminate()
        out = proc.communicate(timeout=60)[0].decode()  # the arbiter also stops its intake worker
    assert "Booting worker" in out and "password" not in out
