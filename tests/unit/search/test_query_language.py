"""The query language: parsing, planning and clear errors for malformed input."""

from __future__ import annotations

from datetime import date

import pytest

from search.errors import InvalidQueryError
from search.plan import LeafKind, TextLeaf, plan_query
from search.query import And, DateRange, DefaultOperator, FieldMatch, FilterField, MatchAll, Not, Or, Phrase, Term, \
    escape, parse


def test_juxtaposed_words_use_the_default_operator() -> None:
    """a b means a OR b by default, a AND b when asked."""
    assert parse("a b", DefaultOperator.OR) == Or((Term("a", 0), Term("b", 2)))
    assert parse("a b", DefaultOperator.AND) == And((Term("a", 0), Term("b", 2)))


def test_and_binds_tighter_than_or() -> None:
    """a OR b AND c is a OR (b AND c)."""
    assert parse("a OR b AND c") == Or((Term("a", 0), And((Term("b", 5), Term("c", 11)))))


def test_negation_and_filters_constrain_the_whole_query() -> None:
    """a b -c kind:fax is (a OR b) AND NOT c AND kind:fax, whatever the default operator."""
    tree = parse("a b -c kind:fax", DefaultOperator.OR)
    assert tree == And((Or((Term("a", 0), Term("b", 2))), Not(Term("c", 5)), FieldMatch(FilterField.KIND, "fax", 7)))


def test_phrases_in_ascii_and_chinese_quotes() -> None:
    """Both "…" and “…” quote a phrase."""
    assert parse('"物业 管理"') == Phrase("物业 管理", 0)
    assert parse("“物业管理”") == Phrase("物业管理", 0)


@pytest.mark.parametrize(("text", "start", "end"), [
    ("received:2026-03-05", date(2026, 3, 5), date(2026, 3, 5)),
    ("received:2026-02", date(2026, 2, 1), date(2026, 2, 28)),
    ("received:2024", date(2024, 1, 1), date(2024, 12, 31)),
    ("received:[2026-01-01 TO 2026-03-31]", date(2026, 1, 1), date(2026, 3, 31)),
    ("received:[* TO 2026-03]", None, date(2026, 3, 31)),
    ("received:2026-01-01..2026-01-31", date(2026, 1, 1), date(2026, 1, 31)),
    ("received>=2026-02", date(2026, 2, 1), None),
    ("received>2026-02", date(2026, 3, 1), None),
    ("received<2026-02", None, date(2026, 1, 31)),
    ("received<=2026-02", None, date(2026, 2, 28)),
])
def test_date_filters(text: str, start: date | None, end: date | None) -> None:
    """Days, months, years, ranges and comparisons all become inclusive date ranges."""
    assert parse(text) == DateRange(FilterField.RECEIVED, start, end, 0)


def test_words_with_colons_that_are_not_fields_stay_words() -> None:
    """10:30 and http://x are searched as text, not rejected as fields."""
    assert parse("10:30") == Term("10:30", 0)
    assert parse("http://x.cn") == Term("http://x.cn", 0)


def test_empty_query_matches_everything() -> None:
    """Blank input browses every visible document."""
    assert parse("   ") == MatchAll()


@pytest.mark.parametrize(("text", "position", "fragment"), [
    ('投诉 "物业', 3, "quotation mark"),
    ("(投诉", 0, "parenthesis is not closed"),
    ("投诉)", 2, "no opening one"),
    ("AND 投诉", 0, "before it"),
    ("投诉 AND", 3, "after it"),
    ("recieved:2026", 0, "unknown field 'recieved'"),
    ("received:2026-02-30", 9, "not a valid date"),
    ("received:soon", 9, "not a date"),
    ("kind:letterx", 5, "unknown kind"),
    ("state>closed", 0, "state takes field:value"),
    ("received:[2026 2027]", 9, "[FROM TO UNTIL]"),
])
def test_malformed_queries_say_what_and_where(text: str, position: int, fragment: str) -> None:
    """Each syntax error names the problem and the character where it is."""
    with pytest.raises(InvalidQueryError) as caught:
        plan_query(text)
    assert caught.value.position == position
    assert fragment in caught.value.problem
    assert f"at character {position + 1}" in str(caught.value)


@pytest.mark.parametrize("text", ["投诉 OR kind:email", "a OR -b", "(-a) OR b"])
def test_ambiguous_combinations_are_rejected(text: str) -> None:
    """Filters OR-ed with words, and NOT with nothing to exclude from, are errors, not guesses."""
    with pytest.raises(InvalidQueryError):
        plan_query(text)


def test_invalid_query_error_is_a_value_error() -> None:
    """Callers that catch ValueError catch malformed queries too."""
    with pytest.raises(ValueError):
        plan_query("(")


@pytest.mark.parametrize(("text", "kind"), [
    ("诉", LeafKind.CHAR),
    ("投诉", LeafKind.PHRASE),
    ("投诉人", LeafKind.PHRASE),
    ("物业管理", LeafKind.LOOSE),
    ("举报A市某村委的问题", LeafKind.LOOSE),
    ('"物业管理费用过高"', LeafKind.PHRASE),
    ("credit*", LeafKind.PREFIX),
])
def test_how_each_kind_of_term_is_matched(text: str, kind: LeafKind) -> None:
    """Short terms are phrases, longer ones loose, quoted ones always phrases."""
    leaf = plan_query(text).text
    assert isinstance(leaf, TextLeaf) and leaf.kind is kind


def test_plan_separates_words_filters_and_exclusions() -> None:
    """Ranked words, filters and negated words go to their own parts of the plan."""
    plan = plan_query("投诉 -物业 category:城鄉建設 received:2026")
    assert isinstance(plan.text, TextLeaf) and plan.text.terms.tokens == ("投诉",)
    assert len(plan.excluded) == 1
    assert isinstance(plan.filters, And)
    assert FieldMatch(FilterField.CATEGORY, "城乡建设", 7) in plan.filters.children


def test_escape_turns_any_text_into_plain_words() -> None:
    """Operators, quotes, brackets and field prefixes in pasted text lose their meaning."""
    escaped = escape('Payday loan OR (title) -loan kind:x "a"')
    plan = plan_query(escaped)
    assert plan.filters is None and plan.excluded == ()
