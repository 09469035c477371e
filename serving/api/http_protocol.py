"""uvicorn's httptools protocol with each response sent in one socket write.

uvicorn writes a response's status line and headers (`http.response.start`) and then its body
(`http.response.body`) with one `transport.write` each: two `send(2)` calls, two TCP segments,
and, on a loopback or a fast network, often two wake-ups of the client. Under load the socket
writes were the largest single item of the gateway's event loop (BENCHMARKS.md, Serving). Here
the first write of a response is held until the next one joins it, or until the end of the
current turn of the event loop, whichever comes first: a response written as head and body in
one go leaves in one write, and nothing waits longer than one turn of the loop. Ordering and
everything else about the transport are unchanged.

`lexflow serve` runs the gateway with it (`uvicorn.run(app, http=OneWriteHttpToolsProtocol)`);
`uvicorn serving.app:app` runs with uvicorn's own protocol and behaves the same, one write more.
"""

from __future__ import annotations

import asyncio
from typing import Any, Optional, Union, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

SMALL = 64 * 1024  # joined by concatenation below this size (cheaper than a vectored write)


class _OneWriteTransport:
    """A transport whose consecutive writes within one turn of the event loop leave together."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self._transport = transport
        self._loop = loop
        self._held: Optional[bytes] = None

    def write(self, data: Union[bytes, bytearray, memoryview]) -> None:
        held = self._held
        if held is None:
            self._held = bytes(data)
            self._loop.call_soon(self.flush)
            return
        self._held = None
        if len(held) + len(data) <= SMALL:
            self._transport.write(held + data)
        else:
            self._transport.writelines((held, data))

    def flush(self) -> None:
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:  # everything else is the transport's own
        return getattr(self._transport, name)


class OneWriteHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(cast(asyncio.Transport, _OneWriteTransport(transport, self.loop)))
