"""The one font every PDF the archive writes uses for Chinese and Latin text.

reportlab's built-in CID font ``STSong-Light`` (Adobe-GB1) needs no font file on disk: readers
substitute a system Song/Ming face, and text extraction returns the exact characters. Watermark
stamps, disposition certificates and reports all draw with it.
"""

from __future__ import annotations

import functools

CJK_FONT = "STSong-Light"


@functools.cache
def register_cjk_font() -> str:
    """Register the CJK font with reportlab once per process; returns its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT
