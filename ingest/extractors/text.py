"""Plain text, HTML and XML in any legacy encoding → text, with the encoding recorded.

Decoding goes by evidence, strongest first (``decode_by_evidence``):

1. a byte-order mark (UTF-8, UTF-16, UTF-32): authoritative, and dropped;
2. a charset the markup declares (``<meta charset>``, XML declaration) if the bytes agree;
3. bytes that are valid UTF-8 are UTF-8; BOM-less UTF-16 is recognised by its NUL pattern;
4. bytes that look like a multi-byte CJK encoding are tried *strictly* as GB18030, Big5
   (HKSCS) and EUC-TW, and the decode whose characters are the everyday ones of its script
   wins; Shift_JIS/EUC-KR only when charset-normalizer prefers them and the text then shows
   kana/Hangul. This runs before any single-byte guess, because charset-normalizer samples
   a large file and can settle on a Cyrillic code page (``ptcp154``) that "decodes" anything;
5. only then charset-normalizer's best guess (``_mime.decode_text``).

The chosen encoding is recorded in the metadata (``encoding``, and ``charset_basis`` saying
which evidence decided); a guess (step 5, or a lenient CJK decode) also becomes a warning
naming the encoding, so the document is flagged for review.
"""

from __future__ import annotations

import codecs
import functools
from pathlib import Path
from typing import ClassVar

from ingest.extractors._mime import (  # _iconv_decode: glibc's EUC-TW, which Python lacks
    Decoded,
    _iconv_decode,
    canonical_codec,
    declared_markup_encoding,
    decode_text,
    html_to_text,
    read_bounded,
    sniff_utf16,
)
from ingest.model import ExtractContext, Extraction

__all__ = ["TextExtractor", "decode_by_evidence"]

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_XML_TYPES = frozenset({"text/xml", "application/xml", "application/rss+xml", "application/atom+xml"})

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Single-byte labels that decode any byte string "successfully", so a label proves nothing.
_PERMISSIVE = frozenset({"ascii", "iso8859-1", "cp1252", "iso8859-15"})
_SAMPLE = 64 * 1024                 # evidence is weighed on a prefix; the chosen codec decodes all
_SCORE_CHARS = 20_000               # decoded characters scored per candidate
_MIN_COMMON = 0.6                   # share of everyday characters a right CJK decode shows
_CJK_CANDIDATES = ("gb18030", "big5hkscs", "iconv:EUC-TW")
# Asked of charset-normalizer only among multi-byte East Asian codecs.
_CJK_ISOLATION = ["gb18030", "big5", "cp950", "cp932", "shift_jis", "euc_jp", "cp949", "euc_kr"]


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
        data = read_bounded(source, context.limits)
        markup = _markup_kind(media_type, data)
        declared = declared_markup_encoding(data, is_html=markup == "html") if markup else None
        decoded, basis = decode_by_evidence(data, declared)
        text = decoded.text.lstrip("\ufeff")
        if markup:
            text = html_to_text(_drop_xml_declaration(text) if markup == "xml" else text,
                                xml=markup == "xml")
        else:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        metadata = {"encoding": decoded.encoding, "charset_basis": basis}
        if declared:
            metadata["declared_encoding"] = declared
        return Extraction(text=text, metadata=metadata, warnings=decoded.warnings)


def decode_by_evidence(data: bytes, declared: str | None = None) -> tuple[Decoded, str]:
    """Decode bytes of unknown or doubtful charset, strongest evidence first; never raises.

    Returns the decoded text and the basis of the choice: ``bom``, ``ascii``, ``declared``,
    ``utf-8``, ``utf-16``, ``cjk-strict`` (a strict multi-byte CJK decode that reads as
    everyday text), or ``guess`` (charset-normalizer or a lenient decode; always with a
    warning naming the encoding).
    """
    for bom, _codec in _BOMS:
        if data.startswith(bom):
            return decode_text(data), "bom"
    if not data or data.isascii():
        return decode_text(data, declared), "ascii"
    codec = canonical_codec(declared)
    if codec and codec not in _PERMISSIVE and _strict(data, codec) is not None:
        # decode_text weighs a clean declared decode against a confident other CJK detection.
        decoded = decode_text(data, declared)
        return decoded, "declared" if decoded.encoding == codec.removeprefix("iconv:").lower() else "guess"
    text = _strict(data, "utf-8")
    if text is not None:
        return Decoded(text, "utf-8"), "utf-8"
    if sniff_utf16(data) is not None:
        decoded = decode_text(data)
        if decoded.encoding.startswith("utf-16") and not decoded.warnings:
            return decoded, "utf-16"
    cjk = _decode_cjk(data)
    if cjk is not None:
        decoded, basis = cjk
        if declared and codec != decoded.encoding:
            # A label the bytes overrule is a mislabel worth a reviewer's look.
            note = f"declared charset {declared!r} but content decodes as {decoded.encoding}"
            decoded = Decoded(decoded.text, decoded.encoding, (note, *decoded.warnings))
        return decoded, basis
    decoded = decode_text(data, declared)
    if codec in _PERMISSIVE and decoded.encoding in (codec, "cp1252" if codec == "ascii" else codec):
        return decoded, "declared"     # a Western label on Western bytes: nothing to doubt
    if not any(decoded.encoding in note for note in decoded.warnings):
        decoded = Decoded(decoded.text, decoded.encoding,
                          (*decoded.warnings, f"charset guessed as {decoded.encoding}"))
    return decoded, "guess"


