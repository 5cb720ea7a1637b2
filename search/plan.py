"""From a syntax tree to a backend-neutral search plan (pure).

The plan separates what ranks (words and phrases, analysed by :mod:`search.analysis`) from what
only filters (``field:value``, date ranges), because every backend treats them differently: FTS5
puts words into ``MATCH`` and filters into SQL ``WHERE``; OpenSearch puts them into the ``must``
and ``filter`` parts of a ``bool`` query. A filter may therefore be joined to words only by AND
(``投诉 kind:decision``); ``投诉 OR kind:decision`` is reported as an error, not guessed at.

How a word is matched (the same rules in every backend):

* one CJK character: every occurrence, wherever it stands in a run;
* a term of up to :data:`PHRASE_MAX_TOKENS` tokens (a Chinese word of two or three characters,
  ``A市``, ``e-mail``, ``2611-007``): as a phrase, so ``投诉人`` does not match ``投诉``…``诉人`` apart;
* a longer term (a four-character word, a sentence typed without spaces): *loosely*, any of its
  tokens, ranked by BM25, with the whole term as a phrase scoring on top, so documents holding
  ``物业管理`` itself come first and re-worded subjects are still found (measured with
  benchmarks/search_quality.py on queries-dev: strict phrases for four characters lost half the
  category queries' MRR);
* ``"…"``: always a phrase; ``word*``: a Latin prefix.

Word segmentation (issue #14 item 4): the loose part of a long Chinese term matches its *words*
(jieba, :mod:`search.segment`), each as the phrase of its bigrams, instead of every bigram, so
bigrams straddling two words (``某村``, ``委的``) no longer score; the whole term as a phrase
still scores on top (the exact-phrase boost: it adds to, never replaces, the words' BM25). Which
of these features are on is :data:`TUNING`, chosen by cross-validation on queries-dev
(``benchmarks/search_quality.py --folds``), never on the queries it is reported on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Union

from search.analysis import (
    QUERY_STOP_WORDS, TermTokens, normalize, normalize_keyword, query_tokens, word_tokens, words_only,
)
from search.errors import InvalidQueryError
from search.query import (
    And, DateRange, DefaultOperator, FieldMatch, FilterField, MatchAll, Node, Not, Or, Phrase, Term, parse,
)

PHRASE_MAX_TOKENS = 2

# The implicit operator between juxtaposed clauses. OR lets BM25 rank documents that share most
# of the words first and keeps recall for long queries; chosen on queries-dev (see benchmarks).
DEFAULT_OPERATOR = DefaultOperator.OR


@dataclass(frozen=True, slots=True)
class Tuning:
    """Ranking features that change only how queries are written (never the index).

    Attributes:
        segment_words: the loose part of a long Chinese term matches its jieba words as phrases
            (else every bigram).
        whole_query_phrase: when the query is plain words joined by the default OR (a pasted
            label, ``Getting the loan``), also score them as one phrase, this many times (0: off).
        query_stop_words: such a query of plain words (with or without filters and exclusions,
            which only narrow it) leaves out the unquoted common English words of
            :data:`~search.analysis.QUERY_STOP_WORDS`, compared as typed, while another word remains.
    """

    segment_words: bool = True
    whole_query_phrase: int = 0
    query_stop_words: bool = True


#: The features in use; chosen by cross-validation (benchmarks/search_quality.py --folds 5): extra
#: query stop words on every fold of both backends; words on every fold of FTS5 (neutral on OpenSearch,
#: within 0.001 nDCG@10); the phrase boost on one fold in five only.
TUNING = Tuning()


class LeafKind(StrEnum):
    PHRASE = "phrase"      # the tokens in order (one token is a one-word phrase)
    LOOSE = "loose"        # any of the tokens, ranked
    PREFIX = "prefix"      # a Latin word prefix, unstemmed
    CHAR = "char"          # one CJK character anywhere


@dataclass(frozen=True, slots=True)
class TextLeaf:
    kind: LeafKind
    terms: TermTokens


TextNode = Union[TextLeaf, "And[TextNode]", "Or[TextNode]", "Not[TextNode]"]
FilterNode = Union[FieldMatch, DateRange, "And[FilterNode]", "Or[FilterNode]", "Not[FilterNode]"]


@dataclass(frozen=True, slots=True)
class Plan:
    """What to search for.

    Attributes:
        text: the ranked part (None: no words, so rank by date).
        excluded: top-level negated text (``-foo``), each to be removed from the results.
        filters: the filtering part (keyword values already normalised), or None.
        match_nothing: words were typed but all were stop words; the answer is empty.
        leaves: the positive text leaves, for highlighting.
    """

    text: TextNode | None
    excluded: tuple[TextNode, ...]
    filters: FilterNode | None
    match_nothing: bool
    leaves: tuple[TextLeaf, ...]


def plan_query(text: str, default_operator: DefaultOperator = DEFAULT_OPERATOR) -> Plan:
    """Parse and analyse query text.

    Raises:
        InvalidQueryError: the text cannot be parsed, or combines filters and words other than by AND.
    """
    return _Planner(text).plan(parse(text, default_operator))


class _Planner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.leaves: list[TextLeaf] = []
        # Leaves of unquoted, non-prefix words, by identity: only these may be left out as
        # common words ("why" in quotes was asked for; an equal leaf may stand elsewhere).
        self.plain_terms: set[int] = set()

    def error(self, problem: str, position: int | None = None) -> InvalidQueryError:
        return InvalidQueryError(self.text, problem, position)

    def plan(self, root: Node) -> Plan:
        conjuncts = list(root.children) if isinstance(root, And) else [root]
        positive: list[TextNode] = []
        excluded: list[TextNode] = []
        filters: list[FilterNode] = []
        typed_words = False
        for node in conjuncts:
            kind = self.classify(node)
            if kind == "all":
                continue
            if kind == "filter":
                filters.append(self.filter(node))
            elif isinstance(node, Not):
                neg = self.analyse(node.child, collect=False)
                if neg is not None:
                    excluded.append(neg)
            else:
                typed_words = True
                pos = self.analyse(node, collect=True)
                if pos is not None and isinstance(node, Or):
                    # Whatever else the query holds (a filter, an exclusion): these only narrow,
                    # so the words are treated the same with them or without (#14 item 4).
                    pos = self.plain_word_query(pos, node)
                if pos is not None:
                    positive.append(pos)
        text: TextNode | None = None
        if positive:
            text = positive[0] if len(positive) == 1 else And(tuple(positive))
        flt: FilterNode | None = None
        if filters:
            flt = filters[0] if len(filters) == 1 else And(tuple(filters))
        return Plan(text, tuple(excluded), flt, typed_words and text is None, tuple(self.leaves))

    def classify(self, node: Node) -> str:
        """"text", "filter" or "all"; a subtree mixing words and filters under OR/NOT is an error."""
        if isinstance(node, (Term, Phrase)):
            return "text"
        if isinstance(node, (FieldMatch, DateRange)):
            return "filter"
        if isinstance(node, MatchAll):
            return "all"
        children = node.children if isinstance(node, (And, Or)) else (node.child,)
        kinds = {self.classify(c) for c in children} - {"all"}
        if len(kinds) > 1:
            raise self.error("a field filter can be combined with words only by AND, "
                             "e.g. 投诉 kind:decision, not 投诉 OR kind:decision")
        return kinds.pop() if kinds else "all"

    def filter(self, node: Node) -> FilterNode:
        if isinstance(node, FieldMatch):
            if node.field in (FilterField.KIND, FilterField.CHANNEL, FilterField.STATE):
                return node
            return FieldMatch(node.field, normalize_keyword(node.value), node.position)
        if isinstance(node, DateRange):
            return node
        if isinstance(node, And):
            return And(tuple(self.filter(c) for c in node.children))
        if isinstance(node, Or):
            return Or(tuple(self.filter(c) for c in node.children))
        if isinstance(node, Not):
            return Not(self.filter(node.child))
        raise self.error("unexpected clause in a filter")

    def analyse(self, node: Node, *, collect: bool) -> TextNode | None:
        """Analysed text tree, or None when nothing searchable is left (stop words only)."""
        if isinstance(node, Term):
            leaf = self.term(node)
            if leaf is not None and not node.prefix:
                self.plain_terms.add(id(leaf))
        elif isinstance(node, Phrase):
            tokens = query_tokens(node.text)
            leaf = (TextLeaf(LeafKind.CHAR, tokens) if tokens.single_char
                    else TextLeaf(LeafKind.PHRASE, tokens) if tokens.tokens else None)
        elif isinstance(node, Not):
            raise self.error("NOT (or -) must exclude from something: put it beside a word, "
                             "e.g. 投诉 -物业, not inside OR or alone in parentheses")
        elif isinstance(node, (And, Or)):
            return self.group(node, collect=collect)
        else:
            raise self.error("unexpected clause among words")
        if leaf is not None and collect:
            self.leaves.append(leaf)
        return leaf

    def term(self, node: Term) -> TextLeaf | None:
        if node.prefix:
            word = normalize(node.text)
            if not word.isalnum() or any(ord(c) > 0x2E80 for c in word):
                raise self.error("a * prefix works on Latin letters and digits only", node.position)
            return TextLeaf(LeafKind.PREFIX, TermTokens(word, (word,)))
        tokens = query_tokens(node.text)
        if tokens.single_char:
            return TextLeaf(LeafKind.CHAR, tokens)
        if not tokens.tokens:
            return None
        if len(tokens.tokens) <= PHRASE_MAX_TOKENS:
            return TextLeaf(LeafKind.PHRASE, tokens)
        if TUNING.segment_words:
            words = word_tokens(node.text)
            # A term that is one word (物业管理) keeps matching its parts: its bigrams, loosely.
            # So does one with no word of two characters, or when no segmenter is installed.
            if words and len(words) > 1:
                tokens = replace(tokens, words=words)
        return TextLeaf(LeafKind.LOOSE, tokens)

    def group(self, node: And[Node] | Or[Node], *, collect: bool) -> TextNode | None:
        children: list[TextNode] = []
        negatives: list[TextNode] = []
        for child in node.children:
            if isinstance(child, Not) and isinstance(node, And):
                neg = self.analyse(child.child, collect=False)
                if neg is not None:
                    negatives.append(Not(neg))
                continue
            analysed = self.analyse(child, collect=collect)
            if analysed is not None:
                children.append(analysed)
        if not children:
            if negatives:
                raise self.error("NOT (or -) must exclude from something: a group needs a word to keep")
            return None
        if len(children) == 1 and not negatives:
            return children[0]
        return And(tuple(children + negatives)) if isinstance(node, And) else Or(tuple(children))

    def plain_word_query(self, text: TextNode, node: Or[Node]) -> TextNode:
        """A group of plain words joined by OR (a pasted label, ``Getting the loan``), as
        :data:`TUNING` says: less the common English words (:data:`~search.analysis.QUERY_STOP_WORDS`,
        compared with the word as typed, not its stem: ``his`` stems to ``hi``) while another word
        remains, and scored once more (or more) as the phrase of all its words.

        Only unquoted words are left out (``"why" refund`` asks for "why"), and they leave the
        highlighted leaves too: a snippet marks only what was searched. The phrase leaves the set
        of matches unchanged (a document holding it holds every word); it only adds to a document's
        BM25, so it cannot override a better body match. Any other shape (AND, NOT, longer terms)
        is left as typed.
        """
        if not (TUNING.query_stop_words or TUNING.whole_query_phrase):
            return text
        leaves = _plain_words(text)
        if leaves is None:
            return text
        kept = leaves
        if TUNING.query_stop_words:
            kept = [c for c in leaves if not self.is_stop_word(c)] or leaves
            dropped = {id(c) for c in leaves} - {id(c) for c in kept}
            self.leaves = [c for c in self.leaves if id(c) not in dropped]
        # The words as typed, stop words included: a server's phrase then leaves their gaps.
        typed = normalize(" ".join(c.text for c in node.children if isinstance(c, Term)))
        whole = TextLeaf(LeafKind.PHRASE, TermTokens(typed, tuple(c.terms.tokens[0] for c in leaves)))
        out = (*kept, *([whole] * TUNING.whole_query_phrase))
        return out[0] if len(out) == 1 else Or(out)

    def is_stop_word(self, leaf: TextLeaf) -> bool:
        """An unquoted word that is, as typed (normalised, unstemmed), a common English word."""
        words = words_only(leaf.terms.norm).split()
        return id(leaf) in self.plain_terms and len(words) == 1 and words[0] in QUERY_STOP_WORDS


def _plain_words(text: TextNode) -> list[TextLeaf] | None:
    """The leaves of plain words joined by OR (one token each), else None."""
    if not isinstance(text, Or) or len(text.children) < 2:
        return None
    leaves = [c for c in text.children if isinstance(c, TextLeaf)]
    if len(leaves) != len(text.children) or any(
            c.kind is not LeafKind.PHRASE or len(c.terms.tokens) != 1 for c in leaves):
        return None
    return leaves
