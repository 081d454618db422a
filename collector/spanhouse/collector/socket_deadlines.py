"""Total deadlines for blocking socket reads, kept by one thread for every connection of a server.

A socket timeout bounds each read, so a client that sends a byte just before each timeout (a
"slowloris") keeps a read going for ever. A deadline bounds the whole of it: when one passes, the
socket is shut down, and the read blocked on it returns end of file at once.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time


class Watch:
    """One socket's deadline (time.monotonic); `move` and `end` are safe from any thread."""

    __slots__ = ("_deadlines", "deadline", "sock")

    def __init__(self, deadlines: SocketDeadlines, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self._deadlines = deadlines

    def move(self, deadline: float) -> None:
        self.deadline = deadline

    def end(self) -> None:
        self._deadlines.forget(self)


class SocketDeadlines:
    """Shuts down each watched socket whose deadline passed, checking every `tick` seconds.

    The thread starts with the first watch and stops with `close`; a deadline is kept to within a tick.
    """

    def __init__(self, tick: float = 0.5) -> None:
        self.tick = tick
        self._watches: set[Watch] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, sock: socket.socket, deadline: float) -> Watch:
        watch = Watch(self, sock, deadline)
        with self._lock:
            self._watches.add(watch)
            if self._thread is None and not self._closed.is_set():
                self._thread = threading.Thread(target=self._run, name="socket-deadlines", daemon=True)
                self._thread.start()
        return watch

    def forget(self, watch: Watch) -> None:
        with self._lock:
            self._watches.discard(watch)

    def close(self) -> None:
        self._closed.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._closed.wait(self.tick):
            now = time.monotonic()
            with self._lock:
                expired = [watch for watch in self._watches if watch.deadline <= now]
                self._watches.difference_update(expired)
            for watch in expired:
                # The plain socket's shutdown, also under TLS (SSLSocket.shutdown would drop the
                # TLS state that the reading thread is still using); OSError: closed meanwhile.
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(watch.sock, socket.SHUT_RDWR)
