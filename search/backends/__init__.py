"""Search backends: a static registry from ``search.backend`` to a factory.

The client libraries are imported only when their backend is chosen, so the embedded default
(FTS5) never loads ``elasticsearch`` or ``opensearchpy``. With no backend named, a configured
``search.url`` selects the server backend whose flavour the server reports (``GET /``:
OpenSearch says ``version.distribution = "opensearch"``); without a URL it is FTS5.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from records.errors import ConfigurationError
from search.errors import SearchUnavailableError

if TYPE_CHECKING:
    from pydantic import SecretStr

    from search.interfaces import SearchIndex

__all__ = ["BACKENDS", "SearchConfig", "detect_flavour", "open_index", "uses_server"]


class SearchConfig(Protocol):
    """The ``search`` section of the settings, as far as the registry reads it."""

    @property
    def backend(self) -> Literal["fts5", "elasticsearch", "opensearch"] | None: ...
    @property
    def url(self) -> str | None: ...
    @property
    def index_prefix(self) -> str: ...
    @property
    def fts5_dir(self) -> Path | None: ...
    @property
    def username(self) -> str | None: ...
    @property
    def password(self) -> SecretStr | None: ...
    @property
    def ca_certs(self) -> Path | None: ...
    @property
    def verify_certs(self) -> bool: ...
    @property
    def refresh(self) -> Literal["wait_for", "true", "false"]: ...
    @property
    def timeout_seconds(self) -> float: ...
    @property
    def replicas(self) -> int: ...

BACKENDS = ("fts5", "elasticsearch", "opensearch")


def detect_flavour(url: str, *, username: str | None = None, password: str | None = None,
                   ca_certs: str | None = None, verify_certs: bool = True, timeout: float = 10.0) -> str:
    """"opensearch" or "elasticsearch", as the server at ``url`` reports itself.

    Raises:
        SearchUnavailableError: the server cannot be reached or does not answer like either.
    """
    # Imported here: only a server index (on first connect) asks this, while every command that
    # opens the archive imports this module, embedded index included (issue #9 item 7).
    import ssl
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url.rstrip("/") + "/", headers={"Accept": "application/json"})
    if username and password:
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    context = ssl.create_default_context(cafile=ca_certs) if url.startswith("https") else None
    if context is not None and not verify_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    # No proxy: the search server is addressed directly, never through a developer's http_proxy.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(request, timeout=timeout) as reply:
            info: dict[str, Any] = json.loads(reply.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SearchUnavailableError("server", f"cannot read {url}: {exc}") from exc
    version = info.get("version") or {}
    if version.get("distribution") == "opensearch":
        return "opensearch"
    if "number" in version:
        return "elasticsearch"
    raise SearchUnavailableError("server", f"{url} answers like neither Elasticsearch nor OpenSearch")


def _fts5(config: SearchConfig, data_dir: Path, key: bytes) -> SearchIndex:
    from search.backends.fts5 import Fts5SearchIndex

    return Fts5SearchIndex(config.fts5_dir or Path(data_dir) / "search", key=key)


def _server(config: SearchConfig, data_dir: Path, key: bytes) -> SearchIndex:
    from search.backends.lazy import LazyServerIndex

    url = config.url
    if not url:
        raise ConfigurationError(f"search.backend = {config.backend!r} needs search.url")

    def connect() -> SearchIndex:
        from search.backends.elastic import connect_index

        return connect_index(
            url, index_prefix=config.index_prefix, flavour=config.backend,   # None: ask the server
            username=config.username, password=config.password.get_secret_value() if config.password else None,
            ca_certs=str(config.ca_certs) if config.ca_certs else None, verify_certs=config.verify_certs,
            refresh=config.refresh, timeout=config.timeout_seconds, replicas=config.replicas,
        )

    # Connected on first use: opening the archive must not need the server (issue #17 item 3).
    return LazyServerIndex(config.backend or "server", connect)


def uses_server(config: SearchConfig) -> bool:
    """Whether the configured index lives on a search server (not in the data directory)."""
    return config.backend in ("elasticsearch", "opensearch") or (config.backend is None and bool(config.url))


_FACTORIES: dict[str, Callable[[SearchConfig, Path, bytes], SearchIndex]] = {
    "fts5": _fts5,
    "elasticsearch": _server,
    "opensearch": _server,
}


def open_index(config: SearchConfig, *, data_dir: Path, key: bytes) -> SearchIndex:
    """The search index the ``search`` settings name.

    Without ``backend``: FTS5 when no ``url`` is set, else whichever flavour the server reports.

    Args:
        config: ``settings.search``.
        data_dir: ``settings.data_dir`` (the FTS5 index defaults to ``<data_dir>/search``).
        key: 32+ bytes of secret material sealing the embedded index's stored text (unused by
            the server backends, which rely on the server's own at-rest encryption).

    Raises:
        ConfigurationError: an unknown backend, or a server backend without a URL.

    A server index is not contacted here: it connects on first use (``search.backends.lazy``),
    and that first use raises SearchUnavailableError when the server cannot be reached or is
    another flavour.
    """
    if config.backend is None:
        return _server(config, data_dir, key) if config.url else _fts5(config, data_dir, key)
    factory = _FACTORIES.get(config.backend)
    if factory is None:
        raise ConfigurationError(f"unknown search backend {config.backend!r}; one of {', '.join(BACKENDS)}")
    return factory(config, data_dir, key)
