"""A hostile peer on loopback: it drips its answer one byte at a time, and counts what it got out.

Counting the bytes it managed to send before the gateway hung up is how a test proves an outbound call has a
total deadline without timing anything: a per-read timeout lets the whole drip through, a deadline cuts it.
"""

from __future__ import annotations

import socket
import threading
import time

HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n"


class SlowPeer:
    """Accepts connections and sends ``HEADERS`` then a body, or only the status line, a byte per ``interval``.

    ``drip="headers"`` drips from the first byte of the status line; ``drip="body"`` sends the headers at once.
    """

    def __init__(self, *, interval: float, total_bytes: int = 400, drip: str = "headers") -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._interval = interval
        self._total = total_bytes
        self._drip = drip
        self._lock = threading.Lock()
        self.connections = 0
        self.open = 0
        self.sent: list[int] = []  # bytes dripped on each finished connection before the client went away
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True, name=f"slow-peer-{self.port}").start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self.open += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        sent = 0
        try:
            conn.settimeout(5)
            conn.recv(65536)  # the request (its first packet is enough)
            if self._drip == "body":
                conn.sendall(HEADERS)
            payload = (b"" if self._drip == "body" else HEADERS) + b" " * self._total
            for i in range(len(payload)):
                if self._stop.is_set():
                    break
                conn.sendall(payload[i:i + 1])
                sent += 1
                time.sleep(self._interval)
        except OSError:
            pass  # the client hung up: what we want to count
        finally:
            conn.close()
            with self._lock:
                self.sent.append(sent)
                self.open -= 1

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
