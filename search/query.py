"""The query language: parse what a person typed into a small syntax tree (pure).

Syntax, loosely after Lucene's classic parser::

    投诉 物业                 words; juxtaposed clauses are joined by the default operator
    "物业 管理费"  “物业管理”   a phrase (ASCII or Chinese double quotes)
    a AND b   a OR b   NOT a   -a     operators in capitals; AND binds tighter than OR
    (a OR b) c                        grouping
    credit*                           a Latin word prefix
    kind:decision  channel:email  state:closed  category:城乡建设  department:法援处
    respondent:"某某律师事务所"   complainant:张三   number:2611-007   number:2611-007-03
    received:2026-03-05  received:2026-03  received:2026       a day, a month, a year
    received:[2026-01-01 TO 2026-03-31]  received:[* TO 2026-03-31]   inclusive range
    received:2026-01-01..2026-03-31   received>=2026-01-01   closed<2026-02   (> < >= <=)

Field names are lower-case ASCII; an unknown name is an error rather than a silent word, so a
typo in ``recieved:`` is reported. The Chinese names in :data:`FIELD_ALIASES` (``被投诉人:``,
``类别:``, ``收件日期:`` …, with ``:`` or a full-width ``：``) mean the same fields, and kind,
channel and state also take their Chinese labels (``类型:答复函``, :data:`VALUE_ALIASES`); any
other Chinese text before a colon stays an ordinary word, as before (#11 item 4). Anything after a colon that is not a field name (``10:30``,
``http://x``) is an ordinary word. Errors are :class:`InvalidQueryError` with a position.

Parentheses and NOT / ``-`` nest at most :data:`MAX_DEPTH` levels. The parser (and the planner
and backends after it) recurse once per level, so without a limit ``NOT NOT … x`` or ``((((…``
typed or pasted a few hundred times deep would exhaust Python's stack and surface as a
RecursionError (a 500) instead of a message the person can act on.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Generic, TypeVar, Union

from records.model import Channel, DocumentKind, DossierState
from search.errors import InvalidQueryError


class FilterField(StrEnum):
    NUMBER = "number"
    KIND = "kind"
    CHANNEL = "channel"
    STATE = "state"
    CATEGORY = "category"
    DEPARTMENT = "department"
    RESPONDENT = "respondent"
    COMPLAINANT = "complainant"
    RECEIVED = "received"
    CLOSED = "closed"


DATE_FIELDS = frozenset({FilterField.RECEIVED, FilterField.CLOSED})
_ENUMS: dict[FilterField, frozenset[str]] = {
    FilterField.KIND: frozenset(DocumentKind),
    FilterField.CHANNEL: frozenset(Channel),
    FilterField.STATE: frozenset(DossierState),
}


class DefaultOperator(StrEnum):
    AND = "AND"
    OR = "OR"


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    position: int
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Phrase:
    text: str
    position: int


@dataclass(frozen=True, slots=True)
class FieldMatch:
    """``field:value``; exact match after keyword normalisation."""

    field: FilterField
    value: str
    position: int


@dataclass(frozen=True, slots=True)
class DateRange:
    """A date field between two calendar dates, both inclusive; None is open-ended."""

    field: FilterField
    start: date | None
    end: date | None
    position: int


# The boolean nodes are generic so that the planner can reuse them for trees of analysed words
# (search.plan.TextNode) and of filters without casting.
N = TypeVar("N")


@dataclass(frozen=True, slots=True)
class And(Generic[N]):
    children: tuple[N, ...]


@dataclass(frozen=True, slots=True)
class Or(Generic[N]):
    children: tuple[N, ...]


@dataclass(frozen=True, slots=True)
class Not(Generic[N]):
    child: N


@dataclass(frozen=True, slots=True)
class MatchAll:
    """The empty query: every visible document."""


Node = Union[Term, Phrase, FieldMatch, DateRange, "And[Node]", "Or[Node]", "Not[Node]", MatchAll]

MAX_DEPTH = 32
"""How deeply parentheses and NOT / ``-`` may nest; no query a person writes comes close."""

_QUOTES = {'"': '"', "\u201c": "\u201d"}     # "…" and “…”
_OPERATORS = {"AND", "OR", "NOT"}
_FIELD = re.compile(r"([a-z_]+|[\u4e00-\u9fff]+)(:|：|>=|<=|>|<)")

# The field names an archivist writes in Chinese (#11 item 4), beside the English ones. An
# unknown Chinese name before a colon stays an ordinary word, as every CJK text did before.
FIELD_ALIASES: dict[str, FilterField] = {
    "卷号": FilterField.NUMBER, "档号": FilterField.NUMBER, "编号": FilterField.NUMBER, "件号": FilterField.NUMBER,
    "类型": FilterField.KIND, "文件类型": FilterField.KIND,
    "渠道": FilterField.CHANNEL, "来源": FilterField.CHANNEL,
    "状态": FilterField.STATE,
    "类别": FilterField.CATEGORY, "分类": FilterField.CATEGORY,
    "部门": FilterField.DEPARTMENT, "承办部门": FilterField.DEPARTMENT,
    "被投诉人": FilterField.RESPONDENT,
    "投诉人": FilterField.COMPLAINANT,
    "收件日期": FilterField.RECEIVED, "收到日期": FilterField.RECEIVED, "日期": FilterField.RECEIVED,
    "办结日期": FilterField.CLOSED, "结案日期": FilterField.CLOSED,
}

# Chinese values of the enumerated fields, e.g. 类型:答复函 = kind:reply_letter: the zh-CN labels the
# pages show (web/translations) and the contents page's names (records.compile.KIND_ZH). Kept here,
# not read from the catalogue, so the query language stays pure and the same in CLI and web.
VALUE_ALIASES: dict[FilterField, dict[str, str]] = {
    FilterField.KIND: {
        "投诉信": "complaint_letter", "传真": "fax", "电子邮件": "email", "邮件": "email",
        "口头投诉记录": "oral_complaint_record", "授权委托书": "power_of_attorney", "受理通知书": "acceptance_notice",
        "不予受理通知书": "non_acceptance_notice", "调查笔录": "investigation_minutes", "证据": "evidence",
        "证据材料": "evidence", "处理决定": "decision", "答复函": "reply_letter", "答复书": "reply_letter",
        "延期通知书": "extension_notice", "回访记录": "follow_up_record", "其他": "other",
    },
    FilterField.CHANNEL: {
        "信函": "letter", "传真": "fax", "电子邮件": "email", "邮件": "email", "当面口头": "oral", "电话": "phone",
        "网上": "online", "在线咨询": "chat", "意见簿": "comment_book", "来访": "visit", "媒体": "media",
        "转办": "referral", "工单": "ticket", "内部": "internal", "其他": "other",
    },
    FilterField.STATE: {
        "已登记": "registered", "已受理": "accepted", "不予受理": "not_accepted", "调查中": "investigating",
        "已作出决定": "decided", "已答复": "replied", "已办结": "closed", "已归档封存": "sealed", "已封存": "sealed",
        "已处置": "disposed", "已撤销": "void",
    },
}


def _field_name(name: str) -> FilterField | None:
    if name in FilterField.__members__.values():
        return FilterField(name)
    return FIELD_ALIASES.get(name)
_PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str            # "(" ")" "AND" "OR" "NOT" "-" "word" "phrase" "field"
    position: int
    text: str = ""
    node: Node | None = None


def parse(text: str, default_operator: DefaultOperator = DefaultOperator.AND) -> Node:
    """Parse query text into a syntax tree.

    Raises:
        InvalidQueryError: unbalanced quotes or parentheses, a dangling operator, an unknown
            field, a bad date or value, or nesting deeper than :data:`MAX_DEPTH`.
    """
    tokens = _Lexer(text).tokens()
    if not tokens:
        return MatchAll()
    return _Parser(text, tokens, default_operator).parse()


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def error(self, problem: str, position: int | None = None) -> InvalidQueryError:
        return InvalidQueryError(self.text, problem, self.i if position is None else position)

    def tokens(self) -> list[_Tok]:
        out: list[_Tok] = []
        text = self.text
        while self.i < len(text):
            c = text[self.i]
            if c.isspace():
                self.i += 1
            elif c in "()":
                out.append(_Tok(c, self.i))
                self.i += 1
            elif c in _QUOTES:
                start = self.i
                out.append(_Tok("phrase", start, node=Phrase(self.quoted(), start)))
            elif c == "-" and self.i + 1 < len(text) and not text[self.i + 1].isspace() and text[self.i + 1] != "-":
                out.append(_Tok("-", self.i))
                self.i += 1
            else:
                out.append(self.word())
        return out

    def quoted(self) -> str:
        start = self.i
        close = _QUOTES[self.text[start]]
        end = self.text.find(close, start + 1)
        if end < 0:
            raise self.error("a quotation mark is not closed", start)
        self.i = end + 1
        return self.text[start + 1:end]

    def word(self) -> _Tok:
        start = self.i
        m = _FIELD.match(self.text, start)
        named = _field_name(m.group(1)) if m else None
        if m and named is not None:
            self.i = m.end()
            op = ":" if m.group(2) == "：" else m.group(2)   # a full-width colon, as Chinese input types it
            return _Tok("field", start, node=self.field_value(named, op, start))
        if m and m.group(1).isascii() and m.group(2) == ":" and m.end() < len(self.text) \
                and self.text[m.end()] not in " \t\n/":
            known = ", ".join(f.value for f in FilterField)
            raise self.error(f"unknown field {m.group(1)!r}; known fields: {known}", start)
        while self.i < len(self.text) and not self.text[self.i].isspace() and self.text[self.i] not in '()"\u201c':
            self.i += 1
        word = self.text[start:self.i]
        if word in _OPERATORS:
            return _Tok(word, start)
        if len(word) > 1 and word.endswith("*"):
            return _Tok("word", start, node=Term(word[:-1], start, prefix=True))
        return _Tok("word", start, node=Term(word, start))

    def raw_value(self) -> str:
        if self.i < len(self.text) and self.text[self.i] in _QUOTES:
            return self.quoted()
        start = self.i
        while self.i < len(self.text) and not self.text[self.i].isspace() and self.text[self.i] not in "()":
            self.i += 1
        return self.text[start:self.i]

    def field_value(self, field: FilterField, op: str, start: int) -> Node:
        value_at = self.i
        if field in DATE_FIELDS:
            return self.date_value(field, op, start)
        if op != ":":
            raise self.error(f"{field.value} takes field:value, not {op}", start)
        value = self.raw_value().strip()
        if not value:
            raise self.error(f"{field.value}: needs a value", value_at)
        allowed = _ENUMS.get(field)
        if allowed is not None:
            value = VALUE_ALIASES.get(field, {}).get(value, value).lower()
            if value not in allowed:
                raise self.error(f"unknown {field.value} {value!r}; one of: {', '.join(sorted(allowed))}", value_at)
        return FieldMatch(field, value, start)

    def date_value(self, field: FilterField, op: str, start: int) -> Node:
        value_at = self.i
        if op == ":" and self.i < len(self.text) and self.text[self.i] == "[":
            end = self.text.find("]", self.i)
            if end < 0:
                raise self.error("a date range '[' is not closed with ']'", value_at)
            inner = self.text[self.i + 1:end]
            self.i = end + 1
            parts = inner.split(" TO ")
            if len(parts) != 2:
                raise self.error("write a date range as [FROM TO UNTIL], e.g. [2026-01-01 TO 2026-03-31]", value_at)
            lo, hi = (p.strip() for p in parts)
            return DateRange(field, self.bound(lo, value_at, first=True), self.bound(hi, value_at, first=False), start)
        raw = self.raw_value()
        if op == ":" and ".." in raw:
            lo, _, hi = raw.partition("..")
            return DateRange(field, self.bound(lo, value_at, first=True), self.bound(hi, value_at, first=False), start)
        first, last = self.day_span(raw, value_at)
        if op == ":":
            return DateRange(field, first, last, start)
        if op == ">=":
            return DateRange(field, first, None, start)
        if op == ">":
            return DateRange(field, date.fromordinal(last.toordinal() + 1), None, start)
        if op == "<=":
            return DateRange(field, None, last, start)
        return DateRange(field, None, date.fromordinal(first.toordinal() - 1), start)

    def bound(self, raw: str, at: int, *, first: bool) -> date | None:
        if raw in ("*", ""):
            return None
        lo, hi = self.day_span(raw, at)
        return lo if first else hi

    def day_span(self, raw: str, at: int) -> tuple[date, date]:
        """First and last day of ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``."""
        m = _PARTIAL_DATE.fullmatch(raw)
        if not m:
            raise self.error(f"{raw!r} is not a date; use YYYY-MM-DD, YYYY-MM or YYYY", at)
        try:
            year = int(m.group(1))
            if m.group(3):
                day = date(year, int(m.group(2)), int(m.group(3)))
                return day, day
            if m.group(2):
                month = int(m.group(2))
                return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
            return date(year, 1, 1), date(year, 12, 31)
        except ValueError:
            raise self.error(f"{raw!r} is not a valid date", at) from None


def _is_filter(node: Node) -> bool:
    if isinstance(node, (FieldMatch, DateRange)):
        return True
    if isinstance(node, (And, Or)):
        return all(_is_filter(c) for c in node.children)
    return isinstance(node, Not) and _is_filter(node.child)


class _Parser:
    """Precedence, lowest first: OR, juxtaposition (the default operator), AND, NOT/-."""

    def __init__(self, text: str, tokens: list[_Tok], default_operator: DefaultOperator) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0
        self.default = default_operator
        self.depth = 0  # NOTs and parentheses currently open around the token being parsed

    def error(self, problem: str, position: int | None = None) -> InvalidQueryError:
        return InvalidQueryError(self.text, problem, position)

    def peek(self) -> _Tok | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def parse(self) -> Node:
        node = self.or_expr()
        tok = self.peek()
        if tok is not None:
            raise self.error("a closing parenthesis has no opening one" if tok.kind == ")"
                             else f"unexpected {tok.kind}", tok.position)
        return node

    def or_expr(self) -> Node:
        children = [self.implicit_expr()]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.i += 1
            children.append(self.implicit_expr())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def implicit_expr(self) -> Node:
        children = [self.and_expr()]
        while (tok := self.peek()) is not None and tok.kind not in ("OR", ")"):
            children.append(self.and_expr())
        if len(children) == 1:
            return children[0]
        if self.default is DefaultOperator.AND:
            return And(tuple(children))
        # Only words are OR-ed: a negated clause or a filter constrains whatever the default
        # operator is, so "a b -c kind:fax" is (a OR b) AND NOT c AND kind:fax.
        keep: list[Node] = [c for c in children if not isinstance(c, Not) and not _is_filter(c)]
        rest: list[Node] = [c for c in children if isinstance(c, Not) or _is_filter(c)]
        if not keep:
            return And(tuple(rest))
        kept: Node = keep[0] if len(keep) == 1 else Or(tuple(keep))
        return kept if not rest else And((kept, *rest))

    def and_expr(self) -> Node:
        children = [self.unary()]
        while (tok := self.peek()) is not None and tok.kind == "AND":
            self.i += 1
            children.append(self.unary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def enter(self, tok: _Tok) -> None:
        """One level deeper; refused past MAX_DEPTH, at the token that went too deep."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"the query nests more than {MAX_DEPTH} levels of parentheses and NOT/-; "
                             "simplify it", tok.position)

    def unary(self) -> Node:
        tok = self.peek()
        if tok is None:
            last = self.tokens[-1]
            raise self.error(f"{last.kind} needs something after it", last.position)
        if tok.kind in ("NOT", "-"):
            self.i += 1
            if self.peek() is None or self.peek().kind in (")", "AND", "OR"):  # type: ignore[union-attr]
                raise self.error(f"{tok.kind} needs something after it", tok.position)
            self.enter(tok)
            negated = Not(self.unary())
            self.depth -= 1
            return negated
        if tok.kind == "(":
            self.i += 1
            if (nxt := self.peek()) is not None and nxt.kind == ")":
                raise self.error("empty parentheses", tok.position)
            self.enter(tok)
            node = self.or_expr()
            self.depth -= 1
            if (close := self.peek()) is None or close.kind != ")":
                raise self.error("a parenthesis is not closed", tok.position)
            self.i += 1
            return node
        if tok.kind in ("AND", "OR", ")"):
            raise self.error(f"{tok.kind} needs something before it" if tok.kind != ")"
                             else "a closing parenthesis has no opening one", tok.position)
        self.i += 1
        assert tok.node is not None
        return tok.node


