"""`dossier serve` files uploads in the background: a supervised `dossier worker` beside gunicorn (issue #5)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone

import psutil
import pytest
import requests

from records.access.identity import Identity, Role
from records.model import Registration
from records.settings import Settings
from web.bootstrap import build_services, init_archive

LETTER = "投诉信：援助律师多次缺席调解。".encode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _intake_workers(serve: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """The live `dossier worker` children of the serve process (a killed one may linger as a zombie a moment)."""
    found = []
    for p in psutil.Process(serve.pid).children():
        try:
            if "worker" in p.cmdline() and "--parent-pid" in p.cmdline():
                found.append(p)
        except psutil.Error:
            continue
    return found


def _wait(predicate: Callable[[], object], what: str, seconds: float = 90) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if value := predicate():
                return value
        except (OSError, requests.RequestException):
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def served(make_settings: Callable[..., Settings]) -> Iterator[tuple[str, str, str, subprocess.Popen[bytes]]]:
    """`dossier serve` on a fresh archive with a handler's API token and one open dossier."""
    settings = make_settings(ingest={"workers": 1})
    init_archive(settings)
    services = build_services(settings)
    try:
        services.access.add_user(Identity.operator("t"), "handler", Role.HANDLER, departments=["A"], password="serve handler 42x")
        token = services.access.create_token(Identity.operator("t"), "handler").token
        number = services.records.register_complaint("t", Registration(
            matter="缺席调解", complainant="王五", department="A", received_at=datetime.now(timezone.utc))).archive_number
    finally:
        services.close()
    port = _free_port()
    env = {**os.environ, "DOSSIER_DATA_DIR": str(settings.data_dir), "DOSSIER_ADMIN_PASSWORD": "first-admin-pw"}
    proc = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port), "--workers", "1"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        yield f"http://127.0.0.1:{port}", token, number, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def _upload_and_wait_filed(url: str, token: str, number: str, data: bytes, name: str) -> dict[str, object]:
    auth = {"Authorization": f"Bearer {token}"}
    resp = _wait(lambda: requests.post(f"{url}/api/v1/dossiers/{number}/documents", headers=auth,
                                       files={"files": (name, data)}, timeout=10), "the server to answer")
    assert resp.status_code == 202, resp.text  # type: ignore[attr-defined]
    status_url = url + resp.headers["Location"]  # type: ignore[attr-defined]

    def filed() -> dict[str, object] | None:
        job = requests.get(status_url, headers=auth, timeout=10).json()
        return job if job["state"] == "filed" else None

    return _wait(filed, f"{name} to be filed")  # type: ignore[return-value]


@pytest.mark.slow
def test_serve_files_uploads_and_restarts_a_killed_intake_worker(
        served: tuple[str, str, str, subprocess.Popen[bytes]]) -> None:
    """GIVEN `dossier serve` WHEN a file is uploaded THEN its supervised worker files it; WHEN that worker is
    SIGKILLed THEN a new one is started and files the next upload; WHEN serve stops THEN its workers stop too."""
    url, token, number, proc = served
    job = _upload_and_wait_filed(url, token, number, LETTER, "投诉信.txt")
    assert job["item_number"] == f"{number}-01"

    first = _intake_workers(proc)
    assert len(first) == 1
    first[0].kill()
    replaced = _wait(lambda: [w for w in _intake_workers(proc) if w.pid != first[0].pid], "a new intake worker")
    assert replaced

    job = _upload_and_wait_filed(url, token, number, b"second letter " + LETTER, "second.txt")
    assert job["item_number"] == f"{number}-02"

    workers = _intake_workers(proc)
    proc.terminate()
    proc.wait(timeout=60)
    gone, alive = psutil.wait_procs(workers, timeout=30)
    assert not alive
