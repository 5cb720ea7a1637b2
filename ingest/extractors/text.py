"""Plain text, HTML and XML in any legacy encoding → text, with the encoding recorded.

Decoding goes by evidence, strongest first (``_mime.decode_text``, shared with mail and .msg bodies):

1. a byte-order mark (UTF-8, UTF-16, UTF-32): authoritative, and dropped;
2. a charset the markup declares (``<meta charset>``, XML declaration) if the bytes agree;
3. bytes that are valid UTF-8 are UTF-8; BOM-less UTF-16 is recognised by its NUL pattern;
4. bytes that look like a multi-byte CJK encoding are tried *strictly* as GB18030, Big5
   (HKSCS) and EUC-TW, and the decode whose characters are the everyday ones of its script
   wins; Shift_JIS/EUC-KR only when charset-normalizer prefers them and the text then shows
   kana/Hangul. This runs before any single-byte guess, because charset-normalizer samples
   a large file and can settle on a Cyrillic code page (``ptcp154``) that "decodes" anything;
5. only then charset-normalizer's best guess.

The chosen encoding is recorded in the metadata (``encoding``, and ``charset_basis`` saying
which evidence decided); a guess (step 5, or a lenient CJK decode) also becomes a warning
naming the encoding, so the document is flagged for review.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from ingest.extractors._bounded import bytes_cut_warning, read_markup, read_text_prefix, text_cut_warning
from ingest.extractors._mime import declared_markup_encoding, decode_text, html_to_text
from ingest.model import ExtractContext, Extraction

__all__ = ["TextExtractor"]

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_XML_TYPES = frozenset({"text/xml", "application/xml", "application/rss+xml", "application/atom+xml"})



class TextExtractor:
    """Extracts plain text, CSV, Markdown, HTML and XML files."""

    name: ClassVar[str] = "text"
    media_types: ClassVar[frozenset[str]] = frozenset({
        "text/plain", "text/csv", "text/markdown", "text/x-markdown", "text/tab-separated-values",
        *_HTML_TYPES, *_XML_TYPES,
    })

    def extract(self, source: Path, media_type: str, context: ExtractContext) -> Extraction:
        """Return the decoded text (markup reduced to its visible text) and its encoding.

        Raises:
            TooLargeError: the file exceeds ``max_file_bytes``.
        """
        # A text longer than what the index keeps is read as a bounded prefix (issue #13 item 8);
        # markup is read whole less its data: URIs, scripts and styles, and its text cut after.
        markup = _markup_kind(media_type, source)
        bytes_cut = False
        if markup:
            data, bytes_cut = read_markup(source, context.limits, html=markup == "html")
            cut = False
        else:
            data, cut = read_text_prefix(source, context.limits)
        declared = declared_markup_encoding(data, is_html=markup == "html") if markup else None
        decoded = decode_text(data, declared)
        text = decoded.text.lstrip("\ufeff")
        if markup:
            text = html_to_text(_drop_xml_declaration(text), xml=markup == "xml")
        else:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        metadata = {"encoding": decoded.encoding, "charset_basis": decoded.basis}
        if declared:
            metadata["declared_encoding"] = declared
        if markup == "html":
            from ingest.extractors.mht import page_metadata   # web pages: title, "saved from" address

            metadata.update(page_metadata(decoded.text))
        cap = context.limits.max_text_chars
        if cap and len(text) > cap:
            return Extraction(text=text[:cap], metadata=metadata,
                              warnings=(*decoded.warnings, text_cut_warning(cap)))
        if cut or bytes_cut:
            # Cut by bytes yet shorter than the cap: say what was read, not a character count.
            cut_note = bytes_cut_warning(len(data), source.stat().st_size)
            return Extraction(text=text, metadata=metadata, warnings=(*decoded.warnings, cut_note))
        return Extraction(text=text, metadata=metadata, warnings=decoded.warnings)


def _markup_kind(media_type: str, source: Path) -> str | None:
    if media_type in _HTML_TYPES:
        return "html"
    if media_type in _XML_TYPES:
        # XHTML opens with an XML declaration, so libmagic calls it XML; it is a web page
        # (scripts and styles to drop, a title), not data.
        with source.open("rb") as handle:
            return "html" if _XHTML.search(handle.read(4096)) else "xml"
    return None


_XHTML = re.compile(rb"<html\b[^>]*\bxmlns\s*=\s*[\"']http://www\.w3\.org/1999/xhtml|<!DOCTYPE\s+html\b", re.IGNORECASE)


def _drop_xml_declaration(text: str) -> str:
    # lxml refuses str input that still carries an encoding declaration; the text is
    # already decoded, so the declaration has done its job.
    stripped = text.lstrip()
    if stripped.startswith("<?xml"):
        end = stripped.find("?>")
        if end != -1:
            return stripped[end + 2:]
    return text
