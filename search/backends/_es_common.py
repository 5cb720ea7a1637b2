"""The one index mapping and the one query builder shared by Elasticsearch and OpenSearch.

Nothing here imports a client library: it builds plain request bodies (dicts) and reads plain
response dicts, so both clients send exactly the same requests.

Analysis: Python does what the servers cannot do out of the box, :func:`search.analysis.normalize`
(Traditional→Simplified with OpenCC, NFKC width folding, case and accent folding), on both the
documents and the queries, and it separates the words with spaces
(:func:`search.analysis.words_only`), so ``didn't`` and ``company's`` split at the apostrophe
exactly as on the embedded index: one tokenizer on every backend (#14 item 4; a char filter
would do it too, but Elasticsearch's ``pattern_replace`` is in analysis-common, which is not on
Maven Central). The server's analyser then mirrors the embedded one: the standard
tokenizer, ``cjk_width``, ``lowercase``, ``cjk_bigram`` (with unigrams at index time, so a
one-character query matches; without them at query time, so a two-character query is one
bigram), our English stop words and the ``minimal_english`` (plural) stemmer, the same rules as
:func:`search.analysis.stem`.

Fields: a document's normalised title and text go to ``title_cjk``/``body_cjk`` or
``title_latin``/``body_latin`` by its language (:func:`search.analysis.script_group`), as
OpenSearch's own per-language set-ups do. Lucene computes IDF and average field length per
field, so English narratives are not ranked against the statistics of Chinese bigrams (measured:
+0.26 MRR@10 on cfpb_product, +0.02 on the other English types). Both families use the same
analysers, so a query searches all of them. These copies are indexed but left out of
``_source``; the original title and text are kept in ``_source`` (not indexed) for hit titles
and snippets. The
server thus holds document text: rely on its at-rest encryption (the architecture's open
question), and restrict who can reach it.
"""

from __future__ import annotations

from typing import Any

from records.access.model import AccessScope
from search.analysis import ANALYSER_VERSION, STOP_WORDS, normalize, normalize_keyword, script_group, words_only
from search.highlight import SOURCE_CHARS
from search.model import MAX_RESULT_WINDOW, Facet, IndexEntry, SearchQuery, SortOrder
from search.plan import FilterNode, LeafKind, Plan, TextLeaf, TextNode
from search.query import And, DateRange, FieldMatch, FilterField, Not, Or

# Field boosts mirror the FTS5 BM25 column weights (title, body, extra); the title's chosen by
# cross-validation (benchmarks/search_quality.py --folds 5, issue #14 item 4).
FIELDS = ("title_cjk^2", "body_cjk", "title_latin^2", "body_latin", "extra_norm^2")
FACET_SIZE = 200

_KEYWORD = {"type": "keyword"}
# Fields added to the mapping after the first release; the backend adds them to an older live
# index on first use (a mapping may grow). ``has_text``: nothing extracted ranks last (#11).
ADDED_FIELDS: dict[str, Any] = {"has_text": {"type": "boolean"}}
# Sorting on has_text first: a document indexed before the field existed counts as having text.
_TEXT_FIRST = {"has_text": {"order": "desc", "missing": "_first"}}
_TEXT = {"type": "text", "analyzer": "dossier_index", "search_analyzer": "dossier_search"}


def index_body(*, shards: int = 1, replicas: int = 0, bulk_load: bool = False) -> dict[str, Any]:
    """Settings and mapping for a new concrete index (``bulk_load``: no refreshes while filling)."""
    settings: dict[str, Any] = {
        "number_of_shards": shards,
        "number_of_replicas": replicas,
        "max_result_window": MAX_RESULT_WINDOW,
        "analysis": {
            "filter": {
                "dossier_bigram_index": {"type": "cjk_bigram", "output_unigrams": True},
                "dossier_bigram_search": {"type": "cjk_bigram", "output_unigrams": False},
                "dossier_stop": {"type": "stop", "stopwords": sorted(STOP_WORDS)},
                "dossier_stem": {"type": "stemmer", "language": "minimal_english"},
            },
            "analyzer": {
                "dossier_index": {"type": "custom", "tokenizer": "standard", "filter": [
                    "cjk_width", "lowercase", "dossier_bigram_index", "dossier_stop", "dossier_stem"]},
                "dossier_search": {"type": "custom", "tokenizer": "standard", "filter": [
                    "cjk_width", "lowercase", "dossier_bigram_search", "dossier_stop", "dossier_stem"]},
            },
        },
    }
    if bulk_load:
        settings["refresh_interval"] = "-1"
    keywords = ("document_id", "dossier_id", "archive_number", "item_number", "archive_key", "item_key", "kind",
                "channel", "state", "category", "category_key", "department_key", "respondent_key",
                "complainant_key", "language")
    properties: dict[str, Any] = {name: _KEYWORD for name in keywords}
    properties.update({
        "title_cjk": _TEXT, "body_cjk": _TEXT, "title_latin": _TEXT, "body_latin": _TEXT, "extra_norm": _TEXT,
        "received_on": {"type": "date", "format": "strict_date"},
        "closed_on": {"type": "date", "format": "strict_date"},
        "filed_at": {"type": "date"},
        "year": _KEYWORD,
        **ADDED_FIELDS,
        "display": {"type": "object", "enabled": False},   # original title and text, never indexed
    })
    return {
        "settings": {"index": settings},
        "mappings": {
            "_meta": {"analyser_version": ANALYSER_VERSION},
            "_source": {"excludes": ["title_cjk", "body_cjk", "title_latin", "body_latin", "extra_norm"]},
            "dynamic": "strict",
            "properties": properties,
        },
    }


