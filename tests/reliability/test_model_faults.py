"""Model faults in the model base dir: partial or corrupt pushes are refused with a logged error
while the previous version keeps serving; removed versions fall back cleanly.

tests/e2e/test_gateway_real_model.py::test_corrupt_version_is_refused_and_removed_version_falls_back covers
the basic case through the API with the poller running (garbage saved_model.pb, no variables/,
removal of the newest version). This file adds the other ways a version directory can be
broken, checks the log records themselves, that a refusal is not retried on every poll, that a
run of broken pushes cannot push the last good version out of the served set (also across a
restart), and losing every version and getting one back.
"""

import logging
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.backends.base import BackendError
from serving.backends.inprocess import InProcessBackend
from serving.settings import ServingSettings

pytestmark = pytest.mark.e2e
GOVERNING = "This Agreement shall be governed by and construed in accordance with the laws of the State of New York."


def _truncate_graph(d: Path):  # a copy that stopped half-way through saved_model.pb
    pb = d / "saved_model.pb"
    pb.write_bytes(pb.read_bytes()[: pb.stat().st_size // 2])


def _flip_variable_bytes(d: Path):  # bit rot in the weights: the checkpoint's checksums must catch it
    data = next((d / "variables").glob("variables.data-*"))
    raw = bytearray(data.read_bytes())
    for i in range(1000, len(raw), 4096):
        raw[i] ^= 0xFF
    data.write_bytes(bytes(raw))


BREAKAGES = {
    "truncated saved_model.pb": _truncate_graph,
    "corrupt variables data": _flip_variable_bytes,
    "missing variables.index": lambda d: (d / "variables" / "variables.index").unlink(),
    "missing vocabulary asset": lambda d: [p.unlink() for p in (d / "assets").iterdir() if p.is_file()],
    "empty saved_model.pb": lambda d: (d / "saved_model.pb").write_bytes(b""),
}


@pytest.fixture
def model_dir(pipeline_run, tmp_path) -> tuple[Path, int]:
    good = int(pipeline_run.model_dir.name)
    target = tmp_path / "serving" / "lexflow"
    shutil.copytree(pipeline_run.model_dir, target / str(good))
    return target, good


def test_broken_pushes_are_refused_logged_once_and_never_displace_the_good_version(model_dir, pipeline_run, caplog):
    models, good = model_dir
    broken = {}
    for offset, (what, breakage) in enumerate(BREAKAGES.items(), start=1):
        shutil.copytree(pipeline_run.model_dir, models / str(good + offset))
        breakage(models / str(good + offset))
        broken[good + offset] = what
    # A copy still in progress (Pusher writes saved_model.pb last): not a version yet, not an error.
    in_progress = good + len(BREAKAGES) + 1
    shutil.copytree(pipeline_run.model_dir, models / str(in_progress))
    (models / str(in_progress) / "saved_model.pb").rename(models / str(in_progress) / "saved_model.pb.part")

    caplog.set_level(logging.INFO, logger="serving.backends.inprocess")
    # A fresh backend (what a restarted gateway does): five broken versions are newer than the
    # good one and the backend keeps 3 versions; the good one must still be found and served.
    backend = InProcessBackend(models.parent, "lexflow", poll_seconds=60)
    try:
        assert backend.versions() == [good]
        assert backend.predict([GOVERNING]).version == good
        refusals = [
            r for r in caplog.records if r.levelno == logging.ERROR and "refusing lexflow version" in r.getMessage()
        ]
        assert sorted(int(r.args[1]) for r in refusals) == sorted(broken), [r.getMessage() for r in refusals]
        for record in refusals:
            assert str(models / str(record.args[1])) in record.getMessage()  # says which directory
        assert not any(str(in_progress) in r.getMessage() for r in caplog.records)

        caplog.clear()
        backend.refresh()  # the poller's next round: refused versions are not reloaded and re-logged
        assert backend.versions() == [good]
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

        # The in-progress copy completes: it loads, and becomes the default.
        (models / str(in_progress) / "saved_model.pb.part").rename(models / str(in_progress) / "saved_model.pb")
        backend.refresh()
        assert backend.versions() == [good, in_progress]
        assert backend.predict([GOVERNING]).version == in_progress
    finally:
        backend.close()


def test_removed_versions_fall_back_and_losing_every_version_is_a_503_until_one_returns(
    model_dir, pipeline_run, caplog, tmp_path
):
    models, good = model_dir
    newer = good + 1
    shutil.copytree(pipeline_run.model_dir, models / str(newer))
    backend = InProcessBackend(models.parent, "lexflow", poll_seconds=60)
    settings = ServingSettings(model_base_dir=models.parent, database_url=f"sqlite:///{tmp_path}/fb.sqlite")
    try:
        assert backend.versions() == [good, newer]
        with TestClient(create_app(settings, backend=backend)) as client:
            assert client.post("/v1/classify", json={"texts": GOVERNING}).json()["model_version"] == newer

            shutil.rmtree(models / str(newer))
            backend.refresh()
            assert backend.versions() == [good]
            assert client.post("/v1/classify", json={"texts": GOVERNING}).json()["model_version"] == good
            assert any(
                r.levelno == logging.WARNING and "was removed from disk" in r.getMessage() for r in caplog.records
            )
            pinned = client.post(f"/v1/classify?version={newer}", json={"texts": GOVERNING})
            assert pinned.status_code == 404 and "has no version" in pinned.json()["error"]

            shutil.rmtree(models / str(good))
            backend.refresh()
            with pytest.raises(BackendError):
                backend.predict([GOVERNING])
            gone = client.post("/v1/classify", json={"texts": GOVERNING})
            assert gone.status_code == 503 and "no loadable version" in gone.json()["error"]
            assert client.get("/readyz").status_code == 503
            assert client.get("/v1/health").json()["predictions"] == 2  # the failed request logged nothing

            shutil.copytree(pipeline_run.model_dir, models / str(good + 2))
            backend.refresh()
            back = client.post("/v1/classify", json={"texts": GOVERNING})
            assert back.status_code == 200 and back.json()["model_version"] == good + 2
    finally:
        backend.close()
