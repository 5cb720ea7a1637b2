"""Health: which back ends the archive can use right now (``GET /healthz``, the dashboard banner).

Each part of the archive needs only its own back ends (issue #17 item 3): the catalogue is needed
by every request, the blob store and key service by documents, the search index by searches. So
the archive runs *degraded* while an optional back end is down — every page that does not need
it works — and is *down* only when a required one is.

:class:`Health` asks one :class:`Probe` per back end and keeps the answer a few seconds, so a load
balancer polling ``/healthz`` every second costs each back end at most one cheap request per
``ttl`` per process. Probes run in threads with a deadline: a back end that hangs (a dropped
packet, a stuck server) is reported unavailable after ``timeout`` instead of holding the poller,
and its probe is not started again while the last one still waits, so stuck probes never pile up.

What a report says is public (``/healthz`` needs no sign-in): back-end names, states, counts and
error *kinds*. Error texts pass through :func:`public_error`, which drops URLs (they may carry
credentials), anything after the first line (SQL) and length; no probe reads dossier data.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import text

from records.clock import Clock, system_clock
from records.db import UnitOfWork
from records.vault.errors import BlobNotFoundError
from records.vault.interfaces import BlobKey, BlobStore, KeyProvider

__all__ = [
    "BackendHealth", "BackendState", "CatalogueProbe", "Health", "HealthReport", "HealthStatus", "KeysProbe", "Probe",
    "StoreProbe", "public_error",
]

DEFAULT_TTL = timedelta(seconds=5)
DEFAULT_TIMEOUT = timedelta(seconds=2)
_ERROR_CHARS = 200
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
_CREDENTIALS = re.compile(r"\S+:\S+@")


class BackendState(StrEnum):
    OK = "ok"
    UNAVAILABLE = "unavailable"


class HealthStatus(StrEnum):
    OK = "ok"                # every back end answers
    DEGRADED = "degraded"    # an optional one does not: what needs it fails, the rest works
    DOWN = "down"            # a required one does not: nothing works


@dataclass(frozen=True, slots=True)
class BackendHealth:
    """One back end's answer: its state, why it is unavailable (public words), and facts to show."""

    state: BackendState
    error: str | None = None
    details: Mapping[str, int | str] = field(default_factory=dict)

    @classmethod
    def ok(cls, **details: int | str) -> BackendHealth:
        return cls(BackendState.OK, None, details)

    @classmethod
    def unavailable(cls, exc: BaseException | str, **details: int | str) -> BackendHealth:
        return cls(BackendState.UNAVAILABLE, exc if isinstance(exc, str) else public_error(exc), details)

    def as_dict(self) -> dict[str, int | str]:
        out: dict[str, int | str] = {"state": self.state.value}
        if self.error is not None:
            out["error"] = self.error
        out.update(self.details)
        return out


@dataclass(frozen=True, slots=True)
class HealthReport:
    status: HealthStatus
    backends: Mapping[str, BackendHealth]
    required: frozenset[str]
    checked_at: datetime

    def unavailable(self) -> list[str]:
        """The back ends that do not answer, in probe order."""
        return [name for name, b in self.backends.items() if b.state is not BackendState.OK]

    def as_dict(self) -> dict[str, object]:
        return {"status": self.status.value, "checked_at": self.checked_at.isoformat(),
                "backends": {name: {**b.as_dict(), "required": name in self.required}
                             for name, b in self.backends.items()}}


class Probe(Protocol):
    """Checks one back end with one cheap request; raises (any error) when it cannot be used.

    It may catch its own failure to report more (the search probe still counts its backlog).
    """

    def probe(self) -> BackendHealth: ...


def public_error(exc: BaseException) -> str:
    """An error's kind and first line, without URLs or credentials, short: safe for an unauthenticated page."""
    first = (str(exc).strip().splitlines() or [""])[0]
    first = _CREDENTIALS.sub("", _URL.sub("<url>", first))
    described = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return described[:_ERROR_CHARS]


