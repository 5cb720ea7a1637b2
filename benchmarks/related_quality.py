"""Related-complaint finder quality: near-duplicate (copy/paste) detection of "similar text" (ACC-NO-01, STA-14).

What it measures: ONLY whether the "similar text" reason finds re-posted, re-punctuated or lightly
edited copies of a message (near-duplicates). It does not measure whether two *different* letters
concern the same matter, nor the same-complainant / same-respondent reasons.

Usage::

    .venv/bin/python benchmarks/related_quality.py [--corpus ../shared/search-eval/corpus.jsonl]
        [--backend fts5 | --backend opensearch --url http://127.0.0.1:9200] [--json]

How the labels are built (deterministic, and independent of the method under test):

1. The Chinese messages of the corpus (``language == "zh"``) are flattened by a rule of this
   script only — NFKC, lower case, every non-word character dropped (title + text) — not by
   the index's analyser nor by the finder's shingles.
2. Candidate pairs are *blocked* by exact shared substrings: the 12-character window at EVERY
   position is hashed (so a copy shifted by any number of characters shares its windows);
   windows held by 2..8 documents propose their pairs, and a pair proposed by at least 2
   windows is a candidate.
3. Each candidate pair is judged by :class:`difflib.SequenceMatcher` (``autojunk=False``) on the
   flattened texts: ratio ≥ :data:`POSITIVE_RATIO` (0.8) is a **positive**; ratio <
   :data:`HARD_RATIO` (0.5) is a **hard negative** (they share some sentences, a template, an
   address, but are different messages); pairs in between are left unlabelled.
4. **Random negatives**: as many random pairs of Chinese messages as there are positives
   (``random.Random(14)``), none of them a candidate pair.

The labelled pairs are split in two halves, deterministically (by a CRC-32 of the pair's ids):
the threshold is *chosen* on the tuning half (best F1) and precision/recall are *reported* on
the held-out half, so the shipped figure is not fitted to the pairs it is reported on.

Evaluation: the whole corpus is indexed into a fresh index through the real
:class:`~search.interfaces.SearchIndex` (fts5 by default). For every labelled pair (a, b), in
both directions, the finder (:func:`search.related.similar_in_index`) is run for a's text over
the whole corpus (a itself skipped); the pair is predicted related when b is returned with a
similarity ≥ the threshold. The HEADLINE is **open precision**: every pair the finder returns
for the held-out queries, labelled or not, judged by the same SequenceMatcher rule — what a
handler would actually see; the labelled precision/recall follow.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import re
import sys
import tempfile
import time
import unicodedata
import zlib
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from records.access.model import AccessScope  # noqa: E402
from search.interfaces import SearchIndex  # noqa: E402
from search.related import TEXT_THRESHOLD, similar_in_index  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search_quality import corpus_entries  # noqa: E402  (one dossier per message, as there)

EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "search-eval"
POSITIVE_RATIO = 0.8
HARD_RATIO = 0.5
WINDOW, MAX_HOLDERS, MIN_SHARED = 12, 8, 2
THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
_NON_WORD = re.compile(r"[\W_]+")


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def flat(doc: dict[str, Any]) -> str:
    """This script's own normal form of a message (the labels never see the index's analyser)."""
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", f"{doc.get('title') or ''}{doc.get('text') or ''}").lower())


def ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def build_labels(docs: list[dict[str, Any]], seed: int = 14) -> dict[str, list[tuple[str, str]]]:
    """{"positive", "hard_negative", "random_negative"}: sorted (id, id) pairs (see the module doc)."""
    zh = sorted((d for d in docs if d.get("language") == "zh"), key=lambda d: d["id"])
    texts = {d["id"]: flat(d) for d in zh}
    holders: dict[str, set[str]] = defaultdict(set)
    for doc_id, text in texts.items():
        for i in range(max(1, len(text) - WINDOW + 1)):  # every position: shifted copies too
            holders[text[i:i + WINDOW]].add(doc_id)
    shared: Counter[tuple[str, str]] = Counter()
    for ids in holders.values():
        if 1 < len(ids) <= MAX_HOLDERS:
            s = sorted(ids)
            shared.update((s[i], s[j]) for i in range(len(s)) for j in range(i + 1, len(s)))
    labels: dict[str, list[tuple[str, str]]] = {"positive": [], "hard_negative": [], "random_negative": []}
    candidates = sorted(p for p, n in shared.items() if n >= MIN_SHARED)
    for a, b in candidates:
        r = ratio(texts[a], texts[b])
        if r >= POSITIVE_RATIO:
            labels["positive"].append((a, b))
        elif r < HARD_RATIO:
            labels["hard_negative"].append((a, b))
    rng, ids, taken = random.Random(seed), [d["id"] for d in zh], set(candidates)
    while len(labels["random_negative"]) < len(labels["positive"]):
        a, b = sorted(rng.sample(ids, 2))
        if (a, b) not in taken:
            taken.add((a, b))
            labels["random_negative"].append((a, b))
    return labels


def open_index(backend: str, url: str | None, workdir: Path) -> SearchIndex:
    if backend == "fts5":
        from search.backends.fts5 import Fts5SearchIndex

        return Fts5SearchIndex(workdir / "fts5", key=os.urandom(32))
    if not url:
        raise SystemExit(f"--backend {backend} needs --url")
    from search.backends.elastic import connect_index

    return connect_index(url, index_prefix=f"related-{os.getpid()}", flavour=backend)


def evaluate(index: SearchIndex, docs: list[dict[str, Any]], labels: dict[str, list[tuple[str, str]]]) -> dict[str, Any]:
    by_id = {d["id"]: d for d in docs}

    def text_of(doc_id: str) -> str:
        d = by_id[doc_id]
        return f"{d.get('title') or ''}\n{d.get('text') or ''}"

    cases = [(a, b, kind, _half(x, y)) for kind, pairs in labels.items() for x, y in pairs
             for a, b in ((x, y), (y, x))]
    queries = sorted({a for a, _, _, _ in cases})
    found: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    for q in queries:
        hits = similar_in_index(index, AccessScope.everything(), text_of(q), lambda h: text_of(h.dossier_id),
                                threshold=0.0, skip=lambda h, q=q: h.dossier_id == q)
        found[q] = {h.dossier_id: s for h, s in hits}
    per_query_ms = 1000 * (time.perf_counter() - started) / max(1, len(queries))
    flats = {d["id"]: flat(d) for d in docs if d.get("language") == "zh"}
    judged: dict[tuple[str, str], bool] = {}

    def strict(a: str, b: str) -> bool:
        key = (min(a, b), max(a, b))
        if key not in judged:
            judged[key] = a in flats and b in flats and ratio(flats[a], flats[b]) >= POSITIVE_RATIO
        return judged[key]

    def scored(t: float, half: int) -> dict[str, Any]:
        tp = fp = fn = tn = 0
        for a, b, kind, h in cases:
            if h != half:
                continue
            predicted = found[a].get(b, -1.0) >= t
            if kind == "positive":
                tp, fn = tp + predicted, fn + (not predicted)
            else:
                fp, tn = fp + predicted, tn + (not predicted)
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"threshold": t, "tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision, "recall": recall,
                "f1": f1}

    thresholds = sorted({*THRESHOLDS, TEXT_THRESHOLD})
    chosen = max(thresholds, key=lambda t: (scored(t, TUNE)["f1"], t))  # ties: the stricter threshold
    held_queries = sorted({a for a, _, _, h in cases if h == HELD_OUT})
    rows = []
    for t in thresholds:
        row = scored(t, HELD_OUT)
        returned = [(a, b) for a in held_queries for b, s in found[a].items() if s >= t]
        open_ok = sum(strict(a, b) for a, b in returned)
        rows.append({**row, "shipped": t == TEXT_THRESHOLD, "chosen_on_tuning_half": t == chosen,
                     "returned": len(returned), "open_precision": open_ok / len(returned) if returned else 1.0})
    fps = {kind: sum(1 for a, b, k, h in cases if h == HELD_OUT and k == kind and found[a].get(b, -1.0) >= TEXT_THRESHOLD)
           for kind in ("hard_negative", "random_negative")}
    return {"labels": {k: len(v) for k, v in labels.items()}, "directed_cases": len(cases), "queries": len(queries),
            "held_out_queries": len(held_queries), "ms_per_lookup": round(per_query_ms, 1),
            "threshold_chosen_on_tuning_half": chosen, "false_positives_at_shipped_held_out": fps,
            "held_out_by_threshold": rows}


TUNE, HELD_OUT = 0, 1


def _half(a: str, b: str) -> int:
    """The half a labelled pair falls in (both directions alike): deterministic, by its ids."""
    return zlib.crc32(f"{min(a, b)}|{max(a, b)}".encode()) % 2


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--corpus", type=Path, default=EVAL_DIR / "corpus.jsonl")
    p.add_argument("--backend", choices=("fts5", "opensearch", "elasticsearch"), default="fts5")
    p.add_argument("--url", help="the search server (opensearch / elasticsearch)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    args = p.parse_args(argv)
    docs = load_jsonl(args.corpus)
    labels = build_labels(docs)
    with tempfile.TemporaryDirectory(prefix="related-quality-") as tmp:
        index = open_index(args.backend, args.url, Path(tmp))
        try:
            built = time.perf_counter()
            index.rebuild(corpus_entries(docs))
            index.refresh()
            build_s = time.perf_counter() - built
            result = {"backend": args.backend, "docs": len(docs), "build_s": round(build_s, 1),
                      **evaluate(index, docs, labels)}
        finally:
            drop = getattr(index, "drop", None)
            if drop is not None:
                drop()
            index.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    print(f"backend {result['backend']}: {result['docs']} documents indexed in {result['build_s']} s; "
          f"labels {result['labels']}; {result['directed_cases']} directed pairs from {result['queries']} query "
          f"documents; {result['ms_per_lookup']} ms per lookup")
    print(f"threshold chosen on the tuning half (best F1): {result['threshold_chosen_on_tuning_half']}; "
          f"figures below on the held-out half ({result['held_out_queries']} query documents)")
    print(f"{'threshold':>9} {'OPEN PREC.':>10} {'returned':>8} {'precision':>9} {'recall':>7} {'tp':>5} {'fp':>5} {'fn':>5}")
    for r in result["held_out_by_threshold"]:
        mark = (" <- shipped" if r["shipped"] else "") + (" <- chosen" if r["chosen_on_tuning_half"] else "")
        print(f"{r['threshold']:>9.2f} {r['open_precision']:>10.3f} {r['returned']:>8} {r['precision']:>9.3f} "
              f"{r['recall']:>7.3f} {r['tp']:>5} {r['fp']:>5} {r['fn']:>5}{mark}")
    print(f"false positives at the shipped threshold (held-out): {result['false_positives_at_shipped_held_out']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
