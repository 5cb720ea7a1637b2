"""The scripting interface: `dossier seal`, `retention due --json`, `hold add|lift`, `dispose review|approve|run`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from click.testing import CliRunner

from records.model import DocumentKind
from records.settings import Settings
from tests.integration.retention.retention_world import ARCHIVIST, MANAGER, PASSWORD, closed_dossier, people
from web.bootstrap import build_services, init_archive
from web.cli import main

if TYPE_CHECKING:
    from tests.conftest import FrozenClock


def test_the_command_line_walks_a_dossier_from_seal_to_certificate(make_settings: Callable[..., Settings],
                                                                  clock: FrozenClock) -> None:
    # The dossiers close in mid-2025, so under the seed schedule they are due by today's real date.
    settings = make_settings()
    init_archive(settings)
    clock.now = datetime(2025, 6, 2, 2, tzinfo=timezone.utc)
    svc = build_services(settings, clock=clock)
    people(svc)
    when = datetime(2025, 6, 1, 1, tzinfo=timezone.utc)
    number, _ = closed_dossier(svc, "cliwalk", received_at=when)
    held, _ = closed_dossier(svc, "cliheld", received_at=when)
    incomplete, _ = closed_dossier(svc, "clipart", received_at=when, skip=DocumentKind.DECISION)
    svc.close()

    def run(*args: str, who: str | None = None, password: str = PASSWORD) -> Any:
        """As the console operator, or as account ``who`` signed in with its password."""
        sign_in = ["--as", who, "--password-stdin"] if who else []
        return CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), *sign_in, *args],
                                  input=password + "\n" if who else None)

    refused = run("seal", incomplete)
    assert refused.exit_code == 5 and "decision" in refused.output
    assert "missing: decision" in run("seal", incomplete, "--check").output
    for n in (number, held):
        r = run("seal", n, "--on", "2025-06-02")
        assert r.exit_code == 0 and "default-1y" in r.output, r.output
    assert "Retention: rule default-1y, disposal 2026-06-02" in run("show", number).output
    assert json.loads(run("show", number, "--json").output)["retention"]["disposal_date"] == "2026-06-02"

    hold_id = run("hold", "add", held, "--reason", "审计调阅").output.strip()
    assert [h["hold_id"] for h in json.loads(run("hold", "list", "--json").output)] == [hold_id]
    due = json.loads(run("retention", "due", "--as-of", "2026-07-01", "--json").output)
    assert due == [{"number": number, "rule": "default-1y", "trigger": "closure", "trigger_date": "2025-06-02",
                    "disposal_date": "2026-06-02", "held": False, "disposition_state": None, "action": "destroy"}]
    assert run("retention", "due", "--as-of", "2026-06-01", "--json").output.strip() == "[]"

    review = run("dispose", "review", "--json", who=ARCHIVIST)
    assert review.exit_code == 0, review.output
    disposition_id = json.loads(review.output)["disposition_id"]
    assert run("dispose", "approve", disposition_id, who=ARCHIVIST).exit_code == 11  # same person
    assert run("dispose", "approve", disposition_id, who="nobody").exit_code == 10  # no such account: no sign-in
    assert run("dispose", "approve", disposition_id, who=MANAGER, password="wrong").exit_code == 10
    assert run("dispose", "approve", disposition_id, who=MANAGER, password="").exit_code == 10
    assert run("dispose", "approve", disposition_id).exit_code == 11  # the console is no manager account
    assert run("dispose", "approve", disposition_id, who=MANAGER).exit_code == 0
    done = run("dispose", "run", "--json")
    assert done.exit_code == 0, done.output
    [d] = json.loads(done.output)
    assert d["state"] == "done" and d["numbers"] == [number]
    assert run("certificate", "verify", d["certificate"]["json_path"]).exit_code == 0
    assert json.loads(run("show", held, "--json").output)["state"] == "sealed"

    assert run("hold", "lift", held, "--reason", "调阅结束").exit_code == 0
    assert run("hold", "lift", held, "--reason", "again").exit_code == 3
    replan = run("retention", "plan", "--reason", "年度复核")  # the unsealed dossier gets its first plan
    assert replan.exit_code == 0 and replan.output.startswith(incomplete) and "1 plan(s) changed" in replan.output
    assert "0 plan(s) changed" in run("retention", "plan", "--reason", "年度复核").output
    assert run("retention", "plan", "--reason", "").exit_code == 4
