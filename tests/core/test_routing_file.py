"""routing.json: what the pipeline reads to find the production model."""

import json
from datetime import datetime, timezone

from core import routing_file


def test_written_atomically_read_back_and_rewritten_only_on_change(tmp_path):
    assert routing_file.read(tmp_path, "lexflow") is None  # never routed
    at = datetime(2025, 11, 25, 21, 0, tzinfo=timezone.utc)
    values = routing_file.content("lexflow", 1763856000, None, 0.25, 5, at)
    assert routing_file.write(tmp_path, values)
    path = tmp_path / "lexflow" / "routing.json"
    assert json.loads(path.read_text()) == {
        "model_name": "lexflow",
        "production": 1763856000,
        "staging": None,
        "canary_share": 0.25,
        "shadow": 5,
        "updated_at": "2025-11-25T21:00:00+00:00",
    }
    assert routing_file.read(tmp_path, "lexflow") == values
    mtime = path.stat().st_mtime_ns
    assert not routing_file.write(tmp_path, values) and path.stat().st_mtime_ns == mtime
    assert routing_file.write(tmp_path, {**values, "production": None})
    assert routing_file.read(tmp_path, "lexflow")["production"] is None
    assert sorted(p.name for p in path.parent.iterdir()) == ["routing.json"]  # no temporary files left
