"""Ingest throughput, end to end, with 1 and 2 parser workers.

    .venv/bin/python benchmarks/ingest.py [--docs 200] [--pages 12] [--json]

* born-digital PDFs, .eml and .docx: documents/second through the whole pipeline (detect, hash,
  dedupe, parse in a worker, classify, seal original + text, catalogue) into an embedded archive;
  "per core" = the 2-worker rate / 2.
* scanned pages: the pipeline's time on TIFF pages as a ratio to the same OCR engine run directly
  on the same page images in this process (overhead = ratio - 1), plus bare single-pass
  tesserocr for context.
Inputs are unique copies of real files (shared/corpus) or generated ones, so dedupe never skips.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageDraw, ImageFont  # noqa: E402

from records.model import Registration  # noqa: E402
from records.settings import load_settings  # noqa: E402
from web.bootstrap import build_services, init_archive  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
LETTER = ("投诉书\n投诉人：张三，联系电话：13800000000\n被投诉人：某律师事务所王律师\n"
          "投诉请求：请求更换承办律师并退还已收取的费用。\n事实与理由：本人于2026年9月申请法律援助，"
          "承办律师三个月未与本人联系，也未按时提交证据，导致案件延误。特此投诉。")


def _pdf_copies(n: int, out: Path) -> list[Path]:
    src = (CORPUS / "pdf" / "pdfjs__issue12823.pdf").read_bytes()
    paths = []
    for i in range(n):
        p = out / f"letter-{i:05d}.pdf"
        p.write_bytes(src + f"\n%unique {i}\n".encode())  # bytes after %%EOF: a distinct, valid file
        paths.append(p)
    return paths


def _eml_copies(n: int, out: Path) -> list[Path]:
    from email.message import EmailMessage

    paths = []
    for i in range(n):
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = "张三 <zhangsan@example.cn>", "tousu@example.gov.cn", f"投诉 {i}"
        m["Message-ID"] = f"<bench-{i}@example.cn>"
        m.set_content(LETTER + f"\n编号 {i}", charset="gb18030")
        p = out / f"mail-{i:05d}.eml"
        p.write_bytes(bytes(m))
        paths.append(p)
    return paths


def _docx_copies(n: int, out: Path) -> list[Path]:
    import docx

    paths = []
    for i in range(n):
        d = docx.Document()
        d.add_heading("询问笔录", 1)
        for line in LETTER.splitlines():
            d.add_paragraph(line)
        table = d.add_table(rows=2, cols=2)
        table.cell(0, 0).text, table.cell(1, 1).text = "时间", f"2026年11月{i % 28 + 1}日"
        d.add_paragraph(f"笔录编号 {i}")
        p = out / f"minutes-{i:05d}.docx"
        d.save(p)
        paths.append(p)
    return paths


def _font(size: int) -> ImageFont.FreeTypeFont:
    for cand in Path("/usr/share/fonts").rglob("NotoSansCJK-Regular.ttc"):
        return ImageFont.truetype(str(cand), size)
    raise SystemExit("fonts-noto-cjk is needed for the scanned-page benchmark")


def _page_images(n: int) -> list[Image.Image]:
    font = _font(40)
    pages = []
    for i in range(n):
        img = Image.new("L", (2480, 3508), 255)  # A4 at 300 dpi
        draw = ImageDraw.Draw(img)
        y = 200
        for line in (LETTER + f"\n第 {i + 1} 页").splitlines():
            for k in range(0, len(line), 40):
                draw.text((200, y), line[k:k + 40], font=font, fill=0)
                y += 70
        pages.append(img.point(lambda v: 0 if v < 128 else 255, "1"))
    return pages


def _archive(tmp: Path, workers: int) -> tuple[object, str]:
    settings = load_settings(data_dir=tmp / f"archive-{workers}-{time.monotonic_ns()}", ingest={"workers": workers})
    init_archive(settings)
    services = build_services(settings)
    number = services.records.register_complaint("bench", Registration(
        matter="benchmark", complainant="bench", received_at=datetime.now(timezone.utc))).archive_number
    return services, number


def _rate(tmp: Path, paths: list[Path], workers: int) -> float:
    services, number = _archive(tmp, workers)
    try:
        services.ingest.ingest_paths("bench", paths[:4], dossier=number)  # start workers, load parsers
        rest = paths[4:]
        t0 = time.perf_counter()
        results = services.ingest.ingest_paths("bench", rest, dossier=number)
        elapsed = time.perf_counter() - t0
        bad = [r for r in results if r.outcome.value not in ("ok", "ok_with_warnings")]
        assert not bad, bad[:3]
        return len(rest) / elapsed
    finally:
        services.close()


def _ocr_overhead(tmp: Path, pages: int) -> dict[str, float]:
    import tesserocr

    from ingest.extractors.image import ImageExtractor
    from ingest.ocr import TesseractOcrEngine, find_tessdata

    images = _page_images(pages)
    paths = []
    for i, img in enumerate(images):
        p = tmp / f"scan-{i:03d}.tif"
        img.save(p, compression="group4", dpi=(300, 300))
        paths.append(p)
    # Same engine and routing the pipeline uses, on the decoded pages, in this process.
    engine = TesseractOcrEngine()
    extractor = ImageExtractor(engine)
    from ingest.model import ExtractContext

    extractor.extract(paths[0], "image/tiff", ExtractContext())  # load models
    t0 = time.perf_counter()
    for p in paths:
        extractor.extract(p, "image/tiff", ExtractContext())
    direct = time.perf_counter() - t0
    # Bare single-pass tesserocr (chi_sim+eng) for context.
    with tesserocr.PyTessBaseAPI(path=str(find_tessdata()), lang="chi_sim+eng") as api:
        api.SetImage(images[0].convert("L"))
        api.GetUTF8Text()
        t0 = time.perf_counter()
        for img in images:
            api.SetImage(img.convert("L"))
            api.GetUTF8Text()
        bare = time.perf_counter() - t0
    services, number = _archive(tmp, 1)
    try:
        services.ingest.ingest_paths("bench", [paths[0]], dossier=number)
        t0 = time.perf_counter()
        services.ingest.ingest_paths("bench", paths[1:], dossier=number)
        pipeline = (time.perf_counter() - t0) * len(paths) / (len(paths) - 1)
    finally:
        services.close()
    return {"pages": pages, "pipeline_s_per_page": pipeline / pages, "engine_s_per_page": direct / pages,
            "bare_tesserocr_s_per_page": bare / pages, "ratio_to_engine": pipeline / direct,
            "ratio_to_bare_single_pass": pipeline / bare}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=200)
    ap.add_argument("--pages", type=int, default=12)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    report: dict[str, object] = {"cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        makers: dict[str, Callable[[int, Path], list[Path]]] = {"pdf": _pdf_copies, "eml": _eml_copies, "docx": _docx_copies}
        for name, make in makers.items():
            folder = tmp / name
            folder.mkdir()
            paths = make(args.docs + 4, folder)
            one, two = _rate(tmp, paths, 1), _rate(tmp, paths, 2)
            report[name] = {"docs_per_s_1_worker": one, "docs_per_s_2_workers": two, "docs_per_s_per_core": two / 2}
        report["scanned"] = _ocr_overhead(tmp, args.pages)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{'format':8} {'1 worker':>10} {'2 workers':>10} {'per core':>10}   (documents/second, end to end)")
    for name in ("pdf", "eml", "docx"):
        r = report[name]
        assert isinstance(r, dict)
        print(f"{name:8} {r['docs_per_s_1_worker']:10.1f} {r['docs_per_s_2_workers']:10.1f} {r['docs_per_s_per_core']:10.1f}")
    s = report["scanned"]
    assert isinstance(s, dict)
    print(f"scanned pages: pipeline {s['pipeline_s_per_page']:.2f} s/page, same engine direct {s['engine_s_per_page']:.2f} s/page "
          f"→ ratio {s['ratio_to_engine']:.3f} (overhead {100 * (s['ratio_to_engine'] - 1):.1f}%); "
          f"bare single-pass tesserocr {s['bare_tesserocr_s_per_page']:.2f} s/page (ratio {s['ratio_to_bare_single_pass']:.2f})")


if __name__ == "__main__":
    main()
