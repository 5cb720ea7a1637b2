"""The dossier page shows the retention rule, the disposal date and any legal hold (RET)."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.web.conftest import OPERATOR, World, sign_in_as
from web.bootstrap import Services


def test_dossier_page_shows_rule_disposal_basis_and_hold(client: FlaskClient, services: Services, world: World) -> None:
    """An open dossier shows the rule the schedule foresees and that its period runs from closure; a hold is named."""
    sign_in_as(client, "handler_a")
    page = client.get(f"/dossiers/{world.dossier}").get_data(as_text=True)
    rule = services.retention.show(world.dossier).current.rule_id
    assert "保管期限" in page and rule in page
    assert "封存时确定" in page and "自办结起算" in page  # not sealed yet: the period starts at closure
    assert "保全（暂停处置）" not in page

    services.retention.place_hold(OPERATOR, reason="行政复议审理中", number=world.dossier)
    page = client.get(f"/dossiers/{world.dossier}").get_data(as_text=True)
    assert "保全（暂停处置）" in page and "行政复议审理中" in page
