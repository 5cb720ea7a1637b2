"""The cost of sealed fields on the pages that list and count dossiers (issue #12).

Usage: .venv/bin/python benchmarks/sealed_pages.py [--dossiers 500] [--requests 20] [--rounds 3] [--json]

Builds an embedded archive (SQLite, local vault, FTS5) of ``--dossiers`` registered dossiers, each
with a complainant, contact, facts and one small document, spread over two departments, three
categories and two months; then, in-process through Flask's test client as an archivist, times:

* ``list``:       ``GET /dossiers`` (every dossier of the caller's scope, matter and complainant shown);
* ``filter``:     ``GET /dossiers?state=registered&month=2026-11`` (a filtered list);
* ``statistics``: ``GET /reports?kind=monthly&month=2026-11`` (the monthly statistics page);
* ``register``:   ``GET /reports/register?from=2026-10-01&to=2026-11-30&format=csv`` (the register: every field of every dossier).

Two modes, interleaved round by round on the same data: ``sealed`` (as shipped) and ``clear``, where
``FieldSealer.open``/``open_list`` hand the stored value back untouched — what reading a column
cost before issue #12 (the page then shows ciphertext, which changes nothing measurable). Reported
per page: median ms of each mode and the ratio sealed / clear (target ≤ 1.20).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from records.access.identity import Identity, Role  # noqa: E402
from records.model import DocumentAnalysis, DocumentKind, Registration  # noqa: E402
from records.sealing import FieldSealer  # noqa: E402
from records.settings import load_settings  # noqa: E402
from web import create_app  # noqa: E402
from web.bootstrap import build_services, init_archive  # noqa: E402

PAGES = {
    "list": "/dossiers",
    "filter": "/dossiers?state=registered&month=2026-11",
    "statistics": "/reports?kind=monthly&month=2026-11",
    "register": "/reports/register?from=2026-10-01&to=2026-11-30&format=csv",
}
BEIJING = timezone(timedelta(hours=8))


def _seed(services, n: int) -> None:  # type: ignore[no-untyped-def]
    for k in range(n):
        received = datetime(2026, 10 + k % 2, 1 + k % 27, 9, tzinfo=BEIJING)
        info = services.records.register_complaint("bench", Registration(
            matter=f"律师拖延办理第{k}号", received_at=received, complainant=f"投诉人{k:04d}",
            complainant_contact=f"139{k:08d}", facts_and_reasons=f"承办律师三个月未联系 {k}", respondent=f"律所{k % 7}",
            department="法援科" if k % 2 else "律管科", category=("拖延", "收费", "态度")[k % 3],
            evidence=(f"收据{k}",)))
        body = f"投诉书 {k}".encode()
        services.records.file_document("bench", info.archive_number, body, kind=DocumentKind.COMPLAINT_LETTER,
                                       filename=f"投诉人{k:04d}.txt", media_type="text/plain",
                                       analysis=DocumentAnalysis(outcome="ok", text=body.decode()))


def _time(client, path: str, requests: int) -> float:  # type: ignore[no-untyped-def]
    took = []
    for _ in range(requests):
        t = time.perf_counter()
        r = client.get(path)
        took.append(time.perf_counter() - t)
        if r.status_code != 200:
            raise SystemExit(f"{path}: HTTP {r.status_code}")
    return statistics.median(took) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dossiers", type=int, default=500)
    ap.add_argument("--requests", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sealed_open, sealed_open_list = FieldSealer.open, FieldSealer.open_list

    def clear_open(self, dossier_id, field, stored):  # type: ignore[no-untyped-def]
        return stored

    def clear_open_list(self, dossier_id, field, stored):  # type: ignore[no-untyped-def]
        return tuple(stored or ())

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp) / "archive")
        init_archive(settings)
        services = build_services(settings)
        _seed(services, args.dossiers)
        services.access.add_user(Identity.operator("bench"), "archivist", Role.ARCHIVIST, password="correct horse battery 9")
        app = create_app(settings, services=services)
        client = app.test_client()
        with client.session_transaction() as s:
            s["user"] = "archivist"
            s["gen"] = services.access.session_generation("archivist")
        results: dict[str, dict[str, list[float]]] = {p: {"sealed": [], "clear": []} for p in PAGES}
        for _ in range(args.rounds):
            for mode in ("clear", "sealed"):
                FieldSealer.open = sealed_open if mode == "sealed" else clear_open  # type: ignore[method-assign]
                FieldSealer.open_list = sealed_open_list if mode == "sealed" else clear_open_list  # type: ignore[method-assign]
                for page, path in PAGES.items():
                    _time(client, path, 2)  # warm-up
                    results[page][mode].append(_time(client, path, args.requests))
        FieldSealer.open, FieldSealer.open_list = sealed_open, sealed_open_list  # type: ignore[method-assign]
        services.close()
    report = {page: {"clear_ms": round(statistics.median(m["clear"]), 2),
                     "sealed_ms": round(statistics.median(m["sealed"]), 2),
                     "ratio": round(statistics.median(m["sealed"]) / statistics.median(m["clear"]), 3)}
              for page, m in results.items()}
    if args.json:
        print(json.dumps({"dossiers": args.dossiers, "pages": report}, indent=2))
        return
    print(f"{args.dossiers} dossiers, median of {args.rounds} rounds x {args.requests} requests")
    for page, r in report.items():
        print(f"{page:12s} clear {r['clear_ms']:8.2f} ms   sealed {r['sealed_ms']:8.2f} ms   ratio {r['ratio']:.3f}")


if __name__ == "__main__":
    main()
