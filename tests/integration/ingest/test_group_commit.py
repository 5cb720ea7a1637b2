"""Group commit in ingest: a window of files is catalogued in one transaction, with the outcomes
filing one by one gives, and nothing is reported before its window's commit."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest
from reportlab.pdfgen import canvas

import ingest.service as ingest_service
from ingest.model import IngestOutcome
from ingest.service import IngestResult
from records.model import Registration
from records.settings import Settings
from web.bootstrap import Services, build_services, init_archive


def _pdf(text: str) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.drawString(72, 720, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def _inbox(tmp_path: Path) -> list[Path]:
    d = tmp_path / "inbox"
    d.mkdir()
    files = {"a.pdf": _pdf("letter A"), "b.pdf": _pdf("letter B"), "c-copy-of-a.pdf": _pdf("letter A"),
             "d.pdf": _pdf("letter D")}
    paths = []
    for name, data in files.items():
        (d / name).write_bytes(data)
        paths.append(d / name)
    return paths


def _archive(make_settings: Callable[..., Settings], where: Path) -> tuple[Services, str]:
    settings = make_settings(data_dir=where, ingest={"workers": 1, "timeout_seconds": 60})
    init_archive(settings)
    services = build_services(settings)
    number = services.records.register_complaint(
        "clerk", Registration(matter="收费投诉", complainant="李四", received_at=datetime.now(timezone.utc))).archive_number
    return services, number


def _plain(results: list[IngestResult], number: str) -> list[tuple[object, ...]]:
    return [(Path(r.path).name, r.sha256, r.outcome, (r.message or "").replace(number, "N"), r.kind, r.media_type,
             r.pages, r.chars, (r.item_number or "").replace(number, "N"), r.parent_item, r.languages, r.children)
            for r in results]


def test_duplicate_inside_one_window_gets_the_outcomes_of_filing_one_by_one(
        make_settings: Callable[..., Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest_service, "_GROUP_SECONDS", 60.0)  # the whole inbox is one window
    paths = _inbox(tmp_path)
    grouped, n1 = _archive(make_settings, tmp_path / "grouped")
    single, n2 = _archive(make_settings, tmp_path / "single")
    try:
        windows: list[int] = []
        real = grouped.records.file_documents

        def spy(actor, ref, filings):  # type: ignore[no-untyped-def]
            windows.append(len(filings))
            return real(actor, ref, filings)

        monkeypatch.setattr(grouped.records, "file_documents", spy)
        got = grouped.ingest.ingest_paths("clerk", paths, dossier=n1)

        def refuse(*_args, **_kwargs):  # type: ignore[no-untyped-def]
            raise RuntimeError("no group commit")  # the service falls back to filing one by one

        monkeypatch.setattr(single.records, "file_documents", refuse)
        one_by_one = single.ingest.ingest_paths("clerk", paths, dossier=n2)
    finally:
        grouped.close()
        single.close()
    assert windows == [4]  # one catalogue transaction for the window, duplicate included
    assert _plain(got, n1) == _plain(one_by_one, n2)
    assert [r.outcome for r in got] == [IngestOutcome.OK, IngestOutcome.OK, IngestOutcome.DUPLICATE, IngestOutcome.OK]
    assert [int(r.item_number.removeprefix(f"{n1}-")) for r in got if r.item_number] == [1, 2, 1, 3]
    assert got[2].message == f"already filed as {got[0].item_number}"


def test_nothing_in_a_window_is_reported_before_its_commit(
        make_settings: Callable[..., Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest_service, "_GROUP_SECONDS", 60.0)
    paths = _inbox(tmp_path)
    services, number = _archive(make_settings, tmp_path / "archive")
    indexed: list[str] = []
    services.records.on_document_filed(lambda filed: indexed.append(filed.document.item_number))
    seen: list[str] = []

    def progress(result: IngestResult) -> None:
        assert result.item_number is not None
        if result.outcome is IngestOutcome.OK:
            # Committed (a fresh read transaction sees it) and the after-commit listeners have run.
            assert services.records.get_document("clerk", result.item_number).sha256 == result.sha256
            assert result.item_number in indexed
            # The whole window is committed before its first outcome is reported.
            assert len(services.records.document_hashes("clerk", number)) == 3
        seen.append(result.path)

    try:
        results = services.ingest.ingest_paths("clerk", paths, dossier=number, progress=progress)
    finally:
        services.close()
    assert seen == [str(p) for p in paths] == [r.path for r in results]
    assert sorted(indexed) == sorted({r.item_number for r in results if r.outcome is IngestOutcome.OK})
