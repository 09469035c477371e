"""Clients without the API key flooding /v1/classify with large batches (the issue's scenario: the
store grew by 470 MB in 15 s): per-client byte and request quotas bound what each one can store,
while another client keeps being served. Stand-in model, real SQLite store, real middleware."""

import threading
import time

from sqlalchemy import func, select

from feedback.tables import PredictionRow
from tests.serving.conftest import gateway

QUOTA_BYTES = 4 * 1024 * 1024  # per minute, per client
BATCH = {"texts": ["governed by the laws of " + "x" * 19_000] * 32}  # ~600 kB per request


def _flood(client, address: str, stop: threading.Event, statuses: list) -> None:
    while not stop.is_set():
        answer = client.post("/v1/classify", json=BATCH, headers={"X-Forwarded-For": address})
        statuses.append(answer.status_code)
        if answer.status_code == 429:
            assert int(answer.headers["Retry-After"]) >= 1
            time.sleep(0.05)


def _stored_bytes(client) -> int:
    with client.app.state.gateway.store.session() as session:
        return session.scalar(select(func.coalesce(func.sum(func.length(PredictionRow.text)), 0)))


def _scenario(tmp_path, **settings) -> dict:
    with gateway(tmp_path, client_ip_header="X-Forwarded-For", **settings) as client:
        stop, floods, normal = threading.Event(), [[] for _ in range(4)], []
        threads = [threading.Thread(target=_flood, args=(client, f"203.0.113.{i}", stop, floods[i])) for i in range(4)]
        for thread in threads:
            thread.start()
        start = time.monotonic()
        while time.monotonic() - start < 5:
            answer = client.post(
                "/v1/classify", json={"texts": "Governed by Delaware law."}, headers={"X-Forwarded-For": "198.51.100.9"}
            )
            normal.append(answer.status_code)
            time.sleep(0.02)  # a person's client, well inside the 600 requests/min quota it is also under
        stop.set()
        for thread in threads:
            thread.join()
        return {
            "elapsed": time.monotonic() - start,
            "stored": _stored_bytes(client),
            "accepted": sum(s == 200 for f in floods for s in f),
            "refused": sum(s == 429 for f in floods for s in f),
            "other": sum(s != 429 for f in floods for s in f if s != 200),
            "normal": normal,
        }


def test_byte_quota_bounds_what_unauthenticated_floods_store(tmp_path):
    limited = _scenario(tmp_path / "quota", quota_bytes_per_minute=QUOTA_BYTES, quota_requests_per_minute=600)
    # Each flooding client stored at most its allowance: a minute's worth at once, then the quota's rate
    # (the JSON body is a bit larger than the texts it carries).
    assert limited["stored"] <= 4 * QUOTA_BYTES * (1 + limited["elapsed"] / 60), limited["stored"]
    assert limited["refused"] > 0 and limited["other"] == 0
    assert limited["normal"] and all(s == 200 for s in limited["normal"]), sorted(set(limited["normal"]))
    unlimited = _scenario(tmp_path / "open")  # the same flood without quotas, for comparison
    for name, run in (("quota 4 MiB/min/client", limited), ("no quota", unlimited)):
        print(
            f"\n{name}: 4 flooding clients for {run['elapsed']:.1f} s: {run['accepted']} batches accepted,"
            f" {run['refused']} refused (429), {run['stored'] / 2**20:.1f} MiB of text stored;"
            f" the other client: {sum(s == 200 for s in run['normal'])} requests answered 200"
        )
