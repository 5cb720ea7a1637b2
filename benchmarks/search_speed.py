"""Search speed: p50/p95 latency per query class, index size and build rate, per backend.

Usage::

    .venv/bin/python benchmarks/search_speed.py --docs 100000 --backend fts5 \\
        [--backend opensearch --url http://127.0.0.1:9200] [--json]

The corpus is the real evaluation corpus (``shared/search-eval/corpus.jsonl``) scaled to
``--docs`` documents by deterministic re-mixing: document *i* beyond the real ones takes the
language of real document ``i mod n`` and is stitched together from sentences of other real
documents of that language, picked by a seeded generator, so term statistics stay realistic
and every run builds the same corpus. Catalogue facts (kind, channel, state, department,
category, receipt date over 2019–2026) are drawn the same way.

Query classes (a fixed, seeded sample of each, drawn from the real corpus's statistics):

* ``zh_rare_2char``: two-character Chinese words in 0.02–0.1 % of the Chinese documents;
* ``zh_common_2char``: two-character words in 5–30 % of them (问题, 反映 …);
* ``phrase``: quoted Chinese phrases of 4–6 characters and English word pairs taken from texts
  (no stop words, no ``XXXX`` redaction marks);
* ``en_word``: single English words of middling frequency;
* ``filtered``: a common Chinese word with ``kind:``, ``channel:`` and a ``received:`` year;
* ``zh_subject``: a real message title typed as one long term (loose matching; what users paste).

Each query asks for the first page of 20 hits with facets and snippets, as the UI does, after
one warm-up pass over the class. Latency is wall time around ``SearchIndex.search`` in this
process (for OpenSearch it includes the HTTP round trip and the client).

Targets (issue #14 item 1), for the embedded backend: p95 ≤ 50 ms for every target class at
100,000 documents and ≤ 100 ms at 1,000,000; ``zh_subject`` ≤ 100 ms at 100,000; a build of
≥ 2,000 documents per second. The corpus is streamed into the index (never held whole), so a
1,000,000-document run needs little memory; the build rate is reported both as measured and
without the time spent generating the synthetic corpus (``build_docs_per_second`` excludes it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from records.access.model import AccessScope  # noqa: E402
from search.analysis import STOP_WORDS, is_cjk, normalize  # noqa: E402
from search.interfaces import SearchIndex  # noqa: E402
from search.model import IndexEntry, SearchQuery  # noqa: E402
from search_quality import EVAL_DIR, load_jsonl  # noqa: E402

TARGET_P95_MS = 50.0
TARGET_CLASSES = ("zh_rare_2char", "zh_common_2char", "phrase", "en_word", "filtered")
TARGET_BUILD_DOCS_PER_SECOND = 2000


def target_ms(name: str, documents: int) -> float | None:
    """The p95 target of a query class at this corpus size (None: no target)."""
    if name == "zh_subject":
        return 100.0 if documents <= 100_000 else None
    if name not in TARGET_CLASSES:
        return None
    return TARGET_P95_MS if documents <= 100_000 else 2 * TARGET_P95_MS


class _Timed:
    """Wraps an iterator and adds up the time spent producing its items (the synthetic corpus)."""

    def __init__(self, items: Iterator[IndexEntry]) -> None:
        self.items = items
        self.seconds = 0.0

    def __iter__(self) -> Iterator[IndexEntry]:
        return self

    def __next__(self) -> IndexEntry:
        t0 = time.perf_counter()
        try:
            return next(self.items)
        finally:
            self.seconds += time.perf_counter() - t0
KINDS = ("complaint_letter", "email", "fax", "reply_letter", "decision", "investigation_minutes", "evidence")
CHANNELS = ("letter", "email", "phone", "online", "visit", "fax")
STATES = ("registered", "accepted", "investigating", "decided", "replied", "closed", "sealed")
DEPARTMENTS = ("法援处", "监督科", "律管处", "办公室")
_SENTENCE = re.compile(r"[^。！？!?\n.]+[。！？!?\n.]?")


def scaled_corpus(docs: list[dict[str, Any]], n: int, seed: int = 7) -> Iterator[IndexEntry]:
    """``n`` index entries: the real documents first, then deterministic re-mixes of them."""
    by_language: dict[str, list[list[str]]] = {}
    for d in docs:
        by_language.setdefault(d.get("language") or "en", []).append(_SENTENCE.findall(d.get("text") or ""))
    titles = {lang: [d.get("title") or "" for d in docs if (d.get("language") or "en") == lang] for lang in by_language}
    rng = random.Random(seed)
    start = date(2019, 1, 1)
    sentence_counts = [max(1, len(_SENTENCE.findall(d.get("text") or ""))) for d in docs]
    for i in range(n):
        base = docs[i % len(docs)]
        lang = base.get("language") or "en"
        if i < len(docs):
            title, text = base.get("title") or "", base.get("text") or ""
        else:
            pool = by_language[lang]
            count = sentence_counts[i % len(docs)]
            text = "".join(rng.choice(rng.choice(pool) or [""]) for _ in range(count))
            title = rng.choice(titles[lang])
        received = start + timedelta(days=rng.randrange(8 * 365))
        yield IndexEntry(
            document_id=f"d{i:07d}", dossier_id=f"s{i // 3:07d}", archive_number=f"{received:%y%m}-{i // 3:06d}",
            item_number=f"{received:%y%m}-{i // 3:06d}-{i % 3 + 1:02d}", title=title, text=text,
            kind=rng.choice(KINDS), channel=rng.choice(CHANNELS), state=rng.choice(STATES), received_on=received,
            filed_at=datetime(received.year, received.month, received.day, tzinfo=timezone.utc),
            category=base.get("category"), department=rng.choice(DEPARTMENTS), language=lang,
        )


def query_classes(docs: list[dict[str, Any]], per_class: int, seed: int = 11) -> dict[str, list[str]]:
    """Seeded samples of each query class, from the real corpus's document frequencies."""
    rng = random.Random(seed)
    zh = [normalize((d.get("title") or "") + " " + (d.get("text") or "")) for d in docs if d.get("language") == "zh"]
    en = [normalize(d.get("text") or "") for d in docs if d.get("language") != "zh"]
    bigram_df: Counter[str] = Counter()
    for text in zh:
        bigram_df.update({text[i:i + 2] for i in range(len(text) - 1) if is_cjk(text[i]) and is_cjk(text[i + 1])})
    word_df: Counter[str] = Counter()
    for text in en:
        word_df.update(set(re.findall(r"[a-z]{4,}", text)))

    def pick(pool: list[str]) -> list[str]:
        pool = sorted(pool)
        return rng.sample(pool, min(per_class, len(pool)))

    n_zh, n_en = len(zh), len(en)
    rare = pick([b for b, c in bigram_df.items() if 0.0002 * n_zh <= c <= max(3, 0.001 * n_zh)])
    common = pick([b for b, c in bigram_df.items() if 0.05 * n_zh <= c <= 0.30 * n_zh])
    words = pick([w for w, c in word_df.items() if 0.01 * n_en <= c <= 0.10 * n_en and w != "xxxx"])
    phrases: list[str] = []
    while len(phrases) < per_class:
        if len(phrases) % 2 == 0:
            text = rng.choice(zh)
            runs = [r for r in re.findall(r"[\u4e00-\u9fff]{6,}", text)]
            if runs:
                run = rng.choice(runs)
                size = rng.randint(4, 6)
                at = rng.randrange(len(run) - size + 1)
                phrases.append(f'"{run[at:at + size]}"')
        else:
            # Redaction marks (XXXX) and stop words are not what anyone types as a phrase.
            tokens = [t for t in re.findall(r"[a-z]{4,}", rng.choice(en)) if t != "xxxx" and t not in STOP_WORDS]
            if len(tokens) > 2:
                at = rng.randrange(len(tokens) - 1)
                phrases.append(f'"{tokens[at]} {tokens[at + 1]}"')
    filtered = [f"{term} kind:{rng.choice(KINDS)} channel:{rng.choice(CHANNELS)} received:{rng.randint(2019, 2026)}"
                for term in pick([b for b, c in bigram_df.items() if 0.05 * n_zh <= c <= 0.30 * n_zh])]
    subjects = pick([re.sub(r'[\s"()“”\[\]*-]', "", d["title"]) for d in docs
                     if d.get("language") == "zh" and len(d.get("title") or "") >= 8])
    return {"zh_rare_2char": rare, "zh_common_2char": common, "phrase": phrases, "en_word": words,
            "filtered": filtered, "zh_subject": subjects}


