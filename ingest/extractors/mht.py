"""Web pages saved as .mht/.mhtml (RFC 2557 web archives from IE, Edge, Chrome, Word) → the
page's text.

A web archive is a MIME ``multipart/related`` message: the page's HTML and its images as parts.
The e-mail reader already decodes such a message part by part (charsets by evidence, quoted-
printable, scripts and styles dropped), so it does the reading; what differs is how the result
is presented. A saved page is not a letter: its text is the page (no ``From: <Saved by Blink>``
header block in front), its title is the page title, it has no sender, and the address it was
saved from is kept as ``source_url``. The page's images stay attachments (they may be scans).

``page_metadata`` gives the same title and address for a page saved as plain ``.html`` (the text
extractor reads those): browsers mark a saved page ``<!-- saved from url=(NNNN)ADDRESS -->``.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from ingest.model import ExtractContext, Extraction

__all__ = ["WebArchiveExtractor", "page_metadata"]

_LOCATION = re.compile(rb"(?im)^(?:snapshot-)?content-location:\s*(\S+)")
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_SAVED_FROM = re.compile(r"<!--\s*saved from url=\(\d+\)(\S+?)\s*-->", re.IGNORECASE)
_SENDER_KEYS = ("from", "author", "to", "cc")


class WebArchiveExtractor:
    """Extracts .mht/.mhtml web archives as the page they hold."""

    name: ClassVar[str] = "mht"
    media_types: ClassVar[frozenset[str]] = frozenset({"multipart/related", "application/x-mimearchive"})
    takes_password: ClassVar[bool] = True   # handed on to its attachments, as the e-mail reader's

    def extract(self, source: Path, media_type: str, context: ExtractContext) -> Extraction:
        """Return the saved page's text, title and address, and its images as attachments.

        Raises:
            TooLargeError, CorruptDocumentError: as the e-mail reader does.
        """
        from ingest.extractors.eml import EmailExtractor   # lazily: eml imports the text extractor, which imports us

        mail = EmailExtractor().extract(source, "message/rfc822", context)
        text = _without_summary(mail.text, mail.metadata)
        metadata = {k: v for k, v in mail.metadata.items() if k not in _SENDER_KEYS}
        if "subject" in metadata:
            metadata.setdefault("title", metadata["subject"])
        with source.open("rb") as handle:
            found = _LOCATION.search(handle.read(64 * 1024))
        if found:
            metadata["source_url"] = found.group(1).decode("ascii", errors="replace")[:1000]
        return replace(mail, text=text.strip("\n"), metadata=metadata)


def _without_summary(text: str, metadata: dict[str, str]) -> str:
    """The mail text without the summary header block the e-mail reader put first.

    The reader writes one ``Label: value`` line per summary header the message has (From, To,
    Cc, Date, Subject, in that order) and a blank line; a page saved by Word has none of them,
    so its first paragraph — which may well read "Ref: …" / "Date: …" — is the page's and stays.
    """
    from ingest.extractors.eml import _SUMMARY_HEADERS

    labels = [label for label, key in _SUMMARY_HEADERS if key in metadata]
    if not labels:
        return text
    header, blank, body = text.partition("\n\n")
    lines = header.split("\n")
    if blank and len(lines) == len(labels) and all(
            line.startswith(f"{label}: ") for line, label in zip(lines, labels, strict=True)):
        return body
    return text


def page_metadata(markup: str) -> dict[str, str]:
    """``title`` and, for a page a browser saved, ``source_url`` of decoded HTML (head only)."""
    head = markup[:256 * 1024]
    metadata: dict[str, str] = {}
    title = _TITLE.search(head)
    if title and (value := " ".join(html.unescape(re.sub(r"<[^>]*>", "", title.group(1))).split())):
        metadata["title"] = value[:1000]
    saved = _SAVED_FROM.search(head[:4096])
    if saved:
        metadata["source_url"] = saved.group(1)[:1000]
    return metadata
