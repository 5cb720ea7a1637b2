"""Web throughput and latency under gunicorn, with the access log on and replaced by a no-op.

Usage::

    .venv/bin/python benchmarks/web.py [--requests 300] [--concurrency 4] [--workers 4] [--rounds 1]
                                       [--checkpoint-seconds S] [--json]

A temporary embedded archive (SQLite catalogue, local vault, FTS5 index) is seeded with an
archivist, an API token and one dossier holding a text complaint (indexed, so search finds it)
and a 10 MiB PDF filed directly through ``records.file_document`` (no OCR). The real server then
runs as a subprocess: gunicorn (sync workers, no preload, like `dossier serve`) on 127.0.0.1 over
a small WSGI module written to the temporary directory that builds the services and calls
``create_app(settings, services=...)``. When ``DOSSIER_BENCH_NOOP_LOG=1`` (read only by that
module) it replaces ``services.access._log`` with an in-memory ``NoOpLog`` having the same
``append``/``checkpoint``/``entries`` methods, so nothing is appended to the access log.

This process drives it with ``--concurrency`` threads, ``--requests`` requests per endpoint after
a short warm-up, one connection per request (gunicorn's sync workers close after each):

* ``dossier``:  ``GET /api/v1/dossiers/<number>`` (one log entry: the view, naming the token);
* ``search``:   ``GET /api/v1/search?q=收费`` (one entry: the search);
* ``download``: ``GET /api/v1/documents/<item>/content`` of the 10 MiB PDF, read to the end and
  size-checked (one entry: the download).

Both modes run the same code paths and transactions (the dossier's and document's catalogue rows
are read in the transaction that logs them); the no-op logger only appends nothing, so the ratio
is the cost of the entries themselves: hashing, the insert and head update, and their commit.

Reported per endpoint and mode: requests/second, p50 and p95 latency (ms, full body read), and
the p95 ratio logged / no-op — the cost of access logging (target ≤ 1.10). Everything is bounded:
``--budget`` seconds per endpoint and mode, 60 s per request, 60 s for the server to come up; the
server's process group is killed at the end whatever happens.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PDF_BYTES = 10 * 1024 * 1024
SEARCH_Q = "收费"
NOOP_ENV = "DOSSIER_BENCH_NOOP_LOG"

_WSGI = '''
"""Benchmark-only WSGI entry (written by benchmarks/web.py): create_app over freshly built services."""
import os

from records.access.identity import LogEntry
from records.settings import load_settings
from web import create_app
from web.bootstrap import build_services


class NoOpLog:
    """Stands in for AccessLog: accepts every entry and keeps nothing."""

    def append(self, session, ev):
        return LogEntry(0, ev, prev_hash="", entry_hash="")

    def checkpoint(self, session):
        return None

    def entries(self, session, **kwargs):
        return []


settings = load_settings()
services = build_services(settings)
if os.environ.get("{noop}") == "1":
    services.access._log = NoOpLog()
app = create_app(settings, services=services)
'''.replace("{noop}", NOOP_ENV)


# --------------------------------------------------------------------------- seeding
def make_pdf(size: int) -> bytes:
    """A valid one-page PDF of about ``size`` bytes: the page shows one uncompressed RGB image of noise."""
    width = 2048
    height = max(1, size // (width * 3))
    pixels = os.urandom(width * height * 3)
    content = b"q 595 0 0 842 0 0 cm /Im0 Do Q"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im0 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 "
        b"/Length %d >>\nstream\n" % (width, height, len(pixels)) + pixels + b"\nendstream",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def seed(data_dir: Path) -> dict[str, object]:
    from records.access.identity import Identity, Role
    from records.model import DocumentKind, Registration
    from records.settings import load_settings
    from web.bootstrap import build_services, init_archive

    settings = load_settings(data_dir=data_dir, ingest={"workers": 1})
    init_archive(settings)
    services = build_services(settings)
    try:
        op = Identity.operator("benchmark")
        services.access.add_user(op, "archivist", Role.ARCHIVIST, password="correct horse 1")
        token = services.access.create_token(op, "archivist").token
        dossier = services.records.register_complaint("benchmark", Registration(
            matter="律师收费过高投诉", received_at=datetime.now(timezone.utc), complainant="张三",
            respondent="某律师事务所", department="A", category="收费"))
        number = dossier.archive_number
        text = services.ingest.ingest_bytes("benchmark", "投诉书：某律师事务所收费过高，要求退费。".encode("gb18030"),
                                            "投诉书.txt", dossier=number)
        pdf = make_pdf(PDF_BYTES)
        doc = services.records.file_document("benchmark", number, pdf, kind=DocumentKind.EVIDENCE,
                                             filename="evidence-10MiB.pdf", media_type="application/pdf")
        return {"token": token, "dossier": number, "item": doc.item_number, "pdf_size": len(pdf),
                "text_item": text.item_number}
    finally:
        services.close()


# --------------------------------------------------------------------------- server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn on 127.0.0.1 in its own process group; killed on exit."""

    def __init__(self, tmp: Path, data_dir: Path, *, noop: bool, workers: int,
                 checkpoint_seconds: float | None = None) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
        env.update(DOSSIER_DATA_DIR=str(data_dir), PYTHONPATH=os.pathsep.join([str(tmp), str(ROOT)]))
        if checkpoint_seconds is not None:
            env["DOSSIER_ACCESS__CHECKPOINT_SECONDS"] = str(checkpoint_seconds)
        if noop:
            env[NOOP_ENV] = "1"
        gunicorn = Path(sys.executable).with_name("gunicorn")
        cmd = [str(gunicorn) if gunicorn.exists() else sys.executable, *([] if gunicorn.exists() else ["-m", "gunicorn"]),
               "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), "--worker-class", "sync",
               "--timeout", "120", "--graceful-timeout", "5", "--log-level", "warning", "bench_wsgi:app"]
        self.log = (tmp / f"gunicorn-{'noop' if noop else 'logged'}.log").open("wb")
        self.proc = subprocess.Popen(cmd, env=env, cwd=tmp, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait_ready(self, timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log.name}")
            try:
                status, _, _ = request(self.port, "/api/v1/openapi.json", {}, timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"gunicorn not ready after {timeout:.0f} s; see {self.log.name}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
            except ProcessLookupError:
                pass
        self.log.close()


# --------------------------------------------------------------------------- client
def request(port: int, path: str, headers: dict[str, str], timeout: float = 60.0) -> tuple[int, int, float]:
    """GET ``path``; returns (status, body bytes, seconds until the body was fully read)."""
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        size = 0
        while chunk := resp.read(1024 * 1024):
            size += len(chunk)
        return resp.status, size, time.perf_counter() - t0
    finally:
        conn.close()


def drive(port: int, path: str, headers: dict[str, str], *, n: int, concurrency: int, budget: float,
          expect_size: int | None) -> dict[str, object]:
    for _ in range(min(10, n)):  # warm-up: every worker imports, opens the catalogue, fills caches
        status, size, _ = request(port, path, headers)
        if status != 200 or (expect_size is not None and size != expect_size):
            raise RuntimeError(f"GET {path}: {status}, {size} bytes")
    deadline = time.monotonic() + budget
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def one(_: int) -> None:
        nonlocal errors
        if time.monotonic() > deadline:
            return
        try:
            status, size, secs = request(port, path, headers)
            ok = status == 200 and (expect_size is None or size == expect_size)
        except OSError:
            ok, secs = False, 0.0
        with lock:
            if ok:
                latencies.append(secs)
            else:
                errors += 1

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(n)))
    wall = time.perf_counter() - t0
    latencies.sort()
    q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) >= 2 else latencies * 99
    return {"requests": len(latencies), "errors": errors, "seconds": round(wall, 2),
            "rps": round(len(latencies) / wall, 1) if wall else 0.0,
            "p50_ms": round(q[49] * 1000, 1) if q else None, "p95_ms": round(q[94] * 1000, 1) if q else None}


