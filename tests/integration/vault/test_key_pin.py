"""Keys are pinned (issue #17 item 2): an archive refuses a key service that lost or replaced its key,
and nothing but `dossier init` (new archive) or `dossier keys create` ever creates one."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hvac
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import delete, select

from records.db import UnitOfWork, make_engine
from records.settings import Settings
from records.tables import KeyPinRow, StoredObjectRow
from records.vault import WrappedKey
from records.vault.errors import KeyMismatchError
from records.vault.keys import create_key_file
from web.bootstrap import build_services, init_archive
from web.cli import main

if TYPE_CHECKING:
    from tests.servers.openbao import OpenBaoProcess

DOC = b"%PDF-1.4 complaint letter, kept sealed\n" * 50


def _config(path: Path, keys: dict[str, Any]) -> Path:
    lines = ["[keys]"] + [f"{k} = {v!r}" if isinstance(v, (int, float)) else f'{k} = "{v}"' for k, v in keys.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _cli(data_dir: Path, config: Path | None) -> Callable[..., Result]:
    def run(*args: str) -> Result:
        extra = ["--config", str(config)] if config is not None else []
        return CliRunner().invoke(main, ["--data-dir", str(data_dir), *extra, *args])
    return run


def _file_one(run: Callable[..., Result], tmp_path: Path) -> tuple[str, str]:
    """Register a dossier and file one document; returns (archive number, item number)."""
    number = run("new", "--complainant", "张三", "--matter", "拖延").output.strip()
    doc = tmp_path / "letter.pdf"
    doc.write_bytes(DOC)
    added = run("add", number, str(doc))
    assert added.exit_code == 0, added.output
    item = f"{number}-01"
    out = tmp_path / "back.pdf"
    got = run("get", item, "-o", str(out))
    assert got.exit_code == 0, got.output
    assert out.read_bytes() == DOC
    return number, item


def _mounts(url: str, token: str) -> set[str]:
    client = hvac.Client(url=url, token=token)
    try:
        return set(client.sys.list_mounted_secrets_engines()["data"])
    finally:
        client.adapter.close()


@pytest.mark.kms
def test_openbao_restarted_empty_is_refused_by_every_command_and_nothing_is_created(
        openbao_process: OpenBaoProcess, make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    """GIVEN an archive on OpenBao with a document filed WHEN OpenBao restarts empty THEN show, get, add,
    rotate, init and the server's services opening all refuse with the key-mismatch error (exit 7) naming
    the pinned key, and no transit engine or key appears on the new server."""
    bao = openbao_process.server
    keys = bao.key_settings()
    config = _config(tmp_path / "dossier.toml", {**keys, "openbao_timeout": 5})
    data_dir = tmp_path / "archive"
    run = _cli(data_dir, config)
    init = run("init")
    assert init.exit_code == 0, init.output
    assert "key_pin" in init.output and "openbao key transit/" in init.output
    number, item = _file_one(run, tmp_path)
    settings = make_settings(data_dir=data_dir, config=config)
    running = build_services(settings)  # a server opened before the restart (pin check before every wrap below)
    running_settings = make_settings(data_dir=data_dir, config=config, keys={**keys, "pin_check_seconds": 0})
    running_strict = build_services(running_settings)
    try:
        openbao_process.stop()
        openbao_process.start()
        assert "transit/" not in _mounts(bao.url, bao.token)

        doc = tmp_path / "second.pdf"
        doc.write_bytes(b"another letter\n" * 10)
        for args in (["show", number], ["get", item, "-o", str(tmp_path / "x.pdf")], ["add", number, str(doc)],
                     ["keys", "rotate"], ["init"], ["verify"]):
            r = run(*args)
            assert r.exit_code == 7, (args, r.output)
            assert "master key mismatch" in r.output and keys["openbao_key"] in r.output, (args, r.output)
        assert not (tmp_path / "x.pdf").exists()
        with pytest.raises(KeyMismatchError) as caught:
            build_services(settings)  # what `dossier serve` (and every web worker) opens
        assert caught.value.found.startswith("no such key")

        # The server that was already running: its next upload is refused, not sealed under a new key.
        with pytest.raises(KeyMismatchError):
            running_strict.vault.store_object("0123abcdef", "original", [b"new upload"])

        # Someone enables transit on the new server (another app): still no key for the archive, because
        # the probe runs before encrypt, whose upsert would otherwise create one.
        client = hvac.Client(url=bao.url, token=bao.token)
        try:
            client.sys.enable_secrets_engine("transit", path="transit")
            with pytest.raises(KeyMismatchError):
                running_strict.vault.store_object("0123abcdee", "original", [b"new upload"])
            assert run("show", number).exit_code == 7
            with pytest.raises(hvac.exceptions.InvalidPath):
                client.secrets.transit.read_key(keys["openbao_key"])
            with pytest.raises(hvac.exceptions.InvalidPath):
                client.secrets.transit.list_keys()  # the engine holds no key at all
        finally:
            client.adapter.close()
    finally:
        running.close()
        running_strict.close()
    assert _mounts(bao.url, bao.token) >= {"transit/"}  # only the one this test enabled by hand


@pytest.mark.kms
def test_openbao_that_does_not_answer_is_unavailable_not_a_key_problem(
        openbao_process: OpenBaoProcess, tmp_path: Path) -> None:
    """A hung key service makes commands exit 14 (unavailable) within the timeout; once it answers
    again, the same archive works."""
    config = _config(tmp_path / "dossier.toml", {**openbao_process.server.key_settings(), "openbao_timeout": 1})
    run = _cli(tmp_path / "archive", config)
    assert run("init").exit_code == 0
    number, _ = _file_one(run, tmp_path)
    openbao_process.pause()
    try:
        r = run("show", number)
        assert r.exit_code == 14, r.output
        assert "key service openbao unavailable" in r.output
    finally:
        openbao_process.resume()
    assert run("show", number).exit_code == 0


@pytest.mark.kms
def test_keys_create_makes_the_key_of_a_new_archive_only(openbao_process: OpenBaoProcess, tmp_path: Path) -> None:
    """`dossier keys create` creates the transit engine and key for a new archive, `init` pins it; asked
    again for that archive it is refused (exit 5)."""
    bao = openbao_process.server
    keys = bao.key_settings()
    run = _cli(tmp_path / "archive", _config(tmp_path / "dossier.toml", keys))
    created = run("keys", "create")
    assert created.exit_code == 0, created.output
    assert "(created)" in created.output
    assert "transit/" in _mounts(bao.url, bao.token)
    init = run("init")
    assert init.exit_code == 0, init.output
    assert "key_pin" in init.output
    _file_one(run, tmp_path)
    again = run("keys", "create")
    assert again.exit_code == 5, again.output
    assert "already has its master key" in again.output


def test_a_swapped_key_file_is_refused_and_never_replaced(tmp_path: Path) -> None:
    """GIVEN an archive on a key file WHEN another key file is put in its place THEN commands exit 7 naming
    both keys, and `dossier init` re-run neither accepts nor overwrites it."""
    data_dir = tmp_path / "archive"
    run = _cli(data_dir, None)
    assert run("init").exit_code == 0
    number, item = _file_one(run, tmp_path)
    key = data_dir / "master.key"
    original = key.read_bytes()
    other = tmp_path / "other.key"
    other_id = create_key_file(other)
    shutil.copy(other, key)
    os.chmod(key, 0o600)
    for args in (["show", number], ["add", number, str(tmp_path / "letter.pdf")], ["init"], ["keys", "create"]):
        r = run(*args)
        assert r.exit_code in (7, 5), (args, r.output)
        if r.exit_code == 7:
            assert "master key mismatch" in r.output and other_id[len("file:"):] in r.output, r.output
    assert key.read_bytes() == other.read_bytes()
    key.write_bytes(original)
    assert run("get", item, "-o", str(tmp_path / "again.pdf")).exit_code == 0


def test_an_archive_from_before_pins_is_pinned_on_first_open_only_if_its_keys_open(
        make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    """An archive without a pin (made before migration 0008) is pinned when it opens and its own data
    keys unwrap; with a swapped key file it is refused and stays unpinned."""
    settings = make_settings()
    init_archive(settings)
    run = _cli(settings.data_dir, None)
    _file_one(run, tmp_path)
    engine = make_engine(settings.database_url)
    uow = UnitOfWork(engine)

    def unpin() -> None:
        with uow.write() as s:
            s.execute(delete(KeyPinRow))

    def pin() -> KeyPinRow | None:
        with uow.read() as s:
            return s.get(KeyPinRow, 1)

    def as_before_issue_12() -> None:
        # Objects filed then had their data keys wrapped under the master key, not a dossier key.
        svc = build_services(settings)
        try:
            with uow.write() as s:
                for o in s.scalars(select(StoredObjectRow)):
                    assert o.key_id is not None and o.wrapped_key is not None
                    data_key = svc.vault._unwrap(WrappedKey(o.key_id, o.wrapped_key), o.id, o.kind)
                    w = svc.vault.keys.wrap(bytes(data_key), context={"object_id": o.id, "kind": o.kind})
                    o.key_id, o.wrapped_key = w.key_id, w.ciphertext
        finally:
            svc.close()

    try:
        as_before_issue_12()
        unpin()
        original = settings.key_file.read_bytes()
        create_key_file(tmp_path / "other.key")
        settings.key_file.write_bytes((tmp_path / "other.key").read_bytes())
        with pytest.raises(KeyMismatchError) as caught:
            build_services(settings)
        assert "catalogue's data keys" in str(caught.value)
        assert pin() is None
        settings.key_file.write_bytes(original)
        build_services(settings).close()
        row = pin()
        assert row is not None and row.pinned_how == "first open" and row.provider == "file"
    finally:
        engine.dispose()
