"""How fast `dossier reindex` rebuilds the search index from the vault (issue #14 item 1: 100,000 in ≤ 5 min).

Usage::

    .venv/bin/python benchmarks/reindex.py [--docs 100000] [--per-dossier 20] [--json] [--legacy]
        [--keep DIR]

``--legacy`` also times the read path as it was before issue #14 (one transaction and one
query per document), alone and as a whole reindex, in the same run. ``--keep DIR`` builds the
archive in DIR and keeps it; a later run with the same DIR tops it up to ``--docs`` and measures
again (filing is the slow part: about 80-180 documents a second on the shared 2-core machine).

It builds a throwaway embedded archive (SQLite catalogue, local file vault, FTS5 index — the
defaults `dossier init` makes) in a temporary directory and fills it THROUGH THE REAL FILING
CODE: ``RecordsService.register_complaint`` (sealed registration fields under a fresh dossier
key) and ``RecordsService.file_documents`` (group filing: every text document sealed in the vault
as an original and an extracted-text object, data keys wrapped under the dossier key, file names
sealed, one catalogue commit per dossier). Texts are the judged corpus in
``../shared/search-eval/corpus.jsonl`` (Chinese and English complaints), cycled with a serial so
every document is distinct. While filing, the index follows through the outbox as in production.

Then it times, in one run (the machine is shared and noisy: compare the ratios, not seconds):

1. ``read catalogue``: every live document's catalogue rows read in batches, sealed fields opened;
2. ``open texts``: every text object opened (its data key unwrapped under the per-dossier key,
   decrypted, hash-checked), on the same threads the reindex uses;
3. ``build entries``: ``SearchService.entry`` for every document;
4. ``bare index build``: ``SearchIndex.rebuild`` of exactly those entries, already in memory —
   the floor any reindex from the vault can reach;
5. ``reindex``: the whole command's path — ``Gate.reindex_source`` (decided and logged once,
   REINDEX) → ``RecordsService.filed_documents`` → ``SearchService.rebuild`` (with the outbox
   journal) — as ``dossier reindex`` runs it.

and prints docs/s and CPU seconds (this process, all threads) for each, and ``reindex / bare index
build`` in wall and CPU time (1.0 would mean reading the vault costs nothing beside writing the
index). The CPU ratio moves less with the neighbours' load than the wall ratio.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from contextlib import contextmanager
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

# The repository first: benchmarks/web.py would otherwise shadow the `web` package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from records.access.identity import Identity  # noqa: E402
from records.filing import Filing  # noqa: E402
from records.model import DocumentAnalysis, DocumentKind, FiledDocument, Registration  # noqa: E402
from records.settings import load_settings  # noqa: E402
from records.tables import DocumentRow, DossierRow  # noqa: E402
from web.bootstrap import Services, build_services, init_archive  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "search-eval" / "corpus.jsonl"
TARGET_SECONDS_100K = 300.0
_START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
_FALLBACK = ["投诉人反映律师未按约定出庭，请求退还代理费用并道歉。", "The lawyer missed the hearing and kept the fee."]


def _texts() -> list[tuple[str, str]]:
    """(title, text) of the judged corpus, or two fixed texts when the shared folder is absent."""
    if not CORPUS.exists():
        return [(t[:20], t) for t in _FALLBACK]
    out = []
    with CORPUS.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row.get("text"):
                out.append((str(row.get("title") or row["text"][:30]), str(row["text"])))
    return out


def populate(svc: Services, docs: int, per_dossier: int, *, report: bool = True, start: int = 0) -> float:
    """File ``docs`` text documents, ``per_dossier`` per dossier, through the real filing code; seconds taken.

    ``start``: documents filed by an earlier run (``--keep``), so their serials are not reused.
    """
    texts = itertools.cycle(_texts())
    t0 = time.perf_counter()
    filed = 0
    serial = start
    while filed < docs:
        title, _ = next(texts)
        # A dossier every 2 minutes from 5 January 2026: 100,000 documents end in mid-January.
        received = _START + timedelta(minutes=2 * (serial // per_dossier))
        info = svc.records.register_complaint("bench", Registration(
            matter=title[:60] or "投诉", received_at=received, complainant=f"张{serial % 97}",
            respondent=f"某律师事务所{serial % 31}", request="请求依法处理", category="lawyer-conduct"))
        group = []
        for _ in range(min(per_dossier, docs - filed)):
            _, text = next(texts)
            body = f"{text}\n[{serial}]"
            serial += 1
            group.append(Filing(source=body.encode("utf-8"), kind=DocumentKind.EVIDENCE, filename=f"doc{serial}.txt",
                                media_type="text/plain", received_at=received,
                                analysis=DocumentAnalysis(outcome="ok", text=body, languages=("zh",))))
        svc.records.file_documents("bench", info.archive_number, group)
        filed += len(group)
        if report and filed % 10_000 < per_dossier:
            print(f"  filed {filed:,} ({filed / (time.perf_counter() - t0):,.0f} docs/s)", file=sys.stderr)
    return time.perf_counter() - t0


def _document_count(svc: Services) -> int:
    with svc.uow.read() as s:
        return int(s.scalar(select(func.count()).select_from(DocumentRow)) or 0)


def legacy_documents(svc: Services) -> Iterator[FiledDocument]:
    """The read path before issue #14, for comparison: one query for the ids, then per document a
    transaction, its rows, its dossier's sealed registration and its text object (``filed_document``)."""
    with svc.uow.read() as s:
        ids = list(s.scalars(select(DocumentRow.id).join(DossierRow, DocumentRow.dossier_id == DossierRow.id)
                             .order_by(DossierRow.archive_number, DocumentRow.item_seq, DocumentRow.version)))
    for document_id in ids:
        filed = svc.records.filed_document("bench", document_id)
        if filed is not None:
            yield filed


