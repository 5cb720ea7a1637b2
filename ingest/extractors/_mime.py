"""Shared helpers for the text-bearing extractors: bounded reads, charsets, HTML to text.

Chinese mail and legacy text are routinely mislabelled (GBK sent as ``gb2312``, GBK sent as
``iso-8859-1``, no label at all), so decoding here trusts a declared charset only as far as
the bytes agree with it, and falls back to detection, then to UTF-8 with replacement plus a
warning. Nothing here writes to disk.
"""

from __future__ import annotations

import codecs
import ctypes
import ctypes.util
import functools
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import TooLargeError
from ingest.model import Attachment, Limits

__all__ = [
    "Decoded",
    "canonical_codec",
    "declared_markup_encoding",
    "decode_text",
    "html_to_text",
    "read_bounded",
    "sniff_utf16",
    "tidy_lines",
]

# Labels whose real-world content is a superset encoding: decoding with the superset loses
# nothing when the label is right and rescues the text when it is not (WHATWG does the same).
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "iso8859-1": "cp1252",
    "tis-620": "cp874",
    "iso8859-11": "cp874",
    "iso8859-9": "cp1254",
}
_ALIASES = {
    "x-gbk": "gbk",
    "x-sjis": "shift_jis",
    "windows-874": "cp874",
    "ks_c_5601": "cp949",
    "unicode": "utf-16",
    "ucs-2": "utf-16",
    "x-unicode": "utf-16",
    "utf-16le": "utf-16-le",
    "utf-16be": "utf-16-be",
}
# Encodings Python has no codec for but glibc iconv does (Taiwanese EUC-TW, ISO-2022-CN).
_ICONV_ONLY = {"euc-tw": "EUC-TW", "x-euc-tw": "EUC-TW", "cns11643": "EUC-TW",
               "iso-2022-cn": "ISO-2022-CN", "iso-2022-cn-ext": "ISO-2022-CN-EXT"}
# Single-byte labels that decode any byte string "successfully", so success proves nothing.
_PERMISSIVE = {"ascii", "iso8859-1", "cp1252", "iso8859-15"}
_MULTIBYTE_CJK = {"gb18030", "big5hkscs", "cp950", "cp932", "euc_jp", "cp949", "euc_kr",
                  "gb2312", "gbk", "big5", "shift_jis", "hz", "johab", "shift_jis_2004",
                  "shift_jisx0213", "euc_jis_2004", "euc_jisx0213"}
