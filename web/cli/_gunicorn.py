"""The gunicorn application `dossier serve` runs (its own module: gunicorn loads only for `serve`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from records.settings import Settings

__all__ = ["Server"]


class Server(BaseApplication):  # type: ignore[misc]
    """gunicorn running ``create_app(settings)`` in each worker (no preload: no shared connections)."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self._settings, self._options = settings, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from web import create_app

        return create_app(self._settings)