_SYNTAX_CHARS = re.compile(r'[()"\u201c\u201d\[\]*]')


def escape(text: str) -> str:
    """Free text with every piece of query syntax neutralised, for searching text as typed
    elsewhere (a subject line, a label): operators become words, and quotes, parentheses,
    field prefixes and leading minus signs become separators."""
    words = []
    # "、" separates tokens without splitting the clause, so 关于“某事”的问题 stays one term.
    for word in _SYNTAX_CHARS.sub("\u3001", text).split():
        word = word.lstrip("-\u3001")
        if word in _OPERATORS:
            word = word.lower()
        m = _FIELD.match(word)
        if m:
            word = m.group(1) + " " + word[m.end():]
        if word:
            words.append(word)
    return " ".join(words)


@dataclass(frozen=True, slots=True)
class ActiveFilter:
    """A top-level ``field:value`` clause as typed, with where it stands (the search page's chips, #11)."""

    field: FilterField
    text: str
    start: int
    end: int

    def removed_from(self, query: str) -> str:
        """The query without this clause (spaces tidied)."""
        return " ".join((query[:self.start] + " " + query[self.end:]).split())


def active_filters(text: str) -> list[ActiveFilter]:
    """The filters that constrain the whole query (not inside parentheses, OR or NOT); [] if it does not parse."""
    lexer = _Lexer(text)
    try:
        tokens = lexer.tokens()
        parse(text)
    except InvalidQueryError:
        return []
    out: list[ActiveFilter] = []
    depth = 0
    for i, tok in enumerate(tokens):
        depth += tok.kind == "("
        depth -= tok.kind == ")"
        before = tokens[i - 1].kind if i else ""
        after = tokens[i + 1].kind if i + 1 < len(tokens) else ""
        if tok.kind != "field" or depth or before in ("NOT", "-", "OR") or after == "OR":
            continue
        end = tokens[i + 1].position if i + 1 < len(tokens) else len(text)
        raw = text[tok.position:end].rstrip()
        node = tok.node
        assert isinstance(node, (FieldMatch, DateRange))
        out.append(ActiveFilter(node.field, raw, tok.position, tok.position + len(raw)))
    return out