BOMS = (  # longest first: the UTF-32-LE mark starts with the UTF-16-LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SAMPLE = 64 * 1024                 # evidence is weighed on a prefix; the chosen codec decodes all
_SCORE_CHARS = 20_000               # decoded characters scored per candidate
_MIN_COMMON = 0.6                   # share of everyday characters a right CJK decode shows
_CJK_CANDIDATES = ("gb18030", "big5hkscs", "iconv:EUC-TW")
# Asked of charset-normalizer only among multi-byte East Asian codecs.
_CJK_ISOLATION = ["gb18030", "big5", "cp950", "cp932", "shift_jis", "euc_jp", "cp949", "euc_kr"]
_DETECT_SAMPLE = 256 * 1024        # detection cost grows with input; a prefix is enough
_MAX_CHAOS = 0.1                   # charset-normalizer "mess" above this is a guess, not a finding
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Decoded:
    """Text decoded from bytes, the codec used, and what was doubtful about it."""

    text: str
    encoding: str
    warnings: tuple[str, ...] = ()
    basis: str = "guess"           # what decided: bom, ascii, declared, utf-8, utf-16, cjk-strict, guess

    def __post_init__(self) -> None:
        # NUL never carries meaning in a document, and PostgreSQL text columns reject it.
        if "\x00" in self.text:
            object.__setattr__(self, "text", self.text.replace("\x00", ""))


def read_bounded(source: Path, limits: Limits) -> bytes:
    """Read a whole file, refusing files over ``limits.max_file_bytes``.

    Raises:
        TooLargeError: the file is larger than the limit.
    """
    size = source.stat().st_size
    if size > limits.max_file_bytes:
        raise TooLargeError(f"file is {size} bytes, limit is {limits.max_file_bytes}")
    return source.read_bytes()


def canonical_codec(label: str | None) -> str | None:
    """Map a charset label to the Python codec we decode it with, or None if unknown.

    Labels are upgraded to their superset (gb2312/gbk → gb18030, big5 → big5hkscs, ...).
    Labels only iconv knows (EUC-TW) are returned as ``iconv:NAME``.
    """
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    if name in _ICONV_ONLY:
        return "iconv:" + _ICONV_ONLY[name]
    name = _ALIASES.get(name, name)
    for candidate in (name, name.removeprefix("x-"), name.replace("_", "-")):
        try:
            canonical = codecs.lookup(candidate).name
        except (LookupError, ValueError):
            continue
        return _SUPERSETS.get(canonical, canonical)
    return None


def _best_guess(data: bytes, declared: str | None = None) -> Decoded:
    """charset-normalizer's reading of bytes of unknown or doubtful charset; never raises.

    The last step of :func:`decode_text`, after the evidence (BOM, UTF-8, strict CJK) decided nothing.

    Order: byte-order mark; the declared charset (upgraded to its superset) when the bytes
    decode cleanly; UTF-8; UTF-16 without BOM; charset-normalizer on a prefix; iconv for
    encodings Python lacks; finally the declared charset or UTF-8 with replacement.

    Args:
        data: the raw bytes.
        declared: a charset label from a header, ``<meta>`` or XML declaration, if any.
    """
    for bom, bom_codec in BOMS:
        if data.startswith(bom):
            return _lenient(data[len(bom):], bom_codec, ())
    if not data:
        return Decoded("", canonical_codec(declared) or "ascii")
    codec = canonical_codec(declared)
    notes: list[str] = []
    if declared and codec is None:
        notes.append(f"unknown charset {declared!r}")

    if data.isascii():
        if codec and (codec.startswith(("utf-16", "utf-32", "iconv:", "iso2022", "utf-7", "hz"))):
            found = _strict(data, codec)
            if found is not None:
                return Decoded(found, _label(codec), tuple(notes))
        if b"\x1b$" in data:     # undeclared ISO-2022-JP/KR escape sequences
            for escaped in ("iso2022_jp_2", "iso2022_kr"):
                found = _strict(data, escaped)
                if found is not None:
                    return Decoded(found, escaped, tuple(notes))
        return Decoded(data.decode("ascii"), "ascii", tuple(notes))

    if codec and codec not in _PERMISSIVE:
        found = _strict(data, codec)
        if found is not None and not _looks_wrong(found):
            # GB18030 and the single-byte code pages accept almost any bytes, so a clean
            # decode proves little: a confident detection of another CJK script overrules.
            detected, confident = _detect(data)
            if (confident and detected in _MULTIBYTE_CJK and _family(detected) != _family(codec)
                    and (other := _strict(data, detected)) is not None):
                notes.append(f"declared charset {declared!r} but content decodes as {detected}")
                return Decoded(other, detected, tuple(notes))
            return Decoded(found, _label(codec), tuple(notes))

    found = _strict(data, "utf-8")
    if found is not None:
        # Non-ASCII bytes that are valid UTF-8 are UTF-8, whatever the label says: no doubt
        # worth a reviewer's time.
        return Decoded(found, "utf-8", tuple(notes))
    if codec and codec not in _PERMISSIVE:
        notes.append(f"content does not match declared charset {declared!r}")

    utf16 = sniff_utf16(data)
    if utf16 is not None:
        found = _strict(data, utf16)
        if found is not None:
            return Decoded(found, utf16, tuple(notes))

    detected, confident = _detect(data)
    if codec in _PERMISSIVE:
        # A Western label on CJK bytes is a classic mislabel; believe only a confident
        # multi-byte CJK detection over the label, since both decode "successfully".
        if detected in _MULTIBYTE_CJK and confident:
            found = _strict(data, detected)
            if found is not None:
                notes.append(f"declared charset {declared!r} but content decodes as {detected}")
                return Decoded(found, detected, tuple(notes))
        return _lenient(data, "cp1252" if codec in ("ascii", "iso8859-1") else codec, tuple(notes))

    if detected is not None:
        found = _strict(data, detected)
        if found is not None:
            if not confident:
                notes.append(f"charset guessed as {detected} with low confidence")
            return Decoded(found, detected, tuple(notes))

    # charset-normalizer knows no EUC-TW; try it (on a sample first) before giving up.
    sample = _strict(data[:_DETECT_SAMPLE], "iconv:EUC-TW")
    if sample is not None and _mostly_cjk(sample):
        found = _strict(data, "iconv:EUC-TW") if len(data) > _DETECT_SAMPLE else sample
        if found is not None:
            notes.append("charset guessed as EUC-TW with low confidence")
            return Decoded(found, "euc-tw", tuple(notes))

    if detected is not None:
        notes.append(f"charset guessed as {detected} with low confidence; undecodable bytes replaced")
        return _lenient(data, detected, tuple(notes))
    last_resort = codec if codec and not codec.startswith("iconv:") else "utf-8"
    notes.append(f"charset not recognised; decoded as {last_resort} with replacement characters")
    return _lenient(data, last_resort, tuple(notes))


def decode_text(data: bytes, declared: str | None = None) -> Decoded:
    """Decode bytes of unknown or doubtful charset, strongest evidence first; never raises.

    ``declared``: a charset label from a header, ``<meta>`` or XML declaration, if any.
    ``Decoded.basis`` names what decided: ``bom``, ``ascii``, ``declared``,
    ``utf-8``, ``utf-16``, ``cjk-strict`` (a strict multi-byte CJK decode that reads as
    everyday text), or ``guess`` (charset-normalizer or a lenient decode; always with a
    warning naming the encoding).
    """
    for bom, _codec in BOMS:
        if data.startswith(bom):
            return _based(_best_guess(data), "bom")
    if not data or data.isascii():
        return _based(_best_guess(data, declared), "ascii")
    codec = canonical_codec(declared)
    if codec and codec not in _PERMISSIVE and _strict(data, codec) is not None:
        # decode_text weighs a clean declared decode against a confident other CJK detection.
        decoded = _best_guess(data, declared)
        return _based(decoded, "declared" if decoded.encoding == codec.removeprefix("iconv:").lower() else "guess")
    text = _strict(data, "utf-8")
    if text is not None:
        return Decoded(text, "utf-8", basis="utf-8")
    if sniff_utf16(data) is not None:
        decoded = _best_guess(data)
        if decoded.encoding.startswith("utf-16") and not decoded.warnings:
            return _based(decoded, "utf-16")
    cjk = _decode_cjk(data)
    if cjk is not None:
        if declared and codec != cjk.encoding:
            # A label the bytes overrule is a mislabel worth a reviewer's look.
            note = f"declared charset {declared!r} but content decodes as {cjk.encoding}"
            cjk = Decoded(cjk.text, cjk.encoding, (note, *cjk.warnings), cjk.basis)
        return cjk
    decoded = _best_guess(data, declared)
    if codec in _PERMISSIVE and decoded.encoding in (codec, "cp1252" if codec == "ascii" else codec):
        return _based(decoded, "declared")     # a Western label on Western bytes: nothing to doubt
    if not any(decoded.encoding in note for note in decoded.warnings):
        decoded = Decoded(decoded.text, decoded.encoding,
                          (*decoded.warnings, f"charset guessed as {decoded.encoding}"))
    return _based(decoded, "guess")


def _decode_cjk(data: bytes) -> Decoded | None:
    """A multi-byte East Asian decode when the bytes are CJK-looking, else None."""
    sample = data[:_SAMPLE]
    if not _looks_cjk(sample):
        return None
    japanese_korean = _japanese_or_korean(sample)
    if japanese_korean is not None:
        text = _strict(data, japanese_korean)
        if text is not None:
            return Decoded(text, japanese_korean, basis="cjk-strict")
    scored = sorted(
        ((score, -rank, codec) for rank, codec in enumerate(_CJK_CANDIDATES)
         if (score := _everyday_share(_sample_decode(sample, codec))) >= _MIN_COMMON),
        reverse=True)
    for _score, _rank, codec in scored:
        text = _strict(data, codec)
        if text is not None:
            return Decoded(text, _label(codec), basis="cjk-strict")
    if scored and not scored[0][2].startswith("iconv:"):
        # The prefix reads as everyday CJK but a byte further on is broken: keep the codec
        # the evidence chose rather than a single-byte code page that "decodes" anything.
        codec = scored[0][2]
        text = data.decode(codec, errors="replace")
        return Decoded(text, codec, (f"charset guessed as {codec}; undecodable bytes replaced",), "guess")
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


def _based(decoded: Decoded, basis: str) -> Decoded:
    return Decoded(decoded.text, decoded.encoding, decoded.warnings, basis)


def declared_markup_encoding(data: bytes, *, is_html: bool) -> str | None:
    """The charset an HTML ``<meta>`` or XML declaration names in the first bytes, if any."""
    from bs4.dammit import EncodingDetector

    found = EncodingDetector.find_declared_encoding(data[:4096], is_html=is_html)
    return found or None


_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "br", "caption", "dd", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "title", "tr",
    "ul", "option", "body", "head", "html",
})
_CELL_TAGS = frozenset({"td", "th"})
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def html_to_text(markup: str, *, xml: bool = False) -> str:
    """Visible text of HTML (or XML) with line breaks at block elements; scripts dropped.

    Walks the tree iteratively, so deeply nested markup cannot exhaust the call stack.
    """
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning
    from bs4.element import CData, NavigableString, Tag

    with warnings.catch_warnings():
        # Both are advice for interactive users; a mail body that is just a URL is legitimate.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        try:
            soup = BeautifulSoup(markup, "xml" if xml else "lxml")
        except Exception:  # lxml refuses some inputs outright; the stdlib parser is slower but lenient
            soup = BeautifulSoup(markup, "html.parser")
    pieces: list[str] = []
    # An explicit stack instead of recursion: hostile mail nests tags thousands deep.
    stack = [iter(soup.contents)]
    closers: list[str] = [""]
    while stack:
        node = next(stack[-1], None)
        if node is None:
            stack.pop()
            pieces.append(closers.pop())
        elif isinstance(node, Tag):
            block = xml or node.name in _BLOCK_TAGS
            if block:
                pieces.append("\n")
            stack.append(iter(node.contents))
            closers.append("\n" if block and not xml and node.name != "br"
                           else "\t" if node.name in _CELL_TAGS else "")
        elif type(node) in (NavigableString, CData):   # not comments, scripts, styles, doctypes
            pieces.append(_SPACES.sub(" ", str(node)))
    return tidy_lines("".join(pieces))


