"""Elasticsearch and OpenSearch indexes: the same mapping and queries, two official clients.

:class:`ElasticsearchIndex` uses ``elasticsearch`` (8.x), which refuses to talk to OpenSearch;
:class:`OpenSearchIndex` uses ``opensearch-py``. Everything else (mapping, analysis, query
building, hit reading) is shared in :mod:`._es_common` and in :class:`_ServerIndex` here; the
subclasses only adapt the client calls and translate its exceptions.

Index lifecycle: searches and writes go through an alias (``<prefix>``) pointing at one concrete
index (``<prefix>-a<analyser version>-<timestamp>-<random>``). :meth:`_ServerIndex.rebuild`
fills a new concrete index with refreshes off, refreshes it, then moves the alias in one
``_aliases`` request (atomic for searchers) and deletes the old index. Writes use
``refresh="wait_for"`` by default, so a document is searchable when ``upsert`` returns.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any, ClassVar, Literal

from records.access.model import AccessScope
from search.analysis import ANALYSER_VERSION
from search.backends._es_common import (
    ADDED_FIELDS, document, facets_of, index_body, search_body,
)
from search.errors import IndexOutdatedError, InvalidQueryError, SearchUnavailableError
from search.highlight import make_snippet
from search.interfaces import ProgressCallback, SearchIndex
from search.model import MAX_RESULT_WINDOW, Facet, IndexEntry, SearchHit, SearchPage, SearchQuery
from search.plan import plan_query

Refresh = Literal["wait_for", "true", "false"]
_CHUNK = 500


class _ServerIndex:
    """The client-independent part of both server backends."""

    name: ClassVar[str]

    def __init__(self, client: Any, *, alias: str, refresh: Refresh = "wait_for", replicas: int = 0) -> None:
        self._client = client
        self._alias = alias
        self._refresh = refresh
        self._replicas = replicas
        self._checked = False

    # ---------------------------------------------------------------- client adapter (subclasses)
    def _call(self, method: str, **kwargs: Any) -> Any:
        """Call ``client.<method>`` (dotted for namespaces), translating the client's errors."""
        raise NotImplementedError

    def _bulk(self, actions: list[dict[str, Any]], refresh: Refresh | None) -> dict[str, Any]:
        raise NotImplementedError

    def _scan_ids(self) -> Iterator[str]:
        raise NotImplementedError

    # ---------------------------------------------------------------- lifecycle
    def _concrete_indices(self) -> list[str]:
        if not self._call("indices.exists_alias", name=self._alias):
            return []
        return sorted(self._call("indices.get_alias", name=self._alias))

    def _ready(self) -> None:
        """Create the alias on first use; refuse an index built by another analyser version."""
        if self._checked:
            return
        indices = self._concrete_indices()
        if not indices:
            concrete = self._new_concrete(bulk_load=False)
            self._call("indices.update_aliases", body={"actions": [{"add": {"index": concrete, "alias": self._alias}}]})
            indices = [concrete]
        mapping = self._call("indices.get_mapping", index=indices[0])
        found = str(mapping[indices[0]]["mappings"].get("_meta", {}).get("analyser_version", "none"))
        if found != ANALYSER_VERSION:
            raise IndexOutdatedError(self.name, found, ANALYSER_VERSION)
        # Fields added to the mapping since an index was created (``has_text``, #11): adding a
        # field is allowed on a live index, and documents written before it sort as having text.
        missing = {name: spec for name, spec in ADDED_FIELDS.items()
                   if name not in mapping[indices[0]]["mappings"].get("properties", {})}
        if missing:
            for index in indices:
                self._call("indices.put_mapping", index=index, body={"properties": missing})
        self._checked = True

    def _new_concrete(self, *, bulk_load: bool) -> str:
        name = f"{self._alias}-a{ANALYSER_VERSION}-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(3)}"
        self._call("indices.create", index=name, body=index_body(replicas=self._replicas, bulk_load=bulk_load))
        return name

    def rebuild(self, entries: Iterable[IndexEntry], *, progress: ProgressCallback | None = None) -> int:
        concrete = self._new_concrete(bulk_load=True)
        count = 0
        try:
            batch: list[IndexEntry] = []
            for entry in entries:
                batch.append(entry)
                if len(batch) == _CHUNK:
                    self._write(batch, index=concrete, refresh=None)
                    count += len(batch)
                    batch = []
                    if progress is not None:
                        progress(count)
            if batch:
                self._write(batch, index=concrete, refresh=None)
                count += len(batch)
                if progress is not None:
                    progress(count)
            self._call("indices.put_settings", index=concrete, body={"index": {"refresh_interval": None}})
            self._call("indices.refresh", index=concrete)
        except BaseException:
            self._call("indices.delete", index=concrete, ignore_unavailable=True)
            raise
        old = self._concrete_indices()
        actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": self._alias}} for i in old]
        actions.append({"add": {"index": concrete, "alias": self._alias}})
        self._call("indices.update_aliases", body={"actions": actions})
        for index in old:
            self._call("indices.delete", index=index, ignore_unavailable=True)
        self._checked = False
        return count

    def reset(self) -> None:
        self.rebuild(())

    def ping(self) -> None:
        """``GET /``: the server answers (the index itself is created on first use, not here)."""
        self._call("info")

    def refresh(self) -> None:
        self._ready()
        self._call("indices.refresh", index=self._alias)

    def drop(self) -> None:
        """Delete the alias and every index behind it (tests and benchmarks clean up with this)."""
        for index in self._concrete_indices():
            self._call("indices.delete", index=index, ignore_unavailable=True)
        self._checked = False

    # ---------------------------------------------------------------- writes
    def upsert(self, entries: Sequence[IndexEntry]) -> None:
        self._ready()
        for start in range(0, len(entries), _CHUNK):
            self._write(entries[start:start + _CHUNK], index=self._alias, refresh=self._refresh)

    def _write(self, entries: Sequence[IndexEntry], *, index: str, refresh: Refresh | None) -> None:
        actions: list[dict[str, Any]] = []
        for e in entries:
            actions += [{"index": {"_index": index, "_id": e.document_id}}, document(e)]
        self._check_bulk(self._bulk(actions, refresh))

    def delete(self, document_ids: Sequence[str]) -> None:
        self._ready()
        for start in range(0, len(document_ids), _CHUNK):
            actions = [{"delete": {"_index": self._alias, "_id": i}} for i in document_ids[start:start + _CHUNK]]
            if actions:
                self._check_bulk(self._bulk(actions, self._refresh))

    def _check_bulk(self, response: dict[str, Any]) -> None:
        if not response.get("errors"):
            return
        for item in response.get("items", []):
            (op, result), = item.items()
            if result.get("error") and not (op == "delete" and result.get("status") == 404):
                raise SearchUnavailableError(self.name, f"bulk {op} of {result.get('_id')} failed: {result['error']}")

    # ---------------------------------------------------------------- reads
    def document_ids(self) -> set[str]:
        self._ready()
        return set(self._scan_ids())

    def search(self, query: SearchQuery, scope: AccessScope) -> SearchPage:
        plan = plan_query(query.text)
        if scope.is_empty or plan.match_nothing:
            return SearchPage(query, (), 0, {f.value: {} for f in Facet} if query.facets else {})
        if query.offset + query.page_size > MAX_RESULT_WINDOW:
            raise InvalidQueryError(query.text, f"only the first {MAX_RESULT_WINDOW:,} hits can be paged through; "
                                                "narrow the search")
        self._ready()
        response = self._call("search", index=self._alias, body=search_body(plan, query, scope))
        hits = tuple(_hit(h, plan.leaves) for h in response["hits"]["hits"])
        total = int(response["hits"]["total"]["value"])
        facets = facets_of(response) if query.facets else {}
        if query.facets:
            facets = {f.value: facets.get(f.value, {}) for f in Facet}
        return SearchPage(query, hits, total, facets)

    def close(self) -> None:
        self._client.close()


