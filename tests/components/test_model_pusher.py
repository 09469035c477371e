"""ModelPusher executor: atomic, monotonic, idempotent pushes; never pushes unblessed."""

import json
import uuid
from pathlib import Path

from tfx.types import standard_artifacts

from components.model_pusher.executor import PUSH_RECORD, Executor


def _saved_model(root: Path, content: bytes) -> Path:
    model_dir = root / "Format-Serving"
    (model_dir / "variables").mkdir(parents=True)
    (model_dir / "saved_model.pb").write_bytes(content)
    (model_dir / "variables" / "variables.index").write_bytes(b"idx" + content)
    return root


def _run(tmp_path, model_root: Path, base, blessed: bool = True, label_change: str = "", custom: str = "null"):
    model = standard_artifacts.Model()
    model.uri = str(model_root)
    blessing = standard_artifacts.ModelBlessing()
    blessing.uri = str(tmp_path / "blessing")
    blessing.set_int_custom_property("blessed", int(blessed))
    if label_change:
        blessing.set_string_custom_property("label_change", label_change)
        blessing.set_int_custom_property("production_version", 17)
    pushed = standard_artifacts.PushedModel()
    pushed.uri = str(tmp_path / f"pushed-{len(list(tmp_path.glob('pushed-*')))}")
    destination = json.dumps({"filesystem": {"base_directory": str(base)}})
    Executor().Do(
        {"model": [model], "model_blessing": [blessing]},
        {"pushed_model": [pushed]},
        {"push_destination": destination, "custom_config": custom},
    )
    return pushed


def test_blessed_model_lands_as_a_complete_version(tmp_path):
    base = tmp_path / "serving" / "lexflow"
    pushed = _run(tmp_path, _saved_model(tmp_path / "m1", b"graph-1"), base)
    versions = list(base.iterdir())
    assert len(versions) == 1 and versions[0].name.isdigit()  # no staging leftovers
    assert (versions[0] / "saved_model.pb").read_bytes() == b"graph-1"
    assert (versions[0] / "variables" / "variables.index").is_file()
    assert json.loads((versions[0] / PUSH_RECORD).read_text())["model_uri"] == str(tmp_path / "m1")
    assert pushed.get_int_custom_property("pushed") == 1
    assert pushed.get_string_custom_property("pushed_version") == versions[0].name


def test_unblessed_model_is_not_pushed(tmp_path):
    base = tmp_path / "serving" / "lexflow"
    pushed = _run(tmp_path, _saved_model(tmp_path / "m1", b"graph-1"), base, blessed=False)
    assert not base.exists() or not any(base.iterdir())
    assert pushed.get_int_custom_property("pushed") == 0


def test_same_model_is_not_pushed_twice_and_versions_only_grow(tmp_path):
    base = tmp_path / "serving" / "lexflow"
    first = _run(tmp_path, _saved_model(tmp_path / "m1", b"graph-1"), base)
    again = _run(tmp_path, tmp_path / "m1", base)
    assert again.get_string_custom_property("pushed_version") == first.get_string_custom_property("pushed_version")
    assert again.get_int_custom_property("already_served") == 1
    assert len(list(base.iterdir())) == 1
    # A different model in the same second still gets a new, larger version number.
    second = _run(tmp_path, _saved_model(tmp_path / "m2", b"graph-2"), base)
    assert int(second.get_string_custom_property("pushed_version")) > int(
        first.get_string_custom_property("pushed_version")
    )
    assert len(list(base.iterdir())) == 2


def test_object_store_push_keeps_the_guarantees_through_gfile(tmp_path):
    """No directory rename on a bucket: files are copied with saved_model.pb last (ram:// is TF's
    in-memory filesystem, reached through the same tf.io.gfile calls as gs:// or s3://)."""
    from tfx.dsl.io import fileio

    base = f"ram://pusher-{uuid.uuid4().hex}/serving/lexflow"
    first = _run(tmp_path, _saved_model(tmp_path / "m1", b"graph-1"), base)
    version = first.get_string_custom_property("pushed_version")
    assert [v for v in fileio.listdir(base) if not v.startswith(".")] == [version]  # the claims folder is hidden
    with fileio.open(f"{base}/{version}/saved_model.pb", "rb") as handle:
        assert handle.read() == b"graph-1"
    with fileio.open(f"{base}/{version}/{PUSH_RECORD}", "r") as handle:
        assert json.loads(handle.read())["model_uri"] == str(tmp_path / "m1")
    assert fileio.exists(f"{base}/{version}/variables/variables.index")
    again = _run(tmp_path, tmp_path / "m1", base)
    assert again.get_int_custom_property("already_served") == 1
    assert [v for v in fileio.listdir(base) if not v.startswith(".")] == [version]
    second = _run(tmp_path, _saved_model(tmp_path / "m2", b"graph-2"), base)
    assert int(second.get_string_custom_property("pushed_version")) > int(version)


