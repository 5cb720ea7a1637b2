"""The dated inventory report (ARC-6): one run's summary and findings as HTML, CSV and PDF.

Written beside the run's progress file, ``<data_dir>/reports/inventory/<run>/``, so the archive
keeps every inventory it has taken. Reports hold numbers, ids, hashes, counts and reasons only,
never document content: they may be printed, filed and shown to an auditor.
"""

from __future__ import annotations

import csv
import html
import io
import os
from pathlib import Path

from records.pdf_fonts import register_cjk_font
from retention.cells import safe_row
from retention.inventory import Finding, FindingKind, InventoryReport

__all__ = ["KIND_LABELS", "render_csv", "render_html", "render_pdf", "write_reports"]

# Bilingual labels: the archive department reads Chinese, auditors from elsewhere English.
KIND_LABELS: dict[FindingKind, str] = {
    FindingKind.MISSING_BLOB: "缺失 missing",
    FindingKind.CORRUPT: "损坏 corrupt",
    FindingKind.HASH_MISMATCH: "校验值不符 hash mismatch",
    FindingKind.KEY_UNUSABLE: "密钥不可用 key unusable",
    FindingKind.NO_ORIGINAL: "无原件 no original",
    FindingKind.NOT_INDEXED: "未编入索引 not indexed",
    FindingKind.INDEX_EXTRA: "索引多余 extra index entry",
    FindingKind.ORPHAN_BLOB: "孤立对象 orphan blob",
    FindingKind.UNSEALABLE: "无法封存 closed, cannot be sealed",
    FindingKind.NUMBER_GAP: "编号缺号 number gap",
}

_SUMMARY_LABELS = (
    ("run", "盘点批次 run"), ("actor", "执行人 operator"), ("backend", "存储 store"),
    ("started_at", "开始 started (UTC)"), ("finished_at", "完成 finished (UTC)"),
    ("objects_checked", "已查对象 catalogued objects"), ("shredded_skipped", "已销毁 shredded (not read)"),
    ("documents", "文件 documents"), ("store_keys", "存储对象 objects in the store"),
    ("series", "编号序列 number series"), ("resumed_from", "续查自 resumed from"),
    ("finding_count", "问题 findings"),
)
_COLUMNS = ("kind", "number", "object_kind", "ref", "detail")


def write_reports(report: InventoryReport, directory: Path) -> dict[str, Path]:
    """Write ``inventory-<run>.{html,csv,pdf}`` into ``directory``; returns format → path."""
    stem = f"inventory-{report.run_id}"
    out = {
        "html": _write(directory / f"{stem}.html", render_html(report).encode("utf-8")),
        "csv": _write(directory / f"{stem}.csv", render_csv(report).encode("utf-8-sig")),
        "pdf": _write(directory / f"{stem}.pdf", render_pdf(report)),
    }
    return out


def render_csv(report: InventoryReport) -> str:
    """One row per finding; written with a BOM so spreadsheet programs read the Chinese right."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run", *_COLUMNS])
    for f in report.findings:
        w.writerow(safe_row([report.run_id, *_row(f)]))  # store keys and details may come from outside
    return buf.getvalue()


def render_html(report: InventoryReport) -> str:
    e = html.escape
    summary = report.summary()
    head = "".join(f"<tr><th>{e(label)}</th><td>{e(str(summary[key]))}</td></tr>" for key, label in _SUMMARY_LABELS)
    counts = "".join(f"<tr><th>{e(KIND_LABELS[k])}</th><td>{summary['counts'][k.value]}</td></tr>" for k in FindingKind)
    rows = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in (_kind_label(f), *_row(f)[1:])) + "</tr>"
                   for f in report.findings)
    verdict = "无问题 — no findings" if report.ok else f"发现 {len(report.findings)} 个问题 — {len(report.findings)} findings"
    resumed = (f"<p>续查：本次自第 {report.resumed_from} 个对象起继续 (resumed from {report.resumed_from})</p>"
               if report.resumed_from else "")
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>清查盘点报告 Inventory {e(report.run_id)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin-bottom:1.5em}}
th,td{{border:1px solid #999;padding:.25em .6em;text-align:left;font-size:90%}}th{{background:#eee}}</style></head>
<body><h1>清查盘点报告 Inventory report {e(report.run_id)}</h1>
<p><strong>{e(verdict)}</strong></p>{resumed}
<table>{head}</table>
<h2>问题分类 Findings by kind</h2><table>{counts}</table>
<h2>问题清单 Findings</h2>
<table><tr><th>类别 kind</th><th>编号 number</th><th>对象 object</th><th>标识 id / key</th><th>说明 detail</th></tr>{rows}</table>
</body></html>
"""


def render_pdf(report: InventoryReport) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = register_cjk_font()
    title = ParagraphStyle("title", fontName=font, fontSize=15, leading=20)
    body = ParagraphStyle("body", fontName=font, fontSize=8, leading=10)
    summary = report.summary()

    def cell(text: str) -> Paragraph:
        return Paragraph(html.escape(text), body)

    def grid(rows: list[list[Paragraph]], widths: list[float], header: bool) -> Table:
        t = Table(rows, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
        style = [("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey))
        t.setStyle(TableStyle(style))
        return t

    story: list[object] = [Paragraph(html.escape(f"清查盘点报告 Inventory report {report.run_id}"), title), Spacer(1, 4 * mm)]
    story.append(grid([[cell(label), cell(str(summary[key]))] for key, label in _SUMMARY_LABELS]
                      + [[cell(KIND_LABELS[k]), cell(str(summary["counts"][k.value]))] for k in FindingKind],
                      [70 * mm, 80 * mm], header=False))
    story.append(Spacer(1, 6 * mm))
    rows = [[cell(h) for h in ("类别 kind", "编号 number", "对象 object", "标识 id / key", "说明 detail")]]
    rows += [[cell(c) for c in (_kind_label(f), *_row(f)[1:])] for f in report.findings]
    if len(rows) == 1:
        rows.append([cell("—"), cell("无问题 no findings"), cell(""), cell(""), cell("")])
    story.append(grid(rows, [42 * mm, 38 * mm, 18 * mm, 75 * mm, 94 * mm], header=True))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=12 * mm, title=f"Inventory {report.run_id}",
                            author="Dossier")
    doc.build(story)
    return buf.getvalue()


def _kind_label(f: Finding) -> str:
    return KIND_LABELS[f.kind]


def _row(f: Finding) -> list[str]:
    return [f.kind.value, f.number or "", f.object_kind or "", f.ref, f.detail]


def _write(path: Path, data: bytes) -> Path:
    # Complete or absent: a crash while rendering leaves no half report under the final name.
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path
