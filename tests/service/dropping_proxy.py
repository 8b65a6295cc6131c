"""Provides DroppingProxy: a TCP relay to the service that loses the answer to the first few matching requests.

It forwards the request, waits until the service has begun answering (so the service did the work,
and committed it), then closes the kiosk's connection without passing the answer on: the kiosk
sees its connection dropped, as behind a flaky network or a load balancer that timed out.
"""
from __future__ import annotations

import socket
import threading


class DroppingProxy:
    def __init__(self, upstream_port: int, request_prefix: bytes, drops: int = 1) -> None:
        self._upstream_port = upstream_port
        self._prefix = request_prefix
        self.drops_left = drops
        self.dropped = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True, name="dropping-proxy").start()

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self._upstream_port))
        first = client.recv(65536)
        with self._lock:
            drop = first.startswith(self._prefix) and self.drops_left > 0
            if drop:
                self.drops_left -= 1
        upstream.sendall(first)
        forward = threading.Thread(target=_pipe, args=(client, upstream), daemon=True)
        forward.start()
        if drop:
            upstream.recv(1)  # the service answers: its transaction is over
            self.dropped += 1
            client.shutdown(socket.SHUT_RDWR)
            client.close()
            upstream.close()
            return
        _pipe(upstream, client)


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        for end in (source, target):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
