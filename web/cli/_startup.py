"""The cyclic garbage collector while `dossier` opens the archive (issue #9 item 7).

Opening the archive imports most of dossier and its libraries (SQLAlchemy, pydantic, the
catalogue tables) and configures the ORM: some 140 000 objects that live as long as the
process. The cyclic collector, run every 700 allocations, scans that growing heap again and
again while it is built: about a tenth of `dossier show` (``benchmarks/cli_start.py``).

So a command run as the program starts with the collector paused (:func:`pause`); once its
services are built, or the command ends without them, :func:`resume` freezes what exists
(``gc.freeze``: those objects are left out of every later collection) and turns the collector
back on for the rest of the command (a long ``serve`` or ``worker`` included). The price: the
few hundred cyclic leftovers of the imports (about 750 objects of 140 000) are kept, not freed.

Only a run as the program pauses (the root group's ``main()`` reading ``sys.argv``): a command
invoked in-process (tests, ``CliRunner``) leaves its host's collector alone.
"""

from __future__ import annotations

import gc

__all__ = ["pause", "resume"]

_paused = False


def pause() -> None:
    """Turn the collector off until :func:`resume`, unless someone else turned it off already."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Freeze what the opening made and turn the collector back on (only if :func:`pause` turned it off)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
