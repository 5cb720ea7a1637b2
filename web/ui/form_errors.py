"""A form's domain error → the translated sentence shown beside the field it names (issue #11 item 1).

The services raise errors in developer wording for the CLI and the API ("received_at: lies in
the future", "department: a handler acts for a department; give --department"). A page must not
show that text: it is English, names CLI flags, and replaces the form the user just filled in.
Here, in one place, each error's ``field`` (and, where one field has several problems, the kind
of problem) is mapped to a sentence in the user's language, and to the form input it belongs to;
the view re-renders the same form with status 422 and what was typed (INT-F: registration;
ACS-04: regulator grants).

The exception's own text is never shown: it may quote input back in a developer's syntax. It is
read only to tell two problems of one field apart (a future receipt date vs an unreadable one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _

from records.access.errors import AccessDeniedError, InvalidGrantError, UserNotFoundError
from records.errors import DossierError, DossierNotFoundError, InvalidRegistrationError

__all__ = ["FormError", "registration_error", "grant_error"]


@dataclass(frozen=True, slots=True)
class FormError:
    """Where a problem goes on the page (``field``: the input's ``name``; ``None`` = above the form) and what it says."""

    field: str | None
    message: str

    def as_dict(self) -> dict[str, str]:
        """``{field: message}`` for templates (``errors.get('matter')``); a form-wide one is under ``""``."""
        return {self.field or "": self.message}


def _problem(exc: DossierError) -> str:
    """The problem part of "field: problem" (only to pick a sentence, never shown)."""
    problem = getattr(exc, "problem", None)
    return problem if isinstance(problem, str) else str(exc).partition(": ")[2]


# (field, a word the problem contains or "" for any) → sentence; the first match wins.
_Rule = tuple[str, str, Callable[[], str]]

_REGISTRATION: tuple[_Rule, ...] = (
    ("matter", "", lambda: _("Enter the complaint matter (what the complaint is about).")),
    ("received_at", "future", lambda: _("The receipt date cannot lie in the future.")),
    ("received_at", "", lambda: _("Enter the receipt date and time, e.g. 2026-03-01 09:30.")),
    ("complainant", "", lambda: _("Name the complainant, or tick Anonymous.")),
    ("collective_count", "", lambda: _("Enter a whole number of at least 1.")),
    ("event_on", "later", lambda: _("The events cannot be later than the receipt.")),
    ("event_on", "", lambda: _("Enter a date, e.g. 2026-03-01.")),
    ("channel", "", lambda: _("Choose one of the listed values.")),
    ("complainant_type", "", lambda: _("Choose one of the listed values.")),
    ("respondent_type", "", lambda: _("Choose one of the listed values.")),
    ("evidence", "", lambda: _("List the evidence one item per line.")),
    ("department", "", lambda: _("Give the department the complaint belongs to.")),
)

_GRANT_FIELD = {"to": "grantee", "scope": "dossiers"}
"""Service field names → the grant form's input names."""

_GRANT: tuple[_Rule, ...] = (
    ("grantee", "", lambda: _("Choose an active regulator account.")),
    ("dossiers", "either", lambda: _("Give either dossier numbers or a filter, not both.")),
    ("dossiers", "", lambda: _("Name at least one dossier.")),
    ("filter", "unknown key", lambda: _("Unknown filter field. Use 被投诉人 (respondent), 类别 (category) "
                                        "or 收到 (received), e.g. 被投诉人:某律所.")),
    ("filter", "KEY:VALUE", lambda: _("Write each filter condition as field:value, e.g. 被投诉人:某律所.")),
    ("filter", "quotation", lambda: _("A quotation mark in the filter is not closed.")),
    ("filter", "received", lambda: _("Write the receipt dates as 收到:2026-01-01..2026-06-30.")),
    ("filter", "", lambda: _("The filter must limit the respondent, the category or the receipt dates.")),
    ("purpose", "", lambda: _("State the purpose of the grant.")),
    ("expires", "past", lambda: _("The expiry date must lie in the future.")),
    ("expires", "", lambda: _("Enter the expiry date, e.g. 2026-12-31.")),
)


def _pick(rules: tuple[_Rule, ...], field: str, problem: str) -> str | None:
    for name, word, sentence in rules:
        if name == field and (not word or word.lower() in problem.lower()):
            return sentence()
    return None


def registration_error(exc: DossierError) -> FormError | None:
    """The registration form's message for ``exc``, or ``None`` when it is not a fault of the form.

    A refusal for the department named on the form (REGISTER is department-bound) is shown beside
    the department field: the caller may register, only not for that department.
    """
    if isinstance(exc, AccessDeniedError):
        return FormError("department", _("You may not register complaints for this department."))
    if not isinstance(exc, InvalidRegistrationError):
        return None
    sentence = _pick(_REGISTRATION, exc.field, _problem(exc))
    return FormError(exc.field, sentence) if sentence else FormError(None, _("Check the fields of the form."))


def grant_error(exc: DossierError) -> FormError | None:
    """The grant form's message for ``exc``, or ``None`` when it is not a fault of the form."""
    if isinstance(exc, UserNotFoundError):
        return FormError("grantee", _("There is no account with this name."))
    if isinstance(exc, DossierNotFoundError):
        return FormError("dossiers", _("There is no dossier %(number)s.", number=exc.ref))
    if not isinstance(exc, InvalidGrantError):
        return None
    field = _GRANT_FIELD.get(exc.field, exc.field)
    sentence = _pick(_GRANT, field, _problem(exc))
    return FormError(field, sentence) if sentence else FormError(None, _("Check the fields of the form."))
