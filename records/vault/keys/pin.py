"""Keys are pinned (issue #17): an archive refuses a key service that no longer holds its key.

Found: an OpenBao dev server restarted empty; the next command quietly made a fresh transit key
under the old name, every earlier object stopped opening, and the running server went on
sealing uploads under the new key. Nothing said "this is not the key the archive was made with".

So ``dossier init`` records a :class:`KeyPin` in the catalogue (every host of a scaled-out
archive reads the same one): the key's :class:`~records.vault.interfaces.KeyIdentity` and a
*probe*, a fixed plaintext wrapped under the key with a fixed context. The probe is the proof:
only the same key material unwraps it. A fingerprint alone could be forged by a key re-created
with the same name in the same second; a probe cannot.

Checked:

* when the archive opens (``web.bootstrap.build_services``, and ``dossier init`` re-run):
  identity *and* probe;
* before wraps (:class:`PinnedKeyProvider`): the probe again, at most once per
  ``recheck_seconds`` (``keys.pin_check_seconds``). Unwraps are not checked: a wrong key
  cannot open anything and writes nothing.

A mismatch is :class:`~records.vault.errors.KeyMismatchError` naming both keys; a key service
that does not answer stays :class:`~records.vault.errors.KeyServiceUnavailableError`.

Archives from before pins: pinned on first open, but only after one of the catalogue's own
wrapped data keys unwrapped under the key found (or when the catalogue holds none), so a key
service that was already wiped is never blessed as the archive's key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from records.vault.errors import KeyMismatchError, KeyNotFoundError, WrongKeyError
from records.vault.interfaces import KeyIdentity, KeyProvider, WrappedKey

__all__ = ["PROBE_CONTEXT", "KeyPin", "KeyPinStore", "PinnedKeyProvider", "WrappedSample", "check_pin",
           "ensure_pinned", "open_pinned"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]  # records.clock's; the vault imports nothing of records but errors and settings

PROBE_CONTEXT: Mapping[str, str] = {"purpose": "dossier-key-pin"}
"""Bound to the probe; no object's context (object id + kind) can equal it."""
_PROBE_PLAINTEXT = hashlib.sha256(b"dossier master key pin probe v1").digest()  # 32 bytes, like a data key


@dataclass(frozen=True, slots=True)
class KeyPin:
    """The master key an archive was made with: who it is, and a probe only it unwraps."""

    identity: KeyIdentity
    probe: WrappedKey
    pinned_at: datetime
    how: str  # "init" | "first open" | "keys create"

    def describe(self) -> str:
        return f"{self.identity.describe()}, pinned at {self.how} {self.pinned_at:%Y-%m-%d %H:%M}Z"


@dataclass(frozen=True, slots=True)
class WrappedSample:
    """One data key from the catalogue and the context it was wrapped with (pinning old archives)."""

    wrapped: WrappedKey
    context: Mapping[str, str]


class KeyPinStore(Protocol):
    """Where the pin is kept: the catalogue (``records.keypins``), shared by every host."""

    def load(self) -> KeyPin | None:
        """The archive's pin, or None if none was recorded yet."""
        ...

    def record(self, pin: KeyPin) -> KeyPin:
        """Record ``pin`` unless one exists; return the pin in effect (another host may have won)."""
        ...

    def sample(self) -> WrappedSample | None:
        """Any live wrapped data key of the catalogue, or None if it holds none."""
        ...


def make_pin(provider: KeyProvider, *, how: str, clock: Clock) -> KeyPin:
    """Identify the provider's key and wrap the probe under it."""
    identity = provider.identify()
    probe = provider.wrap(_PROBE_PLAINTEXT, context=PROBE_CONTEXT)
    return KeyPin(identity=identity, probe=probe, pinned_at=clock(), how=how)


def check_pin(provider: KeyProvider, pin: KeyPin) -> None:
    """The full check, when an archive opens: the same identity, and the probe unwraps.

    Raises:
        KeyMismatchError: another key, or none.
        KeyServiceUnavailableError: the service cannot be asked right now.
    """
    found = _identity(provider, pin)
    if (found.provider, found.fingerprint) != (pin.identity.provider, pin.identity.fingerprint):
        raise KeyMismatchError(pin.describe(), found.describe())
    check_probe(provider, pin)


def check_probe(provider: KeyProvider, pin: KeyPin) -> None:
    """One unwrap of the probe: the cheap check before wraps (one round trip to a key service)."""
    try:
        plain = provider.unwrap(pin.probe, context=PROBE_CONTEXT)
    except (KeyNotFoundError, WrongKeyError) as exc:
        raise KeyMismatchError(pin.describe(), _found(provider, pin)) from exc
    if not hmac.compare_digest(plain, _PROBE_PLAINTEXT):
        raise KeyMismatchError(pin.describe(), _found(provider, pin))


