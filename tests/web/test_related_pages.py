"""The "Possibly related complaints" panel (ACC-NO-01): right after a registration, on the dossier page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from records.model import Registration
from tests.web.conftest import LogCounter, World, csrf_token, sign_in_as
from web.bootstrap import Services


def _register(client: FlaskClient, **fields: str) -> str:
    token = csrf_token(client, "/register")
    resp = client.post("/register", data={"csrf_token": token, "received_at": "2026-11-03T09:00", "channel": "letter",
                                          "department": "A", **fields})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    return resp.headers["Location"].rsplit("/", 1)[1]


def test_after_registering_a_repeat_the_page_offers_the_panel_naming_the_earlier_dossier_and_why(
        client: FlaskClient, world: World, log: LogCounter) -> None:
    """GIVEN dossier X (张三 against 某律师事务所, a letter about excessive fees)
    WHEN a handler registers a new complaint by 张三 against the same firm with the same facts
    THEN the page it lands on carries the related-complaints panel, and the panel lists X with its
    received date, state and the reasons (same complainant, same respondent, similar text), leaving
    one SEARCH entry naming the new dossier."""
    sign_in_as(client, "handler_a")
    new = _register(client, matter="律师收费过高投诉", complainant="张三", respondent="某律师事务所",
                    facts_and_reasons="投诉书：某律师事务所收费过高，要求退费。")

    page = client.get(f"/dossiers/{new}").get_data(as_text=True)
    assert 'id="related"' in page and f"/dossiers/{new}/related?fragment=1" in page
    log.new_entries()

    panel = client.get(f"/dossiers/{new}/related?fragment=1")

    html = panel.get_data(as_text=True)
    assert panel.status_code == 200
    assert f'data-number="{world.dossier}"' in html and "2026-11-02" in html
    for reason in ("same_complainant", "same_respondent", "similar_text"):
        assert f'data-reason="{reason}"' in html
    assert world.other_dossier not in html
    assert [(e.event.action, e.event.object_ref) for e in log.new_entries()] == [("search", new)]


def test_a_dossier_outside_the_callers_department_has_no_related_list_for_them(
        client: FlaskClient, world: World) -> None:
    """GIVEN dossier X of department A WHEN a handler of department B asks for its related complaints
    THEN 404, as for every dossier they cannot see; an auditor (no search) is not offered the panel."""
    sign_in_as(client, "handler_b")
    assert client.get(f"/dossiers/{world.dossier}/related").status_code == 404
    sign_in_as(client, "auditor")
    page = client.get(f"/dossiers/{world.dossier}").get_data(as_text=True)
    assert 'id="related"' not in page


def test_the_panel_is_a_polite_live_region_and_says_when_more_matched_than_are_listed(
        client: FlaskClient, world: World, services: Services, clock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN dossier X and two more earlier complaints by 张三 against the same firm, and a panel that
    lists at most 2
    WHEN a handler registers 张三's next complaint and opens the page, then its panel
    THEN the page's panel section is aria-live="polite" (announced once loaded) and the panel lists
    2 and says more earlier complaints matched."""
    for n in range(2):
        info = services.records.register_complaint("test", Registration(
            matter=f"第{n}次投诉", received_at=clock.now - timedelta(hours=3 + n), complainant="张三",
            respondent="某律师事务所", department="A"))
        services.ingest.ingest_bytes("test", f"投诉书{n}：收费问题。".encode(), "t.txt", dossier=info.archive_number)
    monkeypatch.setattr("search.related.SHOWN", 2)
    sign_in_as(client, "handler_a")
    new = _register(client, matter="再次投诉", complainant="张三", respondent="某律师事务所")

    page = client.get(f"/dossiers/{new}").get_data(as_text=True)
    html = client.get(f"/dossiers/{new}/related?fragment=1").get_data(as_text=True)

    assert 'id="related" aria-live="polite"' in page
    assert html.count("data-number=") == 2 and 'data-more="1"' in html
