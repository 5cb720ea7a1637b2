"""Search results people can scan (#11 item 4): document titles, dossier groups, text-less items last,
filter chips, Chinese field names, a date range, saved searches, and query errors where the search box is."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import unquote_plus

import pytest
from flask.testing import FlaskClient

from tests.web.conftest import World, csrf_token, sign_in_as
from web.bootstrap import Services

MAIL = ("From: 张三 <zs@example.cn>\r\nTo: ts@sfj.example.cn\r\nSubject: =?utf-8?b?5YWz5LqO5b6L5biI5pS26LS555qE6KGl5YWF5p2Q5paZ?=\r\n"
        "Date: Mon, 2 Nov 2026 09:00:00 +0800\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "律师收费过高，补充材料见附件。\r\n")


@pytest.fixture
def more(services: Services, world: World) -> dict[str, str]:
    """GIVEN dossier X also holds an e-mail, a second letter and an item nothing could be read from."""
    ingest = services.ingest
    mail = ingest.ingest_bytes("test", MAIL.encode(), "补充.eml", dossier=world.dossier)
    letter = ingest.ingest_bytes("test", "律师收费问题的第二封信。".encode(), "第二封信.txt", dossier=world.dossier)
    empty = ingest.ingest_bytes("test", b"", "空白.txt", dossier=world.dossier)
    return {"mail": mail.item_number, "letter": letter.item_number, "empty": empty.item_number}


def _hit_titles(html: str) -> list[str]:
    """Each hit's title, without the kind label before it."""
    return [unescape(re.sub(r"<[^>]+>", "", t.split("</span>", 1)[-1])).strip()
            for t in re.findall(r'<article class="hit[^"]*">.*?<h3>(.*?)</h3>', html, re.S)]


def test_hits_are_titled_by_document_and_grouped_under_their_dossier(client: FlaskClient, world: World,
                                                                     more: dict[str, str]) -> None:
    """GIVEN four documents of one dossier WHEN a word in its matter is searched THEN each hit is titled by its
    file name or e-mail subject (not four times the matter), under one dossier heading with its count."""
    sign_in_as(client, "handler_a")
    html = client.get("/search", query_string={"q": "律师", "lang": "en"}).get_data(as_text=True)
    titles = _hit_titles(html)
    assert len(titles) == 4 and len(set(titles)) == 4, titles
    assert "关于律师收费的补充材料" in titles and "第二封信.txt" in titles and "投诉书.txt" in titles
    heads = re.findall(r'<h2 class="dossier-head">(.*?)</h2>', html, re.S)
    assert len(heads) == 1 and world.dossier in heads[0] and "律师收费过高投诉" in heads[0]
    assert "4 documents" in heads[0]


def test_an_item_without_text_ranks_last_and_shows_no_snippet(client: FlaskClient, world: World,
                                                              more: dict[str, str]) -> None:
    """GIVEN an empty item that matches only on its dossier's matter WHEN searched by relevance THEN it comes after
    every item with text, and says no text was extracted instead of an empty snippet."""
    sign_in_as(client, "handler_a")
    html = client.get("/search", query_string={"q": "律师", "lang": "en"}).get_data(as_text=True)
    assert _hit_titles(html)[-1] == "空白.txt"
    last = html.rsplit('<article class="hit', 1)[1]
    assert "no-text" in last.split(">", 1)[0] and 'class="snippet"' not in last
    assert "No text could be extracted" in last


def test_active_filters_are_chips_that_remove_themselves(client: FlaskClient, world: World) -> None:
    """GIVEN a search with a kind filter WHEN the page shows THEN the filter is a chip whose link is the same
    search without it."""
    sign_in_as(client, "handler_a")
    html = client.get("/search", query_string={"q": "律师 category:收费", "sort": "date_desc"}).get_data(as_text=True)
    chips = re.findall(r'<li class="chip">(.*?) <a href="([^"]+)"', html)
    assert [c[0] for c in chips] == ["category:收费"]
    target = client.get(unescape(chips[0][1])).get_data(as_text=True)
    assert 'value="律师"' in target and "category:收费" not in re.findall(r'name="q" value="([^"]*)"', target)[0]