def ensure_pinned(provider: KeyProvider, pins: KeyPinStore, *, clock: Clock, how: str) -> KeyPin:
    """The archive's pin, checked; recorded first if the archive has none (see the module docstring).

    Raises:
        KeyMismatchError: the key found is not the pinned one, or (no pin yet) does not unwrap
            the catalogue's own data keys.
    """
    pin = pins.load()
    if pin is None:
        sample = pins.sample()
        if sample is not None:
            try:
                provider.unwrap(sample.wrapped, context=sample.context)
            except (KeyNotFoundError, WrongKeyError) as exc:
                raise KeyMismatchError(f"the key that wrapped the catalogue's data keys ({sample.wrapped.key_id})",
                                       _found(provider, None)) from exc
        pin = pins.record(make_pin(provider, how=how, clock=clock))
        log.info("master key pinned (%s): %s", how, pin.describe())
    check_pin(provider, pin)
    return pin


def open_pinned(open_provider: Callable[[], KeyProvider], pins: KeyPinStore, *, clock: Clock,
                recheck_seconds: float, how: str = "first open") -> PinnedKeyProvider:
    """Open the configured provider, check (or, for an old archive, record) the pin, and guard wraps.

    Raises:
        KeyMismatchError: the key service does not hold the pinned key (a missing key included).
        KeyServiceUnavailableError: the key service cannot be reached.
    """
    try:
        provider = open_provider()
    except KeyNotFoundError as exc:
        pin = pins.load()
        if pin is None:
            raise
        raise KeyMismatchError(pin.describe(), f"no such key ({exc})") from exc
    try:
        pin = ensure_pinned(provider, pins, clock=clock, how=how)
    except BaseException:
        provider.close()
        raise
    return PinnedKeyProvider(provider, pin, recheck_seconds=recheck_seconds)


class PinnedKeyProvider:
    """A KeyProvider that checks the pin's probe before wraps, at most every ``recheck_seconds``.

    Why a time bound and not every wrap: the probe is one more round trip to the key service
    per wrap (benchmarks/key_pin.py). Within the bound a wrap may reach a key service that was
    wiped since the last check; it then fails (no transit engine, or a key created without
    upsert is missing) unless someone re-created engine and key by hand in those seconds.
    ``recheck_seconds = 0`` checks before every wrap.
    """

    def __init__(self, inner: KeyProvider, pin: KeyPin, *, recheck_seconds: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._inner = inner
        self._pin = pin
        self._recheck = recheck_seconds
        self._monotonic = monotonic
        self._checked_at: float | None = monotonic()  # opened after the full check
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def pin(self) -> KeyPin:
        return self._pin

    @property
    def inner(self) -> KeyProvider:
        return self._inner

    @property
    def current_key_id(self) -> str:
        return self._inner.current_key_id

    def wrap(self, data_key: bytes | bytearray, *, context: Mapping[str, str]) -> WrappedKey:
        self._ensure()
        return self._inner.wrap(data_key, context=context)

    def unwrap(self, wrapped: WrappedKey, *, context: Mapping[str, str]) -> bytes:
        return self._inner.unwrap(wrapped, context=context)

    def rotate(self) -> str:
        self._ensure(force=True)
        return self._inner.rotate()

    def identify(self) -> KeyIdentity:
        return self._inner.identify()

    def close(self) -> None:
        self._inner.close()

    def _ensure(self, *, force: bool = False) -> None:
        with self._lock:  # one probe at a time; waiters reuse its result
            now = self._monotonic()
            if not force and self._checked_at is not None and now - self._checked_at < self._recheck:
                return
            self._checked_at = None  # a failed check is not remembered as a pass
            check_probe(self._inner, self._pin)
            self._checked_at = now


def _identity(provider: KeyProvider, pin: KeyPin) -> KeyIdentity:
    try:
        return provider.identify()
    except KeyNotFoundError as exc:
        raise KeyMismatchError(pin.describe(), f"no such key ({exc})") from exc


def _found(provider: KeyProvider, pin: KeyPin | None) -> str:
    """What the provider holds, for the message; never raises a key error of its own."""
    try:
        found = provider.identify()
    except KeyNotFoundError as exc:
        return f"no such key ({exc})"
    except Exception as exc:  # noqa: BLE001 - only a description; the mismatch is the error
        return f"a key that could not be identified ({exc.__class__.__name__})"
    if pin is not None and found.fingerprint == pin.identity.fingerprint:
        return f"{found.describe()}, which does not open the archive's probe (re-created or altered key)"
    return found.describe()


_: type[KeyProvider] = PinnedKeyProvider
