"""Option defaults and choices that live in heavy modules, read only when a command needs them.

``dossier --help`` and every other command import all command modules (to list them), so a
command module must not import, say, ``ingest.jobs`` (sqlalchemy, the ingest pipeline) just to
show ``--lease``'s default. :class:`LazyDefault` names the constant instead; click calls it when
the option's default is needed (parsing that command) and prints it (``str``) in that command's
own ``--help``, so both the value and the help text stay exactly what the constant says.
:class:`LazyChoice` does the same for a ``click.Choice`` over a module's constant.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

__all__ = ["LazyChoice", "LazyDefault"]


class LazyDefault:
    """``default=LazyDefault("ingest.jobs", "DEFAULT_LEASE_SECONDS")``: that constant, imported on first use.

    Not a function (click shows a function default as "(dynamic)"), but callable, so click
    resolves it through its callable-default path; ``str()`` is the constant's own.
    """

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name

    def __call__(self) -> Any:
        return getattr(importlib.import_module(self.module), self.name)

    def __str__(self) -> str:
        return str(self())

    def __repr__(self) -> str:
        return f"LazyDefault({self.module}.{self.name})"


class LazyChoice(click.Choice):  # type: ignore[type-arg]
    """``click.Choice`` over a constant of a heavy module (its keys, for a dict), read on first use.

    ``LazyChoice("retention.reports", "FORMATS", sort=True)`` is ``click.Choice(sorted(FORMATS))``
    without importing ``retention.reports`` until the command is parsed or its help shown.
    """

    def __init__(self, module: str, name: str, *, sort: bool = False, case_sensitive: bool = True) -> None:
        # click.Choice.__init__ would read the choices now; set what it sets, lazily.
        self._source = LazyDefault(module, name)
        self._sort = sort
        self._choices: tuple[Any, ...] | None = None
        self.case_sensitive = case_sensitive

    @property
    def choices(self) -> tuple[Any, ...]:
        if self._choices is None:
            values = self._source()
            self._choices = tuple(sorted(values) if self._sort else values)
        return self._choices

    @choices.setter
    def choices(self, values: Any) -> None:  # as on click.Choice: assigning replaces them
        self._choices = tuple(values)