class _Run:
    """One probe in its thread: the answer once it has one."""

    def __init__(self, probe: Probe) -> None:
        self.answer: BackendHealth | None = None
        self.thread = threading.Thread(target=self._go, args=(probe,), name="health-probe", daemon=True)
        self.thread.start()

    def _go(self, probe: Probe) -> None:
        try:
            self.answer = probe.probe()
        except BaseException as exc:  # noqa: BLE001 - any failure is the back end's answer
            self.answer = BackendHealth.unavailable(exc)


class Health:
    """The archive's health, from one probe per back end (composed in ``web.bootstrap``).

    Args:
        probes: back-end name → probe, in the order reports list them.
        required: the back ends every request needs; one of them unavailable makes the status
            ``down`` (``/healthz`` answers 503), any other only ``degraded`` (200).
        ttl: how long a report is reused.
        timeout: how long a probe may take before its back end counts as unavailable.
        clock: the archive clock, for ``checked_at``; ``monotonic`` measures the waits.
    """

    def __init__(self, probes: Mapping[str, Probe], *, required: frozenset[str] = frozenset({"catalogue"}),
                 ttl: timedelta = DEFAULT_TTL, timeout: timedelta = DEFAULT_TIMEOUT, clock: Clock = system_clock,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._probes = dict(probes)
        self._required = required & frozenset(self._probes)
        self._ttl, self._timeout = ttl.total_seconds(), timeout.total_seconds()
        self._clock, self._monotonic = clock, monotonic
        self._lock = threading.Lock()
        self._cached: tuple[float, HealthReport] | None = None
        self._pending: dict[str, _Run] = {}

    def check(self, *, fresh: bool = False) -> HealthReport:
        """The current report: the cached one while younger than ``ttl`` (unless ``fresh``)."""
        # One run at a time: concurrent pollers wait for it and share its answer.
        with self._lock:
            if not fresh and self._cached is not None and self._monotonic() - self._cached[0] < self._ttl:
                return self._cached[1]
            report = self._run()
            self._cached = (self._monotonic(), report)
            return report

    def _run(self) -> HealthReport:
        runs: dict[str, _Run | BackendHealth] = {}
        for name, probe in self._probes.items():
            stuck = self._pending.get(name)
            if stuck is not None and stuck.thread.is_alive():
                runs[name] = BackendHealth.unavailable(
                    f"no answer: the previous probe has been waiting more than {self._timeout:g} s")
                continue
            runs[name] = self._pending[name] = _Run(probe)
        deadline = self._monotonic() + self._timeout
        backends: dict[str, BackendHealth] = {}
        for name, run in runs.items():
            if isinstance(run, BackendHealth):
                backends[name] = run
                continue
            run.thread.join(max(0.0, deadline - self._monotonic()))
            if run.answer is None:
                backends[name] = BackendHealth.unavailable(f"no answer within {self._timeout:g} s")
            else:
                backends[name] = run.answer
                del self._pending[name]
        down = [n for n, b in backends.items() if b.state is not BackendState.OK]
        status = (HealthStatus.DOWN if any(n in self._required for n in down)
                  else HealthStatus.DEGRADED if down else HealthStatus.OK)
        return HealthReport(status, backends, self._required, self._clock())


# ---------------------------------------------------------------------- the records-side probes
class CatalogueProbe:
    """``SELECT 1`` in a read transaction."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def probe(self) -> BackendHealth:
        with self._uow.read() as s:
            s.execute(text("SELECT 1"))
        return BackendHealth.ok()


class StoreProbe:
    """The size of a blob that never exists: "not found" means the store answered."""

    _KEY = BlobKey("healthz-probe")

    def __init__(self, store: BlobStore) -> None:
        self._store = store

    def probe(self) -> BackendHealth:
        try:
            self._store.stat(self._KEY)
        except BlobNotFoundError:
            pass
        return BackendHealth.ok(backend=self._store.name)


class KeysProbe:
    """Wraps a throw-away key: the key file or key service can be used now."""

    _CONTEXT = {"purpose": "health-probe"}

    def __init__(self, keys: KeyProvider) -> None:
        self._keys = keys

    def probe(self) -> BackendHealth:
        self._keys.wrap(bytes(32), context=self._CONTEXT)
        return BackendHealth.ok(provider=self._keys.name)
