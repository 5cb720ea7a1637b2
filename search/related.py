"""Possibly related complaints: earlier dossiers that look like the same matter (ACC-NO-01, STA-14).

A complaint that repeats an earlier one without new facts may be refused (ACC-NO-01, after
review), and repeats are graded and counted (STA-14, TL-29). Handlers can only do that if they
see the earlier dossiers, so for one dossier :class:`RelatedComplaints` lists the *earlier*
dossiers that share, each with the reason(s) it was matched. "Earlier" is the catalogue's own
order, the one the monthly report uses: received before it, or at the same moment under a lower
serial (:func:`earlier_key`: ``(received_at, serial)``, never the number as a string, where
``2611-1000`` would sort before ``2611-999``).

- **the same complainant** or **the same respondent** — answered by the search index's own
  ``complainant:`` / ``respondent:`` filters. On the embedded fts5 index these are matched
  through its keyed digests (``respondent_mac``, ``complainant_mac``), so the name is never
  written anywhere new: there is deliberately no blind index of names in the catalogue
  (docs/security.md, issue #12). On OpenSearch/Elasticsearch the filter is an ordinary query
  term on the server's keyword field: the name travels to the server in the query, as it does
  for any ``complainant:`` search there (existing behaviour, not new with this lookup);
- **similar text** — a "more like this" query made of the dossier's terms weighted by
  tf·idf (:func:`more_like_this`), run through the ordinary :meth:`SearchIndex.search` and
  query language, so it works alike on fts5 and OpenSearch/Elasticsearch; the candidates are
  then re-scored by the Jaccard similarity of character shingles (:func:`shingles`) and kept
  at :data:`TEXT_THRESHOLD` or above (``benchmarks/related_quality.py``; it measures
  near-duplicate, copy/paste, detection only). The score is shown.

The state and matter shown, and whether a candidate counts at all, come from the candidate's
CATALOGUE row as loaded now, never from the index's copy (which may lag): disposed and withdrawn
(void) earlier dossiers are left out (:func:`counts_as_earlier`, shared with the monthly count
``retention.persons``). A candidate that cannot be read (its catalogue row, or a letter: a
document gone, a vault error) is skipped — an unreadable letter only for the text comparison —
and logged without names; it never fails the lookup. Letters are read only for the candidates
the text comparison needs.

Only what the caller's access scope allows is searched (the scope goes into every query, as for
any search), a destroyed dossier is not in the index and so never found, and the lookup is
decided and written to the access log once, by :meth:`records.access.gate.Gate.related` (SEARCH
on the dossier the lookup starts from), which is the ONLY entry: :meth:`RelatedComplaints.lookup`
hands the gate the private worker. Earlier dossiers are found only if something of theirs is
indexed: a dossier with no filed document is not in the search index at all.

The pure helpers (:func:`shingles`, :func:`jaccard`, :func:`minhash`, :func:`lsh_keys`,
:func:`more_like_this`, :func:`similar_in_index`) are shared by the monthly count
(``retention.persons``) and the benchmark.
"""

from __future__ import annotations

import logging
import math
import random
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from records.access.identity import Identity, RequestContext
from records.access.model import AccessScope
from records.errors import DataIntegrityError, DocumentNotFoundError, DossierNotFoundError, KeyProblemError
from records.model import DocumentKind, DossierInfo, DossierState
from records.vault.errors import VaultError
from search._common_terms import COMMON_DF, FLOOR
from search.analysis import _word_token, bigrams, normalize, segments
from search.errors import InvalidQueryError
from search.interfaces import SearchIndex
from search.model import SearchHit, SearchQuery, SortOrder

if TYPE_CHECKING:
    from records.access.gate import Gate
    from records.numbering import NumberingScheme
    from records.service import RecordsService

__all__ = [
    "LETTER_KINDS", "LSH_BANDS", "LSH_ROWS", "MIN_SHINGLES", "MatchReason", "PART_CAP", "RelatedComplaints",
    "RelatedDossier", "RelatedRows", "SHOWN", "TEXT_THRESHOLD", "counts_as_earlier", "dossier_text", "earlier_key",
    "jaccard", "lsh_keys", "minhash", "more_like_this", "shingles", "similar_in_index",
]

log = logging.getLogger(__name__)

