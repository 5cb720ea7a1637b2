"""Human labels for enum values shown in pages (states, channels, kinds, outcomes, clocks, roles, actions).

The catalogue's msgids are the raw values (``complaint_letter``), so zh-CN pages already read
well; an English page would show the raw value. ``label`` translates the value and, where the
catalogue has no entry (English), answers the English display string below or a readable
fallback ("some_value" -> "Some value").
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext

__all__ = ["EN", "label", "register"]

# English display strings where humanising the raw value is not good enough.
EN: dict[str, str] = {
    "ok": "OK", "ok_with_warnings": "OK with warnings", "too_large": "Too large",
    "not_accepted": "Not accepted", "void": "Void", "oral": "In person (oral)", "chat": "Online chat",
    "comment_book": "Comment book", "referral": "Referral", "legal_aid_personnel": "Legal aid personnel",
    "grassroots_legal_service": "Grassroots legal service", "other_organisation": "Other organisation",
    "oral_complaint_record": "Record of oral complaint", "acceptance": "Time limit for acceptance",
    "conclusion": "Time limit for conclusion", "reply": "Time limit for reply",
    "not_started": "Not started", "not_applicable": "Not applicable", "due_today": "Due today",
    "met": "Met", "missed": "Missed", "view_dossier": "View dossier", "list_dossiers": "List dossiers",
    "file_document": "File document", "view_document": "View document", "download_document": "Download document",
    "view_text": "View text", "manage_users": "Manage users", "manage_grants": "Manage grants",
    "read_audit_log": "Read access log", "verify_audit_log": "Verify access log", "sign_in": "Sign in",
    "manage_intake": "Manage upload queue", "unavailable": "Service unavailable", "worker_lost": "Worker stopped",
    "amend_sealed": "Amend sealed dossier", "dispose_review": "Review disposal", "dispose_approve": "Approve disposal",
    "hold": "Place legal hold", "hold_lift": "Lift legal hold", "view_retention": "View retention",
    "retention_plan": "Re-plan retention", "verify_vault": "Verify vault", "manage_keys": "Manage keys",
    "reindex": "Rebuild search index", "import": "Import package",
}


def label(value: Any) -> str:
    """The translated, human label of an enum value (``None`` and empty stay empty)."""
    if value is None or value == "":
        return ""
    raw = str(value)
    translated = gettext(raw)
    if translated != raw:
        return translated
    return EN.get(raw) or raw.replace("_", " ").capitalize()


def register(app_or_bp: Any) -> None:
    """Make ``label`` a Jinja filter (``{{ doc.kind|label }}``) for every template of the app."""
    app_or_bp.add_app_template_filter(label, "label")
    from web.ui import file_labels  # noqa: PLC0415  (media type, size and retention-rule labels, issue #11)
    file_labels.register(app_or_bp)
