"""Ingest throughput per format, end to end, as a ratio to bare extraction of the same files.

    .venv/bin/python benchmarks/ingest.py [--docs 200] [--pages 12] [--formats pdf,eml,...] [--json]

For each format — born-digital PDF, .eml, .docx, .xlsx, OFD, GB18030 .txt and scanned TIFF
pages (``--formats`` selects; default all):

* pipeline: documents/second through the whole pipeline (detect, hash, dedupe, parse in a worker
  process, classify, seal original + text, catalogue, index) into an embedded archive, with 1 and
  2 parser workers; "per core" = the 2-worker rate / 2 (a worker is replaced after 200 files, as
  in production: with --docs 200 the 1-worker run includes one replacement, the 2-worker run none);
* bare extraction: the registered extractor called directly in this process on the same files
  (``ingest.workers.extract(path, media_type, ExtractContext())``, one process, no archive) —
  the ceiling one core can reach; the best of a pass before and a pass after the pipeline runs,
  so that a moment of load elsewhere does not flatter the ratio;
* ratio to bare extraction = pipeline per-core rate / bare rate (1.0: the pipeline costs
  nothing beyond parsing). Ratios are comparable across runs on a loaded machine; the absolute
  rates are not.

A format whose extractor is not registered (or that the detector does not recognise) is printed
as "not supported" instead of failing the run. Scanned TIFF pages (``--pages`` of them, one A4
page at 300 dpi each) also report bare single-pass tesserocr for context. Inputs are generated
(or unique copies of ``shared/corpus`` files), so dedupe never skips one. The issue #13 target:
born-digital PDFs at >= 100 documents/second per core on the 2-core machine (issue #13 item 9).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

if TYPE_CHECKING:
    from PIL import Image, ImageFont

    from web.bootstrap import Services

# The archive's modules are imported where they are used, as the command line does: every parser
# worker process imports this script again (multiprocessing's forkserver re-imports __main__), so
# top-level imports here would be paid again at every worker start and recycle.

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
LETTER = ("投诉书\n投诉人：张三，联系电话：13800000000\n被投诉人：某律师事务所王律师\n"
          "投诉请求：请求更换承办律师并退还已收取的费用。\n事实与理由：本人于2026年9月申请法律援助，"
          "承办律师三个月未与本人联系，也未按时提交证据，导致案件延误。特此投诉。")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂"
MATTERS = ("法律援助承办律师未尽职", "公证费用收取不合理", "律师拒绝退还代理费", "人民调解结果未执行", "司法鉴定意见有误")
FORMATS = ("pdf", "eml", "docx", "xlsx", "ofd", "txt", "tiff")
LABELS = {"pdf": "born-digital PDF", "eml": ".eml", "docx": ".docx", "xlsx": ".xlsx", "ofd": "OFD",
          "txt": ".txt (GB18030)", "tiff": "scanned TIFF page"}


# ---------------------------------------------------------------------- inputs
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
        d.save(str(p))
        paths.append(p)
    return paths


def _person(k: int) -> str:
    return SURNAMES[k % len(SURNAMES)] + GIVEN[(k * 7) % len(GIVEN)] + GIVEN[(k * 11 + 3) % len(GIVEN)]


def _xlsx_copies(n: int, out: Path) -> list[Path]:
    """A register of petitioners as offices keep it: a header, 40 rows, a second sheet of totals."""
    import openpyxl  # type: ignore[import-untyped]

    paths = []
    for i in range(n):
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "来访登记"
        ws.append(["序号", "登记日期", "来访人", "联系电话", "反映事项", "承办单位", "办理状态"])
        for r in range(40):
            k = i * 40 + r
            ws.append([r + 1, f"2026-{k % 12 + 1:02d}-{k % 28 + 1:02d}", _person(k), f"138{k:08d}",
                       MATTERS[k % len(MATTERS)], "市司法局", "已办结" if k % 3 else "办理中"])
        totals = wb.create_sheet("统计")
        totals.append(["事项", "件数"])
        for m, matter in enumerate(MATTERS):
            totals.append([matter, 8 + m])
        p = out / f"register-{i:05d}.xlsx"
        wb.save(p)
        paths.append(p)
    return paths


_OFD_NS = "http://www.ofdspec.org/2016"


def _ofd_bytes(i: int) -> bytes:
    """An OFD document of one A4 page (GB/T 33190 layout: OFD.xml → Document.xml → Content.xml)."""
    ofd_xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<ofd:OFD xmlns:ofd="{_OFD_NS}" Version="1.0" DocType="OFD">
  <ofd:DocBody>
    <ofd:DocInfo><ofd:DocID>bench{i:08d}</ofd:DocID><ofd:Title>投诉处理告知书</ofd:Title>
      <ofd:Author>市司法局</ofd:Author><ofd:CreationDate>2026-11-0{i % 9 + 1}</ofd:CreationDate></ofd:DocInfo>
    <ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>
  </ofd:DocBody>
</ofd:OFD>"""
    document_xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<ofd:Document xmlns:ofd="{_OFD_NS}">
  <ofd:CommonData><ofd:MaxUnitID>100</ofd:MaxUnitID>
    <ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>
    <ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData>
  <ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages>
