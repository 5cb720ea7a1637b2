"""Uploads wait between the socket and the vault in memory or as ciphertext, never in clear on disk."""

from __future__ import annotations

import io
import os
import random
from pathlib import Path

import pytest

from web import spool
from web.spool import EncryptedSpool

PHRASE = "投诉书：律师收费过高，要求退费。".encode()


def test_spool_reads_back_every_byte_from_any_offset_after_moving_to_disk() -> None:
    data = (PHRASE * 40_000)[:1_000_003]  # not a multiple of the AES block
    stream = io.BufferedRandom(EncryptedSpool(memory_bytes=64 * 1024))  # type: ignore[arg-type]
    for i in range(0, len(data), 7_777):
        stream.write(data[i:i + 7_777])
    stream.seek(0)
    assert stream.read() == data
    rng = random.Random(7)
    for _ in range(50):
        start = rng.randrange(len(data))
        stream.seek(start)
        assert stream.read(333) == data[start:start + 333]
    stream.close()


def test_spooled_bytes_on_disk_are_ciphertext(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The temporary file (made named here so the test can read it) never holds the plaintext."""
    named = tmp_path / "spool.bin"
    monkeypatch.setattr(spool.tempfile, "TemporaryFile", lambda: open(named, "w+b"))  # noqa: SIM115
    raw = EncryptedSpool(memory_bytes=1024)
    stream = io.BufferedRandom(raw)  # type: ignore[arg-type]
    stream.write(PHRASE * 5_000)
    stream.flush()
    on_disk = named.read_bytes()
    assert len(on_disk) == len(PHRASE) * 5_000
    assert PHRASE[:12] not in on_disk
    stream.seek(0)
    assert stream.read(len(PHRASE)) == PHRASE
    stream.close()


def test_small_uploads_never_touch_the_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise AssertionError("a small upload reached the disk")

    monkeypatch.setattr(spool.tempfile, "TemporaryFile", refuse)
    stream = io.BufferedRandom(EncryptedSpool())  # type: ignore[arg-type]
    stream.write(os.urandom(100_000) + PHRASE)
    stream.seek(-len(PHRASE), io.SEEK_END)
    assert stream.read() == PHRASE
    stream.close()


def test_the_web_app_uses_the_encrypted_spool(make_settings) -> None:  # type: ignore[no-untyped-def]
    from web import create_app
    from web.bootstrap import build_services, init_archive

    settings = make_settings()
    init_archive(settings)
    services = build_services(settings)
    try:
        app = create_app(settings, services=services)
        assert issubclass(app.request_class, spool.SpoolingRequest)
        with app.test_request_context("/", method="POST", data={"f": (io.BytesIO(PHRASE * 2_000), "a.txt")},
                                      content_type="multipart/form-data"):
            from flask import request

            upload = request.files["f"]
            assert isinstance(upload.stream, io.BufferedRandom) and isinstance(upload.stream.raw, EncryptedSpool)
            assert upload.read() == PHRASE * 2_000
            request.close()  # werkzeug closes the uploads at the end of every real request
    finally:
        services.close()
