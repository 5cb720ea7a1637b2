"""Re-wrapping the intake queue's staging keys after a master-key rotation (issue #12 item 5).

A queued upload is sealed in the vault under its own data key, wrapped by the master key, until
a worker files it (its row in ``intake_jobs`` holds the wrapped key). ``dossier keys rotate``
re-wraps every data key under the new master key; before issue #12 it skipped these, so a queued
upload stayed openable only while the old master key was kept. Composed into
``records.upkeep.VaultUpkeep`` by ``web/bootstrap.py`` (records does not import ingest).
"""

from __future__ import annotations

from sqlalchemy import select

from records.db import UnitOfWork
from records.vault import Vault, WrappedKey
from ingest.tables import IntakeJobRow

JOB_OBJECT_KIND = "intake"  # the same kind ingest.jobs binds into a staging object's seal


def rewrap_staging_keys(uow: UnitOfWork, vault: Vault, *, batch: int = 500) -> int:
    """Re-wrap every staging key not under the current master key; returns how many were re-wrapped."""
    done, last_id = 0, ""
    while True:
        with uow.write() as s:
            rows = list(s.scalars(
                select(IntakeJobRow).where(IntakeJobRow.wrapped_key.is_not(None), IntakeJobRow.id > last_id)
                .order_by(IntakeJobRow.id).limit(batch)))
            if not rows:
                return done
            for job in rows:
                assert job.key_id is not None and job.wrapped_key is not None
                w = vault.rewrap(WrappedKey(job.key_id, job.wrapped_key), object_id=job.object_id, kind=JOB_OBJECT_KIND)
                if w.key_id != job.key_id:
                    job.key_id, job.wrapped_key = w.key_id, w.ciphertext
                    done += 1
            last_id = rows[-1].id
