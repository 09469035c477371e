"""The feedback store on SQLite and on a real PostgreSQL server."""

import itertools

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from feedback.export import export_feedback
from feedback.store import FeedbackStore, UnknownPrediction
from feedback.tables import Base


def test_round_trip_health_and_export(store_url, tmp_path):
    store = FeedbackStore(store_url)
    ids = store.log_predictions(
        "lexflow",
        3,
        "production",
        ["A clause.", "Another clause."],
        ["x", "y"],
        [{"x": 0.9, "y": 0.1}, {"x": 0.2, "y": 0.8}],
    )
    store.log_predictions(
        "lexflow", 4, "staging", ["New model."], ["x"], [{"x": 1.0}], shadow_version=3, shadow_labels=["y"]
    )
    store.add_feedback("x", prediction_id=ids[0])  # agrees
    store.add_feedback("x", prediction_id=ids[1])  # corrects y -> x
    store.add_feedback("y", text="Never predicted.")  # no version
    with pytest.raises(UnknownPrediction):
        store.add_feedback("x", prediction_id="nope")
    health = {h.version: h for h in store.health()}
    assert health[3].predictions == 2 and health[3].feedback == 2 and health[3].live_accuracy == 0.5
    assert health[4].predictions == 1 and health[4].live_accuracy is None
    assert store.counts() == {"predictions": 3, "feedback": 3}
    assert store.get_prediction(ids[0]).scores == {"x": 0.9, "y": 0.1}
    assert export_feedback(store, tmp_path / "data").rows == 3


def test_text_can_be_kept_out_of_the_prediction_log(store_url):
    store = FeedbackStore(store_url, store_text=False)
    (prediction_id,) = store.log_predictions("lexflow", 1, "production", ["Secret clause."], ["x"], [{"x": 1.0}])
    assert store.get_prediction(prediction_id).text is None
    with pytest.raises(ValueError, match="not retained"):
        store.add_feedback("x", prediction_id=prediction_id)
    with pytest.raises(ValueError, match="does not match"):
        store.add_feedback("x", prediction_id=prediction_id, text="Another clause.")
    assert store.add_feedback("x", prediction_id=prediction_id, text="Secret clause.").text == "Secret clause."


def test_migrations_match_the_models_and_rerun_cleanly(store_url):
    store = FeedbackStore(store_url)
    FeedbackStore(store_url)  # a second start-up migrates nothing and fails nothing
    with store.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        assert {"predictions", "feedback", "exports", "alembic_version"} <= set(inspect(connection).get_table_names())


