"""A hard per-host deadline for collectors that block on network I/O.

paramiko and netmiko each have several timeouts (TCP connect, SSH banner, authentication, each read),
and their sum can be far larger than what an operator asked for with --timeout; a host that accepts TCP
and then never speaks SSH would hold a worker for the banner timeout, then some. So every collector
opens its TCP socket itself, passes it to paramiko/netmiko, and registers it with the `Watchdog`: when
the host's deadline passes, the watchdog shuts the socket down, which makes any blocked read in the
library fail at once. The runner then reports the host as `timeout`.
"""
from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from .messages import HostProblem


class Deadline:
    """A point in time (monotonic clock) by which one host's collection must be finished."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self, floor: float = 0.05) -> float:
        """Seconds left, at least `floor` so it can be passed as a library timeout."""
        return max(floor, self.end - time.monotonic())

    @property
    def expired(self) -> bool:
        """True once the deadline has passed, or is so close that a library timeout set from remaining()
        (e.g. paramiko's banner timeout) fired a moment before it: either way the host ran out of time."""
        return time.monotonic() >= self.end - min(0.5, 0.05 * self.seconds)


class Unreachable(HostProblem):
    """No TCP connection could be made to the host's management port."""

    status = "unreachable"


def open_socket(address: str, port: int, deadline: Deadline) -> socket.socket:
    """TCP connection to the host within the deadline; raises Unreachable with the reason."""
    try:
        sock = socket.create_connection((address, port), timeout=deadline.remaining())
    except (socket.timeout, TimeoutError):
        raise Unreachable("tcp_timeout", address=address, port=port, seconds=f"{deadline.seconds:g}") from None
    except OSError as e:
        raise Unreachable("tcp_error", address=address, port=port, error=e.strerror or str(e)) from None
    sock.settimeout(None)  # reads are bounded by the libraries' own timeouts and by the watchdog
    return sock


class Watchdog:
    """One background thread that shuts down the sockets of hosts whose deadline has passed."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, socket.socket]] = []
        self._live: set[int] = set()
        self._ids = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="audit-watchdog", daemon=True)
        self._thread.start()

    @contextmanager
    def guard(self, sock: socket.socket, deadline: Deadline) -> Iterator[None]:
        """Within the block, `sock` is shut down if the deadline passes; the socket is closed on exit."""
        ident = next(self._ids)
        with self._cond:
            self._live.add(ident)
            heapq.heappush(self._heap, (deadline.end, ident, sock))
            self._cond.notify()
        try:
            yield
        finally:
            with self._cond:
                self._live.discard(ident)
            sock.close()

    def _run(self) -> None:
        with self._cond:
            while not self._stopped:
                if not self._heap:
                    self._cond.wait()
                    continue
                end, ident, sock = self._heap[0]
                wait = end - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                if ident in self._live:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass  # already closed by its owner

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        self._thread.join(timeout=1)
