"""What the upload page shows per file (issue #11 item 5: uploads people can follow).

A status row says more than the job knows: once filed, the document's kind, its intake outcome
and the OCR confidence are read from the catalogue (the records service; the page's door has
already decided FILE_DOCUMENT on the dossier and logged it once). A file filed with an outcome
other than ok / ok_with_warnings (unsupported, corrupt, encrypted, too large) is filed — the
original is always kept (ARC-5-02) — but is not a usable document: its state says so in the
warning colour instead of a plain green "filed", and it can be withdrawn as junk.

Both the server-rendered table (no script) and the JSON the page's script polls are built from
:func:`job_rows`, so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import url_for
from flask_babel import gettext as _

from ingest.jobs import IntakeJob, JobState
from ingest.model import IngestOutcome
from records.errors import DocumentNotFoundError
from records.model import DocumentInfo
from web.auth import identity, services
from web.ui.labels import label

__all__ = ["USABLE", "job_rows", "withdraw_target"]

# Outcomes whose document carries its text: anything else is filed but flagged.
USABLE = frozenset({IngestOutcome.OK.value, IngestOutcome.OK_WITH_WARNINGS.value})


def _document(item: str | None) -> DocumentInfo | None:
    if not item:
        return None
    try:
        return services().records.get_document(identity().name, item)
    except DocumentNotFoundError:  # destroyed or renumbered meanwhile: the row keeps what the job knows
        return None


def _state(job: IntakeJob, doc: DocumentInfo | None) -> tuple[str, str]:
    """(css class, translated label) of the row's state badge."""
    if job.state is JobState.FILED and job.outcome and job.outcome not in USABLE:
        no_text = doc is None or not doc.text_chars
        text = (_("Filed (%(outcome)s, no text)", outcome=label(job.outcome)) if no_text
                else _("Filed (%(outcome)s)", outcome=label(job.outcome)))
        return "job-state job-filed-warn", text
    return f"job-state job-{job.state.value}", label(job.state)


def job_rows(jobs: Sequence[IntakeJob], *, dossier: str) -> list[dict[str, Any]]:
    """One row per job, every label translated (the script only fills cells in)."""
    rows = []
    for job in jobs:
        doc = _document(job.item_number)
        state_class, state_label = _state(job, doc)
        rows.append({
            "job": job.job_id, "filename": job.filename, "state": job.state.value, "state_label": state_label,
            "state_class": state_class, "finished": job.finished,
            "warning": state_class.endswith("-warn"),
            "outcome": job.outcome, "outcome_label": label(job.outcome), "item_number": job.item_number,
            "item_url": url_for("ui.document", item=job.item_number) if job.item_number else None,
            "message": job.message or "",
            "kind": doc.kind.value if doc else None, "kind_label": label(doc.kind) if doc else "",
            "ocr_confidence": round(doc.ocr_confidence) if doc and doc.ocr_confidence is not None else None,
            "withdrawn": bool(doc and doc.withdrawn_at),
            "withdrawn_reason": (doc.withdrawn_reason or "") if doc else "",
            "withdrawn_label": (_("Withdrawn: %(reason)s", reason=doc.withdrawn_reason or "")
                                if doc and doc.withdrawn_at else ""),
            # The dossier's withdraw form, posted with this row's item number.
            "withdraw_url": (url_for("ui.withdraw_document", number=dossier)
                             if doc and not doc.withdrawn_at else None),
            "children": [{"path": c.path, "outcome": c.outcome, "outcome_label": label(c.outcome),
                          "item_number": c.item_number, "message": c.message or "",
                          "item_url": url_for("ui.document", item=c.item_number) if c.item_number else None}
                         for c in job.children],
        })
    return rows


def withdraw_target(item: str, number: str, jobs: Sequence[str]) -> str:
    """Where the withdraw form returns to: the upload status it came from (``job`` fields), else the document.

    Built from our own routes only, never from a URL in the form (no open redirect).
    """
    wanted = [j for j in jobs if j][:200]
    if wanted:
        return url_for("ui.upload", number=number, job=wanted)
    return url_for("ui.document", item=item)
