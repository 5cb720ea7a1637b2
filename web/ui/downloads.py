"""Sending a document's original: as filed, or — to a regulator — as a watermarked PDF (issue #5 (4), ACS-04).

Shared by the page routes (``/documents/<item>/content``) and the API
(``/api/v1/documents/<item>/content``), so every way a regulator can fetch an original goes
through :func:`original_response` and gets the stamped copy, never the original.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from urllib.parse import quote

from flask import Response

from records.access.identity import Action, Role
from records.access.watermark import renders_text, stamp_lines, watermark_document
from web.auth import identity, retrieve_original, services, zone

__all__ = ["INLINE_TYPES", "content_response", "original_response"]

# Originals shown inside the page; anything else is offered as a download only.
INLINE_TYPES = ("application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain")


def original_response(action: Action, item: str, *, inline: bool) -> Response:
    """Authorise, log and send document ``item``'s original (inline if asked and safe to show).

    A regulator always receives a stamped PDF (name, grant and purpose, time) made in memory
    from the authenticated original; if no stamped copy can be made (a password-protected PDF,
    a type without extracted text) they get a :class:`~records.access.watermark.WatermarkError`
    and nothing else. Other roles receive the original bytes, streamed.
    """
    original = retrieve_original(action, item)
    doc, who = original.document, identity()
    if who.role is not Role.REGULATOR:
        return content_response(doc.media_type, doc.filename, original.stream,
                                inline=inline and doc.media_type in INLINE_TYPES)
    data = b"".join(original.stream)  # authenticated to its last byte before anything is sent
    text = None
    if renders_text(doc.media_type) and doc.text_chars:
        text = services().records.document_text(who.name, doc.item_number)[1]
    grant = next((g for g in who.grants if g.grant_id == original.decision.grant_id), None)
    stamped, media_type = watermark_document(data, doc.media_type, stamp_lines(who, grant, services().clock(),
                                                                               zone()), text=text)
    name = (doc.filename.rsplit(".", 1)[0] if "." in doc.filename[1:] else doc.filename) + ".pdf"
    return content_response(media_type, name, [stamped], inline=inline)


def content_response(media_type: str, filename: str, stream: Iterable[bytes], *, inline: bool) -> Response:
    """A document's bytes, streamed; inline only for types a browser shows safely."""
    resp = Response(stream, mimetype=media_type if inline else "application/octet-stream")
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    resp.headers["Content-Disposition"] = (f"{'inline' if inline else 'attachment'}; filename=\"{ascii_name}\"; "
                                           f"filename*=UTF-8''{quote(filename)}")
    resp.headers["Cache-Control"] = "no-store"
    if media_type != "application/pdf":
        resp.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    return resp
