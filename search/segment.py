"""Chinese word segmentation for queries, beside the CJK bigrams every backend indexes.

The index holds overlapping bigrams (:mod:`search.analysis`), so any Chinese string can be
found. A long query typed without spaces (a pasted subject line, ``举报A市某村委的问题``) used to
match *any* of its bigrams, including the ones that straddle two words (``村委`` is a word,
``某村`` and ``委的`` are not), which rank documents on accidental character pairs. Segmenting
the query into words with jieba (dictionary + HMM; the Rust port ``rjieba``, ~0.07 ms for a
whole 370-character message) lets each word match as a *phrase of its bigrams*, so only real
words score, while the bigram index stays as it is: no second token stream to keep in step on
the embedded index and on the servers (an OpenSearch/Elasticsearch analyser cannot run jieba),
and no extra cost when documents are indexed.

Segmentation is optional at run time: without ``rjieba`` installed, :func:`words` returns None
and queries keep the bigram behaviour (measured with ``benchmarks/search_quality.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache

from search.analysis import bigrams


@cache
def _cut() -> Callable[[str], list[str]] | None:
    try:
        import rjieba
    except ImportError:   # segmentation is an improvement, not a requirement
        return None
    return rjieba.cut


def available() -> bool:
    """Whether a segmenter is installed."""
    return _cut() is not None


@lru_cache(maxsize=4096)
def words(run: str) -> tuple[str, ...] | None:
    """The words of one normalised CJK run (precise mode), or None without a segmenter.

    Deterministic: the same dictionary gives the same words on every call and every machine.
    """
    cut = _cut()
    if cut is None:
        return None
    return tuple(w for w in cut(run) if w.strip())


def word_phrases(run: str, *, min_chars: int = 2) -> tuple[tuple[str, ...], ...] | None:
    """Each word of ``run`` with at least ``min_chars`` characters as its bigram tokens, in order
    and without repeats: a two-character word is one bigram, a longer one a phrase of bigrams.

    One-character words (``的``, ``某``, ``市``) are left out: as bigrams they would only be
    pieces of their neighbours.
    """
    found = words(run)
    if found is None:
        return None
    out: dict[tuple[str, ...], None] = {}
    for w in found:
        if len(w) >= min_chars:
            out[tuple(bigrams(w))] = None
    return tuple(out)
