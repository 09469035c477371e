"""serving/http_protocol.py: a response leaves in one socket write, and nothing else about HTTP changes."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from serving.api.http_protocol import SMALL, OneWriteHttpToolsProtocol, _OneWriteTransport


class _Recorder(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = self.aborted = False

    def write(self, data: bytes) -> None:  # type: ignore[override]
        self.writes.append(bytes(data))

    def writelines(self, chunks) -> None:  # type: ignore[override]
        self.writes.append(b"".join(chunks))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_extra_info(self, name, default=None):  # type: ignore[override]
        return {"peername": ("127.0.0.1", 5)}.get(name, default)


def test_two_writes_of_one_turn_leave_as_one_in_order_and_a_lone_write_at_the_end_of_the_turn():
    async def scenario() -> list[list[bytes]]:
        inner = _Recorder()
        transport = _OneWriteTransport(inner, asyncio.get_running_loop())
        seen = []
        transport.write(b"head ")
        transport.write(b"body")
        seen.append(list(inner.writes))  # joined at once
        transport.write(b"next head ")
        seen.append(list(inner.writes))  # held ...
        await asyncio.sleep(0)
        seen.append(list(inner.writes))  # ... until the end of the turn
        big = b"x" * SMALL
        transport.write(b"h")
        transport.write(big)  # large bodies: joined without copying, still one write and in order
        seen.append(list(inner.writes))
        assert transport.get_extra_info("peername") == ("127.0.0.1", 5)  # the rest is the transport's
        return seen

    seen = asyncio.run(scenario())
    assert seen[0] == [b"head body"]
    assert seen[1] == [b"head body"]
    assert seen[2] == [b"head body", b"next head "]
    assert seen[3][-1] == b"h" + b"x" * SMALL and len(seen[3]) == 3


def test_close_sends_what_is_held_first_and_abort_drops_it():
    async def scenario() -> tuple[_Recorder, _Recorder]:
        loop = asyncio.get_running_loop()
        closed, aborted = _Recorder(), _Recorder()
        one = _OneWriteTransport(closed, loop)
        one.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        one.close()
        other = _OneWriteTransport(aborted, loop)
        other.write(b"never sent")
        other.abort()
        await asyncio.sleep(0)  # the end-of-turn flush finds nothing left (and a closing transport)
        return closed, aborted

    closed, aborted = asyncio.run(scenario())
    assert closed.writes == [b"HTTP/1.1 400 Bad Request\r\n\r\n"] and closed.closed
    assert aborted.writes == [] and aborted.aborted


async def _app(scope, receive, send):
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"] == "/stream":  # chunked, written over several turns of the loop
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for part in (b"one ", b"two ", b"three"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
            await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b""})
        return
    answer = b"echo:" + body
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(answer))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})


@pytest.fixture
def server() -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(_app, host="127.0.0.1", port=port, http=OneWriteHttpToolsProtocol, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not running.started and time.time() < deadline:
        time.sleep(0.02)
    yield port
    running.should_exit = True
    thread.join(10)


def _exchange(port: int, request: bytes, until: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(request)
        received = b""
        while until not in received:
            chunk = conn.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def test_keep_alive_pipelined_chunked_and_malformed_requests_over_a_real_socket(server):
    post = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
    two = post % (5, b"first") + post % (6, b"second")  # pipelined on one connection
    received = _exchange(server, two, b"echo:second")
    assert received.count(b"HTTP/1.1 200 OK\r\n") == 2
    assert received.index(b"echo:first") < received.index(b"echo:second")
    streamed = _exchange(server, b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n", b"0\r\n\r\n")
    assert b"transfer-encoding: chunked" in streamed and streamed.endswith(b"5\r\nthree\r\n0\r\n\r\n")
    assert b"one " in streamed and b"two " in streamed
    refused = _exchange(server, b"NOT HTTP AT ALL\r\n\r\n", b"\r\n\r\n")
    assert refused.startswith(b"HTTP/1.1 400")  # uvicorn's own answer, sent before it closes
