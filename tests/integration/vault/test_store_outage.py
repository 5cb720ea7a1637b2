"""A document store that cannot be reached is "unavailable", never "integrity" (issue #17 (4)).

The store is the session's real SeaweedFS, reached through a TCP forwarder on 127.0.0.1 that
this module controls: stopped, it refuses every connection (SeaweedFS down); cutting, it closes
each new connection after a number of reply bytes (the store failing mid-download). The
session's SeaweedFS itself is never stopped, so the other tests keep using it.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from flask import Flask
from werkzeug.serving import make_server

from records.access.identity import Identity, Role
from records.model import DocumentKind, Registration
from records.settings import Settings
from records.vault.errors import StorageUnavailableError
from web import create_app
from web.bootstrap import Services, build_services, init_archive
from tests.servers.forwarder import Forwarder
from web.cli import main

pytestmark = pytest.mark.s3

NOW = datetime(2026, 11, 3, 2, 0, tzinfo=timezone.utc)
OPERATOR = Identity.operator("test-setup")
SIZE = 3 * 1024 * 1024 + 12345  # several sealed segments, so a cut lands inside the body
CUT_AFTER = 5 * 512 * 1024  # reply bytes a cut connection still delivers: two of the four segments and a half


@dataclass
class S3Archive:
    data_dir: Path
    proxy: Forwarder
    item: str
    data: bytes

    def cli(self, *args: str) -> Any:
        return CliRunner().invoke(main, ["--data-dir", str(self.data_dir), *args])


@pytest.fixture
def s3_archive(seaweedfs: Any, s3_bucket: str, tmp_path: Path, make_settings: Callable[..., Settings]) -> Iterator[S3Archive]:
    """GIVEN an archive whose blobs are on SeaweedFS (through the forwarder), one 3 MiB document filed."""
    parts = urlsplit(seaweedfs.endpoint_url)
    proxy = Forwarder((parts.hostname or "127.0.0.1", int(parts.port or 80)))
    data_dir = tmp_path / "archive"
    data_dir.mkdir()
    vault = {**seaweedfs.vault_settings(s3_bucket), "s3_endpoint_url": proxy.url}
    (data_dir / "dossier.toml").write_text(
        "[vault]\n" + "".join(f'{k} = "{v}"\n' for k, v in vault.items()), encoding="utf-8")
    make_settings(data_dir=data_dir)  # clears the developer's DOSSIER_* variables
    archive = S3Archive(data_dir, proxy, "", os.urandom(SIZE))
    assert archive.cli("init").exit_code == 0
    number = archive.cli("new", "--complainant", "张三", "--matter", "拖延").output.strip()
    source = tmp_path / "scan.bin"
    source.write_bytes(archive.data)
    added = archive.cli("add", number, str(source))
    assert added.exit_code == 0, added.output
    archive.item = f"{number}-01"
    yield archive
    proxy.stop()


def test_get_with_the_store_down_exits_14_and_leaves_no_file(s3_archive: S3Archive, tmp_path: Path) -> None:
    """GIVEN SeaweedFS unreachable WHEN `dossier get -o FILE` THEN exit 14 (unavailable), not 6, and no file."""
    out = tmp_path / "out" / "copy.bin"
    out.parent.mkdir()
    ok = s3_archive.cli("get", s3_archive.item, "-o", str(out))
    assert ok.exit_code == 0 and out.read_bytes() == s3_archive.data
    out.unlink()
    s3_archive.proxy.stop()
    r = s3_archive.cli("get", s3_archive.item, "-o", str(out))
    assert r.exit_code == 14, r.output
    assert "blob store s3 unavailable" in r.output
    assert list(out.parent.iterdir()) == []


def test_get_cut_mid_read_exits_14_and_leaves_no_partial_file(s3_archive: S3Archive, tmp_path: Path) -> None:
    """GIVEN the store failing after 2.5 MiB of a 3 MiB object WHEN `dossier get -o FILE` THEN exit 14, nothing kept."""
    out = tmp_path / "out" / "copy.bin"
    out.parent.mkdir()
    s3_archive.proxy.cut(CUT_AFTER)
    r = s3_archive.cli("get", s3_archive.item, "-o", str(out))
    assert r.exit_code == 14, r.output
    assert list(out.parent.iterdir()) == []  # neither the file nor its .partial


def test_vault_raises_unavailable_when_the_read_fails_mid_stream(s3_archive: S3Archive, make_settings: Callable[..., Settings]) -> None:
    """The error is raised by the call when the store is down, and during iteration when it fails half-way."""
    services = build_services(make_settings(data_dir=s3_archive.data_dir), clock=lambda: NOW)
    try:
        s3_archive.proxy.cut(CUT_AFTER)
        _, stream = services.records.retrieve_document("test", s3_archive.item)
        got = 0
        with pytest.raises(StorageUnavailableError):
            for chunk in stream:
                got += len(chunk)
        assert 0 < got < SIZE  # some authentic segments came before the cut
        s3_archive.proxy.stop()
        with pytest.raises(StorageUnavailableError):
            services.records.retrieve_document("test", s3_archive.item)
    finally:
        services.close()


# ---------------------------------------------------------------------- the web door
@pytest.fixture
def web(s3_archive: S3Archive, make_settings: Callable[..., Settings]) -> Iterator[tuple[Flask, Services, str]]:
    """The web app over the S3 archive, and an API token of an archivist (who may download anything)."""
    settings = make_settings(data_dir=s3_archive.data_dir)
    services = build_services(settings, clock=lambda: NOW)
    services.access.add_user(OPERATOR, "archivist", Role.ARCHIVIST, password="correct horse 1")
    token = services.access.create_token(OPERATOR, "archivist").token
    app = create_app(settings, services=services)
    app.config["TESTING"] = True
    yield app, services, token
    services.close()


def _repr_digest(data: bytes) -> str:
    return f"sha-256=:{base64.b64encode(hashlib.sha256(data).digest()).decode()}:"


def test_download_carries_length_and_digest_of_what_is_sent(s3_archive: S3Archive, web: tuple[Flask, Services, str]) -> None:
    """Content-Length and Repr-Digest (RFC 9530) match the bytes received, not chunked."""
    app, _, token = web
    resp = app.test_client().get(f"/api/v1/documents/{s3_archive.item}/content",
                                 headers={"Authorization": f"Bearer {token}"})
    body = resp.get_data()
    assert resp.status_code == 200 and body == s3_archive.data
    assert resp.headers["Content-Length"] == str(len(body))
    assert resp.headers["Repr-Digest"] == _repr_digest(body)
    assert "Transfer-Encoding" not in resp.headers


@pytest.mark.parametrize(("path", "lang", "words"), [
    ("/api/v1/documents/{item}/content", "en", "The document store is temporarily unavailable; try again later."),
    ("/api/v1/documents/{item}/content", "zh_CN", "文件存储暂时不可用，请稍后再试。"),
    ("/documents/{item}/content?download=1", "zh_CN", "文件存储暂时不可用，请稍后再试。"),
    ("/documents/{item}/content?download=1", "en", "The document store is temporarily unavailable; try again later."),
])
def test_download_with_the_store_down_is_503_with_retry_after(s3_archive: S3Archive, web: tuple[Flask, Services, str],
                                                               path: str, lang: str, words: str) -> None:
    """GIVEN SeaweedFS unreachable WHEN a page or the API downloads THEN 503, Retry-After, the store named."""
    app, services, token = web
    s3_archive.proxy.stop()
    client = app.test_client()
    with client.session_transaction() as s:
        s["user"], s["gen"] = "archivist", services.access.session_generation("archivist")
    sep = "&" if "?" in path else "?"
    resp = client.get(path.format(item=s3_archive.item) + f"{sep}lang={lang}",
                      headers={"Authorization": f"Bearer {token}"} if path.startswith("/api/") else {})
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "30"
    text = resp.get_data(as_text=True)
    assert "127.0.0.1" not in text  # the endpoint is in the log, not in the answer
    if path.startswith("/api/"):
        assert resp.get_json()["error"] == {"code": "storage_unavailable", "message": words}
    else:
        assert words in text and 'data-code="storage_unavailable"' in text


def test_a_download_cut_mid_stream_is_visibly_truncated(s3_archive: S3Archive, web: tuple[Flask, Services, str]) -> None:
    """GIVEN the store failing half-way WHEN a client downloads over real HTTP THEN it gets fewer bytes
    than Content-Length promised (http.client: IncompleteRead), never a complete-looking short file."""
    app, _, token = web
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        s3_archive.proxy.cut(CUT_AFTER)
        conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=60)
        conn.request("GET", f"/api/v1/documents/{s3_archive.item}/content", headers={"Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        assert resp.status == 200  # sent before the store failed
        assert resp.getheader("Content-Length") == str(SIZE) and resp.getheader("Transfer-Encoding") is None
        with pytest.raises(http.client.IncompleteRead) as cut:
            resp.read()
        assert len(cut.value.partial) < SIZE and cut.value.expected
        conn.close()
    finally:
        server.shutdown()
        server.server_close()