# Jaccard similarity of 3-character shingles at or above which two texts count as "the same
# matter" — the ONE threshold of the panel and the monthly count (retention.persons). Chosen on
# half of the labelled near-duplicates of ../shared/search-eval (benchmarks/related_quality.py).
TEXT_THRESHOLD = 0.5
SHINGLE = 3
# Texts with fewer shingles than this are not compared: a bare matter such as 「投诉律师」 would
# otherwise be "identical" to every other bare matter.
MIN_SHINGLES = 16
# Only the first PART_CAP characters of each part (matter, request, facts, each letter) are
# compared and queried: a 300-page exhibit filed as a "letter" must not make one lookup shingle
# megabytes; the beginning of a complaint is where its matter is stated.
PART_CAP = 20_000
MLT_TERMS = 24            # terms in the "more like this" query
MLT_POOL = 30             # candidate documents re-scored per lookup
PARTY_LIMIT = 100         # documents read per name filter (one page, the newest first)
SHOWN = 20                # related dossiers listed at most; more are announced, not listed
# MinHash with LSH banding (the monthly count's blocking): 20 bands of 3 rows. A pair at the
# threshold (J = 0.5) becomes a candidate with probability 1-(1-0.5³)²⁰ ≈ 0.93, one at J = 0.1
# with ≈ 0.02; 16 bands of 4 would catch only ≈ 0.64 at the threshold. Exact Jaccard decides.
LSH_BANDS, LSH_ROWS = 20, 3
_PRIME = (1 << 61) - 1
_rng = random.Random(14)
_HASHES = tuple((_rng.randrange(1, _PRIME), _rng.randrange(0, _PRIME)) for _ in range(LSH_BANDS * LSH_ROWS))
# Documents whose text is "the complaint" (the letter, fax, e-mail or oral record), as filed.
LETTER_KINDS = frozenset({DocumentKind.COMPLAINT_LETTER, DocumentKind.FAX, DocumentKind.EMAIL,
                          DocumentKind.ORAL_COMPLAINT_RECORD})
# One candidate that cannot be read must not fail the lookup: these are skipped (and logged).
_UNREADABLE = (DocumentNotFoundError, DossierNotFoundError, VaultError, DataIntegrityError, KeyProblemError)
_NOT_TEXT = re.compile(r"[\W_]+")
_TRAILING_DIGITS = re.compile(r"(\d+)\D*$")


class MatchReason(StrEnum):
    SAME_COMPLAINANT = "same_complainant"
    SAME_RESPONDENT = "same_respondent"
    SIMILAR_TEXT = "similar_text"


@dataclass(frozen=True, slots=True)
class RelatedDossier:
    """One earlier dossier and why it was matched; ``similarity`` is the text score (None: not compared).

    ``state`` and ``matter`` are the catalogue's, as loaded for this lookup.
    """

    dossier_id: str
    archive_number: str
    received_on: date
    state: str
    matter: str
    reasons: tuple[MatchReason, ...]
    similarity: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {"number": self.archive_number, "received_on": self.received_on.isoformat(), "state": self.state,
                "matter": self.matter, "reasons": [str(r) for r in self.reasons],
                "similarity": None if self.similarity is None else round(self.similarity, 3)}


class RelatedRows(tuple[RelatedDossier, ...]):
    """The related dossiers shown (at most :data:`SHOWN`); ``more`` says more were found than listed."""

    more: bool

    def __new__(cls, rows: Iterable[RelatedDossier] = (), *, more: bool = False) -> RelatedRows:
        self = super().__new__(cls, tuple(rows))
        self.more = more
        return self


# ---------------------------------------------------------------------- one definition of "earlier"
def counts_as_earlier(info: DossierInfo) -> bool:
    """Whether a dossier may be someone's "earlier related complaint" at all (panel and monthly count).

    Disposed dossiers keep only a tombstone and withdrawn (void) complaints were never a matter
    handled: neither is a ground for refusing a repeat (ACC-NO-01).
    """
    return info.state not in (DossierState.DISPOSED, DossierState.VOID)


