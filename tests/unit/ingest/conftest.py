"""Shared fixtures of the extractor tests."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from PIL import ImageFont


@contextmanager
def _within(seconds: int) -> Iterator[None]:
    """Fail instead of hanging: a hostile file must not stall the sweep."""
    def _expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"extraction took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def within() -> Callable[[int], AbstractContextManager[None]]:
    return _within


def _noto(face: str) -> tuple[str, int]:
    """Path and face index of the Noto CJK font for ``face`` (SC, TC, JP, ...)."""
    for path in sorted(Path("/usr/share/fonts").rglob("Noto*CJK-Regular.ttc")):
        for index in range(10):
            family = ImageFont.truetype(str(path), 10, index=index).getname()[0] or ""
            if family.endswith(f" {face}") and "Mono" not in family:
                return str(path), index
    pytest.fail("Noto CJK fonts are missing: apt-get install fonts-noto-cjk")


@pytest.fixture(scope="session")
def noto() -> Callable[[str], tuple[str, int]]:
    """Finds the Noto CJK font used to draw test pages."""
    return _noto
