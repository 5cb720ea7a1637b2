"""Every page × every role: the right status, and exactly one access-log entry, allowed or refused (ACS-02, ACS-08)."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from tests.web.conftest import LogCounter, World, sign_in_as

WHO = ["anonymous", "admin", "archivist", "handler_a", "handler_b", "manager", "regulator", "regulator_none",
       "regulator_expired", "auditor"]
# route -> expected status per caller, in WHO's order. 404 = hidden exactly like absent; 403 = archive-level refusal.
MATRIX: dict[str, list[int]] = {
    "/dossiers/{X}":                       [302, 404, 200, 200, 404, 200, 200, 404, 403, 200],
    "/dossiers/{X}/upload":                [302, 404, 200, 200, 404, 200, 404, 404, 404, 404],
    "/documents/{ITEM}":                   [302, 404, 200, 200, 404, 200, 200, 404, 403, 404],
    "/documents/{ITEM}/content":           [302, 404, 200, 200, 404, 200, 200, 404, 403, 404],
    "/documents/{ITEM}/content?download=1": [302, 404, 200, 200, 404, 200, 200, 404, 403, 404],
    "/dossiers/2611-999":                  [302, 404, 404, 404, 404, 404, 404, 404, 404, 404],
    "/dossiers":                           [302, 403, 200, 200, 200, 200, 200, 403, 403, 200],
    "/search?q=收费":                       [302, 403, 200, 200, 200, 200, 200, 403, 403, 403],
    "/audit":                              [302, 403, 403, 403, 403, 403, 200, 200, 200, 200],
    "/dossiers/{X}/upload/status?job=0":   [302, 404, 200, 200, 404, 200, 404, 404, 404, 404],
    "/reports/monthly/2026-10.csv":        [302, 403, 200, 403, 403, 200, 403, 403, 403, 403],
}


@pytest.mark.parametrize("route", list(MATRIX))
def test_each_role_gets_its_status_and_one_log_entry(client: FlaskClient, world: World, log: LogCounter,
                                                      route: str) -> None:
    """Allowed means the page; refused means 404/403 (or sign-in) and exactly one refusal in the log."""
    path = route.replace("{X}", world.dossier).replace("{ITEM}", world.item)
    problems = []
    for who, expected in zip(WHO, MATRIX[route], strict=True):
        sign_in_as(client, None if who == "anonymous" else who)
        resp = client.get(path)
        resp.get_data()  # drain streamed content
        entries = log.new_entries()
        outcome = "allowed" if expected == 200 else "refused"
        got = [(e.event.actor, e.event.outcome) for e in entries]
        if resp.status_code != expected or len(entries) != 1 or entries[0].event.outcome != outcome:
            problems.append(f"{who}: status {resp.status_code} (expected {expected}), log {got} (expected 1 {outcome})")
    assert not problems, "\n".join(problems)


def test_refused_caller_sees_the_same_page_as_for_an_absent_dossier(client: FlaskClient, world: World) -> None:
    """A handler of another department cannot tell a hidden dossier from a number never given (ACS-03)."""
    sign_in_as(client, "handler_b")
    hidden = client.get(f"/dossiers/{world.dossier}")
    absent = client.get("/dossiers/2611-999")
    assert hidden.status_code == absent.status_code == 404
    # The sign-out form's CSRF token carries its issue time, so it differs when the two requests
    # fall in different seconds; everything else must be byte-identical.
    assert _without_csrf(hidden.get_data(as_text=True)) == _without_csrf(absent.get_data(as_text=True))


def _without_csrf(page: str) -> str:
    return re.sub(r'name="csrf_token"[^>]*value="[^"]*"|value="[^"]*"[^>]*name="csrf_token"', "csrf_token", page)


def test_handler_list_shows_only_own_department(client: FlaskClient, world: World) -> None:
    """The dossier list of a handler in department B omits department A's dossier."""
    sign_in_as(client, "handler_b")
    html = client.get("/dossiers").get_data(as_text=True)
    assert world.other_dossier in html and world.dossier not in html
