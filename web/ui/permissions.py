"""``may(action, target=None)``: whether the signed-in caller may do something, for showing buttons.

Pages offer a button only when the policy (``records.access.policy.decide``) would allow the act,
so nobody is shown a form that can only end in a refusal. This is a *preview*, pure and unlogged:
the act itself still goes through its door (the gate or a service), which decides again and
writes the one access-log entry. Nothing here grants anything; a wrong answer only shows or
hides a button.

Registered as a template global (``{% if may('seal', d) %}``) for every page of the app by a
context processor on the pages blueprint; views may import :func:`may` too.
"""

from __future__ import annotations

from typing import Any

from flask import g

from records.access.identity import Action, DossierTarget, Identity
from records.access.policy import MATRIX, Reach, decide, target_of
from records.model import DossierInfo
from web.auth import services, zone
from web.ui import bp as ui_bp

__all__ = ["may", "may_any"]


def may(action: Action | str, target: DossierInfo | DossierTarget | None = None) -> bool:
    """Whether this request's caller may do ``action`` (on ``target``: a dossier or its policy view).

    An unknown action name answers ``False`` (a template typo hides a button, it never shows one).
    Dossier actions asked without a target are refused by the policy ("needs a dossier").
    """
    try:
        act = Action(action)
    except ValueError:
        return False
    who: Identity = g.get("identity") or Identity.anonymous()
    if who.role is None and not who.console:
        return False
    if isinstance(target, DossierInfo):
        target = target_of(target, zone())
    return decide(who, act, target, now=services().clock()).allowed


def may_any(action: Action | str) -> bool:
    """Whether the caller's role has any reach at all for ``action`` (issue #11 item 2: links follow the policy).

    For the navigation and the "+ Register a complaint" button, where there is no dossier to ask
    about yet: REGISTER is a dossier action, so ``may('register')`` is always "needs a dossier".
    This reads the same matrix the policy decides with (``records.access.policy.MATRIX``): a role
    without the action is not offered the link; a department-bound reach needs at least one
    department (a handler with none could never register or search anything). Like :func:`may`,
    a preview only: the page itself still passes its door.
    """
    try:
        act = Action(action)
    except ValueError:
        return False
    who: Identity = g.get("identity") or Identity.anonymous()
    if who.console:
        return True
    if who.role is None or not who.active:
        return False
    reach = MATRIX[who.role].get(act)
    if reach is None:
        return False
    # ``departments is None`` is "every department" (policy._department_decision).
    return reach is not Reach.DEPARTMENT or who.departments is None or bool(who.departments)


@ui_bp.app_context_processor
def _may() -> dict[str, Any]:
    return {"may": may, "may_any": may_any}
