"""The access log for auditors (issue #11 item 7): filters, paging, CSV export, and the regulator's limit (ACC-NO)."""

from __future__ import annotations

import csv
import html as htmllib
import io
import re
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from records.access.identity import Action
from tests.web.conftest import LogCounter, World, sign_in_as
from web.auth import zone
from web.bootstrap import Services

_ROW = re.compile(r"<tr class=\"(?P<cls>[^\"]*)\">(?P<body>.*?)</tr>", re.S)
_CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)


def rows(page: str) -> list[dict[str, str]]:
    """The access-log table's data rows as {column: text} (English column order of audit.html)."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    names = ("seq", "when", "who", "role", "action", "object", "outcome", "reason", "purpose", "ip")
    out = []
    for m in _ROW.finditer(body):
        cells = [htmllib.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in _CELL.findall(m["body"])]
        out.append({**dict(zip(names, cells)), "class": m["cls"]})
    return out


def as_auditor(client: FlaskClient, path: str, who: str = "auditor") -> str:
    sign_in_as(client, who)
    client.get("/lang/en")
    resp = client.get(path)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return resp.get_data(as_text=True)


def log_many(services: Services, name: str, action: Action, n: int, **kw: Any) -> None:
    """``n`` decided, logged attempts by ``name`` (the access service writes one entry each)."""
    who = services.access.identity(name)
    for _ in range(n):
        services.access.authorize(who, action, None, **kw)


def test_part_of_a_name_finds_the_users_entries_and_an_unknown_name_an_empty_list(
        client: FlaskClient, world: World) -> None:
    """GIVEN handler_b was refused dossier X WHEN the auditor filters by "LER_B" (part of the name, other case)
    THEN handler_b's entries are listed and nobody else's; a name nobody has gives an empty list and a message."""
    sign_in_as(client, "handler_b")
    client.get(f"/dossiers/{world.dossier}")
    found = rows(as_auditor(client, "/audit?user=LER_B"))
    assert found and {r["who"] for r in found} == {"handler_b"}
    assert any(world.dossier in r["object"] and r["class"] == "refused" for r in found)

    page = as_auditor(client, "/audit?user=nobody-here")
    assert rows(page) == [] and "No entries by a user whose name contains" in page


def test_filter_by_action_outcome_and_dossier_number(client: FlaskClient, services: Services, world: World) -> None:
    """GIVEN refused and allowed accesses to dossiers X and Y WHEN the auditor filters by action, outcome or
    dossier number THEN only matching entries are listed (a dossier number also finds its documents)."""
    sign_in_as(client, "handler_b")
    client.get(f"/dossiers/{world.dossier}")  # refused: department A
    client.get(f"/dossiers/{world.other_dossier}")  # allowed
    sign_in_as(client, "handler_a")
    client.get(f"/documents/{world.item}")  # allowed, a document of X

    by_action = rows(as_auditor(client, "/audit?action=view_dossier"))
    assert len(by_action) >= 2 and {r["action"] for r in by_action} == {"View dossier"}

    refused = rows(as_auditor(client, "/audit?outcome=refused"))
    assert refused and all(r["class"] == "refused" for r in refused)
    assert any(r["who"] == "handler_b" and world.dossier in r["object"] for r in refused)

    on_x = rows(as_auditor(client, f"/audit?ref={world.dossier}"))
    assert on_x and all(world.dossier in r["object"] for r in on_x)
    assert any(world.item in r["object"] for r in on_x) and not any(world.other_dossier in r["object"] for r in on_x)

    both = rows(as_auditor(client, f"/audit?ref={world.dossier}&outcome=allowed&user=handler"))
    assert both and {r["who"] for r in both} == {"handler_a"}


def test_filter_by_date_range_in_archive_time(client: FlaskClient, services: Services, world: World,
                                              clock: Any) -> None:
    """GIVEN handler_b tried dossier X today and again five days later WHEN the auditor asks for today's day
    (archive time) THEN only the first attempt is listed; from the later day, only the second."""
    with client.application.app_context():
        tz = zone()
    sign_in_as(client, "handler_b")
    client.get(f"/dossiers/{world.dossier}")
    first_day = services.today(tz)  # the archive's day, not UTC's
    clock.now = clock.now + timedelta(days=5)
    sign_in_as(client, "handler_b")
    client.get(f"/dossiers/{world.other_dossier}")
    later_day = services.today(tz)

    first = rows(as_auditor(client, f"/audit?user=handler_b&from={first_day}&to={first_day}"))
    assert any(world.dossier in r["object"] for r in first)
    assert not any(world.other_dossier in r["object"] for r in first)
    later = rows(as_auditor(client, f"/audit?user=handler_b&from={later_day}"))
    assert any(world.other_dossier in r["object"] for r in later)
    assert not any(world.dossier in r["object"] for r in later)

    page = as_auditor(client, "/audit?from=2026-02-30")  # a day that does not exist: said, not an error page
    assert "is not a date" in page and rows(page)


def test_paging_past_a_thousand_entries_keeps_the_filters(client: FlaskClient, services: Services,
                                                          world: World) -> None:
    """GIVEN 1,050 refused attempts by handler_a to manage the calendar WHEN the auditor filters for them
    THEN page 1 shows the newest 100, a next link keeps the filters, and page 11 holds the oldest 50."""
    log_many(services, "handler_a", Action.MANAGE_CALENDAR, 1050)
    page = as_auditor(client, "/audit?user=handler_a&action=manage_calendar")
    first = rows(page)
    assert len(first) == 100 and "1050 entries" in page and "page 1 of 11" in page
    seqs = [int(r["seq"]) for r in first]
    assert seqs == sorted(seqs, reverse=True)
    nxt = re.search(r'href="([^"]+)" rel="next"', page)
    assert nxt, "no next-page link"
    link = htmllib.unescape(nxt[1])
    assert "user=handler_a" in link and "action=manage_calendar" in link and "page=2" in link
    second = rows(as_auditor(client, link))
    assert len(second) == 100 and int(second[0]["seq"]) == seqs[-1] - 1

    last = as_auditor(client, "/audit?user=handler_a&action=manage_calendar&page=11")
    assert len(rows(last)) == 50 and 'rel="prev"' in last and 'rel="next"' not in last


def test_csv_export_is_excel_ready_formula_safe_and_logged_once(client: FlaskClient, services: Services,
                                                                world: World, log: LogCounter) -> None:
    """GIVEN an entry whose object reference looks like a formula WHEN the auditor exports the filtered log as CSV
    THEN it is UTF-8 with a BOM, headed in the reader's language, the cell is defused, and the export is
    itself one READ_AUDIT_LOG entry with export=csv."""
    services.access.authorize(services.access.identity("handler_b"), Action.MANAGE_CALENDAR, None,
                              object_ref='=HYPERLINK("http://x","y")')
    sign_in_as(client, "auditor")
    client.get("/lang/en")
    log.new_entries()
    resp = client.get("/audit.csv?user=handler_b&action=manage_calendar")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    data = resp.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0][:3] == ["No.", "When", "Who"] and "Outcome" in table[0]
    assert len(table) == 2 and table[1][2] == "handler_b"
    assert table[1][6] == '\'=HYPERLINK("http://x","y")' and table[1][4] == "Manage calendar"

    fresh = log.new_entries()
    assert len(fresh) == 1
    ev = fresh[0].event
    assert ev.action == Action.READ_AUDIT_LOG and ev.actor == "auditor" and ev.details.get("export") == "csv"
    assert ev.details.get("user") == "handler_b" and ev.details.get("action") == "manage_calendar"


def test_a_regulator_filtering_for_others_still_sees_only_its_own_entries(client: FlaskClient, services: Services,
                                                                          world: World) -> None:
    """GIVEN handler_b's refused attempt and the regulator's own accesses WHEN the regulator filters or exports
    for handler_b, or for its own refusals THEN it only ever sees its own entries (Reach.OWN_ENTRIES)."""
    sign_in_as(client, "handler_b")
    client.get(f"/dossiers/{world.dossier}")
    sign_in_as(client, "regulator")
    client.get(f"/dossiers/{world.other_dossier}")  # refused: no grant covers Y
    client.get(f"/dossiers/{world.dossier}")  # allowed under its grant

    assert rows(as_auditor(client, "/audit?user=handler_b", who="regulator")) == []
    mine = rows(as_auditor(client, "/audit?user=REGUL&outcome=refused", who="regulator"))
    assert mine and {r["who"] for r in mine} == {"regulator"} and all(r["class"] == "refused" for r in mine)
    everything = rows(as_auditor(client, "/audit", who="regulator"))
    assert everything and {r["who"] for r in everything} == {"regulator"}

    exported = client.get("/audit.csv?user=handler").get_data().decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(exported)))) == 1  # the heading only
