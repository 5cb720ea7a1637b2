"""Search quality: MRR@10, nDCG@10 and Recall@100 per query type, beside an OpenSearch baseline.

Usage::

    .venv/bin/python benchmarks/search_quality.py \\
        --corpus ../shared/search-eval/corpus.jsonl --queries ../shared/search-eval/queries-dev.jsonl \\
        --backend fts5 [--backend opensearch --url http://127.0.0.1:9200] [--baseline] [--json]

Each backend indexes the corpus (``id``, ``title``, ``text``, ``category``, ``language``) into a
fresh index through the real :class:`~search.interfaces.SearchIndex` code and answers every
query through the real query language (the query text escaped with
:func:`search.query.escape`, so a label is searched as words). The category is indexed as a
filter and facet only, never as searchable text, exactly like the baseline: otherwise a
category-name query would find its category's documents by the label itself.

The baseline (``--baseline``, needs ``--url``) is a plain OpenSearch index with the built-in
analysers, ``cjk`` for Chinese documents and ``standard`` for English ones, queried with a
``multi_match`` over title and text: what one gets out of the box.

Judgements: ``zh_category`` queries are judged only on the labelled Chinese messages, so they
are searched within that pool (as an access scope / terms filter: the same for every system);
all other queries search the whole corpus. Gains are binary; nDCG's ideal ranking has
min(|relevant|, 10) relevant documents.

Targets (the issue): every system of ours at least matches the baseline on every query type and
beats it on ``zh_known_item``.

Cross-validation (``--folds K``, issue #14 item 4): every tunable ranking setting of ours
(:data:`GRID`: word segmentation on or off, the whole-query phrase boost, the extra query
stop words, the title weight) is
tried; the queries are split into K folds by a hash of their type and text (deterministic, the
same on every run and machine); for each fold the setting with the best mean nDCG@10 over the
query types on the *other* folds is chosen, and that fold is scored with it. The table then
shows only held-out scores, and the settings each fold chose. The baseline has nothing to tune.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from records.access.model import AccessScope  # noqa: E402
from search.interfaces import SearchIndex  # noqa: E402
from search.model import IndexEntry, SearchQuery  # noqa: E402
from search.query import escape  # noqa: E402

EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "search-eval"
TYPES = ("zh_known_item", "zh_category", "cfpb_product", "cfpb_issue", "cfpb_sub_issue")


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _received_on(raw: object) -> date:
    text = str(raw or "")
    for fmt in ("%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return date(2020, 1, 1)


def corpus_entries(docs: Iterable[dict[str, Any]]) -> Iterator[IndexEntry]:
    """The corpus as index entries: one dossier per document, the id used for every number."""
    for doc in docs:
        received = _received_on(doc.get("date"))
        yield IndexEntry(
            document_id=doc["id"], dossier_id=doc["id"], archive_number=doc["id"], item_number=doc["id"],
            title=doc.get("title") or "", text=doc.get("text") or "", kind="complaint_letter", channel="online",
            state="closed", received_on=received, filed_at=datetime(received.year, received.month, received.day,
                                                                    tzinfo=timezone.utc),
            category=doc.get("category"), language=doc.get("language"),
        )


class System(Protocol):
    label: str

    def build(self, docs: list[dict[str, Any]]) -> None: ...
    def ranked(self, query: str, pool: frozenset[str] | None, depth: int) -> list[str]: ...
    def close(self) -> None: ...


class OurIndex:
    """One of our backends, through the SearchIndex protocol."""

    def __init__(self, label: str, index: SearchIndex) -> None:
        self.label = label
        self.index = index

    def build(self, docs: list[dict[str, Any]]) -> None:
        self.index.rebuild(corpus_entries(docs))
        self.index.refresh()

    def ranked(self, query: str, pool: frozenset[str] | None, depth: int) -> list[str]:
        scope = AccessScope.everything() if pool is None else AccessScope(dossier_ids=pool)
        page = self.index.search(SearchQuery(escape(query), page_size=depth, facets=False), scope)
        return [hit.document_id for hit in page.hits]

    def close(self) -> None:
        drop = getattr(self.index, "drop", None)   # server backends: remove the benchmark's indices
        if drop is not None:
            drop()
        self.index.close()


class OpenSearchBaseline:
    """Out-of-the-box OpenSearch: ``cjk`` analyser for Chinese, ``standard`` for English."""

    label = "baseline"

    def __init__(self, url: str) -> None:
        from opensearchpy import OpenSearch

        self.client = OpenSearch(url, timeout=120)
        self.index = f"baseline-{os.getpid()}-{int(time.time())}"

    def build(self, docs: list[dict[str, Any]]) -> None:
        from opensearchpy import helpers

        text = {"type": "text"}
        props = {"title_zh": {**text, "analyzer": "cjk"}, "text_zh": {**text, "analyzer": "cjk"},
                 "title_en": {**text, "analyzer": "standard"}, "text_en": {**text, "analyzer": "standard"},
                 "id": {"type": "keyword"}}
        self.client.indices.create(index=self.index, body={"settings": {"number_of_shards": 1, "number_of_replicas": 0},
                                                           "mappings": {"properties": props}})
        def lang(doc: dict[str, Any]) -> str:
            return "zh" if doc.get("language") == "zh" else "en"

        actions = ({"_index": self.index, "_id": d["id"], "_source": {
            "id": d["id"], f"title_{lang(d)}": d.get("title") or "", f"text_{lang(d)}": d.get("text") or ""}}
            for d in docs)
        helpers.bulk(self.client, actions, chunk_size=1000, request_timeout=120)
        self.client.indices.refresh(index=self.index)

    def ranked(self, query: str, pool: frozenset[str] | None, depth: int) -> list[str]:
        match = {"multi_match": {"query": query, "fields": ["title_zh", "text_zh", "title_en", "text_en"]}}
        body: dict[str, Any] = {"size": depth, "_source": False, "query": match}
        if pool is not None:
            body["query"] = {"bool": {"must": [match], "filter": [{"terms": {"id": sorted(pool)}}]}}
        return [h["_id"] for h in self.client.search(index=self.index, body=body)["hits"]["hits"]]

    def close(self) -> None:
        self.client.indices.delete(index=self.index, ignore_unavailable=True)
        self.client.close()


def metrics(ranking: list[str], relevant: set[str]) -> tuple[float, float, float]:
    """(reciprocal rank in the top 10, nDCG@10, recall@100) with binary gains."""
    rr = next((1.0 / (i + 1) for i, d in enumerate(ranking[:10]) if d in relevant), 0.0)
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(ranking[:10]) if d in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
    recall = len(set(ranking[:100]) & relevant) / len(relevant)
    return rr, dcg / ideal if ideal else 0.0, recall


def evaluate(system: System, queries: list[dict[str, Any]], pools: dict[str, frozenset[str]]) -> dict[str, dict[str, float]]:
    return summarise(queries, [metrics(system.ranked(q["query"], pools.get(q["type"]), 100), set(q["relevant_ids"]))
                               for q in queries])


# The settings --folds chooses among: (segment_words, whole_query_phrase, query_stop_words, title weight).
Setting = tuple[bool, int, bool, float]
GRID: tuple[Setting, ...] = tuple(itertools.product((False, True), (0, 1), (False, True), (2.0, 4.0)))


def apply_setting(setting: Setting | None) -> None:
    """Put one tuning setting into effect for every backend of ours (None: the shipped defaults)."""
    from search import plan
    from search.backends import _es_common, fts5

    defaults = apply_setting.__dict__.setdefault("defaults", (plan.TUNING, fts5.WEIGHTS, _es_common.FIELDS))
    if setting is None:
        plan.TUNING, fts5.WEIGHTS, _es_common.FIELDS = defaults
        return
    segment, phrase, stops, title = setting
    plan.TUNING = plan.Tuning(segment_words=segment, whole_query_phrase=phrase, query_stop_words=stops)
    fts5.WEIGHTS = (title, *defaults[1][1:])
    _es_common.FIELDS = tuple(f"{f.split('^')[0]}^{title:g}" if f.startswith("title_") else f for f in defaults[2])


def fold_of(query: dict[str, Any], folds: int) -> int:
    """A query's fold: a hash of its type and text, never its position or its judgements."""
    digest = hashlib.sha256(f"{query['type']}\x00{query['query']}".encode()).hexdigest()
    return int(digest[:12], 16) % folds


