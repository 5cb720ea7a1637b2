"""Accounts safe by default (issue #11 item 6): the account forms' messages and the "My account" page.

Account errors come from the access service in developer wording ("password: too short: …",
"department: a handler acts for a department; give --department"); here each is mapped once to a
translated sentence and the form input it belongs to, so the administration pages
(web/ui/admin.py) and "My account" show it beside the field, with what was typed kept.

"My account" (``ui.account``, linked from the user's name in the header) lets every signed-in
person replace their own password, proving the current one first
(:meth:`AccessService.change_own_password`, one access-log entry, ACS-02). The password rule
itself lives in records/access/passwords.py, shared with the console.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from records.access import passwords
from records.access.errors import InvalidUserError, UserExistsError
from records.errors import DossierError
from web.auth import _GENERATION, identity, request_context, services
from web.ui import bp as ui_bp

__all__ = ["account_error", "new_password_error"]

_PASSWORD: Mapping[str, Callable[[], str]] = {
    passwords.TOO_SHORT: lambda: _("Too short: use at least 12 characters."),
    passwords.TOO_COMMON: lambda: _("Too common: this password appears in lists of leaked or often-used passwords."),
    passwords.WITH_NAME: lambda: _("Contains your name: choose a password without it."),
    passwords.TOO_GUESSABLE: lambda: _("Too easy to guess: avoid repeats, sequences, keyboard patterns and dates."),
}


def account_error(exc: DossierError) -> tuple[str, str]:
    """The form input an account error belongs to and the translated sentence to show beside it.

    Raises:
        DossierError: ``exc`` itself when it is not a fault of the form (it keeps its error page).
    """
    if isinstance(exc, UserExistsError):
        return "name", _("An account with this name already exists.")
    if not isinstance(exc, InvalidUserError):
        raise exc
    if exc.field == "password":
        return "password", _PASSWORD.get(exc.problem, lambda: _("Choose a stronger password."))()
    if exc.field == "current_password":
        return "current_password", _("The current password is wrong.")
    if exc.field == "role":
        return "role", _("Choose a role.")
    if exc.field == "department":
        return "departments", _("A handler acts for a department: enter at least one.")
    if exc.field == "name":
        return "name", _("Enter a name of 1 to 128 printable characters.")
    raise exc


def new_password_error(form: Mapping[str, str]) -> dict[str, str]:
    """What is missing in a form's ``password`` / ``password2`` pair before the service judges it."""
    if not form.get("password"):
        return {"password": _("Enter a password.")}
    if form.get("password2") is not None and form.get("password") != form.get("password2"):
        return {"password2": _("The two passwords differ.")}
    return {}


@ui_bp.route("/account", methods=["GET", "POST"])
def account() -> Response | str | tuple[str, int]:
    """The signed-in person's own account: change the password (current one required).

    The change ends every session of the account; this browser is kept signed in with the new
    session generation, so the person who just proved the password is not sent to sign in again.
    """
    me = identity()
    errors: dict[str, str] = {}
    if request.method == "POST":
        errors = new_password_error(request.form)
        if not request.form.get("current_password"):
            errors["current_password"] = _("Enter your current password.")
        if not errors:
            try:
                generation = services().access.change_own_password(
                    me, request.form["current_password"], request.form["password"], context=request_context())
            except (InvalidUserError, UserExistsError) as exc:
                field, message = account_error(exc)
                errors[field] = message
            else:
                session[_GENERATION] = generation  # this browser stays; every other session ended
                flash(_("Your password has been changed. Other sessions of your account have ended."), "ok")
                return redirect(url_for("ui.account"), code=303)
        return render_template("account.html", errors=errors), 422
    return render_template("account.html", errors=errors)
