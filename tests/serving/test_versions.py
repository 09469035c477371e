"""Version numbers and version directories: odd names are ignored with one warning, not one per poll."""

import logging

import pytest

from serving.versions import MAX_VERSION, VersionDirectory, parse_version


@pytest.mark.parametrize(
    "text, version",
    [
        ("0", 0),
        ("7", 7),
        ("1763856000", 1763856000),
        (str(MAX_VERSION), MAX_VERSION),
        (str(MAX_VERSION + 1), None),
        ("99999999999999999999", None),
        ("1" * 4301, None),
        ("007", None),
        ("²", None),
        ("٣", None),
        ("-3", None),
        ("+3", None),
        (" 5", None),
        ("1_0", None),
        ("", None),
    ],
)
def test_parse_version(text, version):
    assert parse_version(text) == version


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
