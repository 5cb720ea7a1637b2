"""Snippets with highlighted matches, built from a document's original text (pure).

Every backend uses this one highlighter, so the markup and the choice of excerpt are the same
whichever engine found the document. Matching runs on normalised text (so 投訴 in a document
is highlighted for the query 投诉) and the spans are mapped back onto the original characters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from search.analysis import CJK_CHARS, normalize_with_offsets, segments, stem
from search.model import Snippet
from search.plan import LeafKind, TextLeaf

SNIPPET_CHARS = 120
#: Highlight within the first 200k characters of very long texts: all of a text an index needs to
#: keep for snippets (backends store no more of it for display, so a hit in a 5M-character text
#: opens 200k, not 5M characters).
SOURCE_CHARS = 200_000
_FIRST_SCAN_CHARS = 20_000     # most snippets come from here; the rest is read only without a match in it
_LEAD_IN = 24                  # context shown before the first match
_SPACE = re.compile(r"\s+")
# Latin words only: CJK text is matched by substring above, so it is excluded here.
_WORD = re.compile(rf"[^\W_{CJK_CHARS}]+")
_CJK_TOKEN = re.compile(f"[{CJK_CHARS}]")


def make_snippet(text: str, leaves: Sequence[TextLeaf], max_chars: int = SNIPPET_CHARS) -> Snippet:
    """The excerpt of ``text`` (about ``max_chars`` long) with the most distinct matches, marked.

    Without matches (the hit came through its title, or there were no words) it is the opening.
    Bounded work whatever the text's length (issue #13 item 8): matches are looked for in the
    first ``_FIRST_SCAN_CHARS`` characters, and only when some word of the query is not there,
    in the first ``SOURCE_CHARS``.
    """
    source = text[:_FIRST_SCAN_CHARS]
    spans = _match_spans(source, leaves)
    if len(text) > _FIRST_SCAN_CHARS and len({k for _, _, k in spans}) < _wanted_keys(leaves):
        # Some word of the query is not in the opening: look further, where the words may meet.
        source = text[:SOURCE_CHARS]
        spans = _match_spans(source, leaves)
    if not spans:
        return _excerpt(source, 0, max_chars, [])
    best_start = _best_window(spans, len(source), max_chars)
    # Only the spans near the excerpt are shifted into it: a huge text can match 10,000s of times.
    return _excerpt(source, best_start, max_chars,
                    [(s, e) for s, e, _ in spans if s >= best_start and e <= best_start + max_chars])


def _best_window(spans: Sequence[tuple[int, int, str]], length: int, max_chars: int) -> int:
    """Start of the first window (one per match, ``_LEAD_IN`` before it) holding the most distinct keys.

    Linear in the matches (issue #13 item 8, ARC-5-04: a match in a 5M-character text costs bounded
    time): windows move forward with their match, so the spans inside a window are a run [lo, hi)
    whose both ends only advance; the key counts of that run are kept up to date. It stops at the
    first window with every key of the query.
    """
    everything = len({k for _, _, k in spans})
    counts: dict[str, int] = {}
    lo = hi = 0
    best_start, best_score = spans[0][0], -1
    for start, _end, _key in spans:
        window_start = max(0, min(start - _LEAD_IN, length - max_chars))
        window_end = window_start + max_chars
        while hi < len(spans) and spans[hi][1] <= window_end:   # spans are merged: ends ascend as starts do
            counts[spans[hi][2]] = counts.get(spans[hi][2], 0) + 1
            hi += 1
        while lo < hi and spans[lo][0] < window_start:
            key = spans[lo][2]
            counts[key] -= 1
            if not counts[key]:
                del counts[key]
            lo += 1
        if len(counts) > best_score:
            best_start, best_score = window_start, len(counts)
            if best_score == everything:
                break
    return best_start


def _wanted_keys(leaves: Sequence[TextLeaf]) -> int:
    """How many distinct keys a text holding every word of the query shows (a prefix counts once)."""
    cjk_patterns, words, prefixes, _wholes = _patterns(leaves)
    return len(cjk_patterns) + len(words) + len(prefixes)


def _match_spans(text: str, leaves: Sequence[TextLeaf]) -> list[tuple[int, int, str]]:
    """Sorted, merged (start, end, key) spans of matches in original-text offsets."""
    if not leaves or not text:
        return []
    norm, offsets = normalize_with_offsets(text)
    cjk_patterns, words, prefixes, wholes = _patterns(leaves)
    found: list[tuple[int, int, str]] = []
    for pattern in cjk_patterns | wholes:
        at = norm.find(pattern)
        while at >= 0:
            found.append((at, at + len(pattern), pattern))
            at = norm.find(pattern, at + 1)
    if words or prefixes:
        prefix_tuple = tuple(prefixes)
        for m in _WORD.finditer(norm):
            word = m.group()
            key = stem(word) or word
            if key in words or (prefix_tuple and word.startswith(prefix_tuple)):
                found.append((m.start(), m.end(), key))
    found.sort()
    merged: list[tuple[int, int, str]] = []
    for start, end, key in found:
        if merged and start <= merged[-1][1]:
            prev = merged[-1]
            merged[-1] = (prev[0], max(prev[1], end), prev[2])
        else:
            merged.append((start, end, key))
    if offsets is None:
        return merged
    # Normalised offsets → original offsets (NFKC expanded some character).
    return [(offsets[s], offsets[e - 1] + 1, k) for s, e, k in merged if s < len(offsets)]


def _patterns(leaves: Sequence[TextLeaf]) -> tuple[set[str], set[str], set[str], set[str]]:
    """The CJK substrings, (stemmed) Latin words and word prefixes the leaves look for, and the
    whole long terms matched by their words (marked where they stand whole, but not a key of
    their own: a text holding every word need not hold the term)."""
    cjk_patterns: set[str] = set()
    words: set[str] = set()
    prefixes: set[str] = set()
    wholes: set[str] = set()
    for leaf in leaves:
        if leaf.kind is LeafKind.PREFIX:
            prefixes.add(leaf.terms.norm)
            continue
        if leaf.kind is LeafKind.LOOSE and leaf.terms.words:
            # A term matched by its words (search.plan): mark those words and the term itself,
            # never a character pair across two words, which no longer matches (#14 item 4).
            wholes.add(leaf.terms.norm)
            for word in leaf.terms.words:
                if _CJK_TOKEN.search(word[0]):
                    cjk_patterns.add(word[0] + "".join(t[-1] for t in word[1:]))
                else:
                    words.add(word[0])
            continue
        for seg in segments(leaf.terms.norm):
            if seg.kind == "word":
                words.add(stem(seg.text) or seg.text)
            elif leaf.kind is LeafKind.LOOSE and len(seg.text) > 2:
                cjk_patterns.update(seg.text[i:i + 2] for i in range(len(seg.text) - 1))
            else:
                cjk_patterns.add(seg.text)
    return cjk_patterns, words, prefixes, wholes


def _excerpt(text: str, start: int, max_chars: int, spans: list[tuple[int, int]]) -> Snippet:
    """Cut ``text[start:start+max_chars]``, collapse whitespace, add ellipses, shift spans."""
    end = min(len(text), start + max_chars)
    out: list[str] = []
    new_pos: dict[int, int] = {}
    pos = 0
    if start > 0:
        out.append("…")
        pos = 1
    i = start
    while i < end:
        m = _SPACE.match(text, i)
        if m:
            new_pos[i] = pos
            if pos > 0 and i < end:
                out.append(" ")
                pos += 1
            i = min(m.end(), end)
            continue
        new_pos[i] = pos
        out.append(text[i])
        pos += 1
        i += 1
    new_pos[end] = pos
    body = "".join(out).rstrip()
    kept: list[tuple[int, int]] = []
    for s, e in spans:
        if s >= start and e <= end:
            ns, ne = _at(new_pos, s), _at(new_pos, e)
            ne = min(ne, len(body))
            if ns < ne:
                kept.append((ns, ne))
    if end < len(text):
        body += "…"
    return Snippet(body, tuple(kept))


def _at(new_pos: dict[int, int], i: int) -> int:
    while i not in new_pos:   # inside a collapsed whitespace run: use the run's start
        i -= 1
    return new_pos[i]
