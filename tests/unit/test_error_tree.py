"""One error tree, mapped once (issue #9 (5)): every DossierError has a category, and every
category an HTTP status and an exit code.

The test walks the tree as Python sees it after importing every module of the five packages, so
an error added anywhere (a new package's, a web-only one) is checked without being listed here.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

from records.errors import CATEGORIES, DossierError, UnavailableError, category_of
from web.cli._errors import EXIT_CODES, UNAVAILABLE_EXIT_CODES, exit_code_for
from web.errors import HTTP_STATUS

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("records", "ingest", "search", "retention", "web")
# Importing these runs something: a server app, a command line, Alembic's migration environment.
_SKIP = re.compile(r"(^web\.wsgi$|\.__main__$|^migrations\b)")
# Family bases group a package's errors; they have no category because they are never raised.
FAMILIES = {"RecordsError", "AccessError", "VaultError", "IngestError", "SearchError", "RetentionError"}


def _import_everything() -> None:
    for name in PACKAGES:
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{name}."):
            if not _SKIP.search(info.name):
                importlib.import_module(info.name)


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def _ours(cls: type) -> bool:
    return cls.__module__.split(".")[0] in PACKAGES


_import_everything()
ALL_ERRORS = sorted((c for c in _subclasses(DossierError) if _ours(c)), key=lambda c: (c.__module__, c.__name__))
LEAVES = [c for c in ALL_ERRORS if c not in CATEGORIES and c.__name__ not in FAMILIES]


def test_the_walk_finds_errors_of_every_package() -> None:
    """The walk sees beyond records/: one known error from each package and from the web layer."""
    names = {c.__name__ for c in ALL_ERRORS}
    assert {"DossierNotFoundError", "AuditChainBrokenError", "IntegrityError", "MailboxError", "IntakeJobNotFoundError",
            "InvalidQueryError", "CertificateInvalidError", "BagInvalidError", "TransferPackageMissingError",
            "InvalidPeriodError", "WatermarkError", "ArchiveNotInitialisedError", "ThrottledError"} <= names
    assert len(LEAVES) > 40


@pytest.mark.parametrize("cls", LEAVES, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_every_error_has_one_category_with_a_status_and_an_exit_code(cls: type[DossierError]) -> None:
    """GIVEN any DossierError Dossier defines THEN it is in exactly one chain of categories, and its most
    specific category has an explicit HTTP status and exit code (not the 500 / exit 1 fallback)."""
    category = category_of(cls)
    assert category is not None, f"{cls.__name__} has no category in records.errors: choose one as a base"
    mine = [c for c in CATEGORIES if issubclass(cls, c)]
    assert all(issubclass(category, c) for c in mine), f"{cls.__name__} is in unrelated categories {mine}"
    assert category in HTTP_STATUS and category in EXIT_CODES
    expected = EXIT_CODES[category]
    if category is UnavailableError:
        expected = next((code for svc, code in UNAVAILABLE_EXIT_CODES if issubclass(cls, svc)), expected)
    assert exit_code_for(cls) == expected
    assert cls.code and re.fullmatch(r"[a-z][a-z_]*", cls.code)


def test_every_category_is_mapped_in_both_tables() -> None:
    """The tables are written against the categories: each has one row per category, and no other rows."""
    assert set(HTTP_STATUS) == set(CATEGORIES) == set(EXIT_CODES)
    assert all(issubclass(svc, UnavailableError) for svc, _ in UNAVAILABLE_EXIT_CODES)


@pytest.mark.parametrize(("name", "exit_code", "status"), [
    ("DossierNotFoundError", 3, 404), ("DocumentNotFoundError", 3, 404), ("IntakeJobNotFoundError", 3, 404),
    ("UserNotFoundError", 3, 404), ("HoldNotFoundError", 3, 404), ("DispositionNotFoundError", 3, 404),
    ("InvalidQueryError", 4, 400), ("InvalidPeriodError", 4, 400), ("InvalidParameterError", 4, 400),
    ("GrantRequiredError", 4, 400), ("ReasonRequiredError", 4, 400),
    ("InvalidRegistrationError", 4, 422), ("InvalidUserError", 4, 422), ("InvalidGrantError", 4, 422),
    ("InvalidHoldError", 4, 422), ("CorruptDocumentError", 4, 422),
    ("DossierClosedError", 5, 409), ("SealedDossierError", 5, 409), ("InvalidTransitionError", 5, 409),
    ("DuplicateDocumentError", 5, 409), ("UserExistsError", 5, 409), ("SealIncompleteError", 5, 409),
    ("InvalidDispositionError", 5, 409), ("DisposalIncompleteError", 5, 409), ("TransferPackageMissingError", 5, 409),
    ("BagExistsError", 5, 409),
    ("IntegrityError", 6, 500), ("BagInvalidError", 6, 500),
    ("WrongKeyError", 7, 500), ("KeyNotFoundError", 7, 500), ("KeyUnavailableError", 7, 500), ("AuditKeyError", 7, 500),
    ("ArchiveNotInitialisedError", 8, 500), ("NumberingError", 8, 500), ("InvalidScheduleError", 8, 500),
    ("MailboxError", 9, 503),
    ("AuthenticationError", 10, 401), ("NotSignedInError", 10, 401), ("ThrottledError", 10, 429),
    ("AccessDeniedError", 11, 403), ("GrantExpiredError", 11, 403), ("SameApproverError", 11, 403),
    ("WatermarkEncryptedError", 11, 403),
    ("AuditChainBrokenError", 12, 503), ("SearchUnavailableError", 13, 503), ("IndexOutdatedError", 13, 503),
    ("StorageUnavailableError", 14, 503), ("CertificateInvalidError", 1, 422),
])
def test_documented_exit_codes_and_statuses_stay(name: str, exit_code: int, status: int) -> None:
    """The codes README promises (scripts rely on them) and the statuses the API answers, by error."""
    cls = next(c for c in ALL_ERRORS if c.__name__ == name)
    assert (exit_code_for(cls), HTTP_STATUS[category_of(cls)]) == (exit_code, status)  # type: ignore[index]


def test_readme_table_lists_every_exit_code_and_status() -> None:
    """README's table has a row for each exit code, naming the HTTP statuses its categories answer."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    rows = {int(m.group(1)): m.group(2) for m in re.finditer(r"^\| *(\d+) *\| *([^|]*)\|", text, re.MULTILINE)}
    pairs = {(EXIT_CODES[c], HTTP_STATUS[c]) for c in CATEGORIES}
    pairs |= {(code, HTTP_STATUS[UnavailableError]) for _, code in UNAVAILABLE_EXIT_CODES}
    for exit_code, status in pairs:
        assert exit_code in rows, f"README's table has no row for exit code {exit_code}"
        assert str(status) in rows[exit_code], f"README: exit {exit_code} does not name HTTP {status}"


def test_the_drawing_in_records_errors_names_every_error() -> None:
    """records/errors.py draws the whole tree in its docstring; an error missing there is missing for readers."""
    import records.errors

    drawing = records.errors.__doc__ or ""
    missing = [c.__name__ for c in ALL_ERRORS if not re.search(rf"\b{c.__name__}\b", drawing)]
    assert missing == []


def _raised_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name):
            names.add(node.exc.func.id)
    return names


def test_family_bases_and_the_root_are_never_raised() -> None:
    """A family base or DossierError itself would have no category: raise a leaf instead."""
    offenders = [f"{p.relative_to(REPO)}: {n}" for package in PACKAGES for p in (REPO / package).rglob("*.py")
                 for n in _raised_names(p) & (FAMILIES | {"DossierError"})]
    assert offenders == []


def test_records_errors_import_only_records() -> None:
    """The categories live in records/, below every other package: its error modules import no one above it."""
    modules = ["records/errors.py", "records/access/errors.py", "records/vault/errors.py", "records/access/watermark.py"]
    for path in modules:
        tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not {m for m in imported if m.split(".")[0] in PACKAGES and not m.startswith("records")}, path
