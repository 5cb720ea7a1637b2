"""records/ and search/ type-check under ``mypy --strict``.

The settings live in pyproject.toml (``[tool.mypy]``: strict, files = records, search), so this
runs plain ``python -m mypy`` from the repository root, as a developer would. The stub packages
it needs (types-boto3[s3,kms], types-hvac, types-reportlab) come with the ``test`` extra.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_records_and_search_pass_mypy_strict() -> None:
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"mypy exited {done.returncode}:\n{done.stdout}{done.stderr}"
