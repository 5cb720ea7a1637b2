"""`dossier intake list|retry` (issue #17): scripting interface, who may, one access-log entry per call.

The archive is real (SQLite catalogue, vault, ingest pipeline); a job is failed the way a dying
worker fails it — claimed until its attempts run out on expired leases — by a services bundle on
a clock the test moves, and the commands run through the CLI as the console or signed-in accounts.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from records.access.identity import Identity, Role
from records.model import Registration
from records.settings import Settings
from tests.conftest import FrozenClock
from web.bootstrap import build_services, init_archive
from web.cli import main

SETUP = Identity.operator("test-setup")
PASSWORD = "correct horse 1"
FIELDS = {"job_id", "archive_number", "filename", "size", "state", "attempts", "message", "created_at",
          "finished_at", "item_number"}


@dataclass
class Queue:
    settings: Settings
    number: str
    failed: str     # a failed job (its workers vanished)
    queued: str     # a job still waiting

    def run(self, *args: str, who: str | None = None, password: str = PASSWORD) -> Result:
        sign_in = ["--as", who, "--password-stdin"] if who else []
        return CliRunner().invoke(main, ["--data-dir", str(self.settings.data_dir), *sign_in, *args],
                                  input=password + "\n" if who else None)

    def entries(self) -> list[dict[str, object]]:
        svc = build_services(self.settings)
        try:
            return [dataclasses.asdict(e.event) for e in svc.access.read_audit_log(Identity.operator("reader"))
                    if e.event.actor != "reader"]
        finally:
            svc.close()


@pytest.fixture
def queue(settings: Settings, clock: FrozenClock) -> Iterator[Queue]:
    init_archive(settings)
    svc = build_services(settings, clock=clock)
    try:
        for name, role in (("archivist", Role.ARCHIVIST), ("admin", Role.ADMIN), ("handler", Role.HANDLER),
                           ("auditor", Role.AUDITOR)):
            svc.access.add_user(SETUP, name, role, departments=["A"] if role is Role.HANDLER else [],
                                password=PASSWORD)
        number = svc.records.register_complaint("clerk", Registration(
            matter="援助律师未出庭投诉", complainant="赵六", received_at=clock.now, department="A")).archive_number
        intake = svc.intake
        intake.max_attempts = 1
        failed = intake.accept("clerk", number, "出庭.txt", ["投诉书 未出庭 CLI-3c9e".encode()]).job_id
        assert intake.claim("vanishing") is not None
        clock.now += timedelta(seconds=intake.lease_seconds + 1)
        assert intake.claim("next") is None  # recorded failed on its expired lease
        queued = intake.accept("clerk", number, "补充.txt", ["补充材料 CLI-3c9e".encode()]).job_id
    finally:
        svc.close()
    yield Queue(settings, number, failed, queued)


def test_list_prints_one_json_array_and_filters_by_state(queue: Queue) -> None:
    r = queue.run("intake", "list", "--json")
    assert r.exit_code == 0, r.output
    jobs = json.loads(r.stdout)
    assert isinstance(jobs, list) and {j["job_id"] for j in jobs} == {queue.failed, queue.queued}
    assert all(FIELDS <= set(j) for j in jobs)
    failed = next(j for j in jobs if j["job_id"] == queue.failed)
    assert failed["state"] == "failed" and failed["attempts"] == 1 and failed["archive_number"] == queue.number
    assert failed["filename"] == "出庭.txt" and failed["finished_at"] and "gave up" in failed["message"]

    only = json.loads(queue.run("intake", "list", "--state", "failed", "--json").stdout)
    assert [j["job_id"] for j in only] == [queue.failed]
    plain = queue.run("intake", "list", "--state", "queued")
    assert plain.exit_code == 0 and queue.queued in plain.stdout and queue.failed not in plain.stdout
    assert queue.run("intake", "list", "--state", "stuck").exit_code == 2


def test_retry_requeues_a_failed_job_and_a_worker_files_it(queue: Queue) -> None:
    r = queue.run("intake", "retry", queue.failed, "--json", who="archivist")
    assert r.exit_code == 0, r.output
    [job] = json.loads(r.stdout)
    assert (job["job_id"], job["state"], job["attempts"]) == (queue.failed, "queued", 0)
    worked = queue.run("worker", "--once", "--json")
    assert worked.exit_code == 0, worked.output
    done = {j["job_id"]: j for j in map(json.loads, worked.stdout.splitlines())}
    assert done[queue.failed]["state"] == "filed" and done[queue.failed]["item_number"]
    listed = json.loads(queue.run("intake", "list", "--state", "filed", "--json").stdout)
    assert queue.failed in {j["job_id"] for j in listed}


def test_retry_refuses_a_job_that_is_not_failed_with_exit_5(queue: Queue) -> None:
    r = queue.run("intake", "retry", queue.queued)
    assert r.exit_code == 5 and "not failed" in r.output
    assert queue.run("intake", "retry", "f" * 32).exit_code == 3
    assert queue.run("intake", "retry").exit_code == 2                      # JOB or --all-failed
    assert queue.run("intake", "retry", queue.failed, "--all-failed").exit_code == 2


def test_retry_all_failed(queue: Queue) -> None:
    r = queue.run("intake", "retry", "--all-failed", "--json", who="admin")
    assert r.exit_code == 0, r.output
    assert [j["job_id"] for j in json.loads(r.stdout)] == [queue.failed]
    again = queue.run("intake", "retry", "--all-failed", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout) == []


@pytest.mark.parametrize("who", ["handler", "auditor"])
def test_only_archivists_and_admins_may_and_each_call_is_logged_once(queue: Queue, who: str) -> None:
    for args in (["intake", "list", "--json"], ["intake", "retry", queue.failed], ["intake", "retry", "--all-failed"]):
        before = len(queue.entries())
        r = queue.run(*args, who=who)
        assert r.exit_code == 11, (args, r.output)
        assert queue.failed not in r.stdout
        fresh = queue.entries()[before:]
        assert [(e["actor"], e["action"], str(e["outcome"])) for e in fresh] == [(who, "manage_intake", "refused")]
    assert json.loads(queue.run("intake", "list", "--state", "failed", "--json").stdout)[0]["state"] == "failed"


def test_the_console_acts_as_console_user(queue: Queue) -> None:
    before = len(queue.entries())
    assert queue.run("intake", "retry", queue.failed).exit_code == 0
    [e] = queue.entries()[before:]
    assert (e["actor"], e["action"], str(e["outcome"]), e["role"]) == (
        f"console:{getpass.getuser()}", "manage_intake", "allowed", "console")
    assert e["object_ref"] == queue.failed and e["details"]["change"] == "retry_intake"  # type: ignore[index]


def test_serve_passes_max_attempts_to_its_workers(queue: Queue) -> None:
    """`dossier serve --max-attempts N` starts its `dossier worker` processes with the same N."""
    from web.cli.app import CliContext
    from web.cli.serve import _worker_command

    command = _worker_command(CliContext(data_dir=Path(queue.settings.data_dir), config=None), 7)
    assert command[-2:] == ["--max-attempts", "7"] and "worker" in command
    r = CliRunner().invoke(main, ["serve", "--help"])
    assert "--max-attempts" in r.output