class _Stages:
    """Wall and CPU seconds (this process, all threads) per stage: on a shared machine the CPU
    seconds move less with the neighbours' load than the wall seconds do."""

    def __init__(self) -> None:
        self.out: dict[str, float | int] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        yield
        self.out[f"{name}_s"] = time.perf_counter() - wall
        self.out[f"{name}_cpu_s"] = time.process_time() - cpu


def measure(svc: Services, *, legacy: bool = False) -> dict[str, float | int]:
    """Time the stages of a reindex one by one, then the whole command's path (see the module docstring)."""
    filing = svc.records.filing
    timer = _Stages()
    out = timer.out
    if legacy:
        with timer.stage("legacy_read"):
            sum(1 for _ in legacy_documents(svc))
        with timer.stage("legacy_reindex"):
            svc.search.rebuild(legacy_documents(svc))
    with timer.stage("read_catalogue"):
        pending = [p for batch in filing.catalogue_batches() for p in batch]
    with timer.stage("open_texts"):
        filed = list(filing.open_texts(pending))
    with timer.stage("build_entries"):
        entries = [svc.search.entry(f) for f in filed]
    index = svc.search._index  # the bare build: the same backend, without the outbox journal
    with timer.stage("bare_index_build"):
        index.rebuild(iter(entries))
    out["docs"] = len(entries)
    del pending, filed, entries
    who = Identity.operator("console:bench")
    with timer.stage("reindex"):
        documents = svc.gate.reindex_source(who, details={"auth": "console"})
        out["reindexed"] = svc.search.rebuild(documents)
    docs = max(int(out["docs"]), 1)
    for key in STAGES:
        if f"{key}_s" in out:
            out[f"{key}_docs_per_s"] = docs / max(out[f"{key}_s"], 1e-9)
    for suffix in ("s", "cpu_s"):
        tag = "" if suffix == "s" else "_cpu"
        out[f"reindex_over_bare_build{tag}"] = out[f"reindex_{suffix}"] / max(out[f"bare_index_build_{suffix}"], 1e-9)
        if legacy:
            out[f"legacy_reindex_over_bare_build{tag}"] = (out[f"legacy_reindex_{suffix}"]
                                                           / max(out[f"bare_index_build_{suffix}"], 1e-9))
    out["projected_100k_reindex_s"] = out["reindex_s"] * 100_000 / docs
    return out


STAGES = {"read_catalogue": "read catalogue", "open_texts": "open texts", "build_entries": "build entries",
          "bare_index_build": "bare index build", "reindex": "reindex (CLI path)",
          "legacy_read": "before #14: read", "legacy_reindex": "before #14: reindex"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--per-dossier", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--legacy", action="store_true",
                        help="also time the read path before issue #14 (per-document reads), alone and as a reindex")
    parser.add_argument("--keep", type=Path, help="build the archive here and keep it (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        settings = load_settings(data_dir=root / "archive")
        reuse = settings.data_dir.exists()  # --keep of an archive built by an earlier run: top it up, measure again
        if not reuse:
            init_archive(settings)
        svc = build_services(settings)
        try:
            have = _document_count(svc) if reuse else 0
            filling = populate(svc, args.docs - have, args.per_dossier, report=not args.json, start=have) \
                if have < args.docs else 0.0
            result = {"docs_requested": args.docs, "populate_s": filling, **measure(svc, legacy=args.legacy)}
        finally:
            svc.close()
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"archive: {result['docs']:,} documents (filed through the records core in {filling:,.0f} s)")
    for key, label in STAGES.items():
        if f"{key}_s" in result:
            print(f"  {label:<20} {result[f'{key}_s']:8.1f} s  {result[f'{key}_docs_per_s']:9,.0f} docs/s"
                  f"   cpu {result[f'{key}_cpu_s']:7.1f} s")
    for tag, what in (("", "wall"), ("_cpu", "cpu")):
        print(f"reindex / bare index build ({what}): {result['reindex_over_bare_build' + tag]:.2f}"
              + (f"  (before #14: {result['legacy_reindex_over_bare_build' + tag]:.2f})" if args.legacy else ""))
    print(f"100,000 documents at this rate: {result['projected_100k_reindex_s']:,.0f} s "
          f"(target ≤ {TARGET_SECONDS_100K:.0f} s)")


if __name__ == "__main__":
    main()
