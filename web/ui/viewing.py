"""The document viewer's doors: page images, thumbnails, and what the viewer page shows (issue #11 item 3).

A blueprint nested in the pages blueprint (endpoints ``ui.viewer.*``), so the pages' sign-in check
runs first. Every image is fetched through :meth:`Gate.copy` as ``VIEW_DOCUMENT`` — decided by the
policy and logged once per request — so a regulator's page or thumbnail is rendered from the
stamped PDF the gate makes for them (ACS-04) and never from the original; a caller who may not see
the document gets the gate's 404. The rendering itself is :mod:`web.ui.viewer` (pure bytes → PNG /
HTML).

- ``GET /documents/<item>/pages/<n>.png`` — page ``n`` (1-based) of an image, TIFF fax or PDF;
- ``GET /documents/<item>/thumb.png`` — the first page, small; cached per process by item and
  SHA-256 for callers who see the original (a regulator's stamp names them and the time, so theirs
  is made each time);
- :func:`view_of` — what the viewer page (``ui.document``) shows: the page being read and how many
  there are, Word or e-mail as sanitised HTML, the text (masked for a regulator), the e-mail's
  attachments, and the previous / next document of the dossier.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock

from flask import Blueprint, Response, abort

from records.access.identity import Action, Role
from records.model import DocumentInfo, DossierInfo
from web.auth import copy_for, identity
from web.ui import bp as ui_bp
from web.ui.viewer import (Rendered, ViewerError, iter_children, mask_personal_numbers, paged, render_html,
                           render_page, renders_html, thumbable, thumbnail)

__all__ = ["View", "bp", "view_of"]

bp = Blueprint("viewer", __name__)

_THUMBS: OrderedDict[tuple[str, str], bytes] = OrderedDict()
_THUMBS_MAX = 512
_THUMBS_LOCK = Lock()


@dataclass(frozen=True, slots=True)
class View:
    """What the viewer page shows of one document, beside its catalogue entry."""

    text: str | None                    # extracted text; masked for a regulator
    masked: bool                        # the text had phone / ID numbers masked
    page: int                           # the page being read (1-based) …
    pages: int                          # … of this many; 0 when the type is not shown as pages
    html: Rendered | None               # Word / e-mail as escaped HTML (not for a regulator)
    children: tuple[DocumentInfo, ...]  # documents filed from this one (an e-mail's attachments)
    previous: DocumentInfo | None
    next: DocumentInfo | None
    stamped: bool                       # what is shown is the regulator's stamped copy


def _regulator() -> bool:
    who = identity()
    return who.role is Role.REGULATOR and not who.console


def view_of(info: DossierInfo, doc: DocumentInfo, text: str | None, *, page: int = 1) -> View:
    """What the viewer shows of ``doc`` to this caller, once the caller's read of it was allowed.

    A Word file or e-mail is rendered from its original, fetched through the gate as
    ``VIEW_DOCUMENT`` (its own log entry); a regulator gets no rendering of the original, only the
    stamped pages and the masked text.
    """
    stamped = _regulator()
    pages = max(doc.pages or 1, 1) if paged(doc.media_type) else 0
    html = None
    if not stamped and renders_html(doc.media_type):
        copy = copy_for(Action.VIEW_DOCUMENT, doc.item_number)
        html = render_html(b"".join(copy.stream), copy.media_type)
    shown = mask_personal_numbers(text) if (stamped and text) else text
    order = list(info.documents)
    at = next((i for i, d in enumerate(order) if d.item_number == doc.item_number), None)
    return View(text=shown, masked=stamped and shown != text, page=min(max(page, 1), pages) if pages else 0,
                pages=pages, html=html, children=tuple(iter_children(order, doc.item_number)),  # type: ignore[arg-type]
                previous=order[at - 1] if at else None,
                next=order[at + 1] if at is not None and at + 1 < len(order) else None, stamped=stamped)


@bp.route("/documents/<item>/pages/<int:number>.png")
def page(item: str, number: int) -> Response:
    """Page ``number`` of document ``item`` as PNG (VIEW_DOCUMENT, one entry); stamped for a regulator."""
    copy = copy_for(Action.VIEW_DOCUMENT, item)
    if not paged(copy.media_type):
        _close(copy.stream)
        abort(404)
    try:
        png = render_page(b"".join(copy.stream), copy.media_type, number)
    except ViewerError:
        abort(404)
    return _png(png)


@bp.route("/documents/<item>/thumb.png")
def thumb(item: str) -> Response:
    """A small PNG of document ``item``'s first page (VIEW_DOCUMENT, one entry); images, TIFF and PDF only."""
    copy = copy_for(Action.VIEW_DOCUMENT, item)
    if not thumbable(copy.document):
        _close(copy.stream)
        abort(404)
    key = (item, copy.document.sha256)
    if not copy.watermarked:
        with _THUMBS_LOCK:
            cached = _THUMBS.get(key)
        if cached is not None:
            _close(copy.stream)  # decided and logged; the bytes are not needed again
            return _png(cached)
    try:
        png = thumbnail(b"".join(copy.stream), copy.media_type)
    except ViewerError:
        abort(404)
    if not copy.watermarked:
        with _THUMBS_LOCK:
            _THUMBS[key] = png
            while len(_THUMBS) > _THUMBS_MAX:
                _THUMBS.popitem(last=False)
    return _png(png)


def _png(data: bytes) -> Response:
    resp = Response(data, mimetype="image/png")
    resp.headers["Cache-Control"] = "private, no-store"  # case files: never kept by shared caches
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def _close(stream: object) -> None:
    close = getattr(stream, "close", None)
    if callable(close):
        close()


@ui_bp.app_template_filter("thumbable")
def _thumbable(obj: object) -> bool:
    """``{% if doc|thumbable %}``: whether a document or search hit has a first-page thumbnail."""
    return thumbable(obj)


ui_bp.register_blueprint(bp)
