"""Backend that calls a TensorFlow Serving over its REST API (port 8501).

The gateway resolves labels and the canary share to an explicit version, so every call names
`/versions/<N>` and the version logged is the one that answered (TF Serving's REST predict
response does not say which version answered; a call for version N is answered by N or fails).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Optional

import anyio.to_thread
import httpx

from serving.backends.base import BackendError, ModelBackend, Prediction, UnknownVersion
from serving.backends.status_poll import VersionPoller


class TFServingRestBackend(ModelBackend):
    def __init__(
        self,
        url: str,
        model_name: str,
        timeout: float = 10.0,
        status_ttl: float = 1.0,
        transport: Optional[httpx.BaseTransport] = None,
    ):
        self.model_name = model_name
        self._client = httpx.Client(base_url=url.rstrip("/"), timeout=timeout, transport=transport)
        self._status = VersionPoller(self._available, status_ttl, name="tfserving-rest-status")
        self._classes: dict[int, list[str]] = {}

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise BackendError(f"TF Serving at {self._client.base_url} unreachable: {exc}") from None
        try:
            body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        except ValueError:
            body = {}
        if response.status_code == 404:
            raise UnknownVersion(body.get("error", f"not found: {path}"))
        if response.status_code >= 400:
            raise BackendError(f"TF Serving answered {response.status_code}: {body.get('error', response.text[:200])}")
        return body if isinstance(body, dict) else {}

    def _available(self) -> list[int]:
        status = self._call("GET", f"/v1/models/{self.model_name}")
        return [int(s["version"]) for s in status.get("model_version_status", []) if s.get("state") == "AVAILABLE"]

    def versions(self) -> list[int]:
        return self._status.versions()

    def _resolve(self, version: Optional[int]) -> int:
        return self._status.resolve(version, self.model_name)

    def predict(self, texts: Sequence[str], version: Optional[int] = None) -> Prediction:
        served = self._resolve(version)
        body = self._call(
            "POST", f"/v1/models/{self.model_name}/versions/{served}:predict", json={"instances": list(texts)}
        )
        rows = body.get("predictions")
        if not isinstance(rows, list) or len(rows) != len(texts):
            raise BackendError("TF Serving returned a malformed predictions list")
        try:
            return Prediction(
                version=served,
                classes=list(rows[0]["classes"]) if rows else [],
                scores=[row["scores"] for row in rows],
                labels=[row["label"] for row in rows],
            )
        except (KeyError, TypeError):
            raise BackendError("TF Serving returned predictions without scores/classes/label") from None

    def classes(self, version: Optional[int] = None) -> list[str]:
        served = self._resolve(version)
        if served not in self._classes:
            self._classes[served] = self.predict(["warm-up"], served).classes
        return self._classes[served]

    def signature_defs(self, version: int) -> dict[str, Any]:
        body = self._call("GET", f"/v1/models/{self.model_name}/versions/{version}/metadata")
        signatures = body.get("metadata", {}).get("signature_def")
        if not isinstance(signatures, dict):
            raise BackendError("TF Serving returned metadata without a signature_def map")
        return signatures

    async def predict_async(self, texts: Sequence[str], version: Optional[int] = None) -> Prediction:
        # A blocking client in a worker thread: the event loop stays free while TF Serving answers.
        return await anyio.to_thread.run_sync(functools.partial(self.predict, list(texts), version))

    def retain(self, versions: set[int]) -> None:
        pass  # TF Serving decides what is loaded: the gateway's TF Serving config lists routed versions

    def start(self) -> None:
        self._status.start()  # TF Serving loads and polls versions itself; we follow its status

    def close(self) -> None:
        self._status.stop()
        self._client.close()
