"""The in-process backend's choice of loaded versions, without TensorFlow (a fake model per version):
the newest `keep_versions` plus every version routing names, however old, while it is on disk."""

import pytest

from serving.backends import inprocess


class FakeModel:
    def __init__(self, version, path):
        if (path / "broken").exists():
            raise ValueError("corrupt SavedModel")
        self.version, self.path, self.closed = version, path, False

    def close(self):
        self.closed = True


@pytest.fixture
def base(tmp_path, monkeypatch):
    monkeypatch.setattr(inprocess, "LoadedModel", FakeModel)
    return tmp_path


def _push(base, version, broken=False):
    path = base / "lexflow" / str(version)
    path.mkdir(parents=True)
    (path / "saved_model.pb").write_bytes(b"x")
    if broken:
        (path / "broken").write_text("")


def test_a_routed_version_stays_loaded_when_newer_ones_arrive(base):
    _push(base, 1)
    backend = inprocess.InProcessBackend(base, "lexflow", keep_versions=3)
    backend.retain({1})  # production pinned to version 1
    for version in (2, 3, 4, 5):
        _push(base, version)
        backend.refresh()
    assert backend.versions() == [1, 3, 4, 5]
    backend.retain(set())  # the pin is lifted: version 1 may go
    backend.refresh()
    assert backend.versions() == [3, 4, 5]


def test_retaining_an_old_version_loads_it_and_a_broken_push_takes_no_slot(base):
    for version in (1, 2, 3, 4):
        _push(base, version)
    _push(base, 5, broken=True)
    backend = inprocess.InProcessBackend(base, "lexflow", keep_versions=2)
    assert backend.versions() == [3, 4]
    backend.retain({1})
    backend.refresh()
    assert backend.versions() == [1, 3, 4]
    (base / "lexflow" / "routing.json").write_text("{}")  # written next to the versions: ignored silently
    backend.refresh()
    assert backend.versions() == [1, 3, 4]


def test_retain_wakes_the_poller_for_a_version_not_loaded(base):
    import time

    for version in (1, 2):
        _push(base, version)
    backend = inprocess.InProcessBackend(base, "lexflow", poll_seconds=60, keep_versions=1)
    backend.start()
    try:
        assert backend.versions() == [2]
        backend.retain({1})
        deadline = time.monotonic() + 10
        while backend.versions() != [1, 2] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert backend.versions() == [1, 2]  # long before the next 60 s poll
    finally:
        backend.close()
