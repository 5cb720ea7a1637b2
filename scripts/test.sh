#!/usr/bin/env bash
# The README's test command: install what the tests need, then run the whole suite
# (PostgreSQL, SeaweedFS, OpenBao and the KMS stand-in are started by the tests themselves).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-test-deps.sh
# A hard ceiling well inside CI's 90 minutes: a stall ends the run red instead of silently.
# The 25 slowest tests are listed at the end, so the suite's time budget is watched run by run.
exec timeout --kill-after=60 2700 .venv/bin/python -m pytest --durations=25 "$@"
