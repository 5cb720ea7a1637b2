"""Property-based API test: schemathesis drives every operation of /api/v1/openapi.json in-process.

The OpenAPI description is loaded from the running app (WSGI, no socket) and each operation gets
a bounded, derandomised batch of generated requests, as a token-holding archivist and anonymously.
The only check is ``not_a_server_error``: whatever the input, the API answers 4xx, never 500.
Real archive and item numbers are tried first (explicit examples) so the "found" paths are exercised
too, not only 404s.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, example, given, settings
from schemathesis.checks import not_a_server_error

from records.access.identity import Identity
from tests.web.conftest import World
from web.bootstrap import Services

MAX_EXAMPLES = 25
_SETTINGS = settings(
    max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck), print_blob=False,
)


@pytest.mark.parametrize("who", ["archivist", "anonymous"])
def test_api_never_answers_500(app: Flask, services: Services, world: World, who: str) -> None:
    """GIVEN the archive of the web fixtures, WHEN schemathesis sends generated requests to every operation
    (authenticated and anonymous), THEN no response is a server error."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers: dict[str, str] = {}
    if who != "anonymous":
        token = services.access.create_token(Identity.operator("test-setup"), who).token
        headers = {"Authorization": f"Bearer {token}"}
    known = {"number": world.dossier, "item": world.item,
             "job": services.intake.accept("test", world.dossier, "queued.txt", [b"queued upload"]).job_id}

    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # a spec error here means the description itself is broken
        operations += 1
        strategy = operation.as_strategy()
        names = {p.name for p in operation.path_parameters}

        def check(case: Any) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error], headers=headers)

        run = given(case=strategy)(check)
        if names:  # the fixtures' real dossier / document first
            run = example(case=operation.Case(path_parameters={n: known[n] for n in names}))(run)
        try:
            _SETTINGS(run)()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, report them together
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 8, f"only {operations} operations loaded from the description"
    assert not failures, "\n\n".join(failures)