def document(e: IndexEntry) -> dict[str, Any]:
    """The indexed form of one entry."""
    extra = " ".join(v for v in (e.archive_number, e.item_number, e.respondent, e.complainant) if v)

    def key(value: str | None) -> str | None:
        return normalize_keyword(value) if value else None

    group = script_group(e.language, e.title + " " + e.text[:2000])
    return {
        "document_id": e.document_id, "dossier_id": e.dossier_id, "archive_number": e.archive_number,
        "item_number": e.item_number, "archive_key": key(e.archive_number), "item_key": key(e.item_number),
        "kind": e.kind, "channel": e.channel, "state": e.state, "category": e.category,
        "category_key": key(e.category), "department_key": key(e.department),
        "respondent_key": key(e.respondent), "complainant_key": key(e.complainant), "language": e.language,
        f"title_{group}": words_only(normalize(e.title)), f"body_{group}": words_only(normalize(e.text)),
        "extra_norm": words_only(normalize(extra)),
        "received_on": e.received_on.isoformat(), "closed_on": e.closed_on.isoformat() if e.closed_on else None,
        "filed_at": e.filed_at.isoformat(), "year": str(e.received_on.year),
        # Display keeps only what snippets are cut from: a hit in a huge text fetches 200k characters (#13 item 8).
        "display": {"title": e.title, "text": e.text[:SOURCE_CHARS], "heading": e.heading}, "has_text": e.has_text,
    }


def text_query(node: TextNode) -> dict[str, Any]:
    if isinstance(node, TextLeaf):
        return _leaf(node)
    if isinstance(node, Or):
        return {"bool": {"should": [text_query(c) for c in node.children], "minimum_should_match": 1}}
    if isinstance(node, And):
        must = [text_query(c) for c in node.children if not isinstance(c, Not)]
        must_not = [text_query(c.child) for c in node.children if isinstance(c, Not)]
        return {"bool": {"must": must, "must_not": must_not}}
    raise ValueError(f"a NOT cannot stand alone here: {node!r}")   # the planner prevents this


def _leaf(leaf: TextLeaf) -> dict[str, Any]:
    norm = words_only(leaf.terms.norm)
    if leaf.kind is LeafKind.LOOSE and leaf.terms.words:
        # Any word matches, each as a phrase (search.segment), summed over the fields like BM25 on
        # FTS5; documents holding the whole term in order score the phrase too.
        return {"bool": {"should": [
            *({"multi_match": {"query": _word_text(w), "fields": list(FIELDS), "type": "phrase", "tie_breaker": 1.0}}
              for w in leaf.terms.words),
            {"multi_match": {"query": norm, "fields": list(FIELDS), "type": "phrase"}},
        ], "minimum_should_match": 1}}
    if leaf.kind is LeafKind.LOOSE:
        # Any token matches; documents holding the whole term in order score the phrase too.
        return {"bool": {"should": [
            {"multi_match": {"query": norm, "fields": list(FIELDS), "type": "most_fields", "operator": "or"}},
            {"multi_match": {"query": norm, "fields": list(FIELDS), "type": "phrase"}},
        ], "minimum_should_match": 1}}
    if leaf.kind is LeafKind.CHAR:
        return {"multi_match": {"query": norm, "fields": list(FIELDS)}}
    if leaf.kind is LeafKind.PREFIX or leaf.terms.prefix_last:
        return {"multi_match": {"query": norm, "fields": list(FIELDS), "type": "phrase_prefix"}}
    return {"multi_match": {"query": norm, "fields": list(FIELDS), "type": "phrase"}}


def _word_text(tokens: tuple[str, ...]) -> str:
    """The text of one word from its body tokens: a Chinese word's bigrams overlap by a character."""
    if len(tokens) > 1 and all(len(t) == 2 for t in tokens):
        return tokens[0] + "".join(t[1] for t in tokens[1:])
    return " ".join(tokens)


