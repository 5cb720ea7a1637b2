"""Bad input is answered with a 4xx and a clear message, never a 500 or a traceback (issue #9 (5)).

Each case here once reached the server as an unexpected exception: a query nested deeper than
Python's recursion limit, an unreadable ``since``, a month outside the calendar. The last tests
check the catch-all: whatever still escapes is a plain, translated 500 without its traceback.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from records.settings import Settings
from tests.web.conftest import World, sign_in_as
from web.bootstrap import Services
from web.cli import main

DEEP_QUERIES = {
    "not-x500": "NOT " * 500 + "律师",
    "minus-parens-x300": "-(" * 300 + "律师" + ")" * 300,
    "parens-x300": "(" * 300 + "律师" + ")" * 300,
}
BAD_MONTHS = ["9999999999-01", "2026-13", "0000-01", "9999-12", "2026-1", "garbage", "2026-00"]


def _auth(world: World, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[who]}"}


def _no_traceback(text: str) -> None:
    assert "Traceback" not in text and "RecursionError" not in text and 'File "' not in text


@pytest.mark.parametrize("q", DEEP_QUERIES.values(), ids=DEEP_QUERIES.keys())
def test_deeply_nested_search_is_a_400_on_the_api(client: FlaskClient, world: World, q: str) -> None:
    """GIVEN a query nested hundreds of levels deep WHEN searched through the API THEN 400 invalid_query says why."""
    resp = client.get("/api/v1/search", query_string={"q": q}, headers=_auth(world, "handler_a"))
    assert resp.status_code == 400, resp.get_data(as_text=True)[:300]
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_query" and "nest" in error["message"]
    _no_traceback(resp.get_data(as_text=True))


@pytest.mark.parametrize("q", DEEP_QUERIES.values(), ids=DEEP_QUERIES.keys())
def test_deeply_nested_search_is_a_400_on_the_page(client: FlaskClient, world: World, q: str) -> None:
    """The search page answers the same query with a 400 page naming the problem."""
    sign_in_as(client, "handler_a")
    resp = client.get("/search", query_string={"q": q, "lang": "en"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and 'data-code="invalid_query"' in html and "nest" in html
    _no_traceback(html)


def test_deeply_nested_search_exits_4_on_the_cli(settings: Settings) -> None:
    """`dossier search` exits 4 (invalid input) with a one-line message, no traceback."""
    assert CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), "init"]).exit_code == 0
    result = CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), "search", DEEP_QUERIES["not-x500"]])
    assert result.exit_code == 4, result.output[-500:]
    assert "nest" in result.output
    _no_traceback(result.output)


@pytest.mark.parametrize("since", ["garbage", "2026-02-30", "2026-13-01", "99999999999999", "-1", "0001-01-01"])
def test_audit_since_that_is_not_a_date_is_a_400(client: FlaskClient, world: World, since: str) -> None:
    """GIVEN an auditor WHEN ?since= is not a date YYYY-MM-DD THEN 400 naming the parameter, not 500 nor ignored."""
    resp = client.get("/api/v1/audit", query_string={"since": since}, headers=_auth(world, "auditor"))
    assert resp.status_code == 400, resp.get_data(as_text=True)[:300]
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_parameter" and "since" in error["message"] and "YYYY-MM-DD" in error["message"]


def test_audit_since_a_date_still_filters(client: FlaskClient, world: World) -> None:
    """A valid ?since= keeps working: a date after every entry leaves only this read's own entry out."""
    resp = client.get("/api/v1/audit", query_string={"since": "2999-01-01"}, headers=_auth(world, "auditor"))
    assert resp.status_code == 200 and resp.get_json()["entries"] == []


@pytest.mark.parametrize("month", BAD_MONTHS)
def test_dossier_list_with_a_bad_month_is_a_400(client: FlaskClient, world: World, month: str) -> None:
    """GIVEN ?month= that is no calendar month the archive can hold THEN 400 invalid_period, not 500."""
    resp = client.get("/api/v1/dossiers", query_string={"month": month}, headers=_auth(world, "handler_a"))
    assert resp.status_code == 400, resp.get_data(as_text=True)[:300]
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_period" and "YYYY-MM" in error["message"]


@pytest.mark.parametrize("month", ["9999999999-01", "2026-13", "0000-01"])
def test_dossiers_page_with_a_bad_month_is_a_400(client: FlaskClient, world: World, month: str) -> None:
    sign_in_as(client, "handler_a")
    resp = client.get("/dossiers", query_string={"month": month})
    assert resp.status_code == 400 and 'data-code="invalid_period"' in resp.get_data(as_text=True)


def test_dossier_list_with_a_good_month_still_filters(client: FlaskClient, world: World) -> None:
    """A far-future but real month is simply empty."""
    resp = client.get("/api/v1/dossiers", query_string={"month": "2999-12"}, headers=_auth(world, "handler_a"))
    assert resp.status_code == 200 and resp.get_json()["dossiers"] == []


def test_a_headcount_beyond_the_column_is_a_422(client: FlaskClient, world: World) -> None:
    """collective_count past a 32-bit integer is the field's fault (422), not PostgreSQL's (500)."""
    resp = client.post("/api/v1/dossiers", headers=_auth(world, "handler_a"), json={
        "matter": "集体投诉", "department": "A", "complainant": "赵六", "collective_count": 4859519809189480})
    assert resp.status_code == 422, resp.get_data(as_text=True)[:300]
    assert resp.get_json()["error"]["code"] == "invalid_registration"
    assert "collective_count" in resp.get_json()["error"]["message"]


@pytest.mark.parametrize("page", ["99999999999999999999", "-5", "0"])
def test_search_with_an_absurd_page_is_not_a_500(client: FlaskClient, world: World, page: str) -> None:
    resp = client.get("/api/v1/search", query_string={"q": "律师", "page": page}, headers=_auth(world, "handler_a"))
    assert resp.status_code < 500, resp.get_data(as_text=True)[:300]


class _Boom(RuntimeError):
    pass


@pytest.fixture
def broken_listing(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """Listing dossiers fails with an exception no handler knows (a bug, a driver error)."""

    def boom(*args: object, **kwargs: object) -> None:
        raise _Boom("secret detail /srv/dossier/catalogue.db")

    monkeypatch.setattr(services.records, "list_dossiers", boom)


def test_unexpected_error_is_a_plain_json_500(client: FlaskClient, world: World, broken_listing: None) -> None:
    """GIVEN a bug WHEN the API hits it THEN 500 {"error": {"code": "internal_error", …}} without details."""
    resp = client.get("/api/v1/dossiers", query_string={"lang": "en"}, headers=_auth(world, "handler_a"))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 500 and resp.get_json() == {"error": {"code": "internal_error",
                                                                      "message": "Internal error"}}
    assert "secret detail" not in body
    _no_traceback(body)


@pytest.mark.parametrize(("lang", "words"), [("en", "Internal error"), ("zh_CN", "内部错误")])
def test_unexpected_error_is_a_translated_500_page(client: FlaskClient, world: World, broken_listing: None,
                                                  lang: str, words: str) -> None:
    """The pages answer the same bug with the error page in the reader's language."""
    sign_in_as(client, "handler_a")
    resp = client.get("/dossiers", query_string={"lang": lang})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 500 and words in html and 'data-code="internal_error"' in html
    assert "secret detail" not in html
    _no_traceback(html)

