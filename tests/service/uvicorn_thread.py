"""Provides ServiceThread: a real uvicorn serving an application on 127.0.0.1 at a free port, in a thread of the test process."""
from __future__ import annotations

import socket
import threading

import uvicorn
from fastapi import FastAPI

START_TIMEOUT_S = 30


class _Server(uvicorn.Server):
    """uvicorn's server, telling when it listens (an event to wait on, not a poll)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.listening.set()


class ServiceThread:
    """uvicorn on a socket bound to 127.0.0.1:0 before it starts, so the port is known and cannot be taken."""

    def __init__(self, app: FastAPI, port: int = 0) -> None:
        """`port`: 0 for a free one; a given one serves again where a stopped server was (a service restarted)."""
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket.bind(("127.0.0.1", port))
        self.port = self._socket.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_keep_alive=30)
        self._server = _Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name=f"uvicorn-{self.port}", daemon=True)

    def start(self) -> ServiceThread:
        self._thread.start()
        if not self._server.listening.wait(START_TIMEOUT_S) or not self._thread.is_alive():
            raise RuntimeError(f"uvicorn did not start listening on {self.base_url}")
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(START_TIMEOUT_S)
        self._socket.close()
