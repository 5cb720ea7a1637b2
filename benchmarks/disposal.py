"""Disposal speed: crypto-shredding sealed dossiers, with and without the index compaction.

Usage: .venv/bin/python benchmarks/disposal.py [--dossiers 100] [--keep 200] [--text-kb 64]

Builds an embedded archive (SQLite, local vault, FTS5) of ``dossiers + keep`` sealed dossiers of
two documents each, destroys half of ``dossiers`` without and half with the final index rebuild,
and prints seconds per dossier; the rebuild's cost is shown beside a plain ``rebuild`` of the
same index (the baseline measured in the same run).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

# The repository first: benchmarks/web.py would otherwise shadow the `web` package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from records.model import DocumentAnalysis, DocumentKind, DossierState, Registration  # noqa: E402
from records.settings import load_settings  # noqa: E402
from retention.disposal import execute_disposition  # noqa: E402
from web.bootstrap import build_services, init_archive  # noqa: E402

_LIFECYCLE = (DossierState.ACCEPTED, DossierState.DECIDED, DossierState.REPLIED, DossierState.CLOSED,
              DossierState.SEALED)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dossiers", type=int, default=100)
    ap.add_argument("--keep", type=int, default=200)
    ap.add_argument("--text-kb", type=int, default=64)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp) / "archive")
        init_archive(settings)
        svc = build_services(settings)
        numbers = []
        for k in range(args.dossiers + args.keep):
            info = svc.records.register_complaint("bench", Registration(
                matter="拖延办理", received_at=datetime(2026, 11, 2, tzinfo=timezone.utc), complainant="张三"))
            for _ in range(2):
                body = (f"word{k} {uuid.uuid4().hex} " * (args.text_kb * 1024 // 40)).encode()
                svc.records.file_document("bench", info.archive_number, body, kind=DocumentKind.EVIDENCE,
                                          filename="x.txt", media_type="text/plain",
                                          analysis=DocumentAnalysis(outcome="ok", text=body.decode()))
            for state in _LIFECYCLE:
                svc.records.advance("bench", info.archive_number, state)
            numbers.append(info.archive_number)
        half = args.dossiers // 2
        for label, batch, compact in (("destroy, index entries removed", numbers[:half], False),
                                      ("destroy + index rebuilt", numbers[half:args.dossiers], True)):
            t = time.perf_counter()
            tools = svc.retention.disposition_desk.tools
            execute_disposition(tools, disposition_id=f"bench-{compact}", numbers=batch, action="destroy",
                                actor="bench", approvals=[], rules={}, out_dir=Path(tmp) / "certificates",
                                compact_index=compact)
            took = time.perf_counter() - t
            print(f"{label:32s} {len(batch):4d} dossiers  {took:7.2f} s  {took / len(batch) * 1000:7.1f} ms/dossier")
        t = time.perf_counter()
        svc.search.rebuild(svc.records.filed_documents("bench"))
        print(f"{'baseline: plain index rebuild':32s} {args.keep:4d} kept     {time.perf_counter() - t:7.2f} s")
        svc.close()


if __name__ == "__main__":
    main()
