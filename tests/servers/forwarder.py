"""A TCP forwarder on 127.0.0.1 in front of a real server, to take that server away from one test.

Stopped, it refuses every connection (the server is down); cutting, it closes each new
connection after a number of reply bytes (the server failing mid-reply). The server behind it
(a session-wide SeaweedFS or PostgreSQL) is never touched, so other tests keep using it.
"""

from __future__ import annotations

import socket
import threading

__all__ = ["Forwarder"]


class Forwarder:
    """TCP forwarder 127.0.0.1:port → upstream; can refuse everything, or cut replies short."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self._upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._cut_after: int | None = None
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut(self, after: int) -> None:
        """Replies on new connections end after ``after`` bytes; pooled connections are dropped now."""
        with self._lock:
            self._cut_after = after
        self._drop_all()

    def stop(self) -> None:
        """Nobody listens on the port any more: every connection is refused (the store is down)."""
        # shutdown, not just close: close alone leaves the socket listening while accept() blocks on it.
        _close(self._listener)
        self._drop_all()

    def _drop_all(self) -> None:
        with self._lock:
            conns, self._open = list(self._open), set()
        for s in conns:
            _close(s)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # stopped
            try:
                upstream = socket.create_connection(self._upstream)
            except OSError:
                _close(client)
                continue
            with self._lock:
                limit = self._cut_after
                self._open |= {client, upstream}
            threading.Thread(target=self._pump, args=(client, upstream, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, limit), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if limit is not None and sent + len(data) >= limit:
                    dst.sendall(data[: limit - sent])
                    break
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        _close(src)
        _close(dst)


def _close(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    s.close()
