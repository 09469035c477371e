"""Per-client quotas for calls without the API key: requests and body bytes per minute, 429 + Retry-After."""

import pytest

from serving.access import quotas
from serving.access.quotas import TokenBucket
from tests.serving.conftest import gateway
from tests.serving.stand_in import GOVERNING


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(quotas.time, "monotonic", clock)
    return clock


def test_request_quota_refuses_with_retry_after_and_refills(tmp_path, clock):
    with gateway(tmp_path, quota_requests_per_minute=3, api_key="k") as client:
        answers = [client.post("/v1/classify", json={"texts": GOVERNING}) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        refused = answers[-1]
        assert refused.headers["Retry-After"] == "20" and "3 requests" in refused.json()["error"]
        assert client.get("/readyz").status_code == 200 and client.get("/metrics").status_code == 200  # not counted
        keyed = client.post("/v1/classify", json={"texts": GOVERNING}, headers={"X-API-Key": "k"})
        assert keyed.status_code == 200  # authenticated callers are not limited
        other = client.post("/v1/classify", json={"texts": GOVERNING}, headers={"X-API-Key": "wrong"})
        assert other.status_code == 429
        clock.now += 20  # a third of a minute: one request's worth
        assert client.post("/v1/classify", json={"texts": GOVERNING}).status_code == 200
        assert client.post("/v1/classify", json={"texts": GOVERNING}).status_code == 429


def test_byte_quota_counts_declared_and_chunked_bodies(tmp_path, clock):
    with gateway(tmp_path, quota_bytes_per_minute=4096) as client:
        big = {"texts": "governed " * 300}  # ~2.7 kB
        assert client.post("/v1/classify", json=big).status_code == 200
        refused = client.post("/v1/classify", json=big)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        huge = client.post("/v1/classify", json={"texts": "x" * 5000})
        assert huge.status_code == 429 and "alone exceeds" in huge.json()["error"]
        assert huge.headers["Retry-After"] == "60"
        clock.now += 60
        body = iter([b'{"texts": "', b"governed " * 500, b'"}'])
        chunked = client.post("/v1/classify", content=body, headers={"Content-Type": "application/json"})
        assert chunked.status_code == 200  # no Content-Length: charged as it arrives ...
        assert client.post("/v1/classify", json={"texts": "a"}).status_code == 429  # ... and felt next time
        assert client.app.state.gateway.store.counts()["predictions"] == 2  # refused calls stored nothing


def test_clients_are_told_apart_by_the_proxy_header_when_configured(tmp_path, clock):
    with gateway(tmp_path, quota_requests_per_minute=1, client_ip_header="X-Forwarded-For") as client:
        first = {"X-Forwarded-For": "203.0.113.7, 10.0.0.1"}
        second = {"X-Forwarded-For": "198.51.100.2"}
        assert client.post("/v1/classify", json={"texts": GOVERNING}, headers=first).status_code == 200
        assert client.post("/v1/classify", json={"texts": GOVERNING}, headers=first).status_code == 429
        assert client.post("/v1/classify", json={"texts": GOVERNING}, headers=second).status_code == 200
        metrics = client.get("/metrics").text
        assert 'lexflow_requests_total{route="(quota)",status="429"} 1.0' in metrics


def test_token_bucket_waits_and_never_grants_more_than_a_minute():
    bucket = TokenBucket.full(60, now=0.0)
    bucket.tokens = 0
    assert bucket.wait_for(1) == pytest.approx(1.0)
    bucket.refill(30.0)
    assert bucket.tokens == pytest.approx(30) and bucket.wait_for(30) == 0
    bucket.refill(1000.0)
    assert bucket.tokens == 60 and bucket.wait_for(61) == float("inf")