def tidy_lines(text: str) -> str:
    """Strip trailing blanks per line and collapse runs of blank lines."""
    lines = [line.strip(" \t\u00a0") for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")


def _strict(data: bytes, codec: str) -> str | None:
    if codec.startswith("iconv:"):
        return _iconv_decode(data, codec.removeprefix("iconv:"))
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _label(codec: str) -> str:
    return codec.removeprefix("iconv:").lower()


def _lenient(data: bytes, codec: str, notes: tuple[str, ...]) -> Decoded:
    try:
        return Decoded(data.decode(codec), codec, notes)
    except UnicodeDecodeError:
        text = data.decode(codec, errors="replace")
        return Decoded(text, codec, (*notes, f"undecodable bytes replaced while decoding as {codec}"))


def _looks_wrong(text: str) -> bool:
    """True if a clean decode still looks like the wrong charset (escapes, control bytes)."""
    sample = text[:65536]
    if "\x1b" in sample:          # ISO-2022 escapes survive an ASCII-compatible decode
        return True
    return len(_CONTROL.findall(sample)) > max(8, len(sample) // 100)


def sniff_utf16(data: bytes) -> str | None:
    """Name the UTF-16 byte order of BOM-less data whose ASCII shows as alternating NULs."""
    sample = data[:4096]
    sample = sample[: len(sample) - len(sample) % 2]
    if len(sample) < 16:
        return None
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = len(sample) // 2
    if odd > half * 0.2 and even < half * 0.02:
        codec = "utf-16-le"
    elif even > half * 0.2 and odd < half * 0.02:
        codec = "utf-16-be"
    else:
        return None
    try:
        # Incremental, so a surrogate pair cut by the sample boundary is not an error.
        text = codecs.getincrementaldecoder(codec)().decode(sample, final=False)
    except UnicodeDecodeError:
        return None
    # Binary data can have the NUL pattern too; real text is (almost) all printable.
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\r\n\t")
    return codec if printable >= 0.95 * len(text) else None


def _detect(data: bytes) -> tuple[str | None, bool]:
    from charset_normalizer import from_bytes

    sample = data[:_DETECT_SAMPLE]
    matches = list(from_bytes(sample))
    if not matches:
        return None, False
    best = matches[0]
    ties = [m for m in matches if m.chaos == best.chaos and m.coherence == best.coherence]
    codec = canonical_codec(best.encoding)
    for match in ties:
        # Equal scores across Western code pages are common for short text; prefer the
        # code page that most such text was actually written in.
        if "cp1252" in match.could_be_from_charset:
            codec = "cp1252"
    # Ties inside one script family (cp932 vs shift_jis_2004) are not real doubt.
    families = {_family(canonical_codec(m.encoding)) for m in ties}
    confident = best.chaos <= _MAX_CHAOS and len(sample) >= 32 and len(families) == 1
    return codec, confident


def _family(codec: str | None) -> str:
    for prefix, family in (("gb", "zh-Hans"), ("hz", "zh-Hans"), ("big5", "zh-Hant"),
                           ("cp950", "zh-Hant"), ("cp932", "ja"), ("shift_jis", "ja"),
                           ("euc_j", "ja"), ("iso2022_jp", "ja"), ("cp949", "ko"),
                           ("euc_kr", "ko"), ("johab", "ko")):
        if (codec or "").startswith(prefix):
            return family
    return codec or ""


def _mostly_cjk(text: str) -> bool:
    non_ascii = [c for c in text if ord(c) > 0x7F]
    if not non_ascii:
        return False
    cjk = sum(1 for c in non_ascii if "\u3000" <= c <= "\u9fff" or "\uf900" <= c <= "\uffef")
    return cjk / len(non_ascii) > 0.9


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name, use_errno=True)
    libc.iconv_open.restype = ctypes.c_void_p
    libc.iconv_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.iconv.restype = ctypes.c_size_t
    libc.iconv.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p),
                           ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_char_p),
                           ctypes.POINTER(ctypes.c_size_t)]
    libc.iconv_close.argtypes = [ctypes.c_void_p]
    return libc


