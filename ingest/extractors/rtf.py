"""Rich Text Format (.rtf, and RTF saved under a Word or WPS name) → text, through striprtf.

Chinese RTF carries its text three ways, all honoured: ``\\'hh`` byte escapes in the code page
the document (``\\ansicpg936``/``950``) or the run's font (``\\fcharset134``/``136``) names,
``\\uN`` Unicode escapes with their ANSI fallback skipped (``\\ucN``), and — from some older
writers — raw 8-bit GBK/Big5 bytes. The raw bytes are decoded with the document's code page
before striprtf sees them, so all three come out as the same characters.

Embedded pictures and objects (``{\\pict …}``, ``{\\*\\objdata …}`` groups) are dropped from the
bytes before anything is decoded, and any other long hex run after: they are never text, and a
30 MB letter with one scanned picture must not cost hundreds of megabytes (a backtracking
pattern once did, and the worker's memory cap lost the letter's text).
``rtf_text`` is the reusable core (the Word extractor uses it for RTF ``altChunk`` parts).
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import ClassVar

from ingest.errors import CorruptDocumentError
from ingest.extractors._mime import read_bounded, tidy_lines
from ingest.language import detect_languages
from ingest.model import ExtractContext, Extraction

__all__ = ["RtfExtractor", "rtf_text"]

_ANSICPG = re.compile(rb"\\ansicpg(\d{3,5})")
# Picture/object data, never prose. A plain character class: no backtracking state per repetition.
_HEX_RUN = re.compile(r"[0-9a-fA-F\r\n]{512,}")
# Groups that hold binary data as hex, dropped whole at the byte level (their {\\result} is kept).
_DATA_GROUP = re.compile(rb"\{(?:\\\*)?\\(?:pict|objdata)(?![a-zA-Z])")
_GROUP_TOKEN = re.compile(rb"\\bin(\d{1,10}) ?|\\[{}\\]|[{}]")
# Code pages whose Python codec is a subset of what real files hold (GBK text under cp936 is fine,
# but GB18030 additions are not): decode with the superset.
_SUPERSET = {"gbk": "gb18030"}
_INFO_FIELDS = (("title", "title"), ("author", "author"), ("subject", "subject"),
                ("keywords", "keywords"), ("company", "company"))


class RtfExtractor:
    """Extracts Rich Text Format documents (Word, WordPad, WPS, Outlook RTF bodies)."""

    name: ClassVar[str] = "rtf"
    media_types: ClassVar[frozenset[str]] = frozenset({"text/rtf", "application/rtf"})

    def extract(self, source: Path, media_type: str, context: ExtractContext) -> Extraction:
        """Return the visible text, the ``\\info`` metadata and the code page used.

        Raises:
            TooLargeError: the file exceeds ``max_file_bytes``.
            CorruptDocumentError: the file is not RTF.
        """
        data = read_bounded(source, context.limits)
        if not data.removeprefix(codecs.BOM_UTF8).lstrip().startswith(b"{\\rtf"):
            raise CorruptDocumentError("not an RTF document (no {\\rtf header)")
        warnings: list[str] = []
        text = rtf_text(data, warnings)
        codec = _code_page(data)
        metadata = {"encoding": codec, **_info(data, codec)}
        return Extraction(text=text, languages=detect_languages(text), metadata=metadata,
                          warnings=tuple(warnings))


def rtf_text(data: bytes, warnings: list[str] | None = None) -> str:
    """The visible text of an RTF document (bytes as stored); never raises on odd content.

    Undecodable ``\\'hh`` bytes are replaced, with a note appended to ``warnings`` if given.
    """
    from striprtf.striprtf import rtf_to_text

    codec = _code_page(data)
    markup = _HEX_RUN.sub("", _without_data_groups(data.removeprefix(codecs.BOM_UTF8)).decode(codec, errors="replace"))
    try:
        text: str = rtf_to_text(markup, encoding=codec, errors="strict")  # type: ignore[no-untyped-call]
    except (UnicodeDecodeError, LookupError):
        text = rtf_to_text(markup, encoding=codec, errors="replace")  # type: ignore[no-untyped-call]
        if warnings is not None:
            warnings.append(f"undecodable bytes replaced while decoding RTF as {codec}")
    return tidy_lines(text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", ""))


def _without_data_groups(data: bytes) -> bytes:
    """``data`` without its ``{\\pict …}`` and ``{\\*\\objdata …}`` groups (matched by braces;
    escaped braces and ``\\binN`` raw bytes skipped); an unclosed group runs to the end. Only
    braces and escapes are visited, so megabytes of hex cost one regular-expression scan."""
    kept: list[bytes] = []
    at = 0
    while (start := _DATA_GROUP.search(data, at)) is not None:
        kept.append(data[at:start.start()])
        depth, at = 0, start.start()
        while (token := _GROUP_TOKEN.search(data, at)) is not None:
            at = token.end()
            if token.group(1) is not None:          # \binN: N raw bytes, braces in them mean nothing
                at += int(token.group(1))
            elif token.group() == b"{":
                depth += 1
            elif token.group() == b"}":
                depth -= 1
                if depth == 0:
                    break
        else:
            at = len(data)
    kept.append(data[at:])
    return b"".join(kept)


def _code_page(data: bytes) -> str:
    """The Python codec of the document's ``\\ansicpgN`` (cp1252 when absent or unknown)."""
    found = _ANSICPG.search(data[:8192])
    codec = f"cp{int(found.group(1))}" if found else "cp1252"
    try:
        codec = codecs.lookup(codec).name
    except LookupError:
        return "cp1252"
    return _SUPERSET.get(codec, codec)


def _info(data: bytes, codec: str) -> dict[str, str]:
    """Title, author, subject, keywords from the ``{\\info ...}`` group, decoded like the body."""
    from striprtf.striprtf import rtf_to_text

    head = data[:65536].decode(codec, errors="replace")
    metadata: dict[str, str] = {}
    for word, key in _INFO_FIELDS:
        match = re.search(r"\{\\" + word + r"\b ?((?:[^{}\\]|\\[^{}])*)\}", head)
        if match and match.group(1).strip():
            try:
                value = rtf_to_text("{\\rtf1 " + match.group(1) + "}",  # type: ignore[no-untyped-call]
                                    encoding=codec, errors="replace")
            except Exception:  # a damaged info group is not a reason to lose the document
                continue
            value = " ".join(value.split())
            if value:
                metadata[key] = value[:1000]
    return metadata
