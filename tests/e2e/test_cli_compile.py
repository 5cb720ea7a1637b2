"""`dossier compile NUMBER -o FILE.pdf`: the dossier as one paginated volume, written whole (issue #10 item 4)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pypdfium2 as pdfium
from click.testing import CliRunner

from records.model import Registration
from records.settings import Settings
from web.bootstrap import build_services, init_archive
from web.cli import main


def _archive(settings: Settings) -> str:
    init_archive(settings)
    svc = build_services(settings)
    try:
        number = svc.records.register_complaint("test", Registration(
            matter="律师收费过高投诉", received_at=svc.clock() - timedelta(days=1), complainant="张三",
            department="A")).archive_number
        svc.ingest.ingest_bytes("test", "投诉书\n某律师事务所收费过高，要求退费。".encode(), "投诉书.txt", dossier=number)
    finally:
        svc.close()
    return number


def test_compile_writes_the_volume_and_reports_its_contents(settings: Settings, tmp_path: Path) -> None:
    """GIVEN a dossier with one text document
    WHEN the console runs `dossier compile NUMBER -o FILE.pdf --json`
    THEN FILE.pdf is a two-page PDF (contents, the document), readable only by its owner, and the JSON
    gives each document's first page; a missing output directory is a usage error and writes nothing."""
    number = _archive(settings)
    out = tmp_path / "volume.pdf"
    r = CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), "compile", number, "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert report["pages"] == 2 and report["contents_pages"] == 1
    assert [(c["seq"], c["first_page"], c["pages"], c["title"]) for c in report["contents"]] == [(1, 2, 1, "投诉书")]
    assert out.stat().st_mode & 0o077 == 0
    doc = pdfium.PdfDocument(out.read_bytes())
    try:
        assert len(doc) == 2
        assert "第 2 页 / 共 2 页" in doc[1].get_textpage().get_text_range()
    finally:
        doc.close()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".volume.pdf.")]  # no temporary file left

    r = CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), "compile", number,
                                  "-o", str(tmp_path / "missing" / "v.pdf")])
    assert r.exit_code == 2 and "does not exist" in r.output