def earlier_key(info: DossierInfo, numbering: NumberingScheme | None = None) -> tuple[datetime, int, str]:
    """The catalogue's order of receipt: (received at, serial, number) — as ``dossier_timelines`` sorts.

    The serial is the number's, read by the archive's :class:`~records.numbering.NumberingScheme`
    (or its trailing digits without one), so ``2611-999`` comes before ``2611-1000``.
    """
    serial = -1
    parsed = numbering.parse_serial(info.archive_number) if numbering is not None else None
    if parsed is not None:
        serial = parsed[1]
    elif (m := _TRAILING_DIGITS.search(info.archive_number)) is not None:
        serial = int(m.group(1))
    return info.registration.received_at, serial, info.archive_number


# ---------------------------------------------------------------------- pure text similarity
def shingles(text: str, k: int = SHINGLE) -> frozenset[int]:
    """The ``k``-character shingles of ``text``, as 32-bit hashes (CRC-32), after the index's
    normalisation (NFKC, case, Traditional→Simplified), with spaces and punctuation dropped, so
    re-flowed or re-punctuated copies of one letter compare as equal. Integers, not strings: a
    month's report holds thousands of sets."""
    flat = _NOT_TEXT.sub("", normalize(text))
    if len(flat) <= k:
        return frozenset({zlib.crc32(flat.encode("utf-8"))}) if flat else frozenset()
    return frozenset(zlib.crc32(flat[i:i + k].encode("utf-8")) for i in range(len(flat) - k + 1))


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def minhash(shingle_set: frozenset[int]) -> tuple[int, ...]:
    """A MinHash signature: for each of ``LSH_BANDS * LSH_ROWS`` universal hash functions, the
    smallest value over the set. Two sets agree at each position with probability = their Jaccard."""
    return tuple(min((a * x + b) % _PRIME for x in shingle_set) for a, b in _HASHES) if shingle_set else ()


def lsh_keys(signature: tuple[int, ...]) -> list[tuple[int, tuple[int, ...]]]:
    """The LSH band keys of a signature: sets sharing any key are compared (by exact Jaccard).

    A band is ``LSH_ROWS`` hashes that must ALL agree, so boilerplate shared by many texts (a
    common opening line) rarely makes a whole band agree and cannot block everything together.
    """
    return [(i, signature[i * LSH_ROWS:(i + 1) * LSH_ROWS]) for i in range(LSH_BANDS)] if signature else []


def _terms(text: str) -> list[str]:
    """The query terms of ``text`` in order: CJK bigrams and Latin words *as written* (normalised,
    not stemmed: the query language stems them itself), stop words, digits and one-character tokens dropped."""
    segs = segments(normalize(text))
    out: list[str] = []
    for i, seg in enumerate(segs):
        if seg.kind == "cjk":
            out.extend(bigrams(seg.text))
        elif _word_token(segs, i):
            out.append(seg.text)
    return [t for t in out if len(t) > 1 and not t.isdigit()]


def more_like_this(text: str, terms: int = MLT_TERMS) -> str:
    """A query in the query language made of ``text``'s ``terms`` best terms by tf·idf, OR-ed.

    tf is sub-linear, ``1 + ln(count in text)`` (a word said five times is not five times the
    evidence; as in Lucene's similarity); idf is ``ln(1/df)`` with df the share of documents holding the
    term in a reference corpus, from a static table of the commonest terms
    (:mod:`search._common_terms`, derived once from ../shared/search-eval); a term not in the
    table is rarer than its floor and gets the floor's idf. So the formula words every complaint
    repeats (律师, 投诉, 事务) weigh little and the words of *this* matter lead. Asking the index
    for live document frequencies would cost a query per term. Among equals, first seen first;
    joined by the default operator (OR), so BM25 in the backend weighs the hits.
    """
    counts = Counter(_terms(text[:PART_CAP * 4]))
    rare = math.log(1 / FLOOR)

    def weight(term: str) -> float:
        df = COMMON_DF.get(term)
        return (1 + math.log(counts[term])) * (math.log(1 / df) if df else rare)

    chosen = sorted(counts, key=lambda t: -weight(t))[:terms]  # stable: first seen first among equals
    # The query side is imported on a lookup, not with the module: bootstrap composes this service
    # for every command, and a plain read (`dossier show`) never parses a query (issue #9 item 7).
    from search.query import escape

    return escape(" ".join(chosen))