def measure(index: SearchIndex, queries: list[str]) -> dict[str, float]:
    scope = AccessScope.everything()
    for q in queries:                      # warm-up: page cache, statement cache, JIT on the server
        index.search(SearchQuery(q), scope)
    times: list[float] = []
    cpu: list[float] = []
    totals: list[int] = []
    for q in queries:
        c0, t0 = time.thread_time(), time.perf_counter()
        page = index.search(SearchQuery(q), scope)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
        totals.append(page.total)
    times.sort()
    cpu.sort()

    def p95(values: list[float]) -> float:
        return round(values[min(len(values) - 1, int(0.95 * len(values)))], 2)

    # CPU time of this thread: on a shared, loaded machine it is what the query costs on one core
    # (for the server backends it is only the client's share, so compare wall times across backends).
    return {"queries": len(times), "p50_ms": round(statistics.median(times), 2), "p95_ms": p95(times),
            "max_ms": round(times[-1], 2), "p50_cpu_ms": round(statistics.median(cpu), 2), "p95_cpu_ms": p95(cpu),
            "median_total": int(statistics.median(totals))}


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_backend(backend: str, url: str | None, docs: list[dict[str, Any]], n: int,
                classes: dict[str, list[str]], workdir: Path) -> dict[str, Any]:
    if backend == "fts5":
        from search.backends.fts5 import Fts5SearchIndex

        index: SearchIndex = Fts5SearchIndex(workdir / "fts5", key=os.urandom(32))
    else:
        from search.backends.elastic import connect_index

        if not url:
            raise SystemExit(f"--backend {backend} needs --url")
        index = connect_index(url, index_prefix=f"speed-{os.getpid()}", flavour=backend, timeout=120)
    try:
        corpus = _Timed(scaled_corpus(docs, n))
        c0, t0 = time.process_time(), time.perf_counter()
        built = index.rebuild(corpus)
        build_s = time.perf_counter() - t0
        build_cpu_s = time.process_time() - c0
        index.refresh()
        if backend == "fts5":
            size = _dir_size(workdir / "fts5")
        else:
            stats = index._call("indices.stats", index=index._alias)  # type: ignore[attr-defined]
            size = int(stats["_all"]["primaries"]["store"]["size_in_bytes"])
        result: dict[str, Any] = {"documents": built, "build_seconds": round(build_s, 1),
                                  "corpus_generation_seconds": round(corpus.seconds, 1),
                                  "build_docs_per_second": round(built / max(build_s - corpus.seconds, 1e-9)),
                                  "build_docs_per_second_with_generation": round(built / build_s),
                                  # CPU seconds of this process (fts5: the whole build; a server: the client only)
                                  "build_cpu_seconds": round(build_cpu_s, 1),
                                  "index_bytes": size, "classes": {}}
        for name, queries in classes.items():
            result["classes"][name] = measure(index, queries)
        return result
    finally:
        if backend != "fts5":
            index.drop()  # type: ignore[attr-defined]
        index.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--corpus", type=Path, default=EVAL_DIR / "corpus.jsonl")
    ap.add_argument("--backend", action="append", choices=["fts5", "opensearch", "elasticsearch"])
    ap.add_argument("--url", help="OpenSearch/Elasticsearch URL for the server backends")
    ap.add_argument("--per-class", type=int, default=100, help="queries per class")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    docs = load_jsonl(args.corpus)
    classes = query_classes(docs, args.per_class)
    out: dict[str, Any] = {"documents": args.docs,
                           "target_p95_ms": {name: target_ms(name, args.docs) for name in classes},
                           "target_build_docs_per_second": TARGET_BUILD_DOCS_PER_SECOND, "backends": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backend or ["fts5"]:
            try:
                out["backends"][backend] = run_backend(backend, args.url, docs, args.docs, classes, Path(tmp))
            except Exception as exc:  # one backend failing (a server out of heap) keeps the others' results
                out["backends"][backend] = {"error": f"{type(exc).__name__}: {exc}"}
            # Each backend's result as soon as it is known: a long run that fails later keeps it.
            print(json.dumps({backend: out["backends"][backend]}, ensure_ascii=False), file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps(out, indent=1, ensure_ascii=False))
        return 0
    for backend, r in out["backends"].items():
        if "error" in r:
            print(f"{backend}: failed: {r['error']}")
            continue
        print(f"{backend}: {r['documents']:,} documents built in {r['build_seconds']} s "
              f"({r['build_docs_per_second']:,} docs/s without the {r['corpus_generation_seconds']} s spent "
              f"generating the corpus; {r['build_docs_per_second_with_generation']:,} with it), "
              f"index {r['index_bytes'] / 2**20:.0f} MiB")
        print(f"  {'class':<17}{'n':>4}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'p95 cpu':>9}{'median hits':>13}  target")
        for name, m in r["classes"].items():
            target = target_ms(name, r["documents"])
            verdict = "-" if target is None else f"{'ok' if m['p95_ms'] <= target else 'MISSED'} (≤{target:g})"
            print(f"  {name:<17}{m['queries']:>4}{m['p50_ms']:>9}{m['p95_ms']:>9}{m['max_ms']:>9}{m['p95_cpu_ms']:>9}"
                  f"{m['median_total']:>13}  {verdict if backend == 'fts5' else '-'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
