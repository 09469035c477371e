"""The reports directory contract (core/reports.py): names that cannot leave the directory, the verdict file."""

import json
import os

import pytest

from core import reports


def _write(directory, name, text="<html></html>"):
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "name",
    [
        "../secret.html",
        "..",
        "sub/report.html",
        "/etc/passwd",
        ".hidden.html",
        "report.htm",
        "report.html/",
        "drift%2F..html",
        "report.html\x00.txt",
        "",
    ],
)
def test_a_name_that_is_not_a_plain_report_file_name_finds_nothing(tmp_path, name):
    (tmp_path / "reports").mkdir()
    _write(tmp_path, "secret.html")
    assert reports.report_path(tmp_path / "reports", name) is None


def test_a_link_out_of_the_directory_is_not_served(tmp_path):
    directory = tmp_path / "reports"
    directory.mkdir()
    outside = _write(tmp_path, "outside.html", "private")
    os.symlink(outside, directory / "link.html")
    _write(directory, "drift-live-1.html")
    assert reports.report_path(directory, "link.html") is None
    assert [r.name for r in reports.list_reports(directory)] == ["drift-live-1.html"]


def test_reports_are_listed_newest_first_and_other_files_are_not(tmp_path):
    older = _write(tmp_path, "drift-span-1-vs-0.html")
    newer = _write(tmp_path, "drift-live-20250101T000000Z.html", "x" * 10)
    _write(tmp_path, reports.LIVE_VERDICT_FILE, "{}")
    _write(tmp_path, "notes.txt")
    (tmp_path / "folder.html").mkdir()
    os.utime(older, (1_000, 1_000))
    os.utime(newer, (2_000, 2_000))
    listed = reports.list_reports(tmp_path)
    assert [(r.name, r.bytes, r.modified) for r in listed] == [
        ("drift-live-20250101T000000Z.html", 10, 2_000),
        ("drift-span-1-vs-0.html", 13, 1_000),
    ]
    assert reports.report_path(tmp_path, "drift-span-1-vs-0.html") == older.resolve()
    assert reports.list_reports(tmp_path / "missing") == []


def test_the_verdict_round_trips_and_a_broken_one_reads_as_none(tmp_path):
    assert reports.read_verdict(tmp_path) is None
    verdict = reports.DriftVerdict(True, "drift-live-1.html", "2025-01-01T00:00:00+00:00", 10, 20, [{"feature": "x"}])
    path = reports.write_verdict(tmp_path / "new", verdict)
    assert path.name == reports.LIVE_VERDICT_FILE and reports.read_verdict(tmp_path / "new") == verdict
    assert [p.name for p in (tmp_path / "new").iterdir()] == [reports.LIVE_VERDICT_FILE]  # no temporary left
    for broken in ("not json", json.dumps({"drifted": "yes"}), json.dumps([1]), json.dumps({"report": "x"})):
        (tmp_path / reports.LIVE_VERDICT_FILE).write_text(broken)
        assert reports.read_verdict(tmp_path) is None, broken
