"""Administration pages under /admin: accounts (MANAGE_USERS) and regulator grants (MANAGE_GRANTS).

A blueprint nested in the pages blueprint (endpoints ``ui.admin.*``), so the pages' sign-in check
runs first. Each view calls one AccessService use case, which authorises the caller through the
policy and writes exactly one access-log entry, allowed or refused (like ``read_audit_log``);
refusals answer 403. Forms carry the app's CSRF token.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from records.access.errors import InvalidGrantError, InvalidUserError
from records.access.identity import GrantFilter, Role
from web.auth import identity, request_context, services, zone
from web.ui import bp as ui_bp

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
def users() -> str:
    rows = services().access.list_users(identity(), context=request_context())
    return render_template("admin_users.html", users=rows, roles=list(Role), tz=zone())


@bp.route("/users", methods=["POST"])
def add_user() -> Response:
    role_text = request.form.get("role", "")
    if role_text not in Role.__members__.values():
        raise InvalidUserError("role", f"one of {', '.join(Role)}")
    departments = [d for d in re.split(r"[,，\s]+", request.form.get("departments", "")) if d]
    services().access.add_user(identity(), request.form.get("name", ""), Role(role_text), departments=departments,
                               password=request.form.get("password") or None, context=request_context())
    return redirect(url_for("ui.admin.users"), code=303)


@bp.route("/users/<name>/disable", methods=["POST"])
def disable_user(name: str) -> Response:
    services().access.disable_user(identity(), name, context=request_context())
    return redirect(url_for("ui.admin.users"), code=303)


# ---------------------------------------------------------------------- regulator grants
@bp.route("/grants")
def grants() -> str:
    rows = services().access.list_grants(identity(), context=request_context())
    now = services().clock().astimezone(zone())
    return render_template("admin_grants.html", grants=rows, now=now, tz=zone(),
                           grantees=sorted({g.grantee for g in rows}),
                           default_expiry=(now.date() + timedelta(days=30)).isoformat())


@bp.route("/grants", methods=["POST"])
def add_grant() -> Response:
    dossiers = [d for d in re.split(r"[,，\s]+", request.form.get("dossiers", "")) if d] or None
    filter_text = request.form.get("filter", "").strip()
    services().access.grant_regulator_access(
        identity(), request.form.get("grantee", "").strip(), purpose=request.form.get("grant_purpose", ""),
        expires_at=_end_of(request.form.get("expires", "")), dossiers=dossiers,
        filter=GrantFilter.parse(filter_text) if filter_text else None, context=request_context())
    return redirect(url_for("ui.admin.grants"), code=303)


@bp.route("/grants/<grant_id>/revoke", methods=["POST"])
def revoke_grant(grant_id: str) -> Response:
    services().access.revoke_grant(identity(), grant_id, context=request_context())
    return redirect(url_for("ui.admin.grants"), code=303)


def _end_of(text: str) -> datetime:
    """A grant given "until 2026-12-31" lasts through that day in archive time."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidGrantError("expires", "a date, YYYY-MM-DD") from None
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=zone())


ui_bp.register_blueprint(bp)
