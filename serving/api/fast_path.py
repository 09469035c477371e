"""ASGI middleware that gives one route a hand-written fast path.

`handler(scope, body)` returns a Response, or None to let the application answer as usual
(the body is replayed to it). Other methods and paths go straight to the application.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Optional

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Handler = Callable[[Scope, bytes], Awaitable[Optional[Response]]]


class FastPath:
    def __init__(self, app: ASGIApp, method: str, path: str, handler: Handler):
        self.app, self.method, self.path, self.handler = app, method, path, handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != self.method:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:  # the client went away before sending its body
            return
        response = await self.handler(scope, body)
        if response is not None:
            await response(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


async def _read_body(receive: Receive) -> Optional[bytes]:
    chunks, more = [], True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        message: dict[str, Any] = {"type": "http.request", "body": body, "more_body": False}
        return message

    return replay


class JsonBody(Response):
    """A 200 `application/json` response of ready bytes: Response's own constructor (rendering,
    header assembly for any media type) costs as much as encoding the body."""

    media_type = "application/json"

    def __init__(self, body: bytes):
        self.status_code = 200
        self.background = None
        self.body = body
        self.raw_headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]


def is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"content-type":
            return value.split(b";", 1)[0].strip().lower() == b"application/json"
    return False
