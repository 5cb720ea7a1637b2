"""Text analysis shared by every backend: normalisation, CJK bigrams, English stemming.

Both sides of a search go through the same steps, so a query finds what an index holds:

1. **Normalise** (:func:`normalize`): NFKC folds full-width and half-width forms (``ＡＢＣ１``
   → ``abc1``, ``：`` → ``:``); OpenCC ``t2s`` maps Traditional to Simplified Chinese (``投訴`` →
   ``投诉``); then lower case and accent folding for Latin letters (``Café`` → ``cafe``). Every
   step but NFKC's rare expansions keeps the text's length, which the highlighter relies on.
2. **Segment** (:func:`segments`): runs of CJK characters (Han, kana, Hangul) and runs of other
   letters/digits; everything else separates.
3. **Tokens**: a CJK run becomes its overlapping bigrams (``投诉人`` → ``投诉 诉人``), as Lucene's
   ``cjk`` analyser does; a one-character run stays a unigram. The last character of a longer
   run is written to a separate *tail* list, so that every character starts some token: a
   one-character query ``诉`` is then ``诉*`` (a prefix over body tokens) or ``诉`` in the tail.
   A Latin word loses its plural ending (:func:`stem`) unless it is a stop word; a stop word
   touching CJK text (the ``A`` of ``A市``) is kept.

The OpenSearch/Elasticsearch backends use only step 1 here; their own analysers (built from the
same recipe in ``backends/_es_common.py``) do the rest.

:data:`ANALYSER_VERSION` changes whenever tokens would come out differently; an index built
with another version must be rebuilt.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import opencc

# "2" (#14 item 4): the servers' copies split words at apostrophes and other non-alphanumerics, as here.
ANALYSER_VERSION = "2"

CJK_CHARS = _CJK = (
    "\u3040-\u30ff"          # Hiragana, Katakana
    "\u3400-\u4dbf"          # CJK Extension A
    "\u4e00-\u9fff"          # CJK Unified Ideographs
    "\uac00-\ud7af"          # Hangul syllables
    "\uf900-\ufaff"          # CJK compatibility ideographs (NFKC maps most away)
    "\U00020000-\U0003134f"  # Extensions B–G
)
_ALNUM = re.compile(r"[^\W_]+")
_CJK_RUN = re.compile(rf"[{_CJK}]+")
_IS_CJK = re.compile(rf"[{_CJK}]")

# Lucene's English stop set, plus the "s"/"t" left over when a word is split at an apostrophe.
STOP_WORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then "
    "there these they this to was will with s t".split()
)

# English words too common in complaint letters to rank on, beyond STOP_WORDS: the rest of the
# Snowball stop list (pronouns, auxiliaries, prepositions). They stay in the index (a quoted
# phrase still finds "on your report"); a query of plain words leaves them out when other words
# remain (search.plan, Tuning.query_stop_words). Measured on queries-dev's CFPB label queries.
QUERY_STOP_WORDS = frozenset(
    "i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers "
    "herself its itself them theirs themselves what which who whom those am were been being have has had "
    "having do does did doing would should could ought because until while about against between through "
    "during before after above below from up down out off over under again further once here when where why "
    "how all any both each few more most other some nor only own same so than too very".split()
) - STOP_WORDS


@cache
def _t2s() -> opencc.OpenCC:
    """The Traditional→Simplified converter, made on first use: every command that opens the
    archive imports this module, and a plain read (`dossier show`) never folds a word (issue #9 item 7)."""
    import opencc

    return opencc.OpenCC("t2s")


class _CharFold(dict[int, str]):
    """Per-character NFKC + lower case + Latin accent folding, computed once per character."""

    def __missing__(self, code: int) -> str:
        out = unicodedata.normalize("NFKC", chr(code)).lower()
        if out and all(ord(c) < 0x2E80 for c in out):  # never decompose CJK, kana or Hangul
            out = "".join(c for c in unicodedata.normalize("NFD", out) if not unicodedata.combining(c))
            out = unicodedata.normalize("NFC", out)
        self[code] = out
        return out


_FOLD = _CharFold()


def normalize(text: str) -> str:
    """Fold width, case, accents and Traditional→Simplified, as the index and queries both need."""
    return str(_t2s().convert(text.translate(_FOLD)))


def normalize_with_offsets(text: str) -> tuple[str, list[int] | None]:
    """:func:`normalize`, plus for each output character the index of its source character
    (None when every character maps to exactly one: the usual case).

    Used to put highlights found in normalised text back onto the original.
    """
    folded = text.translate(_FOLD)
    offsets: list[int] | None = None
    if len(folded) != len(text):
        folded_parts = [_FOLD[ord(c)] for c in text]
        offsets = [i for i, part in enumerate(folded_parts) for _ in part]
    t2s = _t2s()
    converted = str(t2s.convert(folded))
    if len(converted) != len(folded):
        # t2s replaced a phrase by one of another length; convert per character to keep offsets.
        converted = "".join(t2s.convert(c) if len(t2s.convert(c)) == 1 else c for c in folded)
    return converted, offsets


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of one script class in normalised text, with its offsets in that text."""

    kind: Literal["cjk", "word"]
    text: str
    start: int
    end: int


def segments(norm: str) -> list[Segment]:
    """Split normalised text into CJK runs and word runs; separators are dropped."""
    out: list[Segment] = []
    for m in _ALNUM.finditer(norm):
        run, start = m.group(), m.start()
        if not _IS_CJK.search(run):      # the common case in Latin text: one plain word
            out.append(Segment("word", run, start, m.end()))
            continue
        at = 0
        for c in _CJK_RUN.finditer(run):
            if c.start() > at:
                out.append(Segment("word", run[at:c.start()], start + at, start + c.start()))
            out.append(Segment("cjk", c.group(), start + c.start(), start + c.end()))
            at = c.end()
        if at < len(run):
            out.append(Segment("word", run[at:], start + at, m.end()))
    return out


class _Separators(dict[int, str]):
    """Per character: itself if a letter or digit (what ``[^\\W_]`` keeps), else a space."""

    def __missing__(self, code: int) -> str:
        out = chr(code) if chr(code).isalnum() else " "
        self[code] = out
        return out


_SEPARATORS = _Separators()


def words_only(norm: str) -> str:
    """Normalised text with every separator (anything but a letter or digit) made a space: the
    words :func:`segments` cuts, for a server whose standard tokenizer would keep ``didn't`` or
    ``company's`` whole. One tokenizer on every backend (issue #14 item 4); a possessive then
    finds its noun (``company's`` → ``company``, the ``s`` a stop word). A per-character table,
    not a regular expression: 0.03 instead of 0.15 ms for a 1,100-character letter."""
    return norm.translate(_SEPARATORS)


def is_cjk(char: str) -> bool:
    return bool(_IS_CJK.match(char))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The index form of one normalised Latin word ('' for a stop word).

    A minimal plural stemmer, the same rules as Lucene's ``EnglishMinimalStemmer`` (the
    servers' ``minimal_english``): ``inquiries`` → ``inquiry``, ``loans`` → ``loan``, while
    ``getting`` stays ``getting``. On queries-dev it ranked better than Snowball, whose
    aggressive conflation (``getting`` → ``get``) cost precision on short label queries.
    """
    if word in STOP_WORDS:
        return ""
    n = len(word)
    if n < 3 or word[-1] != "s" or word[-2] in "us":
        return word
    if word[-2] == "e":
        if n > 3 and word[-3] == "i" and word[-4] not in "ae":
            return word[:-3] + "y"
        if word[-3] in "iaoe":
            return word
    return word[:-1]


def bigrams(run: str) -> list[str]:
    """Overlapping bigrams of a CJK run; a one-character run is its own unigram."""
    if len(run) == 1:
        return [run]
    return [run[i:i + 2] for i in range(len(run) - 1)]


def _word_token(segs: list[Segment], i: int) -> str:
    """The token of word segment ``i``. Stop words go, except when touching CJK text: the
    ``A`` of ``A市`` or ``B超`` is a name, not an article."""
    seg = segs[i]
    touches_cjk = (i > 0 and segs[i - 1].kind == "cjk" and segs[i - 1].end == seg.start) or (
        i + 1 < len(segs) and segs[i + 1].kind == "cjk" and segs[i + 1].start == seg.end)
    return seg.text if touches_cjk and seg.text in STOP_WORDS else stem(seg.text)


def index_tokens(text: str) -> tuple[str, str]:
    """Tokens of one field for the embedded index: (space-joined body tokens, tail characters).

    Body tokens keep their order, so phrase queries work on positions.
    """
    body: list[str] = []
    tail: list[str] = []
    segs = segments(normalize(text))
    for i, seg in enumerate(segs):
        if seg.kind == "cjk":
            body.extend(bigrams(seg.text))
            if len(seg.text) > 1:
                tail.append(seg.text[-1])
        else:
            token = _word_token(segs, i)
            if token:
                body.append(token)
    return " ".join(body), " ".join(tail)


@dataclass(frozen=True, slots=True)
class TermTokens:
    """A query term after analysis.

    Attributes:
        norm: the normalised text (the server backends analyse this themselves).
        tokens: body tokens in order, as :func:`index_tokens` would write them.
        prefix_last: the last token is a lone CJK character that may start a longer run in a
            document, so it must match as a prefix (``市`` matches ``市民``).
        single_char: the whole term is one CJK character (matched as prefix or tail).
        words: for a long term matched loosely, its words (:mod:`search.segment`), each as its
            body tokens (a Chinese word as the phrase of its bigrams): what the loose part
            matches instead of every single token. Empty: match every token.
    """

    norm: str
    tokens: tuple[str, ...]
    prefix_last: bool = False
    single_char: bool = False
    words: tuple[tuple[str, ...], ...] = ()


def query_tokens(text: str) -> TermTokens:
    """Analyse one query term or phrase the way :func:`index_tokens` analysed documents."""
    norm = normalize(text)
    segs = segments(norm)
    tokens: list[str] = []
    for i, seg in enumerate(segs):
        if seg.kind == "cjk":
            tokens.extend(bigrams(seg.text))
        else:
            token = _word_token(segs, i)
            if token:
                tokens.append(token)
    last_lone_cjk = bool(segs) and segs[-1].kind == "cjk" and len(segs[-1].text) == 1
    single = len(segs) == 1 and last_lone_cjk
    return TermTokens(norm, tuple(tokens), prefix_last=last_lone_cjk and not single, single_char=single)


def word_tokens(text: str) -> tuple[tuple[str, ...], ...] | None:
    """The words of a query term, each as its body tokens in order, without repeats: a
    Chinese word of two or more characters is the phrase of its bigrams, a Latin word its
    index form; one-character Chinese words (``的``, ``某``) and stop words are left out.

    None when no segmenter is installed (:mod:`search.segment`).
    """
    from search import segment   # imported on first use: only long query terms need it

    norm = normalize(text)
    segs = segments(norm)
    out: dict[tuple[str, ...], None] = {}
    for i, seg in enumerate(segs):
        if seg.kind == "cjk":
            phrases = segment.word_phrases(seg.text)
            if phrases is None:
                return None
            out.update(dict.fromkeys(phrases))
        else:
            token = _word_token(segs, i)
            if token:
                out[(token,)] = None
    return tuple(out)


def normalize_keyword(value: str) -> str:
    """The comparable form of a filter value (category, respondent, ...): normalised, trimmed,
    inner whitespace collapsed."""
    return " ".join(normalize(value).split())


def script_group(language: str | None, sample: str) -> Literal["cjk", "latin"]:
    """Which family of fields a document's text goes to on the server backends: its language
    when known (zh, ja, ko → cjk), else whether CJK characters make up a fifth of the sample."""
    if language:
        return "cjk" if language.split("-")[0].lower() in ("zh", "ja", "ko") else "latin"
    letters = [c for c in sample if c.isalnum()]
    cjk = sum(1 for c in letters if _IS_CJK.match(c))
    return "cjk" if letters and cjk * 5 >= len(letters) else "latin"