def similar_in_index(index: SearchIndex, scope: AccessScope, text: str, read: Callable[[SearchHit], str], *,
                     threshold: float = TEXT_THRESHOLD, pool: int = MLT_POOL, suffix: str = "",
                     skip: Callable[[SearchHit], bool] = lambda hit: False) -> list[tuple[SearchHit, float]]:
    """Documents whose text is similar to ``text``: a more-like-this search, re-scored by Jaccard.

    Args:
        read: the text to compare a hit with (its dossier's text, as the caller may read it).
        suffix: query-language filters AND-ed to the words (e.g. ``received<=2026-03-05``).
        skip: hits not to consider (the dossier itself, later ones, unreadable ones).

    Returns:
        (best hit of each dossier, similarity) at ``threshold`` or above, most similar first.
    """
    words = more_like_this(text)
    mine = shingles(text)
    if not words or len(mine) < MIN_SHINGLES:
        return []
    query = f"({words}) AND {suffix}" if suffix else words
    page = index.search(SearchQuery(query, page_size=pool, facets=False), scope)
    best: dict[str, tuple[SearchHit, float]] = {}
    for hit in page.hits:
        if hit.dossier_id in best or skip(hit):
            continue
        best[hit.dossier_id] = (hit, jaccard(mine, shingles(read(hit))))
    found = [(h, s) for h, s in best.values() if s >= threshold]
    return sorted(found, key=lambda hs: (-hs[1], hs[0].archive_number))


def dossier_text(info: DossierInfo, letters: Mapping[str, str]) -> str:
    """What a dossier says about its matter: the registration's matter, request and facts, then the
    text of each complaint letter (``letters``: item number → text); each part cut at :data:`PART_CAP`."""
    reg = info.registration
    parts = [reg.matter or "", reg.request or "", reg.facts_and_reasons or "", *letters.values()]
    return "\n".join(p[:PART_CAP] for p in parts if p.strip())