def _iconv_decode(data: bytes, charset: str) -> str | None:
    """Strictly decode with glibc iconv (for EUC-TW and ISO-2022-CN), or None."""
    libc = _libc()
    if libc is None:
        return None
    handle = libc.iconv_open(b"UTF-8", charset.encode("ascii"))
    if handle in (None, ctypes.c_void_p(-1).value):
        return None
    try:
        out_size = len(data) * 2 + 16      # EUC-TW/ISO-2022-CN never grow more in UTF-8
        in_buf = ctypes.create_string_buffer(data, len(data))
        out_buf = ctypes.create_string_buffer(out_size)
        in_ptr = ctypes.c_char_p(ctypes.addressof(in_buf))
        out_ptr = ctypes.c_char_p(ctypes.addressof(out_buf))
        in_left = ctypes.c_size_t(len(data))
        out_left = ctypes.c_size_t(out_size)
        result = libc.iconv(handle, ctypes.byref(in_ptr), ctypes.byref(in_left),
                            ctypes.byref(out_ptr), ctypes.byref(out_left))
        if result == ctypes.c_size_t(-1).value or in_left.value:
            return None
        return ctypes.string_at(out_buf, out_size - out_left.value).decode("utf-8", errors="replace")
    finally:
        libc.iconv_close(handle)


@dataclass
class Walk:
    """What one container extraction (.eml, .msg) has gathered so far (mutable; one call)."""

    limits: Limits
    base_depth: int
    texts: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    expanded: int = 0
    encrypted: int = 0
    dropped: int = 0
    bodies: int = 0

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def add(self, attachment: Attachment) -> None:
        """Keep an attachment unless the count or expanded-size limit is reached (then count it dropped)."""
        if (len(self.attachments) >= self.limits.max_attachments
                or self.expanded + len(attachment.data) > self.limits.max_expanded_bytes):
            self.dropped += 1
            return
        self.expanded += len(attachment.data)
        self.attachments.append(attachment)
