"""The API key: how a client presents it and whether it matches (shared by the route dependency
`deps.require_api_key` and the quota middleware, which exempts authenticated clients)."""

from __future__ import annotations

import secrets
from typing import Optional

from pydantic import SecretStr


def presented_key(x_api_key: Optional[str], authorization: Optional[str]) -> Optional[str]:
    """`X-API-Key`, else the token of `Authorization: Bearer <token>`."""
    bearer = authorization[7:] if authorization and authorization.lower().startswith("bearer ") else None
    return x_api_key or bearer


def key_matches(expected: Optional[SecretStr], given: Optional[str]) -> bool:
    """True when a key is configured and `given` is it (constant-time comparison)."""
    if expected is None or given is None:
        return False
    return secrets.compare_digest(given.encode(), expected.get_secret_value().encode())


def key_from_asgi_headers(headers: list[tuple[bytes, bytes]]) -> Optional[str]:
    found = {name: value.decode("latin-1") for name, value in headers if name in (b"x-api-key", b"authorization")}
    return presented_key(found.get(b"x-api-key"), found.get(b"authorization"))