def filter_query(node: FilterNode) -> dict[str, Any]:
    if isinstance(node, FieldMatch):
        return _field(node)
    if isinstance(node, DateRange):
        name = "received_on" if node.field is FilterField.RECEIVED else "closed_on"
        bounds: dict[str, str] = {}
        if node.start is not None:
            bounds["gte"] = node.start.isoformat()
        if node.end is not None:
            bounds["lte"] = node.end.isoformat()
        return {"range": {name: bounds}} if bounds else {"exists": {"field": name}}
    if isinstance(node, And):
        return {"bool": {"filter": [filter_query(c) for c in node.children]}}
    if isinstance(node, Or):
        return {"bool": {"should": [filter_query(c) for c in node.children],
                         "minimum_should_match": 1}}
    if isinstance(node, Not):
        return {"bool": {"must_not": [filter_query(node.child)]}}
    raise ValueError(f"not a filter: {node!r}")


def _field(node: FieldMatch) -> dict[str, Any]:
    field = node.field
    if field is FilterField.NUMBER:
        return {"bool": {"should": [{"term": {"archive_key": node.value}}, {"term": {"item_key": node.value}}],
                         "minimum_should_match": 1}}
    name = {FilterField.CATEGORY: "category_key", FilterField.DEPARTMENT: "department_key",
            FilterField.RESPONDENT: "respondent_key", FilterField.COMPLAINANT: "complainant_key"}.get(field, field.value)
    return {"term": {name: node.value}}


def scope_filters(scope: AccessScope) -> list[dict[str, Any]]:
    """The caller's scope as filter clauses; every dimension must pass."""
    out: list[dict[str, Any]] = []
    if scope.departments is not None:
        out.append({"terms": {"department_key": sorted({normalize_keyword(v) for v in scope.departments})}})
    if scope.dossier_ids is not None:
        out.append({"terms": {"dossier_id": sorted(scope.dossier_ids)}})
    if scope.categories is not None:
        out.append({"terms": {"category_key": sorted({normalize_keyword(v) for v in scope.categories})}})
    if scope.respondents is not None:
        out.append({"terms": {"respondent_key": sorted({normalize_keyword(v) for v in scope.respondents})}})
    bounds = {}
    if scope.received_from is not None:
        bounds["gte"] = scope.received_from.isoformat()
    if scope.received_until is not None:
        bounds["lte"] = scope.received_until.isoformat()
    if bounds:
        out.append({"range": {"received_on": bounds}})
    return out


def search_body(plan: Plan, query: SearchQuery, scope: AccessScope) -> dict[str, Any]:
    """The whole search request: scope and filters in ``filter``, words in ``must``."""
    filters = scope_filters(scope)
    if plan.filters is not None:
        filters.append(filter_query(plan.filters))
    must = [text_query(plan.text)] if plan.text is not None else [{"match_all": {}}]
    must_not = [text_query(n) for n in plan.excluded]
    ranked = plan.text is not None and query.sort is SortOrder.RELEVANCE
    if query.sort is SortOrder.DATE_ASC:
        sort: list[Any] = [{"received_on": "asc"}, {"filed_at": "asc"}, {"document_id": "asc"}]
    elif ranked:
        # BM25 favours a short field: items without text would lead on their matter alone (#11).
        # Equal scores (identical texts): newest first, then by number, deterministically (#14 item 4).
        sort = [_TEXT_FIRST, "_score", {"received_on": "desc"}, {"item_key": {"order": "asc", "missing": "_last"}},
                {"document_id": "asc"}]
    elif query.sort is SortOrder.RELEVANCE:   # no words: newest first, items with text before the rest
        sort = [_TEXT_FIRST, {"received_on": "desc"}, {"filed_at": "desc"}, {"document_id": "asc"}]
    else:
        sort = [{"received_on": "desc"}, {"filed_at": "desc"}, {"document_id": "asc"}]
    body: dict[str, Any] = {
        "query": {"bool": {"must": must, "must_not": must_not, "filter": filters}},
        "from": query.offset, "size": query.page_size, "sort": sort, "track_total_hits": True,
        "track_scores": ranked,
        "_source": ["document_id", "dossier_id", "archive_number", "item_number", "kind", "state", "received_on",
                    "display"],
    }
    if query.facets:
        body["aggs"] = {f.value: {"terms": {"field": f.value, "size": FACET_SIZE}} for f in Facet}
    return body


def facets_of(response: dict[str, Any]) -> dict[str, dict[str, int]]:
    aggs = response.get("aggregations") or {}
    return {name: {str(b["key"]): int(b["doc_count"]) for b in agg.get("buckets", [])} for name, agg in aggs.items()}