</ofd:Document>"""
    public_res = f"""<?xml version="1.0" encoding="UTF-8"?>
<ofd:Res xmlns:ofd="{_OFD_NS}" BaseLoc="Res">
  <ofd:Fonts><ofd:Font ID="2" FontName="宋体" FamilyName="宋体"/></ofd:Fonts>
</ofd:Res>"""
    lines = ["投诉处理告知书", f"编号：司投〔2026〕{i:05d}号", f"{_person(i)}：",
             *LETTER.splitlines()[1:], "经调查核实，现将处理意见告知如下。", "市司法局", "2026年11月20日"]
    objects = []
    for n, line in enumerate(lines):
        y, size = 30 + 9 * n, 4.2
        deltas = " ".join(["4.2"] * (len(line) - 1))
        objects.append(
            f'<ofd:TextObject ID="{10 + n}" Boundary="20 {y - size} 170 {size + 2}" Font="2" Size="{size}">'
            f'<ofd:FillColor Value="0 0 0"/><ofd:TextCode X="0" Y="{size}" DeltaX="{deltas}">{line}</ofd:TextCode>'
            f'</ofd:TextObject>')
    content_xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<ofd:Page xmlns:ofd="{_OFD_NS}">
  <ofd:Area><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:Area>
  <ofd:Content><ofd:Layer ID="3" Type="Body">{"".join(objects)}</ofd:Layer></ofd:Content>
</ofd:Page>"""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("OFD.xml", ofd_xml)
        z.writestr("Doc_0/Document.xml", document_xml)
        z.writestr("Doc_0/PublicRes.xml", public_res)
        z.writestr("Doc_0/Pages/Page_0/Content.xml", content_xml)
    return buf.getvalue()


def _ofd_copies(n: int, out: Path) -> list[Path]:
    paths = []
    for i in range(n):
        p = out / f"notice-{i:05d}.ofd"
        p.write_bytes(_ofd_bytes(i))
        paths.append(p)
    return paths


def _txt_copies(n: int, out: Path) -> list[Path]:
    """Letters typed on a Chinese Windows machine: GB18030 (GBK) bytes, no BOM, about 2 KB."""
    paths = []
    for i in range(n):
        body = "\n".join([f"来信编号：{i:06d}", f"来信人：{_person(i)}", LETTER, *(MATTERS[(i + k) % len(MATTERS)] + "，请予核查。"
                                                                            for k in range(12))])
        p = out / f"letter-{i:05d}.txt"
        p.write_bytes(body.encode("gb18030"))
        paths.append(p)
    return paths