# ---------------------------------------------------------------------- the service
class RelatedComplaints:
    """Earlier dossiers that look like the same matter as one dossier, with the reasons (ACC-NO-01).

    The only way in is :meth:`lookup`, which goes through ``Gate.related`` (decided and logged
    once); the work itself (:meth:`_find`) is private, like every service the gate wraps, so no
    caller can hand it a scope of its own (e.g. ``AccessScope.everything()``).

    Args:
        gate: decides and logs the lookup once (``Gate.related``); this service never decides.
        records: reads the catalogue rows and letter texts of the dossiers compared.
        index: the search index (any backend), queried with the caller's scope.
        tz: the archive's zone (receipt dates).
        numbering: the archive's numbering scheme (serials for "earlier"; trailing digits without).
    """

    def __init__(self, gate: Gate, records: RecordsService, index: SearchIndex, tz: ZoneInfo, *,
                 threshold: float = TEXT_THRESHOLD, numbering: NumberingScheme | None = None) -> None:
        self._gate, self._records, self._index, self._tz = gate, records, index, tz
        self._numbering = numbering
        self.threshold = threshold

    def lookup(self, who: Identity, number: str, *, context: RequestContext = RequestContext(),
               grant_id: str | None = None, details: Mapping[str, str] | None = None) -> RelatedRows:
        """The earlier dossiers related to dossier ``number`` inside ``who``'s scope (one access-log entry).

        Raises:
            AccessDeniedError / DossierNotFoundError: as for viewing the dossier (logged).
        """
        return self._gate.related(who, number, self._find, context=context, grant_id=grant_id, details=details)

    def _find(self, actor: str, info: DossierInfo, scope: AccessScope) -> RelatedRows:
        """The work behind :meth:`lookup`, once the gate allowed it; ``scope`` limits every query.

        Policy note: the candidates' registrations and letter texts are read here for every
        dossier the SEARCH scope reaches. That is no wider than the caller may read only because
        the policy never grants SEARCH wider than VIEW_TEXT (records/access/policy.py); a change
        there must revisit this.
        """
        if info.state is DossierState.DISPOSED or scope.is_empty:
            return RelatedRows()
        reg = info.registration
        received = reg.received_at.astimezone(self._tz).date()
        until = f"received<={received.isoformat()}"
        mine = earlier_key(info, self._numbering)
        loaded: dict[str, DossierInfo | None] = {}
        texts: dict[str, str] = {}

        def load(hit: SearchHit) -> DossierInfo | None:
            """The candidate's catalogue row if it is an earlier dossier that counts; None if not (or unreadable)."""
            if hit.dossier_id not in loaded:
                loaded[hit.dossier_id] = None
                if hit.dossier_id != info.dossier_id and hit.received_on <= received:  # cheap test first
                    try:
                        other = self._records.get_dossier(actor, hit.archive_number)
                    except _UNREADABLE as exc:  # skip this one; never the names, only what went wrong
                        log.warning("related: a candidate dossier was skipped (%s)", type(exc).__name__)
                    else:
                        if counts_as_earlier(other) and earlier_key(other, self._numbering) < mine:
                            loaded[hit.dossier_id] = other
            return loaded[hit.dossier_id]

        def read(hit: SearchHit) -> str:
            """The candidate's text, read only when it is compared; "" (not similar) if it cannot be read."""
            other = load(hit)
            if other is None:
                return ""
            if hit.dossier_id not in texts:
                try:
                    texts[hit.dossier_id] = dossier_text(other, self._letters(actor, other))
                except _UNREADABLE as exc:
                    log.warning("related: a candidate's text was skipped (%s)", type(exc).__name__)
                    texts[hit.dossier_id] = ""
            return texts[hit.dossier_id]

        reasons: dict[str, set[MatchReason]] = {}
        scores: dict[str, float] = {}
        parties = ((MatchReason.SAME_COMPLAINANT, "complainant", None if reg.anonymous else reg.complainant),
                   (MatchReason.SAME_RESPONDENT, "respondent", reg.respondent))
        for reason, field, name in parties:
            value = _quoted(name)
            if value is None:
                continue
            try:
                page = self._index.search(SearchQuery(f"{field}:{value} AND {until}", sort=SortOrder.DATE_DESC,
                                                      page_size=PARTY_LIMIT, facets=False), scope)
            except InvalidQueryError:  # a name the query language cannot hold as a value: no match by it
                continue
            for hit in page.hits:
                if load(hit) is not None:
                    reasons.setdefault(hit.dossier_id, set()).add(reason)

        try:
            own = self._letters(actor, info)
        except _UNREADABLE as exc:  # the registration alone is still worth comparing
            log.warning("related: the dossier's letters could not be read (%s)", type(exc).__name__)
            own = {}

        for hit, score in similar_in_index(self._index, scope, dossier_text(info, own), read,
                                           threshold=self.threshold, suffix=until, skip=lambda h: load(h) is None):
            reasons.setdefault(hit.dossier_id, set()).add(MatchReason.SIMILAR_TEXT)
            scores[hit.dossier_id] = score

        order = list(MatchReason)
        rows = []
        for dossier_id, why in reasons.items():
            other = loaded[dossier_id]
            assert other is not None  # only loaded candidates get a reason
            rows.append(RelatedDossier(
                dossier_id=dossier_id, archive_number=other.archive_number,
                received_on=other.registration.received_at.astimezone(self._tz).date(), state=str(other.state),
                matter=other.registration.matter or "", reasons=tuple(sorted(why, key=order.index)),
                similarity=scores.get(dossier_id)))
        # Most reasons first, then the most similar text, then the newest.
        rows.sort(key=lambda r: (-len(r.reasons), -(r.similarity or 0.0), -r.received_on.toordinal(),
                                 r.archive_number))
        return RelatedRows(rows[:SHOWN], more=len(rows) > SHOWN)

    def _letters(self, actor: str, info: DossierInfo) -> dict[str, str]:
        """The extracted text of the dossier's live complaint letters (item number → text)."""
        out: dict[str, str] = {}
        for doc in info.documents:
            if doc.kind in LETTER_KINDS and doc.withdrawn_at is None and doc.text_chars:
                out[doc.item_number] = self._records.document_text(actor, doc.item_number)[1]
        return out


def _quoted(name: str | None) -> str | None:
    """A name as a quoted filter value (quotes inside it dropped: they cannot be part of a name match)."""
    if name is None:
        return None
    clean = " ".join(name.replace('"', " ").replace("\u201c", " ").replace("\u201d", " ").split())
    return f'"{clean}"' if clean else None