PerQuery = list[tuple[float, float, float]]


def per_query(system: System, queries: list[dict[str, Any]], pools: dict[str, frozenset[str]]) -> PerQuery:
    return [metrics(system.ranked(q["query"], pools.get(q["type"]), 100), set(q["relevant_ids"])) for q in queries]


def summarise(queries: list[dict[str, Any]], scores: PerQuery) -> dict[str, dict[str, float]]:
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for q, (rr, ndcg, recall) in zip(queries, scores):
        for t in (q["type"], "all"):
            s = sums[t]
            s[0] += 1
            s[1] += rr
            s[2] += ndcg
            s[3] += recall
    return {t: {"n": int(s[0]), "mrr@10": s[1] / s[0], "ndcg@10": s[2] / s[0], "recall@100": s[3] / s[0]}
            for t, s in sums.items()}


def objective(queries: list[dict[str, Any]], scores: PerQuery, chosen: Iterable[int]) -> float:
    """Mean over query types of the mean nDCG@10 of the queries ``chosen`` (each type counts once)."""
    by_type: dict[str, list[float]] = defaultdict(list)
    for i in chosen:
        by_type[queries[i]["type"]].append(scores[i][1])
    return sum(sum(v) / len(v) for v in by_type.values()) / len(by_type) if by_type else 0.0


