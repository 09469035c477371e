"""The model directory's rules (core/model_dir.py): one answer for every reader of the directory."""

from pathlib import Path

import pytest

from components.production_baseline.executor import _complete_versions
from core.model_dir import MAX_VERSION, parse_version, versions
from serving.backends.versions import VersionDirectory


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


def test_versions_among_names_are_the_canonical_ones():
    names = ["3", "10", "routing.json", ".staging-1", "²", "99999999999999999999", "0012/", "14/"]
    assert versions(names) == [3, 10, 14]


def _version(model_dir: Path, name: str, complete: bool = True) -> None:
    (model_dir / name).mkdir(parents=True)
    if complete:
        (model_dir / name / "saved_model.pb").write_bytes(b"graph")


def test_gateway_and_production_baseline_see_the_same_versions(tmp_path):
    """`007` is not version 7 for anyone: the gateway would never route to it, so the Evaluator must
    not compare with it either (it used to read it as 7 and pick it as the newest)."""
    model_dir = tmp_path / "lexflow"
    for name in ("5", "007", "0012", "backup"):
        _version(model_dir, name)
    _version(model_dir, "9", complete=False)  # being copied: no saved_model.pb yet
    (model_dir / "routing.json").write_text("{}")
    assert sorted(VersionDirectory(model_dir).scan()) == [5]
    assert _complete_versions(str(model_dir)) == [5]
