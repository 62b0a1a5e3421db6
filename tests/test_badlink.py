"""The test link itself: it throttles each way, adds latency, cuts every connection on its period, stops alone."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.badlink import BadLink


@pytest.fixture
def echo_server():
    """A loopback server that answers each connection with as many bytes as it was sent, doubled."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.1)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                data = b""
                try:
                    while chunk := conn.recv(65536):
                        data += chunk
                    conn.sendall(data * 2)
                except OSError:  # the link cut the connection
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=2)
    server.close()


def exchange(port: int, payload: bytes) -> tuple[bytes, float]:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer, time.monotonic() - started


def test_the_link_throttles_each_way_and_adds_latency(echo_server):
    with BadLink(("127.0.0.1", echo_server), kbps=400, rtt=0.2, cut_every=None) as link:
        quick, quick_seconds = exchange(link.port, b"x")
        answer, seconds = exchange(link.port, b"y" * 25_000)
    assert quick == b"xx" and 0.3 <= quick_seconds < 1.0  # handshake and one round trip
    assert answer == b"y" * 50_000
    # 25 kB up and 50 kB down at 50 kB/s each way: at least 1 s on the line, plus the round trips
    assert 1.3 <= seconds < 3.5, seconds
    assert (link.bytes_up, link.bytes_down) == (25_001, 50_002)


def test_every_connection_is_cut_on_the_period(echo_server):
    with BadLink(("127.0.0.1", echo_server), kbps=80, rtt=0.05, cut_every=1.0) as link:
        with pytest.raises(OSError):
            exchange(link.port, b"z" * 30_000)  # 3 s up at 10 kB/s: cut after at most 1 s
        assert link.cuts >= 1
        time.sleep(0.05)
        assert exchange(link.port, b"ok")[0] == b"okok"  # the next connection works


def test_the_link_listens_on_loopback_only_and_stops_by_itself(echo_server):
    with pytest.raises(ValueError):
        BadLink(("10.0.0.1", echo_server))
    link = BadLink(("127.0.0.1", echo_server), lifetime=0.3).start()
    assert link._server.getsockname()[0] == "127.0.0.1"
    time.sleep(0.6)
    assert not link._thread.is_alive()
    link.stop()
