"""A bad mobile link for tests and the bench: a loopback TCP proxy that throttles, delays and cuts.

    with BadLink(("127.0.0.1", hub_port), kbps=50, rtt=0.5, cut_every=30) as link:
        run_client(link.url)                 # http://127.0.0.1:<port>
        link.bytes_up, link.bytes_down       # payload bytes that crossed the link each way

ALGORITHM:
- Each direction is one line of `kbps` kilobits per second shared by every connection, as a modem's is: a chunk
  of n bytes takes the line for n * 8 / (kbps * 1000) seconds after the line is free, then arrives `rtt / 2`
  later. A reader thread schedules the chunks and a writer thread delivers them on time, so latency does not
  eat into the rate. Reading ahead is bounded (a modem's buffer), so a sender feels the rate too.
- A new connection's first bytes wait one round trip more (the TCP handshake over the link).
- Every `cut_every` seconds since the start the link drops: every open connection is reset (both sides get a
  connection reset), and for `down_for` seconds new connections are reset at once.
- It listens on 127.0.0.1 only, forwards to a loopback address only, and stops by itself after `lifetime`
  seconds (or on `stop()` / leaving the `with` block). Threads are daemons.
"""

from __future__ import annotations

import queue
import socket
import struct
import threading
import time
from typing import Any

CHUNK = 1024
BUFFER_CHUNKS = 16  # how far a reader may run ahead of the line: 16 KiB, a modem's buffer


class _Line:
    """One direction of the link: its rate, shared by every connection."""

    def __init__(self, bytes_per_second: float) -> None:
        self.rate = bytes_per_second
        self.free_at = 0.0
        self.lock = threading.Lock()

    def schedule(self, size: int, not_before: float) -> float:
        """When a chunk of `size` bytes, ready at `not_before`, has crossed the line."""
        with self.lock:
            start = max(time.monotonic(), not_before, self.free_at)
            self.free_at = start + size / self.rate
            return self.free_at

    def release(self) -> None:
        """Forget the chunks scheduled but not yet sent (their connections were cut)."""
        with self.lock:
            self.free_at = min(self.free_at, time.monotonic())


class BadLink:
    """The proxy; see the module's docstring."""

    def __init__(self, target: tuple[str, int], *, kbps: float = 50, rtt: float = 0.5, cut_every: float | None = 30,
                 down_for: float = 0.0, lifetime: float = 900.0) -> None:
        host, port = target
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError("BadLink forwards to the loopback interface only")
        self.target = ("127.0.0.1", port)
        self.rtt, self.cut_every, self.down_for, self.lifetime = rtt, cut_every, down_for, lifetime
        self.up, self.down = _Line(kbps * 1000 / 8), _Line(kbps * 1000 / 8)
        self.bytes_up = self.bytes_down = 0
        self.connections = self.cuts = 0
        self._lock = threading.Lock()
        self._open: set[tuple[socket.socket, socket.socket]] = set()
        self._finished: dict[tuple[socket.socket, socket.socket], int] = {}
        self._stop = threading.Event()
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(16)
        self._server.settimeout(0.05)
        self.port = int(self._server.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._started = 0.0
        self._thread = threading.Thread(target=self._serve, name="badlink", daemon=True)

    def __enter__(self) -> BadLink:
        return self.start()

    def __exit__(self, *_exc: Any) -> None:
        self.stop()

    def start(self) -> BadLink:
        """Start listening and forwarding."""
        self._started = time.monotonic()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Reset every connection and stop listening."""
        self._stop.set()
        self._cut_all()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)
        self._server.close()

    def _epoch(self) -> int:
        return int((time.monotonic() - self._started) // self.cut_every) if self.cut_every else 0

    def _down(self) -> bool:
        if not self.cut_every or not self.down_for:
            return False
        return (time.monotonic() - self._started) % self.cut_every < self.down_for and self._epoch() > 0

    def _serve(self) -> None:
        epoch = 0
        while not self._stop.is_set():
            if time.monotonic() - self._started > self.lifetime:
                self._stop.set()
                self._cut_all()
                break
            if self._epoch() != epoch:
                epoch = self._epoch()
                self.cuts += 1
                self._cut_all()
            try:
                client, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            if self._down():
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            self.connections += 1
            pair = (client, upstream)
            with self._lock:
                self._open.add(pair)
            ready = time.monotonic() + self.rtt  # the handshake's round trip over the link
            for source, sink, line, up in ((client, upstream, self.up, True), (upstream, client, self.down, False)):
                pipe: queue.Queue[tuple[float, bytes] | None] = queue.Queue(BUFFER_CHUNKS)
                threading.Thread(target=self._read, args=(source, line, pipe, ready, pair), daemon=True).start()
                threading.Thread(target=self._write, args=(sink, pipe, up, pair), daemon=True).start()

    def _read(self, source: socket.socket, line: _Line, pipe: queue.Queue[tuple[float, bytes] | None],
              ready: float, pair: tuple[socket.socket, socket.socket]) -> None:
        try:
            while True:
                data = source.recv(CHUNK)
                if not data:
                    break
                crossed = line.schedule(len(data), ready)
                pipe.put((crossed + self.rtt / 2, data))
        except OSError:
            pass
        pipe.put(None)

    def _write(self, sink: socket.socket, pipe: queue.Queue[tuple[float, bytes] | None], up: bool,
               pair: tuple[socket.socket, socket.socket]) -> None:
        try:
            while True:
                item = pipe.get()
                if item is None or pair not in self._open:
                    break
                due, data = item
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                if pair not in self._open:
                    break
                sink.sendall(data)
                with self._lock:
                    if up:
                        self.bytes_up += len(data)
                    else:
                        self.bytes_down += len(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(pair)
            return
        with self._lock:
            self._finished[pair] = self._finished.get(pair, 0) + 1
            both = self._finished[pair] == 2
        if both:  # both directions ended normally
            with self._lock:
                self._open.discard(pair)
                self._finished.pop(pair, None)
            for sock in pair:
                sock.close()

    def _close(self, pair: tuple[socket.socket, socket.socket]) -> None:
        with self._lock:
            if pair not in self._open:
                return
            self._open.discard(pair)
            self._finished.pop(pair, None)
        for sock in pair:
            _reset(sock)

    def _cut_all(self) -> None:
        with self._lock:
            pairs = list(self._open)
        for pair in pairs:
            self._close(pair)
        for line in (self.up, self.down):  # what was buffered for the line is gone with the connections
            line.release()


def _reset(sock: socket.socket) -> None:
    """Close with a reset (SO_LINGER 0), as a dropped link looks to both ends."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RD)  # wakes a thread blocked reading it; close alone would not
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
