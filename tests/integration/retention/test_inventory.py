"""The inventory (清查盘点, ARC-6) finds every kind of damage, by number, on the local store and on S3."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import select

from records.model import DocumentAnalysis, DocumentKind, DossierState, ObjectKind, Registration
from records.settings import Settings
from records.tables import DossierRow, StoredObjectRow
from records.vault import BlobKey
from web.bootstrap import Services, build_services, init_archive
from web.cli import main

if TYPE_CHECKING:
    from tests.conftest import FrozenClock
    from tests.servers.seaweedfs import SeaweedFS

# Distinctive plaintext: no report may ever contain it.
SECRET = "机密投诉内容-MARKER-5b1e"


@dataclass
class Archive:
    settings: Settings
    services: Services
    docs: dict[str, str] = field(default_factory=dict)  # item number -> document id


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def archive(request: pytest.FixtureRequest, make_settings: Callable[..., Settings], tmp_path: Path,
            clock: FrozenClock) -> Iterator[Archive]:
    """A real archive with four dossiers and seven documents (originals and their extracted text)."""
    data_dir = tmp_path / "archive"
    if request.param == "s3":
        seaweed: SeaweedFS = request.getfixturevalue("seaweedfs")
        vault = seaweed.vault_settings(request.getfixturevalue("s3_bucket"), prefix="vault")
        data_dir.mkdir()
        # The CLI must open the same S3 archive: its settings file lives in the data dir.
        (data_dir / "dossier.toml").write_text(
            "[vault]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in vault.items()), encoding="utf-8")
    settings = make_settings(data_dir=data_dir)
    init_archive(settings)
    services = build_services(settings, clock=clock)
    a = Archive(settings, services)
    layout = {"A": 4, "B": 2, "C": 0, "D": 1, "E": 1}  # C's row is deleted later; D is shredded; E withdrawn
    for name, count in layout.items():
        info = services.records.register_complaint("clerk", Registration(
            matter=f"拖延办理 {name}", received_at=datetime(2026, 11, 2, 1, tzinfo=timezone.utc), complainant="张三"))
        for i in range(count):
            body = f"{SECRET} {name}{i} ".encode() * 200
            doc = services.records.file_document(
                "clerk", info.archive_number, body, kind=DocumentKind.COMPLAINT_LETTER, filename=f"{name}{i}.txt",
                media_type="text/plain", analysis=DocumentAnalysis(outcome="ok", text=body.decode()))
            a.docs[doc.item_number] = doc.document_id
    services.records.advance("clerk", "2611-005", DossierState.VOID, note="重复登记")
    yield a
    services.close()


def invoke(settings: Settings, *args: str) -> Any:
    return CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), *args])


def _object(a: Archive, item: str, kind: ObjectKind) -> StoredObjectRow:
    with a.services.uow.read() as s:
        return s.scalars(select(StoredObjectRow).where(
            StoredObjectRow.document_id == a.docs[item], StoredObjectRow.kind == kind)).one()


def damage(a: Archive) -> set[tuple[str, str, str | None]]:
    """Damage the archive every way the inventory knows; returns the findings it must report."""
    store, uow = a.services.vault.store, a.services.uow
    # A blob with one byte flipped, in the store itself.
    corrupt = _object(a, "2611-001-01", ObjectKind.ORIGINAL)
    sealed = bytearray(b"".join(store.get(BlobKey(corrupt.blob_key))))
    sealed[len(sealed) // 2] ^= 0x01
    store.delete(BlobKey(corrupt.blob_key))
    store.put(BlobKey(corrupt.blob_key), [bytes(sealed)])
    # An original deleted from the store, and a text object deleted from the store.
    store.delete(BlobKey(_object(a, "2611-001-02", ObjectKind.ORIGINAL).blob_key))
    store.delete(BlobKey(_object(a, "2611-002-01", ObjectKind.TEXT).blob_key))
    # A blob planted in the store that no catalogue row names.
    planted = f"ee/ee{uuid.uuid4().hex}"
    store.put(BlobKey(planted), [b"\x00" * 300])
    text_row = _object(a, "2611-001-03", ObjectKind.TEXT)
    original_row = _object(a, "2611-002-02", ObjectKind.ORIGINAL)
    with uow.write() as s:
        # Catalogue rows deleted: their blobs become orphans, and 2611-002-02 loses its original.
        s.delete(s.get(StoredObjectRow, text_row.id))
        s.delete(s.get(StoredObjectRow, original_row.id))
        # A recorded hash that no longer matches the (intact) bytes.
        s.get(StoredObjectRow, _object(a, "2611-002-01", ObjectKind.ORIGINAL).id).sha256 = "0" * 64
        # A dossier row deleted: its number becomes an unexplained gap.
        s.delete(s.scalars(select(DossierRow).where(DossierRow.archive_number == "2611-003")).one())
        # A disposed dossier: keys destroyed, blobs removed. Expected, so never reported.
        shredded = list(s.scalars(select(StoredObjectRow).where(StoredObjectRow.document_id == a.docs["2611-004-01"])))
        for o in shredded:
            o.wrapped_key, o.key_id, o.shredded_at = None, None, datetime(2026, 11, 3, tzinfo=timezone.utc)
    for o in shredded:
        store.delete(BlobKey(o.blob_key))
    a.services.search.remove([a.docs["2611-004-01"], a.docs["2611-001-04"]])  # the second one is damage
    return {
        ("corrupt", "2611-001-01", "original"),
        ("missing_blob", "2611-001-02", "original"),
        ("missing_blob", "2611-002-01", "text"),
        ("hash_mismatch", "2611-002-01", "original"),
        ("no_original", "2611-002-02", "original"),
        ("not_indexed", "2611-001-04", None),
        ("orphan_blob", planted, None),
        ("orphan_blob", text_row.blob_key, None),
        ("orphan_blob", original_row.blob_key, None),
        ("number_gap", "2611-003", None),
    }


def found(findings: list[dict[str, Any]]) -> set[tuple[str, str, str | None]]:
    return {(f["kind"], f["number"] or f["ref"], f["object_kind"]) for f in findings}


def test_clean_archive_inventory_exits_zero(archive: Archive) -> None:
    """An undamaged archive (with a withdrawn dossier) has no findings and exits 0 (ARC-6)."""
    result = invoke(archive.settings, "inventory", "--json", "--no-progress")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["ok"] is True and out["findings"] == []
    assert out["objects_checked"] == 16 and out["store_keys"] == 16 and out["backend"] == archive.settings.vault.backend


def test_inventory_names_each_damage_by_number_and_exits_nonzero(archive: Archive) -> None:
    """Corrupted, deleted and planted blobs, lost catalogue rows, a dropped index entry and a
    deleted dossier row are each reported by item number (or store key); shredded objects are not (ARC-6)."""
    expected = damage(archive)
    archive.services.close()

    result = invoke(archive.settings, "inventory", "--json", "--no-progress")
    assert result.exit_code == 1, result.output
    out = json.loads(result.stdout)
    assert found(out["findings"]) == expected
    assert out["shredded_skipped"] == 2 and out["counts"]["orphan_blob"] == 3

    text = invoke(archive.settings, "inventory", "--no-progress")
    assert text.exit_code == 1
    for kind, where, _ in expected:
        assert any(line.startswith(kind.upper()) and where in line for line in text.stdout.splitlines()), (kind, where)


def test_report_is_dated_kept_in_the_archive_and_holds_no_content(archive: Archive) -> None:
    """Each run leaves HTML, CSV and PDF reports under reports/inventory/<UTC time>/, listing the
    findings by number, and never a byte of document content."""
    expected = damage(archive)
    archive.services.close()
    out = json.loads(invoke(archive.settings, "inventory", "--json", "--no-progress").stdout)

    run_dir = archive.settings.data_dir / "reports" / "inventory" / out["run"]
    assert {Path(p).parent for p in out["reports"].values()} == {run_dir}
    assert datetime.strptime(out["run"], "%Y%m%dT%H%M%SZ")  # dated by the run's UTC start
    rows = list(csv.DictReader(io.StringIO(Path(out["reports"]["csv"]).read_text(encoding="utf-8-sig"))))
    assert {(r["kind"], r["number"] or r["ref"], r["object_kind"] or None) for r in rows} == expected
    html = Path(out["reports"]["html"]).read_text(encoding="utf-8")
    pdf = "".join(page.extract_text() for page in PdfReader(out["reports"]["pdf"]).pages)
    for number in ("2611-001-01", "2611-002-02", "2611-003"):
        assert number in html and number in pdf
    assert "清查盘点报告" in pdf
    for path in run_dir.iterdir():
        data = path.read_bytes()
        assert SECRET.encode() not in data and SECRET.encode("utf-16-be") not in data, path.name


def test_a_queued_uploads_staging_copy_is_not_an_orphan(make_settings, runner) -> None:  # type: ignore[no-untyped-def]
    """An upload waiting for its worker is sealed in the store under the intake queue, not the
    documents table; the inventory must not call it an orphan (and finds it once the job is done)."""
    import json

    from records.model import Registration
    from web.bootstrap import build_services, init_archive
    from web.cli import main

    settings = make_settings()
    init_archive(settings)
    services = build_services(settings)
    try:
        number = services.records.register_complaint("clerk", Registration(
            matter="待处理上传", complainant="张三", received_at=datetime.now(timezone.utc))).archive_number
        services.intake.accept("clerk", number, "letter.txt", ["投诉信 排队中".encode()])
    finally:
        services.close()
    result = runner.invoke(main, ["--data-dir", str(settings.data_dir), "inventory", "--json", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["findings"] == []
