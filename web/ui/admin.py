"""Administration pages under /admin: accounts (MANAGE_USERS) and regulator grants (MANAGE_GRANTS).

A blueprint nested in the pages blueprint (endpoints ``ui.admin.*``), so the pages' sign-in check
runs first. Each view calls one AccessService use case, which authorises the caller through the
policy and writes exactly one access-log entry, allowed or refused (like ``read_audit_log``);
refusals answer 403. Forms carry the app's CSRF token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from records.access.errors import InvalidGrantError, InvalidUserError, UserExistsError, UserNotFoundError
from records.access.identity import GrantFilter, Role
from records.errors import DossierNotFoundError
from web.auth import identity, request_context, services, zone
from web.ui import bp as ui_bp
from web.ui.account import account_error, new_password_error  # also registers ui.account ("My account")
from web.ui.form_errors import grant_error
from web.ui.grant_filter import english_keys

__all__ = ["bp"]

bp = Blueprint("admin", __name__, url_prefix="/admin")


@ui_bp.before_request
def _admins_start_at_users() -> Response | None:
    """An administrator sees no dossiers: the dashboard sends them to the accounts page instead."""
    if request.endpoint == "ui.dashboard" and identity().role is Role.ADMIN:
        return redirect(url_for("ui.admin.users"))
    return None


# ---------------------------------------------------------------------- accounts
@bp.route("/users")
def users(form: Mapping[str, str] | None = None, errors: Mapping[str, str] | None = None) -> str:
    """The accounts and the form to add one; after a refused form, that form again with what was typed."""
    rows = services().access.list_users(identity(), context=request_context())
    return render_template("admin_users.html", users=rows, roles=list(Role), tz=zone(),
                           form=form or {}, errors=errors or {})


@bp.route("/users", methods=["POST"])
def add_user() -> Response | tuple[str, int]:
    """Create an account (issue #11 item 6): a role must be chosen and a password given that passes the policy.

    No role is preselected: an account made with a slip of the mouse should not be an
    administrator's. The web creates only accounts people sign in to, so a password is required;
    the administrator chooses it (and tells the person, who can change it under "My account")
    rather than the page generating one: a generated password would be shown in a page (history,
    caches, shoulder) and, with no forced change at first sign-in in the schema, it would be no
    less known to the administrator. Token-only accounts for integrations stay a console task
    (``dossier user add`` without ``--password-stdin``). A fault answers 422 with the form kept
    (never the password) and the message beside its field; nothing is created or logged then.
    """
    form = {k: request.form.get(k, "") for k in ("name", "role", "departments")}
    errors: dict[str, str] = {}
    if form["role"] not in Role.__members__.values():
        errors["role"] = _("Choose a role.")
    if not form["name"].strip():
        errors["name"] = _("Enter a name.")
    errors.update(new_password_error(request.form))
    if not errors:
        departments = [d for d in re.split(r"[,，\s]+", form["departments"]) if d]
        try:
            info = services().access.add_user(identity(), form["name"], Role(form["role"]), departments=departments,
                                              password=request.form["password"], context=request_context())
        except (InvalidUserError, UserExistsError) as exc:
            field, message = account_error(exc)
            errors[field] = message
        else:
            flash(_("Account %(name)s created.", name=info.name), "ok")
            return redirect(url_for("ui.admin.users"), code=303)
    return users(form=form, errors=errors), 422


@bp.route("/users/<name>/disable", methods=["GET", "POST"])
def disable_user(name: str) -> Response | str:
    """Disable an account after a confirm step (works without JavaScript): GET asks, POST with ``confirm`` acts.

    A POST without the confirmation (an old bookmark, a form from before this change) only asks.
    """
    if request.method == "POST" and request.form.get("confirm") == "yes":
        info = services().access.disable_user(identity(), name, context=request_context())
        flash(_("Account %(name)s disabled: its sessions ended and its API tokens stop working.", name=info.name),
              "ok")
        return redirect(url_for("ui.admin.users"), code=303)
    return render_template("admin_user_confirm.html", name=name, action="disable",
                           target=url_for("ui.admin.disable_user", name=name))


@bp.route("/users/<name>/enable", methods=["POST"])
def enable_user(name: str) -> Response:
    """Enable a disabled account again (logged once); sessions open when it was disabled stay ended."""
    info = services().access.enable_user(identity(), name, context=request_context())
    flash(_("Account %(name)s enabled: it can sign in again.", name=info.name), "ok")
    return redirect(url_for("ui.admin.users"), code=303)


@bp.route("/users/<name>/password", methods=["GET", "POST"])
def reset_password(name: str) -> Response | str | tuple[str, int]:
    """An administrator sets a new password for ``name`` (policy-checked, logged); the account's sessions end.

    The service decides (administrators, or the account itself) and logs once; anyone else is
    refused with 403 and one refused entry. The GET shows only the form, no account data.
    """
    errors: dict[str, str] = {}
    if request.method == "POST":
        errors = new_password_error(request.form)
        if not errors:
            try:
                services().access.set_password(identity(), name, request.form["password"], context=request_context())
            except InvalidUserError as exc:
                field, message = account_error(exc)
                errors[field] = message
            else:
                flash(_("New password set for %(name)s; their sessions have ended.", name=name), "ok")
                return redirect(url_for("ui.admin.users"), code=303)
        return render_template("admin_user_password.html", name=name, errors=errors), 422
    return render_template("admin_user_password.html", name=name, errors=errors)


# ---------------------------------------------------------------------- regulator grants
@bp.route("/grants")
def grants(form: Mapping[str, str] | None = None, errors: Mapping[str, str] | None = None) -> str:
    """The grants and the form to add one; after a refused form, that form again with what was typed (issue #11)."""
    rows = services().access.list_grants(identity(), context=request_context())
    now = services().clock().astimezone(zone())
    return render_template("admin_grants.html", grants=rows, now=now, tz=zone(),
                           grantees=sorted({g.grantee for g in rows}),
                           default_expiry=(now.date() + timedelta(days=30)).isoformat(),
                           form=form or {}, errors=errors or {})


@bp.route("/grants", methods=["POST"])
def add_grant() -> Response | tuple[str, int]:
    """Add a grant (ACS-04); the filter may name its fields in Chinese (被投诉人:某律所, 类别:, 收到:).

    A fault of the form (no purpose, a past expiry, an unreadable filter, no such regulator)
    answers 422 with the same form, each field as typed, the message beside the field it names.
    """
    dossiers = [d for d in re.split(r"[,，\s]+", request.form.get("dossiers", "")) if d] or None
    filter_text = english_keys(request.form.get("filter", "").strip())
    try:
        services().access.grant_regulator_access(
            identity(), request.form.get("grantee", "").strip(), purpose=request.form.get("grant_purpose", ""),
            expires_at=_end_of(request.form.get("expires", "")), dossiers=dossiers,
            filter=GrantFilter.parse(filter_text) if filter_text else None, context=request_context())
    except (InvalidGrantError, UserNotFoundError, DossierNotFoundError) as exc:
        problem = grant_error(exc)
        if problem is None:
            raise
        return grants(form=request.form.to_dict(), errors=problem.as_dict()), 422
    return redirect(url_for("ui.admin.grants"), code=303)


@bp.route("/grants/<grant_id>/revoke", methods=["POST"])
def revoke_grant(grant_id: str) -> Response:
    """Revoke a regulator's grant once the confirm box is ticked (a click alone ends nobody's access)."""
    if request.form.get("confirm") != "yes":
        flash(_("Tick the box to confirm the revocation; the grant was not revoked."), "bad")
        return redirect(url_for("ui.admin.grants"), code=303)
    services().access.revoke_grant(identity(), grant_id, context=request_context())
    flash(_("Grant revoked: the regulator can no longer see what it covered."), "ok")
    return redirect(url_for("ui.admin.grants"), code=303)


def _end_of(text: str) -> datetime:
    """A grant given "until 2026-12-31" lasts through that day in archive time."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidGrantError("expires", "a date, YYYY-MM-DD") from None
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=zone())


ui_bp.register_blueprint(bp)
