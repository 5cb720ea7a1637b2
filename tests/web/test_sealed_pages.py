"""Pages of a disposed dossier whose key is destroyed still show its tombstone (issue #12 item 1).

The personal fields of a dossier are sealed under its own key; disposal destroys that key. The
dossier page, the list and the home page read the tombstone without it: number, respondent and
category in clear, the complainant gone, and no error page.
"""

from __future__ import annotations

from flask.testing import FlaskClient

from records.model import DossierState
from tests.conftest import FrozenClock
from tests.web.conftest import World, sign_in_as
from web.bootstrap import Services

LIFECYCLE = (DossierState.ACCEPTED, DossierState.DECIDED, DossierState.REPLIED, DossierState.CLOSED,
             DossierState.SEALED)


def test_a_disposed_dossier_without_its_key_shows_its_tombstone(client: FlaskClient, services: Services,
                                                                 world: World, clock: FrozenClock) -> None:
    """GIVEN dossier X disposed of and its key destroyed, WHEN the manager opens its page, the list
    and the home page, THEN each answers 200, X's number and respondent show and its complainant
    does not, AND dossier Y still shows its complainant in clear."""
    x = world.dossier
    for state in LIFECYCLE:
        services.records.advance("test", x, state,
                                 override_reason="test: no materials" if state is DossierState.CLOSED else None)
    services.records.destroy_data_keys("test", x)
    info = services.records.tombstone_dossier("test", x, note="rule R1")
    services.vault.dossier_keys.destroy(info.dossier_id, now=clock())
    sign_in_as(client, "manager")
    page = client.get(f"/dossiers/{x}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert x in html and "某律师事务所" in html and "张三" not in html
    listing = client.get("/dossiers")
    assert listing.status_code == 200
    listed = listing.get_data(as_text=True)
    assert x in listed and "张三" not in listed and "李四" in listed
    assert client.get("/").status_code == 200
