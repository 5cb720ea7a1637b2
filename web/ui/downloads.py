"""Sending a document's original: as filed, or — to a regulator — as a watermarked PDF (issue #5 (4), ACS-04).

Shared by the page routes (``/documents/<item>/content``) and the API
(``/api/v1/documents/<item>/content``), so every way a regulator can fetch an original goes
through :func:`original_response` and gets the stamped copy, never the original.

Every download says how long it is and what it hashes to (issue #17 (4)): ``Content-Length``
and ``Repr-Digest: sha-256=:<base64>:`` (RFC 9530). The original is streamed, so the status line
is gone before its last byte is read; if the document store fails half-way the server can only
close the connection. With a length announced (and hence no chunked encoding) the client sees
fewer bytes than promised and knows the file is truncated, instead of receiving a chunked body
that merely ended; the digest lets it check what it kept. For the original both come from the
catalogue (the SHA-256 recorded when it was filed, which the vault checks again as it reads);
a regulator's stamped copy is made in memory, so they are computed over the bytes sent.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from urllib.parse import quote

from flask import Response

from records.access.identity import Action
from web.auth import copy_for

__all__ = ["INLINE_TYPES", "content_response", "original_response", "repr_digest"]

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
    if copy.watermarked:
        stamped = b"".join(copy.stream)  # already whole in memory: the stamp is made there
        return content_response(copy.media_type, copy.filename, [stamped], inline=shown_inline,
                                size=len(stamped), sha256=hashlib.sha256(stamped).hexdigest())
    return content_response(copy.media_type, copy.filename, copy.stream, inline=shown_inline,
                            size=copy.document.size, sha256=copy.document.sha256)


def content_response(media_type: str, filename: str, stream: Iterable[bytes], *, inline: bool,
                     size: int | None = None, sha256: str | None = None) -> Response:
    """A document's bytes, streamed; inline only for types a browser shows safely.

    ``size`` and ``sha256`` (hex) are those of the bytes ``stream`` yields; given, they become
    ``Content-Length`` and ``Repr-Digest`` (see the module docstring).
    """
    resp = Response(stream, mimetype=media_type if inline else "application/octet-stream")
    if size is not None:
        # Set by hand on a streamed body: werkzeug then sends it and does not chunk the response.
        resp.headers["Content-Length"] = str(size)
    if sha256 is not None:
        resp.headers["Repr-Digest"] = repr_digest(sha256)
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    resp.headers["Content-Disposition"] = (f"{'inline' if inline else 'attachment'}; filename=\"{ascii_name}\"; "
                                           f"filename*=UTF-8''{quote(filename)}")
    resp.headers["Cache-Control"] = "no-store"
    if media_type != "application/pdf":
        resp.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    return resp


def repr_digest(sha256_hex: str) -> str:
    """The ``Repr-Digest`` field value (RFC 9530 §3) for a hex SHA-256: ``sha-256=:<base64>:``."""
    return f"sha-256=:{base64.b64encode(bytes.fromhex(sha256_hex)).decode('ascii')}:"
