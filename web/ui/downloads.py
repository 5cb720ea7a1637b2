"""Sending a document's original: as filed, or — to a regulator — as a watermarked PDF (issue #5 (4), ACS-04).

Shared by the page routes (``/documents/<item>/content``) and the API
(``/api/v1/documents/<item>/content``), so every way a regulator can fetch an original goes
through :func:`original_response` and gets the stamped copy, never the original.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from flask import Response

from records.access.identity import Action
from web.auth import copy_for

__all__ = ["INLINE_TYPES", "content_response", "original_response"]

# Originals shown inside the page; anything else is offered as a download only.
INLINE_TYPES = ("application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain")


def original_response(action: Action, item: str, *, inline: bool) -> Response:
    """Authorise, log and send document ``item`` as this caller may receive it (:meth:`Gate.copy`).

    A regulator always receives a stamped PDF (name, grant and purpose, time); if none can be
    made they get a :class:`~records.access.watermark.WatermarkError` and nothing else. Other
    roles receive the original bytes, streamed, inline only for types a browser shows safely.
    """
    copy = copy_for(action, item)
    shown_inline = inline and (copy.watermarked or copy.media_type in INLINE_TYPES)
    return content_response(copy.media_type, copy.filename, copy.stream, inline=shown_inline)


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
