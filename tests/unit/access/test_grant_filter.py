"""The --filter language of regulator grants: explicit keys, stored as AccessScope's dimensions (ACS-04)."""

from __future__ import annotations

from datetime import date

import pytest

from records.access.errors import InvalidGrantError
from records.access.identity import GrantFilter


def test_parse_reads_every_dimension() -> None:
    f = GrantFilter.parse("respondent:某律所 category:收费 received:2026-01-01..2026-06-30")
    assert f == GrantFilter(frozenset({"某律所"}), frozenset({"收费"}), date(2026, 1, 1), date(2026, 6, 30))


def test_repeated_keys_mean_either_and_quotes_keep_spaces() -> None:
    f = GrantFilter.parse('respondent:甲所 respondent:"Smith & Co LLP" received:2026-03-01..')
    assert f.respondents == frozenset({"甲所", "Smith & Co LLP"})
    assert (f.received_from, f.received_until) == (date(2026, 3, 1), None)


def test_a_single_day_and_open_start() -> None:
    assert GrantFilter.parse("received:2026-05-04").received_until == date(2026, 5, 4)
    assert GrantFilter.parse("received:..2026-05-04").received_from is None


def test_render_reads_back_to_the_same_filter() -> None:
    f = GrantFilter.parse('category:收费 respondent:"A B" respondent:乙所 received:..2026-02-01')
    assert GrantFilter.parse(f.render()) == f
    assert f.render() == "respondent:'A B' respondent:乙所 category:收费 received:..2026-02-01"


@pytest.mark.parametrize("text", [
    "", "respondent:", "who:某律所", "某律所", "received:2026-13-01", "received:2026-06-01..2026-01-01",
    "received:..", "received:2026-01-01 received:2026-02-01", 'respondent:"unclosed',
])
def test_bad_filters_are_refused_with_a_reason(text: str) -> None:
    """A filter that names nothing would grant everything: it is refused, like any malformed one."""
    with pytest.raises(InvalidGrantError) as err:
        GrantFilter.parse(text)
    assert err.value.field == "filter" and err.value.problem
