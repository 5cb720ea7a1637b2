"""``GET /healthz``: which back ends answer, for load balancers, monitoring and operators.

No sign-in (a load balancer has none) and nothing sensitive: back-end names, states, the search
backlog's size and error kinds without URLs (``records.health``). 200 while the archive is ``ok``
or ``degraded`` (an optional back end such as search is down: everything else works), 503 when it
is ``down`` (the catalogue, which every request needs). Probes are cached and time-limited by the
:class:`~records.health.Health` service, so frequent polling costs the back ends little.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from records.health import HealthStatus

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    report = current_app.extensions["dossier"].health.check()
    return jsonify(report.as_dict()), 503 if report.status is HealthStatus.DOWN else 200
