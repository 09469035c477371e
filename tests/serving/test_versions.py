"""Version directories: odd names are ignored with one warning, not one per poll."""

import logging

from serving.backends.versions import VersionDirectory


def test_odd_entries_are_skipped_and_reported_once(tmp_path, caplog):
    model_dir = tmp_path / "lexflow"
    for name in ("5", "12", "99999999999999999999", "²", "007", "backup", ".staging-13"):
        (model_dir / name).mkdir(parents=True)
        (model_dir / name / "saved_model.pb").write_bytes(b"x")
    (model_dir / "14").mkdir()  # still being copied: no saved_model.pb yet
    (model_dir / "routing.json").write_text("{}")
    caplog.set_level(logging.WARNING, logger="lexflow.gateway")
    directory = VersionDirectory(model_dir)
    for _ in range(3):  # three polls
        assert sorted(directory.scan()) == [5, 12]
    warned = sorted(r.getMessage().split("'")[1] for r in caplog.records)
    assert warned == sorted(["99999999999999999999", "²", "007", "backup"])
    assert VersionDirectory(tmp_path / "missing").scan() == {}
