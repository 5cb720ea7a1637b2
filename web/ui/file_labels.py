"""Human labels for what a page shows about a file and its retention: media type, size, retention rule (issue #11).

A page used to show ``image/tiff · 36996 B`` and the rule id ``default-1y``: developer notation,
English in the zh-CN interface. These Jinja filters answer "TIFF 图像 · 36.1 KB" and
"一般材料：办结后保存 1 年" instead; the raw value stays available to the template (a
``title`` or ``data-`` attribute) for whoever needs it.

- ``media_type_label``: a media type's everyday name (``application/pdf`` -> "PDF document").
- ``file_size``: bytes in the caller's locale's number format, binary units (1 KB = 1,024 bytes).
- ``retention_rule``: the seed schedule's rules (RET) by name; a rule id ending in ``-<N>y`` or
  ``-<N>m`` (the schedule's naming habit) as "<N>-year rule"; any other id as it is, since
  an archive names its own rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask_babel import format_decimal, gettext as _

__all__ = ["file_size", "media_type_label", "register", "retention_rule"]

_MEDIA: dict[str, Callable[[], str]] = {
    "application/pdf": lambda: _("PDF document"),
    "image/tiff": lambda: _("TIFF image"),
    "image/jpeg": lambda: _("JPEG image"),
    "image/png": lambda: _("PNG image"),
    "image/gif": lambda: _("GIF image"),
    "image/bmp": lambda: _("BMP image"),
    "image/webp": lambda: _("WebP image"),
    "text/plain": lambda: _("Plain text"),
    "text/html": lambda: _("Web page (HTML)"),
    "text/csv": lambda: _("CSV table"),
    "text/rtf": lambda: _("RTF document"),
    "application/rtf": lambda: _("RTF document"),
    "message/rfc822": lambda: _("E-mail"),
    "application/vnd.ms-outlook": lambda: _("Outlook e-mail"),
    "application/msword": lambda: _("Word document (.doc)"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": lambda: _("Word document"),
    "application/vnd.ms-excel": lambda: _("Excel spreadsheet"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": lambda: _("Excel spreadsheet"),
    "application/vnd.oasis.opendocument.text": lambda: _("OpenDocument text"),
    "application/zip": lambda: _("ZIP archive"),
    "application/ofd": lambda: _("OFD document"),
    "multipart/related": lambda: _("Saved web page (MHT)"),
    "application/x-mimearchive": lambda: _("Saved web page (MHT)"),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": lambda: _("PowerPoint presentation"),
    "application/vnd.ms-powerpoint": lambda: _("PowerPoint presentation (.ppt)"),
    "application/x-ms-office-encrypted": lambda: _("Password-protected Office file"),
    "application/x-7z-compressed": lambda: _("7-Zip archive"),
    "application/vnd.rar": lambda: _("RAR archive"),
    "application/x-rar": lambda: _("RAR archive"),
    "application/octet-stream": lambda: _("Unknown format"),
}
_FAMILY: dict[str, Callable[[], str]] = {
    "image": lambda: _("Image"), "audio": lambda: _("Audio recording"), "video": lambda: _("Video"),
    "text": lambda: _("Text"),
}


def media_type_label(media_type: Any) -> str:
    """``image/tiff`` -> "TIFF image" (translated); parameters (``; charset=…``) are ignored."""
    if not media_type:
        return ""
    base = str(media_type).split(";", 1)[0].strip().lower()
    if base in _MEDIA:
        return _MEDIA[base]()
    family = base.partition("/")[0]
    if family in _FAMILY:
        return _FAMILY[family]()
    return _("Other format")


_UNITS = ("KB", "MB", "GB", "TB")


def file_size(size: Any) -> str:
    """36996 -> "36.1 KB"; under 1 KB "512 bytes" (translated); the decimal mark is the locale's."""
    if size is None or size == "":
        return ""
    n = int(size)
    if n < 1024:
        return _("%(num)s bytes", num=format_decimal(n))  # no plural: the catalogue has one form (zh)
    value = float(n)
    for unit in _UNITS:
        value /= 1024
        if value < 1024 or unit == _UNITS[-1]:
            break
    return f"{format_decimal(round(value, 1), format='#,##0.0')} {unit}"


_SEED_RULES: dict[str, Callable[[], str]] = {
    "default-1y": lambda: _("Standard material: kept 1 year from closure"),
    "important-10y": lambda: _("Important material: kept 10 years from closure"),
}
_PERIOD = re.compile(r"-(\d{1,3})([ym])$")


def retention_rule(rule_id: Any) -> str:
    """A retention rule's description for a page: the seed rules by name, ``…-5y`` as "5-year rule"."""
    if not rule_id:
        return ""
    raw = str(rule_id)
    if raw in _SEED_RULES:
        return _SEED_RULES[raw]()
    m = _PERIOD.search(raw)
    if m:
        n = int(m.group(1))
        if m.group(2) == "y":
            return _("%(num)s-year rule (%(rule)s)", num=n, rule=raw)
        return _("%(num)s-month rule (%(rule)s)", num=n, rule=raw)
    return raw


def register(app_or_bp: Any) -> None:
    """Make the three filters available to every template (``{{ doc.media_type|media_type_label }}``)."""
    app_or_bp.add_app_template_filter(media_type_label, "media_type_label")
    app_or_bp.add_app_template_filter(file_size, "file_size")
    app_or_bp.add_app_template_filter(retention_rule, "retention_rule")