def test_chinese_field_names_filter_like_the_english_ones(client: FlaskClient, world: World) -> None:
    """GIVEN dossier X's respondent 某律师事务所 WHEN searched as 被投诉人:某律师事务所 THEN X is found exactly as
    with respondent:, and a respondent nobody has finds nothing (it is a filter, not words)."""
    sign_in_as(client, "manager")
    english = client.get("/search", query_string={"q": "respondent:某律师事务所"}).get_data(as_text=True)
    chinese = client.get("/search", query_string={"q": "被投诉人:某律师事务所"}).get_data(as_text=True)
    assert world.dossier in chinese and world.other_dossier not in chinese
    assert _hit_titles(chinese) == _hit_titles(english)
    none = client.get("/search", query_string={"q": "被投诉人:某公证处", "lang": "en"}).get_data(as_text=True)
    assert "Nothing found" in none


def test_the_date_picker_adds_a_received_range(client: FlaskClient, world: World, services: Services) -> None:
    """GIVEN the from/to date fields WHEN submitted THEN the search carries received:FROM..TO, and a range
    that excludes the dossiers' date finds nothing."""
    sign_in_as(client, "manager")
    resp = client.get("/search", query_string={"q": "投诉", "from": "2001-01-01", "to": "2001-12-31"})
    assert resp.status_code == 302 and "received:2001-01-01..2001-12-31" in unquote_plus(resp.headers["Location"])
    html = client.get(resp.headers["Location"] + "&lang=en").get_data(as_text=True)
    assert "Nothing found" in html and "received:2001-01-01..2001-12-31" in html


def test_a_saved_search_is_listed_for_its_owner_only_and_can_be_deleted(client: FlaskClient, world: World) -> None:
    """GIVEN a handler saves a search WHEN the search page opens THEN it is listed for them, not for another
    user (who cannot delete it either), and the owner can delete it."""
    sign_in_as(client, "handler_a")
    token = csrf_token(client, "/search?q=律师")
    resp = client.post("/search/saved", data={"csrf_token": token, "q": "律师 kind:email", "sort": "relevance",
                                              "name": "收费邮件"})
    assert resp.status_code == 303
    html = client.get("/search").get_data(as_text=True)
    assert "收费邮件" in html
    saved_id = re.search(r'/search/saved/([0-9a-f]+)/delete', html).group(1)

    sign_in_as(client, "handler_b")
    token_b = csrf_token(client, "/search?q=律师")
    assert "收费邮件" not in client.get("/search").get_data(as_text=True)
    assert client.post(f"/search/saved/{saved_id}/delete", data={"csrf_token": token_b}).status_code == 404

    sign_in_as(client, "handler_a")
    token = csrf_token(client, "/search?q=律师")
    assert client.post(f"/search/saved/{saved_id}/delete", data={"csrf_token": token}).status_code == 303
    assert "收费邮件" not in client.get("/search").get_data(as_text=True)


SYNTAX_ERRORS = {'"拖延': "A quotation mark is not closed.", "received:2026-13-45": "is not a date",
                 "kind:": "needs a value after the colon", "foo:bar": "Unknown field foo"}


@pytest.mark.parametrize("q", SYNTAX_ERRORS)
def test_a_syntax_error_keeps_the_query_above_empty_results(client: FlaskClient, world: World, q: str) -> None:
    """GIVEN a query that cannot be read WHEN searched THEN 400, the search box still holds what was typed, and
    a message written for the person (not the parser's developer wording) stands above the results."""
    sign_in_as(client, "handler_a")
    resp = client.get("/search", query_string={"q": q, "lang": "en"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert unescape(re.search(r'name="q" value="([^"]*)"', html).group(1)) == q
    message = re.search(r'data-code="invalid_query">(.*?)</p>', html, re.S).group(1)
    assert SYNTAX_ERRORS[q] in unescape(message) and "invalid search query" not in message


def test_a_syntax_error_is_in_chinese_on_the_chinese_page(client: FlaskClient, world: World) -> None:
    """GIVEN the zh-CN interface WHEN a quotation mark is left open THEN the message is Chinese (needs the
    msgids of /tmp/h11/zh_search.json in the catalogue)."""
    sign_in_as(client, "handler_a")
    resp = client.get("/search", query_string={"q": '"拖延'})
    message = re.search(r'data-code="invalid_query">(.*?)</p>', resp.get_data(as_text=True), re.S).group(1)
    assert resp.status_code == 400 and "引号" in message and "quotation" not in message
