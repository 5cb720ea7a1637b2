"""Values that cross the search seam (pure; stdlib only).

Snippets are plain text plus highlight spans, so no caller has to guess an escaping rule:
:meth:`Snippet.html` escapes the text with :func:`html.escape` and wraps each span in
``<mark>…</mark>``; :meth:`Snippet.marked` wraps spans in caller-chosen markers (the CLI uses
«» or terminal colours) and escapes nothing.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class SortOrder(StrEnum):
    RELEVANCE = "relevance"     # best first; with no words to rank by, newest first
    DATE_DESC = "date_desc"     # most recently received first
    DATE_ASC = "date_asc"


class Facet(StrEnum):
    """Fields counted over the whole visible result set."""

    KIND = "kind"
    CATEGORY = "category"
    CHANNEL = "channel"
    YEAR = "year"
    STATE = "state"


MAX_PAGE_SIZE = 100
#: How deep any backend pages (OpenSearch's ``max_result_window``): the first 10,000 hits. Deeper
#: pages are refused with a clear message on every backend, not answered by one and failed by another.
MAX_RESULT_WINDOW = 10_000


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One filed document as the index sees it: its text plus the catalogue facts to filter on.

    ``text`` is the extracted text (from the vault). ``received_on``/``closed_on`` are the
    dossier's calendar dates in the archive's time zone (the facet ``year`` and the
    ``received:``/``closed:`` filters use them).

    ``title`` is what ranks as the title (the dossier's matter, weighted like a title since the
    first release); ``heading`` is what a hit is *shown* as: the document's own title (e-mail
    subject or file name), so a page of hits from one dossier does not repeat one matter (#11).
    """

    document_id: str
    dossier_id: str
    archive_number: str
    item_number: str
    title: str
    text: str
    kind: str
    channel: str
    state: str
    received_on: date
    filed_at: datetime
    category: str | None = None
    respondent: str | None = None
    complainant: str | None = None
    department: str | None = None
    closed_on: date | None = None
    language: str | None = None
    heading: str = ""

    @property
    def has_text(self) -> bool:
        """Whether anything was extracted; empty, unsupported and encrypted items rank last (#11)."""
        return bool(self.text.strip())


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What the caller asked for. ``text`` is in the query language of :mod:`search.query`."""

    text: str
    sort: SortOrder = SortOrder.RELEVANCE
    page: int = 1
    page_size: int = 20
    facets: bool = True

    def __post_init__(self) -> None:
        if self.page < 1:
            raise ValueError("page starts at 1")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass(frozen=True, slots=True)
class Snippet:
    """A short excerpt of a document with the matched parts marked.

    ``spans`` are ``(start, end)`` character offsets into ``text``, sorted and non-overlapping.
    """

    text: str
    spans: tuple[tuple[int, int], ...] = ()

    def marked(self, open_mark: str = "«", close_mark: str = "»") -> str:
        """The text with each span wrapped in the given markers; nothing is escaped."""
        out, last = [], 0
        for start, end in self.spans:
            out += [self.text[last:start], open_mark, self.text[start:end], close_mark]
            last = end
        out.append(self.text[last:])
        return "".join(out)

    def html(self) -> str:
        """HTML-safe markup: text escaped (quotes too), spans wrapped in ``<mark>``."""
        out, last = [], 0
        for start, end in self.spans:
            out += [html.escape(self.text[last:start]), "<mark>", html.escape(self.text[start:end]), "</mark>"]
            last = end
        out.append(html.escape(self.text[last:]))
        return "".join(out)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One visible document in a result page.

    ``title`` is the document's own (e-mail subject or file name); ``matter`` is its dossier's,
    for the dossier heading the page groups hits under. ``has_text`` is False for an item with
    no extracted text (empty, unsupported, encrypted): it ranks last and shows no snippet.
    """

    document_id: str
    dossier_id: str
    archive_number: str
    item_number: str
    title: str
    kind: str
    state: str
    received_on: date
    score: float
    snippet: Snippet
    matter: str = ""
    has_text: bool = True


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of hits, the total they were drawn from, and facet counts over that total.

    ``total`` and ``facets`` count only what the caller's scope allows. ``facets`` maps each
    :class:`Facet` value to {value: count}; it is empty when the query asked for no facets.
    """

    query: SearchQuery
    hits: tuple[SearchHit, ...]
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.page_size))
