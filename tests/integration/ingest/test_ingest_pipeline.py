"""The ingest pipeline end to end on the embedded archive: outcomes, children, text, isolation."""

from __future__ import annotations


import zlib
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.model import IngestOutcome
from records.model import DocumentKind, Registration
from records.settings import Settings
from web.bootstrap import Services, build_services, init_archive
from web.cli import main

SECRET = "投诉人李四反映律师收取费用 INGEST-PLAINTEXT-5d1e"


@pytest.fixture
def archive(make_settings: Callable[..., Settings]) -> Iterator[tuple[Settings, Services, str]]:
    settings = make_settings(ingest={"workers": 2, "timeout_seconds": 60})
    init_archive(settings)
    services = build_services(settings)
    number = services.records.register_complaint(
        "clerk", Registration(matter="收费投诉", complainant="李四", received_at=datetime.now(timezone.utc))).archive_number
    yield settings, services, number
    services.close()


def _folder(tmp_path: Path) -> Path:
    d = tmp_path / "inbox"
    (d / "sub").mkdir(parents=True)
    (d / "letter.txt").write_bytes(("投诉书\n" + SECRET + "\n").encode("gb18030"))
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "李四 <lisi@example.cn>", "tousu@example.gov.cn", "投诉律师收费"
    m.set_content("请见附件。", charset="utf-8")
    m.add_attachment("授权委托书\n委托人：李四".encode("utf-8"), maintype="text", subtype="plain", filename="委托书.txt")
    (d / "sub" / "mail.eml").write_bytes(bytes(m))
    (d / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog")
    (d / "blob.bin").write_bytes(bytes(range(256)) * 64)
    return d


def test_folder_ingest_gives_every_file_an_outcome(archive, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A folder with text, email (+attachment), a broken PDF and unknown binary: each recorded, none lost."""
    _, services, number = archive
    results = services.ingest.ingest_paths("clerk", [_folder(tmp_path)], dossier=number)
    by_name = {Path(r.path).name: r for r in results}
    assert by_name["letter.txt"].outcome is IngestOutcome.OK and by_name["letter.txt"].kind is DocumentKind.COMPLAINT_LETTER
    assert by_name["broken.pdf"].outcome is IngestOutcome.CORRUPT and by_name["broken.pdf"].message
    assert by_name["blob.bin"].outcome is IngestOutcome.UNSUPPORTED
    mail = by_name["mail.eml"]
    assert mail.kind is DocumentKind.EMAIL and len(mail.children) == 1
    child = mail.children[0]
    assert child.parent_item == mail.item_number and child.kind is DocumentKind.POWER_OF_ATTORNEY
    assert all(r.item_number for r in results)
    info = services.records.get_dossier("clerk", number)
    assert len(info.documents) == 5
    assert {d.outcome for d in info.documents} >= {"ok", "corrupt", "unsupported"}


def test_extracted_text_is_readable_but_never_plaintext_on_disk(archive, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`dossier text` shows the decoded GB18030 text; the data directory holds no plaintext of it."""
    settings, services, number = archive
    result = services.ingest.ingest_paths("clerk", [_folder(tmp_path) / "letter.txt"], dossier=number)[0]
    _, text, meta = services.records.document_text("clerk", result.item_number or "")
    assert SECRET in text and meta.get("encoding", "").lower().startswith("gb")
    services.close()
    for p in settings.data_dir.rglob("*"):
        if p.is_file():
            raw = p.read_bytes()
            for needle in (SECRET.encode("utf-8"), SECRET.encode("gb18030"), b"INGEST-PLAINTEXT-5d1e"):
                assert needle not in raw, p


def test_rerun_files_nothing_twice(archive, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, services, number = archive
    folder = _folder(tmp_path)
    services.ingest.ingest_paths("clerk", [folder], dossier=number)
    again = services.ingest.ingest_paths("clerk", [folder], dossier=number)
    assert {r.outcome for r in again} == {IngestOutcome.DUPLICATE}
    assert len(services.records.get_dossier("clerk", number).documents) == 5


def test_decompression_bomb_is_refused_and_kept(archive, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A tiny PNG claiming 60000×60000 pixels is refused as too large; its original is still filed."""
    _, services, number = archive
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png(60000, 60000))
    result = services.ingest.ingest_paths("clerk", [bomb], dossier=number)[0]
    assert result.outcome is IngestOutcome.TOO_LARGE and result.item_number
    assert b"".join(services.records.retrieve_document("clerk", result.item_number)[1]) == bomb.read_bytes()


@pytest.mark.ocr
def test_parser_that_runs_past_its_time_limit_is_stopped_and_recorded(make_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A file whose parsing outlasts the limit is killed in its worker; the batch goes on."""
    from PIL import Image, ImageDraw

    settings = make_settings(ingest={"workers": 1, "timeout_seconds": 0.3})
    init_archive(settings)
    services = build_services(settings)
    try:
        number = services.records.register_complaint(
            "c", Registration(matter="m", complainant="c", received_at=datetime.now(timezone.utc))).archive_number
        img = Image.new("L", (2480, 3508), 255)
        draw = ImageDraw.Draw(img)
        for y in range(100, 3400, 40):
            draw.text((100, y), "complaint letter text " * 8, fill=0)
        scan = tmp_path / "scan.png"
        img.save(scan)
        note = tmp_path / "note.txt"
        note.write_text("投诉 after the slow one", encoding="utf-8")
        slow, fine = services.ingest.ingest_paths("c", [scan, note], dossier=number)
        assert slow.outcome is IngestOutcome.CORRUPT and "gave up" in (slow.message or "")
        assert fine.outcome is IngestOutcome.OK
    finally:
        services.close()


def test_cli_ingest_prints_one_json_object_per_file(archive, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`dossier ingest PATH --dossier N --json`: path, sha256, outcome, message, kind, pages, chars, item."""
    import json

    settings, services, number = archive
    services.close()
    r = CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), "ingest", str(_folder(tmp_path)), "--dossier", number, "--json"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == 5
    assert {"path", "sha256", "outcome", "message", "kind", "pages", "chars", "item_number"} <= set(rows[0])
    item = next(x["item_number"] for x in rows if x["path"].endswith("letter.txt"))
    t = CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), "text", item])
    assert SECRET in t.stdout


def _png(width: int, height: int) -> bytes:
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    raw = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")




def test_rerun_files_attachments_a_crash_left_behind(archive, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """If a message was committed but its attachment was not (a crash in between), the re-run files
    the missing attachment under the message — and nothing else twice."""
    _, services, number = archive
    mail = _folder(tmp_path) / "sub" / "mail.eml"
    first = services.ingest.ingest_paths("clerk", [mail], dossier=number)[0]
    child = first.children[0]
    # Simulate the crash: the attachment row never made it (catalogue rows removed directly).
    from sqlalchemy import delete

    from records.tables import DocumentRow, StoredObjectRow

    with services.uow.write() as s:
        doc_id = services.records.get_document("c", child.item_number or "").document_id
        s.execute(delete(StoredObjectRow).where(StoredObjectRow.document_id == doc_id))
        s.execute(delete(DocumentRow).where(DocumentRow.id == doc_id))
    again = services.ingest.ingest_paths("clerk", [mail], dossier=number)[0]
    assert again.outcome is IngestOutcome.DUPLICATE and again.item_number == first.item_number
    assert [c.outcome for c in again.children] == [IngestOutcome.OK]
    assert again.children[0].parent_item == first.item_number
    third = services.ingest.ingest_paths("clerk", [mail], dossier=number)[0]
    assert [c.outcome for c in third.children] == [IngestOutcome.DUPLICATE]


def _nested_zip(levels: int, width: int, tag: str = "") -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for n in range(width):
            if levels > 1:
                z.writestr(f"level-{levels}-{n}.zip", _nested_zip(levels - 1, width, f"{tag}{n}"))
            else:
                z.writestr(f"letter-{tag}{n}.txt", f"投诉信 {tag}{n}：承办律师拖延办理。".encode("utf-8"))
    return buffer.getvalue()


def test_nested_archives_unpack_within_one_budget_per_file(archive, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """GIVEN a small zip of zips of zips (4 x 4 x 4 members: levels multiply, each within its own cap)
    WHEN it is ingested, with the per-file budget of unpacked documents at 12
    THEN 12 child documents are filed and one outcome says how many were not (too_large), so a
    28 KB archive cannot turn into tens of thousands of documents; the archive itself is filed whole."""
    import ingest.service as ingest_service

    monkeypatch.setattr(ingest_service, "_DESCENDANTS_PER_FILE", 12)
    _, services, number = archive
    bomb = tmp_path / "nested.zip"
    bomb.write_bytes(_nested_zip(3, 4))
    top = services.ingest.ingest_paths("clerk", [bomb], dossier=number)[0]

    def tree(result):  # type: ignore[no-untyped-def]
        for child in result.children:
            yield child
            yield from tree(child)

    descendants = list(tree(top))
    filed = [r for r in descendants if r.item_number]
    refused = [r for r in descendants if r.outcome is IngestOutcome.TOO_LARGE and not r.item_number]
    assert top.item_number and len(filed) == 12
    assert refused and "not filed" in (refused[0].message or "")
    assert len(services.records.get_dossier("clerk", number).documents) == 1 + 12
