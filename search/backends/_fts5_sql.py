"""Translate a search plan and an access scope into FTS5 ``MATCH`` text and SQL ``WHERE`` clauses.

Tokens reach ``MATCH`` only inside double quotes, and every value reaches SQL only as a bound
parameter, so nothing a person types is ever interpreted as FTS5 or SQL syntax.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from records.access.model import AccessScope
from search.analysis import normalize_keyword
from search.plan import FilterNode, LeafKind, TextLeaf, TextNode
from search.query import And, DateRange, FieldMatch, FilterField, Not, Or

Where = tuple[str, list[object]]


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def match_expression(node: TextNode) -> str:
    """The FTS5 query for a text tree (fully parenthesised; NOT only after a positive part)."""
    if isinstance(node, TextLeaf):
        return _leaf(node)
    if isinstance(node, Or):
        return " OR ".join(f"({match_expression(c)})" for c in node.children)
    if isinstance(node, And):
        positives = [c for c in node.children if not isinstance(c, Not)]
        negatives = [c.child for c in node.children if isinstance(c, Not)]
        expr = " AND ".join(f"({match_expression(c)})" for c in positives)
        for neg in negatives:
            expr = f"({expr}) NOT ({match_expression(neg)})"
        return expr
    raise ValueError(f"a NOT cannot stand alone here: {node!r}")   # the planner prevents this


def _leaf(leaf: TextLeaf) -> str:
    tokens = leaf.terms.tokens
    if leaf.kind is LeafKind.CHAR or leaf.kind is LeafKind.PREFIX:
        # Every CJK character starts a body token or is a run's last character in "tail", and a
        # prefix query spans all columns: one expression finds every occurrence.
        return f"{_quote(tokens[0])} *"
    if leaf.kind is LeafKind.LOOSE:
        # Any token matches; documents holding the whole term in order score the phrase too.
        # With words (search.segment, issue #14 item 4): any word matches, each as a phrase.
        parts = [" ".join(w) for w in leaf.terms.words] or list(dict.fromkeys(tokens))
        return " OR ".join([_quote(" ".join(leaf.terms.tokens)), *(_quote(p) for p in parts)])
    phrase = _quote(" ".join(tokens))
    return f"{phrase} *" if leaf.terms.prefix_last else phrase


def _in(column: str, values: Sequence[object]) -> Where:
    # json_each keeps the statement the same size for a scope of five or fifty thousand ids.
    return f"{column} IN (SELECT value FROM json_each(?))", [json.dumps(values, ensure_ascii=False)]


def filter_clause(node: FilterNode, mac: Callable[[str], bytes]) -> Where:
    """SQL for a filter tree over the ``docs`` table aliased ``d``."""
    if isinstance(node, FieldMatch):
        return _field(node, mac)
    if isinstance(node, DateRange):
        column = "d.received_on" if node.field is FilterField.RECEIVED else "d.closed_on"
        parts: list[str] = []
        params: list[object] = []
        if node.start is not None:
            parts.append(f"{column} >= ?")
            params.append(node.start.isoformat())
        if node.end is not None:
            parts.append(f"{column} <= ?")
            params.append(node.end.isoformat())
        return (" AND ".join(parts) or f"{column} IS NOT NULL"), params
    if isinstance(node, (And, Or)):
        joiner = " AND " if isinstance(node, And) else " OR "
        clauses: list[str] = []
        args: list[object] = []
        for child in node.children:
            sql, p = filter_clause(child, mac)
            clauses.append(f"({sql})")
            args += p
        return joiner.join(clauses), args
    if isinstance(node, Not):
        sql, inner = filter_clause(node.child, mac)
        # A NULL column (no closing date yet) must count as "does not match" on both sides of NOT.
        return f"NOT COALESCE(({sql}), 0)", inner
    raise ValueError(f"not a filter: {node!r}")


def _field(node: FieldMatch, mac: Callable[[str], bytes]) -> Where:
    field = node.field
    if field is FilterField.NUMBER:
        return "(d.archive_key = ? OR d.item_key = ?)", [node.value, node.value]
    if field in (FilterField.KIND, FilterField.CHANNEL, FilterField.STATE):
        return f"d.{field.value} = ?", [node.value]
    if field is FilterField.CATEGORY:
        return "d.category_key = ?", [node.value]
    if field is FilterField.DEPARTMENT:
        return "d.department_key = ?", [node.value]
    column = "d.respondent_mac" if field is FilterField.RESPONDENT else "d.complainant_mac"
    return f"{column} = ?", [mac(node.value)]


def scope_clause(scope: AccessScope, mac: Callable[[str], bytes]) -> Where:
    """SQL for what the caller may see; every dimension must pass (the caller checks is_empty)."""
    parts: list[str] = []
    params: list[object] = []

    def add(where: Where) -> None:
        parts.append(where[0])
        params.extend(where[1])

    if scope.departments is not None:
        add(_in("d.department_key", [normalize_keyword(v) for v in sorted(scope.departments)]))
    if scope.dossier_ids is not None:
        add(_in("d.dossier_id", sorted(scope.dossier_ids)))
    if scope.categories is not None:
        add(_in("d.category_key", [normalize_keyword(v) for v in sorted(scope.categories)]))
    if scope.respondents is not None:
        macs = [mac(normalize_keyword(v)).hex() for v in sorted(scope.respondents)]
        add(_in("hex(d.respondent_mac)", [m.upper() for m in macs]))
    if scope.received_from is not None:
        add(("d.received_on >= ?", [scope.received_from.isoformat()]))
    if scope.received_until is not None:
        add(("d.received_on <= ?", [scope.received_until.isoformat()]))
    return " AND ".join(parts) or "1", params
