"""The feedback store on SQLite and on a real PostgreSQL server."""

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