def log_entries(data_dir: Path) -> int:
    """Rows in the access log (embedded catalogue), to show the no-op run appended none."""
    import sqlite3

    with sqlite3.connect(data_dir / "catalogue.sqlite3") as db:
        return int(db.execute("SELECT count(*) FROM access_log").fetchone()[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=300, help="requests per endpoint and mode")
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    ap.add_argument("--budget", type=float, default=120.0, help="seconds per endpoint and mode at most")
    ap.add_argument("--rounds", type=int, default=1, help="logged/no-op rounds, interleaved; ratios of median p95s")
    ap.add_argument("--keep", action="store_true", help="keep the temporary archive (path on stderr)")
    ap.add_argument("--checkpoint-seconds", type=float, default=None,
                    help="sign a checkpoint once the last is this old (default: the archive's 60 s; a tiny "
                         "value such as 0.001 signs at nearly every entry: the cost of a zero tamper window)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="dossier-bench-web-"))
    rows: list[dict[str, object]] = []
    try:
        (tmp / "bench_wsgi.py").write_text(textwrap.dedent(_WSGI))
        data_dir = tmp / "archive"
        world = seed(data_dir)
        auth = {"Authorization": f"Bearer {world['token']}"}
        endpoints = [
            ("dossier", f"/api/v1/dossiers/{world['dossier']}", None),
            ("search", f"/api/v1/search?q={quote(SEARCH_Q)}", None),
            ("download", f"/api/v1/documents/{world['item']}/content", int(world["pdf_size"])),  # type: ignore[arg-type]
        ]
        for round_ in range(1, args.rounds + 1):
            # Alternate which mode goes first, so a machine getting busier or quieter favours neither.
            for mode in ("logged", "noop") if round_ % 2 else ("noop", "logged"):
                server = Server(tmp, data_dir, noop=mode == "noop", workers=args.workers,
                                checkpoint_seconds=args.checkpoint_seconds)
                try:
                    server.wait_ready()
                    for name, path, size in endpoints:
                        before = log_entries(data_dir)
                        stats = drive(server.port, path, auth, n=args.requests, concurrency=args.concurrency,
                                      budget=args.budget, expect_size=size)
                        rows.append({"endpoint": name, "mode": mode, "round": round_, **stats,
                                     "log_entries": log_entries(data_dir) - before})
                        print(f"  {round_} {mode:6} {name:8} done: {stats}", file=sys.stderr)
                finally:
                    server.stop()
    finally:
        if args.keep:
            print(f"archive kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    ratios = {}
    for name, _, _ in endpoints:
        # Several rounds (interleaved logged/no-op) damp a busy machine's noise: compare median p95s.
        p95 = {m: [float(r["p95_ms"]) for r in rows  # type: ignore[arg-type]
                   if r["endpoint"] == name and r["mode"] == m and r["p95_ms"]] for m in ("logged", "noop")}
        if p95["logged"] and p95["noop"]:
            ratios[name] = round(statistics.median(p95["logged"]) / statistics.median(p95["noop"]), 2)
    if args.json:
        print(json.dumps({"config": {"requests": args.requests, "concurrency": args.concurrency,
                                     "workers": args.workers, "rounds": args.rounds, "pdf_bytes": PDF_BYTES,
                                     "cpus": os.cpu_count()},
                          "rows": rows, "p95_ratio_logged_over_noop": ratios, "target_ratio": 1.10},
                         ensure_ascii=False, indent=2))
        return
    print(f"{'endpoint':9} {'mode':7} {'round':>5} {'ok':>5} {'err':>4} {'req/s':>8} {'p50 ms':>9} {'p95 ms':>9} "
          f"{'log rows':>9}")
    order = {name: n for n, (name, _, _) in enumerate(endpoints)}
    for r in sorted(rows, key=lambda r: (order[str(r["endpoint"])], str(r["mode"]), int(r["round"]))):  # type: ignore[call-overload]
        print(f"{r['endpoint']:9} {r['mode']:7} {r['round']:>5} {r['requests']:>5} {r['errors']:>4} {r['rps']:>8} "
              f"{r['p50_ms']:>9} {r['p95_ms']:>9} {r['log_entries']:>9}")
    print()
    for name, ratio in ratios.items():
        print(f"p95 logged/no-op {name:9} {ratio:.2f}  {'ok' if ratio <= 1.10 else 'ABOVE target 1.10'}"
              + (f"  (median of {args.rounds} rounds)" if args.rounds > 1 else ""))


if __name__ == "__main__":
    main()
