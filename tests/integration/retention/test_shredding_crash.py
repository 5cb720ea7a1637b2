"""A destruction killed half-way (SIGKILL) is completed by running it again, losing nothing it must keep (RET)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from records.access.model import AccessScope
from records.model import DocumentAnalysis, DocumentKind, DossierState, Registration
from records.settings import Settings
from records.tables import DocumentRow, DossierRow, StoredObjectRow
from records.vault import BlobKey, BlobNotFoundError, WrappedKey
from retention.certificate import verify_certificate
from retention.disposal import execute_disposition
from retention.model import Approval
from web.bootstrap import Services, build_services, init_archive

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
APPROVALS = [Approval("档案员", "archivist", datetime(2026, 11, 3, 1, tzinfo=timezone.utc), "review"),
             Approval("主任", "manager", datetime(2026, 11, 3, 1, 30, tzinfo=timezone.utc), "approve")]

# The child runs the real destruction; its store is slow (a pause after each deleted blob) and
# reports each deletion, so the parent can kill it between two objects.
CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from records.settings import load_settings
    from retention.disposal import execute_disposition
    from retention.model import Approval
    from datetime import datetime, timezone
    from web.bootstrap import build_services

    data_dir, numbers = Path(sys.argv[1]), sys.argv[2].split(",")
    services = build_services(load_settings(data_dir=data_dir))
    real_delete = services.vault.delete_object

    def slow_delete(object_id):
        real_delete(object_id)
        print("deleted", object_id, flush=True)
        time.sleep(0.4)

    services.vault.delete_object = slow_delete
    tools = services.retention.disposition_desk.tools
    execute_disposition(tools, disposition_id="crash-1", numbers=numbers, action="destroy", actor="archivist",
                        approvals=[], rules={n: "R-10Y" for n in numbers}, out_dir=data_dir / "certificates")
    print("done", flush=True)
""")


def sealed(svc: Services, word: str, docs: int = 2) -> str:
    info = svc.records.register_complaint("clerk", Registration(
        matter=f"{word}投诉", received_at=datetime(2026, 11, 2, 1, tzinfo=timezone.utc), complainant="张三"))
    for i in range(docs):
        body = f"{word} {i} {uuid.uuid4().hex}".encode() * 40
        svc.records.file_document("clerk", info.archive_number, body, kind=DocumentKind.EVIDENCE, filename=f"{i}.txt",
                                  media_type="text/plain", analysis=DocumentAnalysis(outcome="ok", text=body.decode()))
    for state in (DossierState.ACCEPTED, DossierState.DECIDED, DossierState.REPLIED, DossierState.CLOSED,
                  DossierState.SEALED):
        svc.records.advance("clerk", info.archive_number, state, override_reason="test fixture: no materials" if state is DossierState.CLOSED else None)
    return info.archive_number


def objects(svc: Services, number: str) -> list[StoredObjectRow]:
    with svc.uow.read() as s:
        return list(s.scalars(select(StoredObjectRow).join(DocumentRow).join(DossierRow)
                              .where(DossierRow.archive_number == number)))


def test_a_destruction_killed_midway_is_completed_by_a_rerun(make_settings: Callable[..., Settings],
                                                             tmp_path: Path) -> None:
    """GIVEN three sealed dossiers to destroy and one to keep, WHEN the destruction is SIGKILLed
    between two blob deletions and then run again, THEN every targeted object is shredded and
    gone, the kept dossier decrypts intact, and the one certificate verifies."""
    settings = make_settings(data_dir=tmp_path / "archive")
    init_archive(settings)
    svc = build_services(settings)
    targets = [sealed(svc, w) for w in ("alphadoom", "betadoom", "gammadoom")]
    kept = sealed(svc, "keepsake", docs=3)
    kept_before = {o.id: (o.sha256, o.key_id, o.wrapped_key) for o in objects(svc, kept)}
    svc.close()

    deleted = 0
    with subprocess.Popen([sys.executable, "-c", CHILD, str(settings.data_dir), ",".join(targets)],
                          cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("deleted"):
                deleted += 1
            if deleted == 6:  # the first dossier done (4 objects), the second half-way
                os.kill(child.pid, signal.SIGKILL)
                break
        _, err = child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL, err

    svc = build_services(settings)
    try:
        # The crash left a partial state: the certificate is missing, the last dossier untouched.
        assert not (settings.data_dir / "certificates" / "disposition-crash-1.json").exists()
        assert svc.records.get_dossier("t", targets[0]).state is DossierState.DISPOSED
        assert svc.records.get_dossier("t", targets[1]).state is DossierState.SEALED
        assert all(o.wrapped_key is None for o in objects(svc, targets[1]))  # keys first, in one commit
        assert all(o.wrapped_key is not None for o in objects(svc, targets[2]))

        tools = svc.retention.disposition_desk.tools
        ref = execute_disposition(tools, disposition_id="crash-1", numbers=targets, action="destroy",
                                  actor="archivist", approvals=APPROVALS, rules={n: "R-10Y" for n in targets},
                                  out_dir=settings.data_dir / "certificates")

        for number in targets:
            assert svc.records.get_dossier("t", number).state is DossierState.DISPOSED
            for o in objects(svc, number):
                assert o.wrapped_key is None and o.shredded_at is not None
                with pytest.raises(BlobNotFoundError):
                    svc.vault.store.stat(BlobKey(o.blob_key))
        for word in ("alphadoom", "betadoom", "gammadoom"):
            assert svc.search.search("t", word, AccessScope.everything()).total == 0
        # Nothing that should be kept was lost: same keys, every object decrypts to its hash.
        after = objects(svc, kept)
        assert {o.id: (o.sha256, o.key_id, o.wrapped_key) for o in after} == kept_before
        for o in after:
            assert o.key_id is not None and o.wrapped_key is not None
            svc.vault.verify_object(o.id, o.kind, WrappedKey(o.key_id, o.wrapped_key), o.sha256)
        assert svc.search.search("t", "keepsake", AccessScope.everything()).total == 3
        cert = verify_certificate(ref.json_path, svc.access.signing_public_key())  # type: ignore[arg-type]
        assert [d["archive_number"] for d in cert["dossiers"]] == targets and cert["totals"]["items"] == 6
        # A third run changes nothing and returns the same certificate.
        again = execute_disposition(tools, disposition_id="crash-1", numbers=targets, action="destroy",
                                    actor="archivist", approvals=APPROVALS, rules={n: "R-10Y" for n in targets},
                                    out_dir=settings.data_dir / "certificates")
        assert again.sha256 == ref.sha256
    finally:
        svc.close()
