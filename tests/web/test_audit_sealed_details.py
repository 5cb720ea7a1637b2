"""The audit page and its CSV open sealed entry details, and show a marker once a key is gone (issue #12)."""

from __future__ import annotations

import csv
import io

from flask.testing import FlaskClient

from records.model import DossierInfo
from tests.web.conftest import World, sign_in_as
from tests.web.test_audit_page import as_auditor, rows
from web.bootstrap import Services

QUERY = "司马翠屏"


def _csv(client: FlaskClient, query: str) -> list[list[str]]:
    data = client.get(f"/audit.csv?{query}").get_data()
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_the_csv_shows_a_search_query_sealed_at_rest(client: FlaskClient, services: Services, world: World) -> None:
    """GIVEN a handler searched for a complainant's name on the search page, WHEN an auditor exports
    the log as CSV, THEN the search entry's Details column holds the query in clear."""
    sign_in_as(client, "handler_a")
    assert client.get("/search", query_string={"q": QUERY}).status_code == 200
    as_auditor(client, "/audit")
    table = _csv(client, "user=handler_a&action=search")
    assert table[0][-1] == "Details"
    assert any(f"q={QUERY}" in r[-1] for r in table[1:]), table


def test_a_destroyed_dossiers_entries_show_the_marker_and_its_number(client: FlaskClient, services: Services,
                                                                     world: World, clock: object) -> None:
    """GIVEN the regulator viewed dossier X under its grant (purpose 年度检查), WHEN X's key is destroyed,
    THEN the audit page still lists the entry with X's number and "(sealed: dossier destroyed)" where
    the purpose was, and the CSV shows the marker in Purpose and Details — no error."""
    sign_in_as(client, "regulator")
    assert client.get(f"/dossiers/{world.dossier}").status_code == 200
    page = as_auditor(client, f"/audit?user=regulator&action=view_dossier&ref={world.dossier}")
    assert [r["purpose"] for r in rows(page)] == ["年度检查"]
    info: DossierInfo = services.records.get_dossier("test", world.dossier)
    services.vault.dossier_keys.destroy(info.dossier_id, now=services.clock())
    page = as_auditor(client, f"/audit?user=regulator&action=view_dossier&ref={world.dossier}")
    [row] = rows(page)
    assert row["purpose"] == "(sealed: dossier destroyed)" and world.dossier in row["object"]
    [_head, line] = _csv(client, f"user=regulator&action=view_dossier&ref={world.dossier}")
    assert line[9] == "(sealed: dossier destroyed)" and line[-1] == "sealed=(sealed: dossier destroyed)"
