"""Inventory (ARC-6) speed: objects/second against reading and decrypting the same objects directly.

    .venv/bin/python benchmarks/inventory.py [--docs 10000] [--reuse DIR] [--repeat 2] [--json]

Builds an embedded archive (SQLite catalogue, local vault, FTS5 index) of ``--docs`` documents,
filed directly through the records layer with their extracted text, as intake leaves them: 60%
text/plain letters of 2-24 KiB, 40% PDFs of 1-12 pages made by reportlab (each copy made unique by
a trailing comment, so sizes are those of real small PDFs). Each document is two stored objects
(original + extracted text). ``--reuse DIR`` keeps the archive in DIR and reuses it next time.

Then, in the same process and interleaved ``--repeat`` times (best of each is reported):

* baseline: every catalogued object's blob read from the store and decrypted with the vault
  (AES-256-GCM, authenticated), its plaintext hashed with SHA-256 and compared, in a tight loop
  over a list prepared beforehand: the work an inventory cannot avoid;
* inventory: ``InventoryService.run`` from a fresh start, everything included: catalogue pages,
  per-batch fsynced checkpoints, the store listing for orphans, the index check, the number
  series, and the HTML/CSV/PDF report.

``ratio`` = inventory objects/s / baseline objects/s; what the inventory adds to the bare
cryptographic read is its bookkeeping. The page cache is warm for both after the first pass.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from records.access.identity import Identity  # noqa: E402
from records.model import DocumentAnalysis, DocumentKind, Registration  # noqa: E402
from records.settings import load_settings  # noqa: E402
from records.tables import StoredObjectRow  # noqa: E402
from records.vault import WrappedKey  # noqa: E402
from retention.inventory import InventoryService  # noqa: E402
from retention.inventory_report import write_reports  # noqa: E402
from web.bootstrap import Services, build_services, init_archive  # noqa: E402

LETTER = ("投诉书\n投诉人：张三，联系电话：13800000000\n被投诉人：某律师事务所王律师\n"
          "投诉请求：请求更换承办律师并退还已收取的费用。\n事实与理由：本人于2026年9月申请法律援助，"
          "承办律师三个月未与本人联系，也未按时提交证据，导致案件延误。特此投诉。\n")
DOCS_PER_DOSSIER = 8


def _pdf(pages: int) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from records.pdf_fonts import register_cjk_font

    font = register_cjk_font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for p in range(pages):
        c.setFont(font, 11)
        for i, line in enumerate((LETTER * 3).splitlines()):
            c.drawString(60, 780 - 16 * i, f"{p + 1}-{i} {line}")
        c.showPage()
    c.save()
    return buf.getvalue()


def build(data_dir: Path, docs: int) -> dict[str, Any]:
    settings = load_settings(data_dir=data_dir)
    init_archive(settings)
    services = build_services(settings)
    rng = random.Random(6)
    pdfs = [_pdf(pages) for pages in (1, 2, 3, 5, 8, 12)]
    t0 = time.perf_counter()
    number = ""
    try:
        for n in range(docs):
            if n % DOCS_PER_DOSSIER == 0:
                number = services.records.register_complaint("bench", Registration(
                    matter=f"拖延办理 {n}", received_at=datetime.now(timezone.utc), complainant="张三")).archive_number
            if rng.random() < 0.6:
                text = (LETTER * 64)[: rng.randint(700, 8000)] + f"\n编号 {n}\n"
                body, name, media = text.encode(), f"letter-{n}.txt", "text/plain"
            else:
                body = rng.choice(pdfs) + f"%unique {n}\n".encode()
                text, name, media = LETTER, f"scan-{n}.pdf", "application/pdf"
            services.records.file_document("bench", number, body, kind=DocumentKind.COMPLAINT_LETTER, filename=name,
                                           media_type=media, analysis=DocumentAnalysis(outcome="ok", text=text))
            if n and n % 1000 == 0:
                print(f"  filed {n} documents", file=sys.stderr)
    finally:
        services.close()
    return {"docs": docs, "build_s": time.perf_counter() - t0}


def _service(services: Services, data_dir: Path, reports: Path) -> InventoryService:
    settings = load_settings(data_dir=data_dir)
    return InventoryService(services.uow, services.vault, services.search, access=services.access, reports_dir=reports,
                            item_width=settings.numbering.item_width, serial_width=settings.numbering.serial_width,
                            write_reports=write_reports)


def baseline(services: Services) -> tuple[int, int, float]:
    """Read + decrypt + hash every live object directly; returns (objects, plaintext bytes, seconds)."""
    with services.uow.read() as s:
        objects = [(o.id, o.kind, WrappedKey(o.key_id, o.wrapped_key), o.sha256)
                   for o in s.scalars(select(StoredObjectRow).order_by(StoredObjectRow.id))
                   if o.key_id is not None and o.wrapped_key is not None]
    size = 0
    t0 = time.perf_counter()
    for object_id, kind, wrapped, sha in objects:
        h = hashlib.sha256()
        for chunk in services.vault.open_object(object_id, kind, wrapped):
            h.update(chunk)
            size += len(chunk)
        if h.hexdigest() != sha:
            raise SystemExit(f"baseline: {object_id} does not match its hash")
    return len(objects), size, time.perf_counter() - t0


def measure(data_dir: Path, repeat: int) -> dict[str, Any]:
    services = build_services(load_settings(data_dir=data_dir))
    base_best = inv_best = float("inf")
    objects = size = 0
    findings = -1
    try:
        with tempfile.TemporaryDirectory() as reports:
            service = _service(services, data_dir, Path(reports))
            for _ in range(repeat):
                objects, size, took = baseline(services)
                base_best = min(base_best, took)
                t0 = time.perf_counter()
                report = service.run(Identity.operator("bench"), resume=False)
                inv_best = min(inv_best, time.perf_counter() - t0)
                findings = len(report.findings)
                if report.objects_checked != objects:
                    raise SystemExit(f"inventory checked {report.objects_checked} objects, baseline {objects}")
    finally:
        services.close()
    return {
        "objects": objects, "plaintext_mib": size / 2**20, "findings": findings,
        "baseline_objects_per_s": objects / base_best, "inventory_objects_per_s": objects / inv_best,
        "baseline_s": base_best, "inventory_s": inv_best, "ratio": base_best / inv_best,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--reuse", type=Path, metavar="DIR", help="build the archive here once and reuse it")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    report: dict[str, Any] = {"cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.reuse or Path(tmp) / "archive"
        if not (data_dir / "catalogue.sqlite3").exists():
            report["build"] = build(data_dir, args.docs)
        report.update(measure(data_dir, args.repeat))
    if args.json:
        print(json.dumps(report, indent=2))
        return
    if "build" in report:
        print(f"archive: {report['build']['docs']} documents filed in {report['build']['build_s']:.0f} s")
    print(f"objects: {report['objects']} ({report['plaintext_mib']:.0f} MiB plaintext), findings: {report['findings']}")
    print(f"baseline  (read + decrypt + SHA-256): {report['baseline_objects_per_s']:8.0f} objects/s")
    print(f"inventory (dossier inventory):        {report['inventory_objects_per_s']:8.0f} objects/s")
    print(f"ratio inventory / baseline: {report['ratio']:.3f}")


if __name__ == "__main__":
    main()