def _hit(raw: dict[str, Any], leaves: Sequence[Any]) -> SearchHit:
    src = raw["_source"]
    display = src.get("display") or {}
    return SearchHit(
        document_id=src["document_id"], dossier_id=src["dossier_id"], archive_number=src["archive_number"],
        item_number=src["item_number"], title=display.get("heading") or display.get("title", ""), kind=src["kind"],
        state=src["state"], received_on=date.fromisoformat(src["received_on"]),
        score=round(float(raw.get("_score") or 0.0), 4), snippet=make_snippet(display.get("text", ""), leaves),
        matter=display.get("title", ""), has_text=bool(display.get("text", "").strip()),
    )


def _resolve(client: Any, method: str) -> Any:
    target = client
    for part in method.split("."):
        target = getattr(target, part)
    return target


class OpenSearchIndex(_ServerIndex):
    """:class:`SearchIndex` on OpenSearch through ``opensearch-py``."""

    name: ClassVar[str] = "opensearch"

    def _call(self, method: str, **kwargs: Any) -> Any:
        from opensearchpy.exceptions import ConnectionError as OsConnectionError
        from opensearchpy.exceptions import OpenSearchException

        ignore_unavailable = kwargs.pop("ignore_unavailable", False)
        if ignore_unavailable:
            kwargs["ignore_unavailable"] = True
        try:
            return _resolve(self._client, method)(**kwargs)
        except OsConnectionError as exc:
            raise SearchUnavailableError(self.name, f"cannot reach the server: {exc}") from exc
        except OpenSearchException as exc:
            raise SearchUnavailableError(self.name, f"{method} failed: {exc}") from exc

    def _bulk(self, actions: list[dict[str, Any]], refresh: Refresh | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"body": actions}
        if refresh is not None:
            kwargs["refresh"] = refresh
        result: dict[str, Any] = self._call("bulk", **kwargs)
        return result

    def _scan_ids(self) -> Iterator[str]:
        from opensearchpy import helpers
        from opensearchpy.exceptions import OpenSearchException

        try:
            for hit in helpers.scan(self._client, index=self._alias, query={"_source": False}, size=2000):
                yield str(hit["_id"])
        except OpenSearchException as exc:
            raise SearchUnavailableError(self.name, f"scan failed: {exc}") from exc