def test_a_changed_label_set_is_published_only_when_allowed(tmp_path):
    base = tmp_path / "serving" / "lexflow"
    change = json.dumps({"added": ["escrow"], "removed": ["warranties"]})
    refused = _run(tmp_path, _saved_model(tmp_path / "m1", b"graph-1"), base, label_change=change)
    assert refused.get_int_custom_property("pushed") == 0 and not base.exists()
    reason = refused.get_string_custom_property("refused")
    assert "version 17" in reason and "+escrow" in reason and "-warranties" in reason
    assert "--allow-label-change" in reason
    allowed = _run(
        tmp_path, tmp_path / "m1", base, label_change=change, custom=json.dumps({"allow_label_change": True})
    )
    assert allowed.get_int_custom_property("pushed") == 1 and len(list(base.iterdir())) == 1


def _ram_base() -> str:
    return f"ram://pusher-{uuid.uuid4().hex}/serving/lexflow"


def test_on_a_bucket_saved_model_pb_is_written_last(tmp_path, monkeypatch):
    """Readers (TF Serving, the gateway, ProductionBaseline) take a version once saved_model.pb is there."""
    from tfx.dsl.io import fileio

    base, written = _ram_base(), []
    real_copy = fileio.copy

    def copy(source, destination, overwrite=False):
        if destination.startswith(f"{base}/"):  # not the PushedModel artifact's own copy
            written.append(destination[len(base) + 1 :])
        return real_copy(source, destination, overwrite)

    monkeypatch.setattr(fileio, "copy", copy)
    version = _run(tmp_path, _saved_model(tmp_path / "m1", b"graph-1"), base).get_string_custom_property(
        "pushed_version"
    )
    assert written[-1] == f"{version}/saved_model.pb"
    assert f"{version}/variables/variables.index" in written[:-1]
    assert fileio.exists(f"{base}/{version}/{PUSH_RECORD}")  # written before the marker too


def test_two_pushers_racing_on_a_bucket_never_share_a_version(tmp_path, monkeypatch):
    """Two runs push different models at the same second into one bucket. The second pusher runs
    entirely inside the first one's window between choosing its version and writing it (the worst
    interleaving): each model must still land whole in a version of its own."""
    from tfx.dsl.io import fileio

    from components.model_pusher import executor

    base = _ram_base()
    monkeypatch.setattr(executor.time, "time", lambda: 1_700_000_000.0)  # the same second for both
    real_makedirs, raced, started = fileio.makedirs, [], []

    def makedirs(path):
        # The first write into a version folder (not a claim): let the other pusher run to the end first.
        if not started and path.startswith(f"{base}/") and path[len(base) + 1 :].split("/")[0].isdigit():
            started.append(path)
            raced.append(_run(tmp_path, _saved_model(tmp_path / "m2", b"graph-2"), base))
        return real_makedirs(path)

    monkeypatch.setattr(fileio, "makedirs", makedirs)
    first = _run(tmp_path, _saved_model(tmp_path / "m1", b"graph-1"), base)
    assert raced, "the race was not staged"
    versions = {
        first.get_string_custom_property("pushed_version"): b"graph-1",
        raced[0].get_string_custom_property("pushed_version"): b"graph-2",
    }
    assert len(versions) == 2
    for version, graph in versions.items():
        with fileio.open(f"{base}/{version}/saved_model.pb", "rb") as handle:
            assert handle.read() == graph
        with fileio.open(f"{base}/{version}/variables/variables.index", "rb") as handle:
            assert handle.read() == b"idx" + graph
    assert sorted(v for v in fileio.listdir(base) if v.isdigit()) == sorted(versions)


def test_a_lost_claim_moves_to_the_next_version(tmp_path):
    from tfx.dsl.io import fileio

    from components.model_pusher.executor import _claim

    base = _ram_base()
    fileio.makedirs(base)
    assert _claim(base, 5, "a")  # alone: may write version 5
    assert not _claim(base, 5, "b")  # sees a's claim: gives way
    assert _claim(base, 6, "b")  # and takes the next one
    fileio.makedirs(f"{base}/7")  # a version pushed before claims existed
    assert not _claim(base, 7, "d")
