"""Bounded reading of big text-like files (issue #13 item 8: big files do not stall the archive).

Only ``Limits.max_text_chars`` characters of a file's text are kept for the index and catalogue
(the sealed original is kept whole). A parser that reads a whole file into memory and decodes it
— a 300 MiB text file took 1.7 GB and minutes — reads instead just enough bytes for that many
characters: no encoding takes more than four bytes per character. The prefix is cut where a
decoder can end cleanly (after a line end, or on a code-unit boundary for UTF-16/32), so strict
charset detection still works on it.

Markup (HTML, XML) is different: its bytes are mostly tags, and a page saved by a browser carries
its pictures inline as ``data:`` URIs, so a prefix sized for the text can end before the body
starts. ``read_markup`` reads the whole file (within ``max_file_bytes``), drops ``data:`` URIs and
``<script>``/``<style>`` bodies at the byte level (they never hold visible text), and only cuts
what remains when it is still far longer than any markup of that much text; the extracted text is
cut to ``max_text_chars`` afterwards. A cut by bytes is worded by bytes.
"""

from __future__ import annotations

import re
from pathlib import Path

from ingest.errors import TooLargeError
from ingest.model import Limits

__all__ = ["bytes_cut_warning", "read_markup", "read_text_prefix", "text_cut_warning"]

_BYTES_PER_CHAR = 4
_MARKUP_BYTES_PER_CHAR = 16     # markup left after data URIs, scripts and styles are dropped
_DATA_URI = re.compile(rb"""(?i)(["'(=]\s*)data:[^"')\s>]{256,}""")
_HIDDEN_OPEN = re.compile(rb"(?i)<(script|style)\b[^>]*>")


def text_cut_warning(max_chars: int) -> str:
    """The warning a file whose text was cut for the index carries (one wording everywhere)."""
    return f"text cut at {max_chars:,} characters for the index; the original is kept whole"


def bytes_cut_warning(kept: int, total: int) -> str:
    """The warning of a markup file of which only ``kept`` of ``total`` bytes were read for the index."""
    return (f"text cut: only {kept:,} of {total:,} bytes of markup read for the index; "
            "the original is kept whole")


def read_markup(source: Path, limits: Limits, *, html: bool) -> tuple[bytes, bool]:
    """A markup file's bytes — for HTML without ``data:`` URIs and script/style bodies — cut only
    when they exceed ``_MARKUP_BYTES_PER_CHAR`` bytes per character of ``max_text_chars``.

    Returns:
        The bytes, and whether they were cut (the caller warns by bytes).

    Raises:
        TooLargeError: the file is larger than ``max_file_bytes``.
    """
    size = source.stat().st_size
    if size > limits.max_file_bytes:
        raise TooLargeError(f"file is {size} bytes, limit is {limits.max_file_bytes}")
    data = source.read_bytes()
    if b"\x00" in data[:4096]:   # UTF-16/32 markup: byte patterns do not apply; cut on a code-unit boundary
        budget = limits.max_text_chars * _MARKUP_BYTES_PER_CHAR
        if limits.max_text_chars and len(data) > budget:
            return data[:budget - budget % 4], True
        return data, False
    if html:     # in XML data an element named "style" may hold text; only web pages hide theirs
        data = _drop_hidden(_DATA_URI.sub(rb"\1data:", data))
    budget = limits.max_text_chars * _MARKUP_BYTES_PER_CHAR
    if not limits.max_text_chars or len(data) <= budget:
        return data, False
    # '<' never occurs inside a multi-byte character of GB18030, Big5 or UTF-8: a clean cut.
    end = data.rfind(b"<", 0, budget)
    return (data[:end] if end > budget // 2 else _clean_prefix(data[:budget])), True


def _drop_hidden(data: bytes) -> bytes:
    """The markup without the bodies of its ``<script>`` and ``<style>`` elements (linear: one
    pass of ``find`` over a lower-cased copy, no backtracking on unclosed tags)."""
    lower = data.lower()
    kept: list[bytes] = []
    at = 0
    for match in _HIDDEN_OPEN.finditer(data):
        if match.start() < at:
            continue
        close = lower.find(b"</" + match.group(1).lower(), match.end())
        if close == -1:
            break
        kept.append(data[at:match.end()])
        at = close
    kept.append(data[at:])
    return b"".join(kept)


def read_text_prefix(source: Path, limits: Limits) -> tuple[bytes, bool]:
    """The file's bytes, or only a prefix holding at least ``max_text_chars`` characters.

    Returns:
        The bytes, and whether they are a prefix (the caller cuts the text and warns).

    Raises:
        TooLargeError: the file is larger than ``max_file_bytes``.
    """
    size = source.stat().st_size
    if size > limits.max_file_bytes:
        raise TooLargeError(f"file is {size} bytes, limit is {limits.max_file_bytes}")
    budget = limits.max_text_chars * _BYTES_PER_CHAR
    if not limits.max_text_chars or size <= budget:
        return source.read_bytes(), False
    with source.open("rb") as f:
        data = f.read(budget)
    return _clean_prefix(data), True


def _clean_prefix(data: bytes) -> bytes:
    """A prefix of ``data`` that ends where a decoder can end cleanly."""
    if b"\x00" in data[:4096]:   # UTF-16/32: any multiple of four is a code-unit boundary of both
        return data[:len(data) - len(data) % 4]
    end = data.rfind(b"\n")      # ASCII-compatible encodings (UTF-8, GB18030, Big5): a line end is clean
    if end >= len(data) // 2:
        return data[:end + 1]
    cut = len(data)
    while cut > len(data) - 4 and data[cut - 1] & 0xC0 == 0x80:   # a UTF-8 continuation: step back
        cut -= 1
    if cut < len(data) and data[cut - 1] >= 0xC0:
        cut -= 1                  # drop the lead byte whose continuation was cut off
    return data[:cut]