def cross_validate(system: System, queries: list[dict[str, Any]], pools: dict[str, frozenset[str]],
                   folds: int) -> dict[str, Any]:
    """Held-out scores of ``system`` over ``folds`` folds, tuning on the others (see the module doc)."""
    runs: dict[Setting, PerQuery] = {}
    try:
        for setting in GRID:
            apply_setting(setting)
            runs[setting] = per_query(system, queries, pools)
    finally:
        apply_setting(None)
    fold = [fold_of(q, folds) for q in queries]
    held_out: PerQuery = [(0.0, 0.0, 0.0)] * len(queries)
    chosen: list[str] = []
    for k in range(folds):
        train = [i for i, f in enumerate(fold) if f != k]
        best = max(GRID, key=lambda s: objective(queries, runs[s], train))   # first of equals: GRID order
        chosen.append(_name(best))
        for i, f in enumerate(fold):
            if f == k:
                held_out[i] = runs[best][i]
    everything = max(GRID, key=lambda s: objective(queries, runs[s], range(len(queries))))
    return {"types": summarise(queries, held_out), "chosen_per_fold": chosen, "chosen_on_all": _name(everything),
            "settings": {_name(s): summarise(queries, r)["all"] for s, r in runs.items()}}


def _name(setting: Setting) -> str:
    segment, phrase, stops, title = setting
    return f"segment={'on' if segment else 'off'} phrase={phrase} stops={'more' if stops else 'index'} title={title:g}"


def make_system(backend: str, url: str | None, workdir: Path) -> System:
    key = os.urandom(32)
    if backend == "fts5":
        from search.backends.fts5 import Fts5SearchIndex

        return OurIndex("fts5", Fts5SearchIndex(workdir / "fts5", key=key))
    if backend == "baseline":
        assert url
        return OpenSearchBaseline(url)
    from search.backends.elastic import connect_index

    if not url:
        raise SystemExit(f"--backend {backend} needs --url")
    return OurIndex(backend, connect_index(url, index_prefix=f"quality-{os.getpid()}", flavour=backend))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=EVAL_DIR / "corpus.jsonl")
    ap.add_argument("--queries", type=Path, default=EVAL_DIR / "queries-dev.jsonl")
    ap.add_argument("--backend", action="append", choices=["fts5", "opensearch", "elasticsearch"])
    ap.add_argument("--url", help="OpenSearch/Elasticsearch URL (server backends and the baseline)")
    ap.add_argument("--baseline", action="store_true", help="also run the out-of-the-box OpenSearch baseline")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--folds", type=int, default=0,
                    help="cross-validate our tunable settings over K folds and report held-out scores only")
    args = ap.parse_args(argv)
    backends = args.backend or ["fts5"]
    if args.baseline or "opensearch" in backends:
        if not args.url:
            ap.error("the baseline and the opensearch backend need --url")
        backends = backends + (["baseline"] if "baseline" not in backends else [])
    docs = load_jsonl(args.corpus)
    queries = load_jsonl(args.queries)
    labelled_zh = frozenset(d["id"] for d in docs if d.get("language") == "zh" and d.get("labelled"))
    pools = {"zh_category": labelled_zh}
    results: dict[str, Any] = {"corpus": str(args.corpus), "queries": str(args.queries), "documents": len(docs),
                               "systems": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            system = make_system(backend, args.url, Path(tmp))
            try:
                t0 = time.perf_counter()
                system.build(docs)
                build_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                if args.folds > 1 and system.label != "baseline":
                    cv = cross_validate(system, queries, pools, args.folds)
                    results["systems"][system.label] = {"build_seconds": round(build_s, 1),
                                                        "query_seconds": round(time.perf_counter() - t0, 1), **cv}
                    continue
                per_type = evaluate(system, queries, pools)
                results["systems"][system.label] = {"build_seconds": round(build_s, 1),
                                                    "query_seconds": round(time.perf_counter() - t0, 1),
                                                    "types": per_type}
            finally:
                system.close()
    if args.json:
        print(json.dumps(results, indent=1, ensure_ascii=False))
    else:
        print_table(results)
    return 0


def print_table(results: dict[str, Any]) -> None:
    systems = list(results["systems"])
    print(f"{results['documents']} documents; MRR@10 / nDCG@10 / Recall@100 per query type")
    header = f"{'type':<16}{'n':>4}  " + "  ".join(f"{s:^23}" for s in systems)
    print(header)
    print("-" * len(header))
    for t in (*TYPES, "all"):
        cells = []
        n = 0
        for s in systems:
            m = results["systems"][s]["types"].get(t)
            if m is None:
                cells.append(f"{'-':^23}")
                continue
            n = m["n"]
            cells.append(f"{m['mrr@10']:.3f} {m['ndcg@10']:.3f} {m['recall@100']:.3f}".center(23))
        print(f"{t:<16}{n:>4}  " + "  ".join(cells))
    for s in systems:
        r = results["systems"][s]
        print(f"{s}: built in {r['build_seconds']} s, queries answered in {r['query_seconds']} s")
        if "chosen_per_fold" in r:
            print(f"  held-out scores; settings chosen per fold: {'; '.join(r['chosen_per_fold'])}")
            print(f"  chosen on all queries (what to ship): {r['chosen_on_all']}")


if __name__ == "__main__":
    raise SystemExit(main())
