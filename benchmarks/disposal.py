"""Disposal cost per dossier at two archive sizes, in one run (issue #12 item 2; RET-05, RET-07).

Usage::

    .venv/bin/python benchmarks/disposal.py [--small 1000] [--large 10000] [--dossiers 20]
        [--with-rebuild] [--json]

For each size it builds an embedded archive (SQLite catalogue, local vault, FTS5 index) holding
that many filed documents — ``--dossiers`` sealed dossiers of two documents each, to be
destroyed, and the rest as filler dossiers of ten documents each, all filed through the records
core with short analysed texts — then destroys the sealed dossiers in one disposition through
:func:`retention.disposal.execute_disposition` (the path ``dossier dispose run`` takes) and
prints the cost per destroyed dossier (after one untimed disposition of one dossier, so the
first run does not also pay for imports and caches). The last line is the ratio large/small; the issue's
target is ≤ 1.5 (the cost must not grow with the archive).

``--with-rebuild`` also destroys a second batch with ``compact_index=True`` (the behaviour
before #12: a full index rebuild after every disposition), for comparison.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

# The repository first: benchmarks/web.py would otherwise shadow the `web` package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from records.access.model import AccessScope  # noqa: E402
from records.model import DocumentAnalysis, DocumentKind, DossierState, Registration  # noqa: E402
from records.settings import load_settings  # noqa: E402
from retention.disposal import execute_disposition  # noqa: E402
from web.bootstrap import Services, build_services, init_archive  # noqa: E402

TARGET_RATIO = 1.5
_LIFECYCLE = (DossierState.ACCEPTED, DossierState.DECIDED, DossierState.REPLIED, DossierState.CLOSED,
              DossierState.SEALED)
_FILLER_DOCS = 10
_TEXT = "投诉人反映律师未按约定出庭，请求退还代理费用并道歉。The lawyer missed the hearing."


def _dossier(svc: Services, tag: str, docs: int, *, seal: bool) -> str:
    info = svc.records.register_complaint("bench", Registration(
        matter="拖延办理", received_at=datetime(2026, 11, 2, tzinfo=timezone.utc), complainant="张三"))
    for i in range(docs):
        body = f"{tag}x{i} {_TEXT}".encode()
        svc.records.file_document("bench", info.archive_number, body, kind=DocumentKind.EVIDENCE,
                                  filename="x.txt", media_type="text/plain",
                                  analysis=DocumentAnalysis(outcome="ok", text=body.decode()))
    if seal:
        for state in _LIFECYCLE:
            svc.records.advance("bench", info.archive_number, state,
                                override_reason="benchmark: no materials" if state is DossierState.CLOSED else None)
    return info.archive_number


def _destroy(svc: Services, out_dir: Path, disposition_id: str, numbers: list[str], *, compact: bool) -> float:
    tools = svc.retention.disposition_desk.tools
    t = time.perf_counter()
    execute_disposition(tools, disposition_id=disposition_id, numbers=numbers, action="destroy", actor="bench",
                        approvals=[], rules={}, out_dir=out_dir, compact_index=compact)
    return time.perf_counter() - t


def measure(size: int, dossiers: int, *, with_rebuild: bool) -> dict[str, float | int]:
    """Build an archive of ``size`` documents, destroy ``dossiers`` sealed dossiers; ms per dossier."""
    batches = 2 if with_rebuild else 1
    doomed_docs = 2 * (dossiers * batches + 1)  # + 1: the warm-up disposition
    if size < doomed_docs:
        raise SystemExit(f"--small/--large must be at least {doomed_docs} documents")
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp) / "archive")
        init_archive(settings)
        svc = build_services(settings)
        try:
            t = time.perf_counter()
            doomed = [_dossier(svc, f"doomed{k}", 2, seal=True) for k in range(dossiers * batches + 1)]
            filler = size - doomed_docs
            for k in range(0, filler, _FILLER_DOCS):
                _dossier(svc, f"filler{k}", min(_FILLER_DOCS, filler - k), seal=False)
            built = time.perf_counter() - t
            _destroy(svc, Path(tmp) / "certificates", "bench-warm-up", [doomed.pop()], compact=False)
            took = _destroy(svc, Path(tmp) / "certificates", "bench-1", doomed[:dossiers], compact=False)
            result: dict[str, float | int] = {"documents": size, "build_s": round(built, 1),
                                              "ms_per_dossier": round(took / dossiers * 1000, 2)}
            if with_rebuild:
                took = _destroy(svc, Path(tmp) / "certificates", "bench-2", doomed[dossiers:], compact=True)
                result["ms_per_dossier_with_rebuild"] = round(took / dossiers * 1000, 2)
            # What the disposal promised: the destroyed texts cannot be found, the rest can.
            assert svc.search.search("bench", "doomed0x0", AccessScope.everything()).total == 0
            assert svc.search.search("bench", "律师", AccessScope.everything()).total == size - doomed_docs
            return result
        finally:
            svc.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--small", type=int, default=1_000, help="documents in the small archive")
    ap.add_argument("--large", type=int, default=10_000, help="documents in the large archive")
    ap.add_argument("--dossiers", type=int, default=20, help="sealed dossiers (2 documents each) destroyed per run")
    ap.add_argument("--with-rebuild", action="store_true",
                    help="also destroy a batch with compact_index=True (a full rebuild, as before #12)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    small = measure(args.small, args.dossiers, with_rebuild=args.with_rebuild)
    large = measure(args.large, args.dossiers, with_rebuild=args.with_rebuild)
    ratio = large["ms_per_dossier"] / small["ms_per_dossier"]
    report = {"small": small, "large": large, "ratio": round(ratio, 2), "target_ratio": TARGET_RATIO,
              "ok": ratio <= TARGET_RATIO}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0 if report["ok"] else 1
    for r in (small, large):
        line = f"{r['documents']:>7,} documents (built in {r['build_s']:6.1f} s)  {r['ms_per_dossier']:8.1f} ms/dossier"
        if "ms_per_dossier_with_rebuild" in r:
            line += f"   with full rebuild: {r['ms_per_dossier_with_rebuild']:8.1f} ms/dossier"
        print(line)
    print(f"ratio large/small: {ratio:.2f}  (target ≤ {TARGET_RATIO}: {'ok' if report['ok'] else 'MISSED'})")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
