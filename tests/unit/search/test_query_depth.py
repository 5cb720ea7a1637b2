"""The parser's nesting limit: a query nested too deeply is an InvalidQueryError, not a RecursionError."""

from __future__ import annotations

import sys

import pytest

from search.errors import InvalidQueryError
from search.plan import plan_query
from search.query import MAX_DEPTH, Not, Term, parse


@pytest.mark.parametrize("text", [
    "NOT " * 500 + "x",
    "-(" * 300 + "x" + ")" * 300,
    "(" * 300 + "x" + ")" * 300,
    "(" * 300 + "x",                       # unbalanced as well: the depth is what is reported first
    "(NOT " * 200 + "x" + ")" * 200,
    "a OR " + "(" * (MAX_DEPTH + 1) + "b" + ")" * (MAX_DEPTH + 1),
    "NOT " * (sys.getrecursionlimit() * 3) + "x",
])
def test_too_deep_a_query_is_an_invalid_query(text: str) -> None:
    """GIVEN hundreds of NOTs or parentheses WHEN parsed THEN InvalidQueryError names the limit and where."""
    with pytest.raises(InvalidQueryError) as err:
        parse(text)
    assert f"more than {MAX_DEPTH} levels" in err.value.problem
    assert err.value.position is not None and 0 <= err.value.position < len(text)


def test_the_planner_reports_it_too() -> None:
    """plan_query (what every backend calls) raises the same error, never RecursionError."""
    with pytest.raises(InvalidQueryError, match="nest"):
        plan_query("(" * 300 + "律师" + ")" * 300)


def test_nesting_up_to_the_limit_still_parses() -> None:
    """MAX_DEPTH levels are allowed: the limit refuses only what no person types."""
    tree = parse("NOT " * MAX_DEPTH + "x")
    for _ in range(MAX_DEPTH):
        assert isinstance(tree, Not)
        tree = tree.child
    assert tree == Term("x", 4 * MAX_DEPTH)
    assert parse("(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH) == Term("x", MAX_DEPTH)


def test_a_run_of_minus_signs_is_a_word_not_nesting() -> None:
    """``---x`` is not NOT NOT NOT x: a minus before a minus is part of a word, so it cannot nest."""
    assert parse("-" * 500 + "x") == Term("-" * 500 + "x", 0)


def test_long_flat_queries_are_not_limited() -> None:
    """Width is not depth: a thousand words joined by OR or AND parse as one flat node."""
    words = " OR ".join(f"w{i}" for i in range(1000))
    assert len(parse(words).children) == 1000  # type: ignore[union-attr]
    assert len(parse(" AND ".join(f"(w{i})" for i in range(1000))).children) == 1000  # type: ignore[union-attr]
