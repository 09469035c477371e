"""Backend that calls a TensorFlow Serving over its REST API (port 8501)."""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from typing import Any, Optional

import anyio.to_thread
import httpx

from serving.backends.base import BackendError, ModelBackend, Prediction, UnknownVersion


class TFServingRestBackend(ModelBackend):
    def __init__(self, url: str, model_name: str, timeout: float = 10.0, status_ttl: float = 1.0):
        self.model_name = model_name
        self._client = httpx.Client(base_url=url.rstrip("/"), timeout=timeout)
        self._status_ttl = status_ttl
        self._status: tuple[float, list[int]] = (0.0, [])
        self._classes: dict[int, list[str]] = {}

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise BackendError(f"TF Serving at {self._client.base_url} unreachable: {exc}") from None
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if response.status_code == 404:
            raise UnknownVersion(body.get("error", f"not found: {path}"))
        if response.status_code >= 400:
            raise BackendError(f"TF Serving answered {response.status_code}: {body.get('error', response.text[:200])}")
        return body

    def versions(self) -> list[int]:
        fetched_at, versions = self._status
        if time.monotonic() - fetched_at > self._status_ttl:
            try:
                status = self._call("GET", f"/v1/models/{self.model_name}")
            except (BackendError, UnknownVersion):
                return []
            versions = sorted(
                int(s["version"]) for s in status.get("model_version_status", []) if s.get("state") == "AVAILABLE"
            )
            self._status = (time.monotonic(), versions)
        return versions

    def predict(self, texts: Sequence[str], version: Optional[int] = None) -> Prediction:
        path = f"/v1/models/{self.model_name}" + (f"/versions/{version}" if version is not None else "") + ":predict"
        body = self._call("POST", path, json={"instances": list(texts)})
        rows = body.get("predictions")
        if not isinstance(rows, list) or len(rows) != len(texts):
            raise BackendError("TF Serving returned a malformed predictions list")
        served = version if version is not None else (max(self.versions()) if self.versions() else -1)
        return Prediction(
            version=served,
            classes=list(rows[0]["classes"]) if rows else [],
            scores=[row["scores"] for row in rows],
            labels=[row["label"] for row in rows],
        )

    def classes(self, version: Optional[int] = None) -> list[str]:
        key = version if version is not None else -1
        if key not in self._classes:
            self._classes[key] = self.predict(["warm-up"], version).classes
        return self._classes[key]

    async def predict_async(self, texts: Sequence[str], version: Optional[int] = None) -> Prediction:
        # A blocking client in a worker thread: the event loop stays free while TF Serving answers.
        return await anyio.to_thread.run_sync(functools.partial(self.predict, list(texts), version))

    def start(self) -> None:
        pass  # TF Serving loads and polls versions itself

    def close(self) -> None:
        self._client.close()
