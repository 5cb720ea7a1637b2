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
_SCAN_CHARS = 200_000          # highlight within the first 200k characters of very long texts
_LEAD_IN = 24                  # context shown before the first match
_SPACE = re.compile(r"\s+")
# Latin words only: CJK text is matched by substring above, so it is excluded here.
_WORD = re.compile(rf"[^\W_{CJK_CHARS}]+")


def make_snippet(text: str, leaves: Sequence[TextLeaf], max_chars: int = SNIPPET_CHARS) -> Snippet:
    """The excerpt of ``text`` (about ``max_chars`` long) with the most distinct matches, marked.

    Without matches (the hit came through its title, or there were no words) it is the opening.
    """
    source = text[:_SCAN_CHARS]
    spans = _match_spans(source, leaves)
    if not spans:
        return _excerpt(source, 0, max_chars, [])
    best_start, best_score = spans[0][0], -1
    for start, _end, _key in spans:
        window_start = max(0, min(start - _LEAD_IN, len(source) - max_chars))
        keys = {k for s, e, k in spans if s >= window_start and e <= window_start + max_chars}
        if len(keys) > best_score:
            best_start, best_score = window_start, len(keys)
    return _excerpt(source, best_start, max_chars, [(s, e) for s, e, _ in spans])


def _match_spans(text: str, leaves: Sequence[TextLeaf]) -> list[tuple[int, int, str]]:
    """Sorted, merged (start, end, key) spans of matches in original-text offsets."""
    if not leaves or not text:
        return []
    norm, offsets = normalize_with_offsets(text)
    cjk_patterns: set[str] = set()
    words: set[str] = set()
    prefixes: set[str] = set()
    for leaf in leaves:
        if leaf.kind is LeafKind.PREFIX:
            prefixes.add(leaf.terms.norm)
            continue
        for seg in segments(leaf.terms.norm):
            if seg.kind == "word":
                words.add(stem(seg.text) or seg.text)
            elif leaf.kind is LeafKind.LOOSE and len(seg.text) > 2:
                cjk_patterns.update(seg.text[i:i + 2] for i in range(len(seg.text) - 1))
            else:
                cjk_patterns.add(seg.text)
    found: list[tuple[int, int, str]] = []
    for pattern in cjk_patterns:
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
