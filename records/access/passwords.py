"""The password policy: the one rule every new password meets, whoever sets it and through which door.

A password is set in three places — an administrator creating an account, an administrator
resetting one, a person changing their own — from the web and from ``dossier user``. All of them
reach :class:`~records.access.service.AccessService`, which calls :func:`check_password_policy`
before hashing, so the rule cannot differ between the web form and the console (ACS-01: the
archive is only as closed as its weakest password).

The rule: at least :data:`MIN_LENGTH` characters, and an estimated strength of at least
:data:`MIN_SCORE` from zxcvbn (Dropbox's estimator, ported to Python). zxcvbn bundles frequency
lists of breached and common passwords, names and words, and recognises keyboard walks,
repeats, sequences and dates; we add the account's own name and the archive's words as
``user_inputs``, so ``zhangwei123456`` or ``dossier2026!`` are judged as guessable as they are.

Each refusal is an :class:`InvalidUserError` on field ``password`` whose ``problem`` is one of
the fixed sentences below: the web shows it translated beside the field (they are msgids), the
console prints it. The sentences name the problem, never the password.
"""

from __future__ import annotations

from collections.abc import Iterable

from records.access.errors import InvalidUserError

__all__ = [
    "ARCHIVE_WORDS", "MIN_LENGTH", "MIN_SCORE", "TOO_COMMON", "TOO_GUESSABLE", "TOO_SHORT", "WITH_NAME",
    "check_password_policy", "password_problem",
]

MIN_LENGTH = 12
"""Fewer characters are refused before any estimate: length is what resists an offline attack."""
MIN_SCORE = 3
"""zxcvbn's 0..4 scale; 3 is "safely unguessable: moderate protection from an offline slow-hash attack"."""
ARCHIVE_WORDS: tuple[str, ...] = (
    "dossier", "archive", "complaint", "records", "admin", "档案", "卷宗", "投诉", "司法局", "律师", "公证")
"""Words anyone who knows this system would try first; given to zxcvbn as guessable."""

TOO_SHORT = "too short: use at least 12 characters"
TOO_COMMON = "too common: it appears in lists of leaked or often-used passwords"
WITH_NAME = "contains your name: choose one that does not"
TOO_GUESSABLE = "too easy to guess: avoid repeats, sequences, keyboard patterns and dates"


def password_problem(password: str, *, name: str = "", extra_words: Iterable[str] = ()) -> str | None:
    """What is wrong with ``password`` for account ``name`` (one of the fixed sentences), or ``None``.

    zxcvbn is imported here, not at module load: it reads its word lists on import, and most
    ``dossier`` commands never set a password.
    """
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    from zxcvbn import zxcvbn

    own = {w.casefold() for w in (name, *name.replace("_", " ").replace(".", " ").split()) if w}
    inputs = [*own, *(w.casefold() for w in extra_words if w), *ARCHIVE_WORDS]
    # zxcvbn's cost grows with length; its authors cap input at 100 characters. Past that a
    # password is long enough for any attacker, so only the prefix is judged.
    result = zxcvbn(password[:100], user_inputs=inputs)
    if result["score"] >= MIN_SCORE:
        return None
    sequence = result["sequence"]
    if any(m.get("dictionary_name") == "user_inputs" and str(m.get("matched_word", "")).casefold() in own
           for m in sequence):
        return WITH_NAME
    sources = {m.get("dictionary_name") for m in sequence if m.get("pattern") == "dictionary"}
    if "passwords" in sources:
        return TOO_COMMON
    return TOO_GUESSABLE


def check_password_policy(password: str, *, name: str = "", extra_words: Iterable[str] = ()) -> None:
    """Refuse a password that breaks the policy.

    Raises:
        InvalidUserError: field ``password``, ``problem`` one of the module's fixed sentences.
    """
    problem = password_problem(password, name=name, extra_words=extra_words)
    if problem is not None:
        raise InvalidUserError("password", problem)