def test_migration_0004_links_stored_documents_to_their_predictions(tmp_path):
    """Documents reviewed before the upgrade keep their link: 0004 backfills predictions.document_id."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from feedback.migrate import alembic_config

    engine = create_engine(f"sqlite:///{tmp_path}/old.sqlite")
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
        for prediction in ("p1", "p2", "p3"):
            connection.execute(
                text(
                    "INSERT INTO predictions (id, created_at, model_name, model_version, route, text_sha256, label,"
                    " scores) VALUES (:id, '2026-01-01', 'lexflow', 1, 'production', 'x', 'a', '{}')"
                ),
                {"id": prediction},
            )
        connection.execute(
            text(
                "INSERT INTO review_documents (id, created_at, name, provisions) VALUES ('d1', '2026-01-01', 'c', :p)"
            ),
            {"p": '[{"prediction_id": "p1", "heading": ""}, {"prediction_id": "p2", "heading": ""}]'},
        )
    FeedbackStore(f"sqlite:///{tmp_path}/old.sqlite")  # migrates to head
    with engine.connect() as connection:
        linked = dict(connection.execute(text("SELECT id, document_id FROM predictions")).all())
    assert linked == {"p1": "d1", "p2": "d1", "p3": None}


def test_versions_are_64_bit(store_url):
    store = FeedbackStore(store_url)
    biggest = 2**63 - 1
    (prediction_id,) = store.log_predictions(
        "lexflow", biggest, "production", ["Clause."], ["x"], [{"x": 1.0}], shadow_version=2**31, shadow_labels=["x"]
    )
    assert store.get_prediction(prediction_id).model_version == biggest
    assert store.add_feedback("x", prediction_id=prediction_id).model_version == biggest
    assert [(h.version, h.live_accuracy) for h in store.health()] == [(biggest, 1.0)]
    state = store.change_routing("lexflow", {"production": biggest, "shadow": 2**31}, "test")
    assert store.routing("lexflow") == state and state.production == biggest


def test_routing_state_changes_are_serialised_and_audited(store_url):
    import threading

    stores = [FeedbackStore(store_url), FeedbackStore(store_url)]
    assert stores[0].routing("lexflow", default_share=0.25).canary_share == 0.25  # nothing stored yet
    threads = [
        threading.Thread(target=stores[i % 2].change_routing, args=("lexflow", {"staging": i}, f"client {i}"))
        for i in range(12)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    state = stores[1].routing("lexflow")
    history = stores[0].routing_history("lexflow", limit=100)
    assert state.revision == 12 and [c.revision for c in history] == list(range(12, 0, -1))
    for newer, older in itertools.pairwise(history):  # each change saw the state the previous one left
        assert newer.before == older.after
    assert history[0].after["staging"] == state.staging and state.updated_by == history[0].client
    assert stores[0].routing("other").revision == 0  # per model
    page = stores[0].routing_history("lexflow", limit=5, before_id=history[4].id)
    assert [c.revision for c in page] == [7, 6, 5, 4, 3]


def test_concurrent_corrections_of_one_prediction_leave_exactly_one_latest(store_url):
    import threading

    stores = [FeedbackStore(store_url), FeedbackStore(store_url)]
    (prediction_id,) = stores[0].log_predictions("lexflow", 1, "production", ["Clause."], ["x"], [{"x": 1.0}])
    threads = [
        threading.Thread(
            target=stores[i % 2].add_feedback, args=(f"label{i}",), kwargs={"prediction_id": prediction_id}
        )
        for i in range(16)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    history = stores[0].corrections(prediction_id)
    assert len(history) == 16
    assert [row.id for row in history if row.superseded_by is None] == [max(row.id for row in history)]
    assert store_health_feedback(stores[1]) == 1


def store_health_feedback(store) -> int:
    return sum(h.feedback for h in store.health())


def test_shadow_agreement_per_version_pair(store_url):
    store = FeedbackStore(store_url)
    store.log_predictions("lexflow", 2, "production", ["a", "b", "c"], ["x", "y", "x"], [{}] * 3, 3, ["x", "x", "x"])
    store.log_predictions("lexflow", 2, "production", ["d"], ["x"], [{}])  # not shadowed
    store.log_predictions("lexflow", 3, "staging", ["e"], ["y"], [{}], 2, ["y"])
    pairs = [(p.version, p.shadow_version, p.predictions, p.agreements) for p in store.shadow_agreement()]
    assert pairs == [(2, 3, 3, 2), (3, 2, 1, 1)]
    assert store.shadow_agreement()[0].agreement == pytest.approx(2 / 3)


def test_upgrade_from_the_first_revision_keeps_and_backfills_the_data(store_url, tmp_path):
    """A store written by the previous release: exports by id range, repeated corrections."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from feedback.db import create
    from feedback.migrate import alembic_config

    engine = create(store_url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO predictions (id, created_at, model_name, model_version, route, text_sha256, text,"
                " label, scores) VALUES ('p1', CURRENT_TIMESTAMP, 'lexflow', 7, 'production', 'h', 'T', 'x', '{}')"
            )
        )
        for label in ("a", "b", "c"):  # ids 1, 2, 3 (a fresh database)
            connection.execute(
                text(
                    "INSERT INTO feedback (created_at, prediction_id, text, text_sha256, label, model_version)"
                    " VALUES (CURRENT_TIMESTAMP, 'p1', 'T', 'h', :label, 7)"
                ),
                {"label": label},
            )
        connection.execute(
            text(
                "INSERT INTO exports (created_at, span, first_feedback_id, last_feedback_id, rows, path, completed)"
                " VALUES (CURRENT_TIMESTAMP, 1, 1, 2, 2, 'x', :done)"
            ),
            {"done": True},
        )
    engine.dispose()
    store = FeedbackStore(store_url)  # migrates to head
    history = store.corrections("p1")
    assert [(r.id, r.export_id, r.superseded_by) for r in history] == [(1, 1, 2), (2, 1, 3), (3, None, None)]
    assert store.pending_count() == 1 and [h.feedback for h in store.health()] == [1]
    assert export_feedback(store, tmp_path / "data").span == 2  # after the recorded span 1
    if store.dialect == "postgresql":
        with create_engine(store_url).connect() as connection:
            types = dict(
                connection.execute(
                    text("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'feedback'")
                ).all()
            )
        assert types["id"] == types["model_version"] == "bigint"