def _font(size: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont

    for cand in Path("/usr/share/fonts").rglob("NotoSansCJK-Regular.ttc"):
        return ImageFont.truetype(str(cand), size)
    raise SystemExit("fonts-noto-cjk is needed for the scanned-page benchmark")


def _page_images(n: int) -> list[Image.Image]:
    from PIL import Image, ImageDraw

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


def _tiff_copies(n: int, out: Path) -> list[Path]:
    paths = []
    for i, img in enumerate(_page_images(n)):
        p = out / f"scan-{i:03d}.tif"
        img.save(p, compression="group4", dpi=(300, 300))
        paths.append(p)
    return paths


MAKERS: dict[str, Callable[[int, Path], list[Path]]] = {
    "pdf": _pdf_copies, "eml": _eml_copies, "docx": _docx_copies, "xlsx": _xlsx_copies,
    "ofd": _ofd_copies, "txt": _txt_copies, "tiff": _tiff_copies,
}


# ---------------------------------------------------------------------- measurements
def _archive(tmp: Path, workers: int) -> tuple[Services, str]:
    from records.model import Registration
    from records.settings import load_settings
    from web.bootstrap import build_services, init_archive

    settings = load_settings(data_dir=tmp / f"archive-{workers}-{time.monotonic_ns()}", ingest={"workers": workers})
    init_archive(settings)
    services = build_services(settings)
    number = services.records.register_complaint("bench", Registration(
        matter="benchmark", complainant="bench", received_at=datetime.now(timezone.utc))).archive_number
    return services, number


def _pipeline_rate(tmp: Path, warm: list[Path], paths: list[Path], workers: int) -> float:
    services, number = _archive(tmp, workers)
    try:
        services.ingest.ingest_paths("bench", warm, dossier=number)  # start workers, load parsers and models
        t0 = time.perf_counter()
        results = services.ingest.ingest_paths("bench", paths, dossier=number)
        elapsed = time.perf_counter() - t0
        bad = [r for r in results if r.outcome.value not in ("ok", "ok_with_warnings")]
        assert not bad, bad[:3]
        return len(paths) / elapsed
    finally:
        services.close()


def _bare_rate(paths: list[Path], media_type: str) -> float:
    """The registered extractor on the same files, in this process (no worker, no archive)."""
    from ingest.model import ExtractContext
    from ingest.workers import extract

    t0 = time.perf_counter()
    for p in paths:
        extract(p, media_type, ExtractContext())
    return len(paths) / (time.perf_counter() - t0)


def _bare_tesserocr_s_per_page(paths: list[Path]) -> float:
    """Single-pass tesserocr (chi_sim+eng) on the decoded pages, for context."""
    import tesserocr  # type: ignore[import-untyped]
    from PIL import Image

    from ingest.ocr import find_tessdata

    images = [Image.open(p).convert("L") for p in paths]
    with tesserocr.PyTessBaseAPI(path=str(find_tessdata()), lang="chi_sim+eng") as api:
        api.SetImage(images[0])
        api.GetUTF8Text()
        t0 = time.perf_counter()
        for img in images:
            api.SetImage(img)
            api.GetUTF8Text()
        return (time.perf_counter() - t0) / len(images)


def _support(sample: Path) -> tuple[str, str | None]:
    """The detected media type and why it cannot be read (None: it can)."""
    from ingest.detect import detect_media_type
    from ingest.errors import UnsupportedFormatError
    from ingest.extractors import extractor_for

    media_type = detect_media_type(sample)
    try:
        extractor_for(media_type)
    except UnsupportedFormatError:
        return media_type, f"no extractor registered for {media_type}"
    except Exception as exc:  # noqa: BLE001 - an extractor module being written, say
        return media_type, f"extractor for {media_type} cannot be loaded ({type(exc).__name__}: {exc})"
    return media_type, None


def _measure(name: str, tmp: Path, count: int) -> dict[str, object]:
    from ingest.model import ExtractContext
    from ingest.workers import extract

    folder = tmp / name
    folder.mkdir()
    files = MAKERS[name](count + 2, folder)
    warm, paths = files[:2], files[2:]
    try:
        media_type, unsupported = _support(files[0])
    except Exception as exc:  # noqa: BLE001 - the detector itself being edited
        media_type, unsupported = "?", f"cannot detect ({type(exc).__name__}: {exc})"
    row: dict[str, object] = {"format": LABELS[name], "media_type": media_type, "docs": len(paths)}
    if unsupported:
        return {**row, "supported": False, "reason": unsupported}
    try:
        extract(warm[0], media_type, ExtractContext())  # imports, models, fonts
        first = _bare_rate(paths, media_type)
        one = _pipeline_rate(tmp, warm, paths, 1)
        two = _pipeline_rate(tmp, warm, paths, 2)
        bare = max(first, _bare_rate(paths, media_type))
    except Exception as exc:  # noqa: BLE001 - one format's failure must not hide the others
        return {**row, "supported": True, "failed": f"{type(exc).__name__}: {str(exc)[:300]}"}
    row.update(supported=True, docs_per_s_1_worker=one, docs_per_s_2_workers=two, docs_per_s_per_core=two / 2,
               bare_docs_per_s=bare, ratio_to_bare=(two / 2) / bare, ratio_1_worker_to_bare=one / bare)
    if name == "tiff":
        row["bare_tesserocr_s_per_page"] = _bare_tesserocr_s_per_page(paths)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=200, help="documents per format (not scanned pages)")
    ap.add_argument("--pages", type=int, default=12, help="scanned TIFF pages (OCR is slow)")
    ap.add_argument("--formats", default=",".join(FORMATS), help=f"comma-separated, of: {','.join(FORMATS)}")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    chosen = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in MAKERS]
    if unknown:
        ap.error(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    report: dict[str, object] = {"cores": os.cpu_count(), "load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for name in chosen:
            report[name] = _measure(name, tmp, args.pages if name == "tiff" else args.docs)
    report["load_after"] = os.getloadavg()[0]
    tiff = report.get("tiff")
    if isinstance(tiff, dict) and tiff.get("supported") and "failed" not in tiff:
        # The keys of the former scanned-page report: the 1-worker pipeline against the same engine direct.
        report["scanned"] = {
            "pages": tiff["docs"], "pipeline_s_per_page": 1 / tiff["docs_per_s_1_worker"],
            "engine_s_per_page": 1 / tiff["bare_docs_per_s"], "bare_tesserocr_s_per_page": tiff["bare_tesserocr_s_per_page"],
            "ratio_to_engine": tiff["bare_docs_per_s"] / tiff["docs_per_s_1_worker"],
            "ratio_to_bare_single_pass": (1 / tiff["docs_per_s_1_worker"]) / tiff["bare_tesserocr_s_per_page"],
        }
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return
    print(f"{os.cpu_count()} cores, load {report['load_before']:.1f} before, {report['load_after']:.1f} after "
          "(documents/second; per core = 2 workers / 2; ratio = per core / bare extraction)")
    print(f"{'format':20} {'1 worker':>9} {'2 workers':>10} {'per core':>9} {'bare':>9} {'ratio':>7}")
    for name in chosen:
        r = report[name]
        assert isinstance(r, dict)
        if not r["supported"]:
            print(f"{r['format']:20} not supported: {r['reason']}")
            continue
        if "failed" in r:
            print(f"{r['format']:20} failed: {r['failed']}")
            continue
        print(f"{r['format']:20} {r['docs_per_s_1_worker']:9.1f} {r['docs_per_s_2_workers']:10.1f} "
              f"{r['docs_per_s_per_core']:9.1f} {r['bare_docs_per_s']:9.1f} {r['ratio_to_bare']:7.2f}")
    s = report.get("scanned")
    if isinstance(s, dict):
        print(f"scanned pages, 1 worker: {s['pipeline_s_per_page']:.2f} s/page, same engine direct {s['engine_s_per_page']:.2f} "
              f"s/page (overhead {100 * (s['ratio_to_engine'] - 1):.1f}%); bare single-pass tesserocr "
              f"{s['bare_tesserocr_s_per_page']:.2f} s/page")


if __name__ == "__main__":
    main()
