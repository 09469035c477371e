"""Per-client quotas for calls without a valid API key: requests and request-body bytes per minute.

Token buckets per client address (the peer, or the first address of `client_ip_header` behind a
proxy): each holds a minute's allowance and refills continuously, so a client may burst up to
its quota and then proceeds at the quota's rate. A call over either quota gets a JSON 429 with
`Retry-After` (seconds until it would pass) and is not read further. Clients presenting the
API key, and the probes and metrics scrapes, are not counted. Quotas are per replica (memory,
not the store): with N replicas behind a load balancer a client gets up to N times the quota.

Pure ASGI, outside the body-size limit and the classify fast path, so it counts every request.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Optional

from pydantic import SecretStr
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving.access.auth import key_from_asgi_headers, key_matches

EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class _Refused:
    path = "(quota)"  # the route label refused calls are counted under (lexflow_requests_total)


REFUSED = _Refused()
MAX_CLIENTS = 10_000  # beyond this, idle (full) buckets are forgotten


@dataclass
class TokenBucket:
    capacity: float  # one minute's allowance
    tokens: float
    updated: float

    @classmethod
    def full(cls, per_minute: float, now: float) -> TokenBucket:
        return cls(per_minute, per_minute, now)

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.capacity / 60.0)
        self.updated = now

    def wait_for(self, amount: float) -> float:
        """Seconds until `amount` tokens are there (0: now). More than a minute's allowance never is."""
        if amount > self.capacity:
            return math.inf
        return max(0.0, (amount - self.tokens) * 60.0 / self.capacity)


class ClientQuotas:
    def __init__(
        self,
        app: ASGIApp,
        requests_per_minute: Optional[int],
        bytes_per_minute: Optional[int],
        api_key: Optional[SecretStr],
        client_ip_header: Optional[str] = None,
    ):
        self.app = app
        self.requests_per_minute, self.bytes_per_minute = requests_per_minute, bytes_per_minute
        self.api_key = api_key
        self.client_ip_header = client_ip_header.lower().encode("latin-1") if client_ip_header else None
        self._buckets: dict[str, tuple[Optional[TokenBucket], Optional[TokenBucket]]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        if key_matches(self.api_key, key_from_asgi_headers(headers)):
            await self.app(scope, receive, send)
            return
        declared = dict(headers).get(b"content-length", b"")
        size = int(declared) if declared.isdigit() and len(declared) < 16 else None
        requests, body = self._buckets_of(self._client(scope))
        wait = self._charge(requests, body, size or 0)
        if wait > 0:
            scope["route"] = REFUSED
            await _too_many(send, wait, self._describe())
            return
        if size is None and body is not None:
            receive = _counting(receive, body)  # chunked: charged as it arrives, refused next time
        await self.app(scope, receive, send)

    def _describe(self) -> str:
        limits = [f"{self.requests_per_minute} requests"] if self.requests_per_minute else []
        limits += [f"{self.bytes_per_minute} body bytes"] if self.bytes_per_minute else []
        return f"at most {' and '.join(limits)} per minute per client without the API key"

    def _client(self, scope: Scope) -> str:
        if self.client_ip_header is not None:
            for name, value in scope["headers"]:
                if name == self.client_ip_header:
                    return value.decode("latin-1").split(",")[0].strip()[:64]
        client = scope.get("client")
        return str(client[0]) if client else "unknown"

    def _buckets_of(self, client: str) -> tuple[Optional[TokenBucket], Optional[TokenBucket]]:
        now = time.monotonic()
        found = self._buckets.get(client)
        if found is None:
            if len(self._buckets) >= MAX_CLIENTS:
                self._forget_idle(now)
            found = self._buckets[client] = (
                TokenBucket.full(self.requests_per_minute, now) if self.requests_per_minute else None,
                TokenBucket.full(self.bytes_per_minute, now) if self.bytes_per_minute else None,
            )
        for bucket in found:
            if bucket is not None:
                bucket.refill(now)
        return found

    @staticmethod
    def _charge(requests: Optional[TokenBucket], body: Optional[TokenBucket], size: int) -> float:
        """Take one request and `size` bytes, or nothing and the seconds to wait."""
        wait = max(
            requests.wait_for(1) if requests is not None else 0.0,
            body.wait_for(size) if body is not None else 0.0,
        )
        if wait > 0:
            return wait
        if requests is not None:
            requests.tokens -= 1
        if body is not None:
            body.tokens -= size
        return 0.0

    def _forget_idle(self, now: float) -> None:
        for client, buckets in list(self._buckets.items()):
            for bucket in buckets:
                if bucket is not None:
                    bucket.refill(now)
            if all(b is None or b.tokens >= b.capacity for b in buckets):
                del self._buckets[client]


def _counting(receive: Receive, bucket: TokenBucket) -> Receive:
    async def counted() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            bucket.tokens -= len(message.get("body", b""))
        return message

    return counted


async def _too_many(send: Send, wait: float, quota: str) -> None:
    retry_after = 60 if math.isinf(wait) else max(1, math.ceil(wait))
    reason = "the request body alone exceeds the quota" if math.isinf(wait) else "quota exceeded"
    message = f"{reason} ({quota}); retry after {retry_after} s, or authenticate with X-API-Key"
    payload = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"retry-after", str(retry_after).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