class ElasticsearchIndex(_ServerIndex):
    """:class:`SearchIndex` on Elasticsearch 8 through the official ``elasticsearch`` client."""

    name: ClassVar[str] = "elasticsearch"

    def _call(self, method: str, **kwargs: Any) -> Any:
        from elastic_transport import TransportError
        from elasticsearch import ApiError

        # The 8.x client takes request bodies as keyword arguments, not body=.
        body = kwargs.pop("body", None)
        if body is not None:
            if method == "indices.put_settings":
                kwargs["settings"] = body
            else:
                kwargs.update(body)
        try:
            return _resolve(self._client, method)(**kwargs)
        except TransportError as exc:
            raise SearchUnavailableError(self.name, f"cannot reach the server: {exc}") from exc
        except ApiError as exc:
            raise SearchUnavailableError(self.name, f"{method} failed: {exc}") from exc

    def _bulk(self, actions: list[dict[str, Any]], refresh: Refresh | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"operations": actions}
        if refresh is not None:
            kwargs["refresh"] = refresh
        result = self._call("bulk", **kwargs)
        return dict(result.body if hasattr(result, "body") else result)

    def _scan_ids(self) -> Iterator[str]:
        from elasticsearch import ApiError, helpers

        try:
            for hit in helpers.scan(self._client, index=self._alias, query={"_source": False}, size=2000):
                yield str(hit["_id"])
        except ApiError as exc:
            raise SearchUnavailableError(self.name, f"scan failed: {exc}") from exc


def connect_index(url: str, *, index_prefix: str = "dossier-documents", flavour: str | None = None,
                  username: str | None = None, password: str | None = None, ca_certs: str | None = None,
                  verify_certs: bool = True, refresh: Refresh = "wait_for", timeout: float = 30.0,
                  replicas: int = 0) -> OpenSearchIndex | ElasticsearchIndex:
    """Open the server index at ``url``; ``flavour`` None asks the server which it is.

    Raises:
        SearchUnavailableError: the server cannot be reached, or is not the flavour asked for.
    """
    from search.backends import detect_flavour

    detected = detect_flavour(url, username=username, password=password, ca_certs=ca_certs,
                              verify_certs=verify_certs, timeout=timeout)
    if flavour is not None and flavour != detected:
        raise SearchUnavailableError(flavour, f"{url} is an {detected} server, not {flavour}")
    auth = (username, password) if username and password else None
    common: dict[str, Any] = {"request_timeout" if detected == "elasticsearch" else "timeout": timeout}
    if ca_certs:
        common["ca_certs"] = ca_certs
    if detected == "opensearch":
        from opensearchpy import OpenSearch

        client = OpenSearch(hosts=[url], http_auth=auth, verify_certs=verify_certs, **common)
        return OpenSearchIndex(client, alias=index_prefix, refresh=refresh, replicas=replicas)
    from elasticsearch import Elasticsearch

    es = Elasticsearch(url, basic_auth=auth, verify_certs=verify_certs, **common)
    return ElasticsearchIndex(es, alias=index_prefix, refresh=refresh, replicas=replicas)


_os: type[SearchIndex] = OpenSearchIndex
_es: type[SearchIndex] = ElasticsearchIndex