def _decode_cjk(data: bytes) -> tuple[Decoded, str] | None:
    """A multi-byte East Asian decode when the bytes are CJK-looking, else None."""
    sample = data[:_SAMPLE]
    if not _looks_cjk(sample):
        return None
    japanese_korean = _japanese_or_korean(sample)
    if japanese_korean is not None:
        text = _strict(data, japanese_korean)
        if text is not None:
            return Decoded(text, japanese_korean), "cjk-strict"
    scored = sorted(
        ((score, -rank, codec) for rank, codec in enumerate(_CJK_CANDIDATES)
         if (score := _everyday_share(_sample_decode(sample, codec))) >= _MIN_COMMON),
        reverse=True)
    for _score, _rank, codec in scored:
        text = _strict(data, codec)
        if text is not None:
            return Decoded(text, _label(codec)), "cjk-strict"
    if scored and not scored[0][2].startswith("iconv:"):
        # The prefix reads as everyday CJK but a byte further on is broken: keep the codec
        # the evidence chose rather than a single-byte code page that "decodes" anything.
        codec = scored[0][2]
        text = data.decode(codec, errors="replace")
        return Decoded(text, codec, (f"charset guessed as {codec}; undecodable bytes replaced",)), "guess"
    return None


def _looks_cjk(sample: bytes) -> bool:
    """Most bytes >= 0x80 pair up as a CJK lead byte (0x81-0xFE) and a trail byte."""
    high = sum(1 for b in sample if b >= 0x80)
    if high < 2:
        return False
    paired = 0
    i, end = 0, len(sample) - 1
    while i < end:
        lead = sample[i]
        if 0x81 <= lead <= 0xFE:
            trail = sample[i + 1]
            if 0x40 <= trail <= 0xFE and trail != 0x7F or 0x30 <= trail <= 0x39:
                paired += 2 if trail >= 0x80 else 1
                i += 2
                continue
        i += 1
    return paired >= 0.8 * high


def _japanese_or_korean(sample: bytes) -> str | None:
    """cp932 or cp949 when charset-normalizer prefers a Japanese/Korean codec among the CJK
    ones and the text then shows that script (kana, Hangul); short Chinese text is often
    ranked Japanese, so the preference alone is not enough."""
    from charset_normalizer import from_bytes

    best = from_bytes(_safe_cut(sample), cp_isolation=_CJK_ISOLATION).best()
    if best is None:
        return None
    codec = canonical_codec(best.encoding) or ""
    text = _sample_decode(sample, codec)
    if not text:
        return None
    letters = [c for c in text[:_SCORE_CHARS] if ord(c) > 0x7F and c.isalpha()]
    if not letters:
        return None
    if codec in ("cp932", "shift_jis", "euc_jp"):
        kana = sum(1 for c in letters if "\u3040" <= c <= "\u30ff")
        return codec if kana >= 0.1 * len(letters) else None
    if codec in ("cp949", "euc_kr"):
        hangul = sum(1 for c in letters if "\uac00" <= c <= "\ud7a3")
        return codec if hangul >= 0.5 * len(letters) else None
    return None


def _everyday_share(text: str | None) -> float:
    """Share of non-ASCII characters that are everyday Chinese ones (GB2312 level 1, Big5
    common) or CJK punctuation; a wrong multi-byte decode scatters into rare ideographs,
    kana, symbols and private-use code points."""
    if not text:
        return 0.0
    non_ascii = [c for c in text[:_SCORE_CHARS] if ord(c) > 0x7F and not c.isspace()]
    if not non_ascii:
        return 0.0
    common = _common_han()
    good = sum(1 for c in non_ascii if c in common or "\u3000" <= c <= "\u303f" or "\uff01" <= c <= "\uff5e")
    return good / len(non_ascii)


@functools.cache
def _common_han() -> frozenset[str]:
    chars: set[str] = set()
    for lead in range(0xB0, 0xD8):                  # GB2312 level 1: the 3,755 commonest
        chars.update(bytes(b for t in range(0xA1, 0xFF) for b in (lead, t)).decode("gb2312", "ignore"))
    trails = [*range(0x40, 0x7F), *range(0xA1, 0xFF)]
    for lead in range(0xA4, 0xC7):                  # Big5 frequently used characters
        for t in trails:
            chars.update(bytes((lead, t)).decode("big5", "ignore"))
    return frozenset(chars)


def _sample_decode(sample: bytes, codec: str) -> str | None:
    """Strict decode of a prefix that may end inside a character, or None."""
    if codec.startswith("iconv:"):
        return _strict(_safe_cut(sample), codec)
    try:
        return codecs.getincrementaldecoder(codec)("strict").decode(sample, final=False)
    except (UnicodeDecodeError, LookupError):
        return None


def _safe_cut(sample: bytes) -> bytes:
    """The sample up to its last byte below 0x30, which never sits inside a GB18030, Big5,
    Shift_JIS, EUC or UHC character (charset-normalizer misreads a cut character as mess)."""
    cut = max(sample.rfind(bytes((b,))) for b in range(0x30))
    return sample[: cut + 1] if cut > 0 else sample


def _strict(data: bytes, codec: str) -> str | None:
    if codec.startswith("iconv:"):
        return _iconv_decode(data, codec.removeprefix("iconv:"))
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _label(codec: str) -> str:
    return codec.removeprefix("iconv:").lower()


def _markup_kind(media_type: str, data: bytes) -> str | None:
    if media_type in _HTML_TYPES:
        return "html"
    if media_type in _XML_TYPES:
        return "xml"
    return None


def _drop_xml_declaration(text: str) -> str:
    # lxml refuses str input that still carries an encoding declaration; the text is
    # already decoded, so the declaration has done its job.
    stripped = text.lstrip()
    if stripped.startswith("<?xml"):
        end = stripped.find("?>")
        if end != -1:
            return stripped[end + 2:]
    return text
