"""The password policy (records/access/passwords.py), and that every door shares it (issue #11 item 6, ACS-01).

One rule, three doors: the service's add_user and set_password, the web forms and ``dossier user``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import web.cli.access  # noqa: F401  (registers the user commands on `main`)
from records.access import passwords
from records.access.errors import InvalidUserError
from records.access.identity import Identity, Role
from records.access.service import AccessService
from records.settings import Settings
from web.cli import main

STRONG = "Gelber Fluss 落日 1987 tür"


@pytest.mark.parametrize(("password", "name", "problem"), [
    ("Short 1!", "li", passwords.TOO_SHORT),                         # 8 characters: the old minimum
    ("elevenchars", "li", passwords.TOO_SHORT),
    ("password1234", "li", passwords.TOO_COMMON),                    # on every breach list
    ("Welcome2026!", "li", passwords.TOO_COMMON),
    ("qwertyuiop12", "li", passwords.TOO_COMMON),                    # a keyboard walk off the lists
    ("zhangwei123456", "zhangwei", passwords.WITH_NAME),
    ("handler_a2020", "handler_a", passwords.WITH_NAME),
    ("aaaaaaaaaaaaaaaa", "li", passwords.TOO_GUESSABLE),
])
def test_weak_passwords_are_refused_with_a_specific_reason(password: str, name: str, problem: str) -> None:
    """GIVEN a password someone would guess WHEN it is checked THEN it is refused, saying why (never echoing it)."""
    assert passwords.password_problem(password, name=name) == problem
    with pytest.raises(InvalidUserError) as caught:
        passwords.check_password_policy(password, name=name)
    assert caught.value.field == "password" and password not in str(caught.value)


@pytest.mark.parametrize("password", [STRONG, "correct horse 1", "Tr0ub4dor&3x-archive", "档案管理员 每天 早上 八点 上班"])
def test_strong_passwords_pass(password: str) -> None:
    """GIVEN a long, uncommon password WHEN it is checked THEN it passes (the fixtures' own password included)."""
    assert passwords.password_problem(password, name="handler_a") is None


def test_the_archive_words_count_as_guessable() -> None:
    """GIVEN "dossier" repeated with a year WHEN checked THEN it is refused: the system's own words are known."""
    assert passwords.password_problem("dossierdossier2026", name="li") is not None


def test_the_service_applies_the_policy_to_new_accounts_and_resets(access: AccessService, console: Identity) -> None:
    """GIVEN the access service WHEN an account is added or a password set with a weak password THEN it is refused;
    a strong one is accepted; an account without a password (API tokens only) stays possible from the console."""
    with pytest.raises(InvalidUserError, match="too common"):
        access.add_user(console, "li", Role.AUDITOR, password="password1234")
    access.add_user(console, "li", Role.AUDITOR, password=STRONG)
    with pytest.raises(InvalidUserError, match="too short"):
        access.set_password(console, "li", "short pw 1")
    access.set_password(console, "li", "Tr0ub4dor&3x-archive")
    assert access.authenticate("li", "Tr0ub4dor&3x-archive").name == "li"
    access.add_user(console, "api", Role.ARCHIVIST)  # token-only: no password opens it
    with pytest.raises(InvalidUserError, match="current password"):
        access.change_own_password(access.identity("li"), "wrong", STRONG + "!")


def _run(data_dir: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), *args], input=input)


def test_the_console_refuses_weak_passwords_with_exit_4_and_sets_new_ones(settings: Settings) -> None:
    """GIVEN `dossier user add` / `dossier user password` WHEN the password is weak THEN exit 4 with the reason;
    a strong one is set, and the account signs in with it."""
    assert _run(settings.data_dir, "init").exit_code == 0
    weak = _run(settings.data_dir, "user", "add", "li", "--role", "auditor", "--password-stdin", input="password1234\n")
    assert weak.exit_code == 4 and "too common" in weak.output
    ok = _run(settings.data_dir, "user", "add", "li", "--role", "auditor", "--password-stdin", input=STRONG + "\n")
    assert ok.exit_code == 0, ok.output
    short = _run(settings.data_dir, "user", "password", "li", "--password-stdin", input="short\n")
    assert short.exit_code == 4 and "too short" in short.output
    reset = _run(settings.data_dir, "user", "password", "li", "--password-stdin", input="Tr0ub4dor&3x-archive\n")
    assert reset.exit_code == 0, reset.output
    signed = _run(settings.data_dir, "--as", "li", "--password-stdin", "user", "password", "li", "--password-stdin",
                  input="Tr0ub4dor&3x-archive\n" + STRONG + "\n")
    assert signed.exit_code == 0, signed.output  # the account changes its own password
    assert _run(settings.data_dir, "user", "enable", "li").exit_code == 0
