"""The review queue's store side: informativeness order, claims that keep a record from two
reviewers at once (two store objects and two processes on one database, SQLite and PostgreSQL),
skips, expiry, progress, a queue kept to authenticated traffic, reviewed documents stored with
their predictions in one transaction, and accuracy per day."""

import multiprocessing
from datetime import timedelta

import pytest

from feedback import review
from feedback.store import FeedbackStore, UnknownPrediction, prediction_rows
from feedback.tables import PredictionRow, ReviewDocumentRow

TTL = timedelta(minutes=10)


def _log(store, texts, scores, labels=None, shadow_labels=None, authenticated=False):
    labels = labels or [max(s, key=s.get) for s in scores]
    return store.log_predictions(
        "lexflow", 1, "production", texts, labels, scores, 2 if shadow_labels else None, shadow_labels, authenticated
    )


def test_informativeness_counts_margin_disagreement_and_weak_classes():
    sure, unsure = {"a": 0.9, "b": 0.1}, {"a": 0.55, "b": 0.45}
    assert review.margin(unsure) == pytest.approx(0.1)
    assert review.informativeness(unsure, "a", None, {}) > review.informativeness(sure, "a", None, {})
    assert review.informativeness(sure, "a", "b", {}) == pytest.approx(review.informativeness(sure, "a", None, {}) + 1)
    assert review.informativeness(sure, "a", None, {"a": 0.2}) > review.informativeness(sure, "a", None, {"a": 0.9})
    # Diminishing returns: the n-th answer about one version's label counts 1 / (1 + n).
    first = review.informativeness(unsure, "a", "b", {"a": 0.2})
    assert review.informativeness(unsure, "a", "b", {"a": 0.2}, reviewed=3) == pytest.approx(first / 4)


def test_a_batch_spreads_over_labels_and_a_new_version_starts_afresh(store_url):
    """Two near coin tosses predicted `a`, a slightly surer `b`: once an `a` is answered (wrongly,
    so `a`'s live accuracy drops), the next `a` is worth half and the `b` comes first; a retrained
    version's `a` predictions have no answers yet and are not discounted."""
    store = FeedbackStore(store_url)
    tied = {"a": 0.51, "b": 0.49}
    a1, a2, b1 = _log(store, ["A one.", "A two.", "B one."], [tied, tied, {"a": 0.4, "b": 0.6}])
    first = review.claim_next(store, "reviewer-1", TTL)
    assert first.prediction.id in (a1, a2) and first.reviewed == 0
    store.add_feedback("b", prediction_id=first.prediction.id)
    review.release(store, first.prediction.id, "reviewer-1")
    assert review.reviewed_per_label(store) == {(1, "a"): 1}
    second = review.claim_next(store, "reviewer-1", TTL)
    assert second.prediction.id == b1  # 0.8 + 0.25 = 1.05 > (0.98 + 0.5) / 2 = 0.74
    store.add_feedback("b", prediction_id=b1)
    review.release(store, b1, "reviewer-1")
    (newer,) = store.log_predictions("lexflow", 2, "production", ["A three."], ["a"], [tied])
    third = review.claim_next(store, "reviewer-1", TTL)
    assert third.prediction.id == newer and third.reviewed == 0  # version 2's `a`: no answers yet
    assert review.reviewed_per_label(store) == {(1, "a"): 1, (1, "b"): 1}


def test_queue_serves_the_most_informative_first_and_counts_progress(store_url):
    store = FeedbackStore(store_url)
    sure, unsure, split = _log(
        store,
        ["Sure.", "Unsure.", "Disputed."],
        [{"a": 0.95, "b": 0.05}, {"a": 0.5, "b": 0.5}, {"a": 0.8, "b": 0.2}],
        shadow_labels=["a", "a", "b"],
    )
    order = []
    while (item := review.claim_next(store, "reviewer-1", TTL)) is not None:
        order.append(item.prediction.id)
        store.add_feedback("a", prediction_id=item.prediction.id)
        review.release(store, item.prediction.id, "reviewer-1")
        assert review.progress(store).reviewed == len(order)
    # disputed: 1 - 0.6 + 1 = 1.4; unsure: 1 - 0 = 1.0; sure: 1 - 0.9 = 0.1 (plus the same class term,
    # and divided alike: all three are version 1's `a`)
    assert order == [split, unsure, sure]
    assert review.progress(store) == review.Progress(reviewed=3, total=3)


def test_two_reviewers_on_two_store_objects_never_hold_one_record(store_url):
    first, second = FeedbackStore(store_url), FeedbackStore(store_url)
    ids = _log(first, ["One.", "Two."], [{"a": 0.6, "b": 0.4}, {"a": 0.9, "b": 0.1}])
    a = review.claim_next(first, "reviewer-a", TTL)
    b = review.claim_next(second, "reviewer-b", TTL)
    assert {a.prediction.id, b.prediction.id} == set(ids)
    assert review.claim_next(second, "reviewer-c", TTL) is None  # both held
    assert review.claim_next(first, "reviewer-a", TTL).prediction.id == a.prediction.id  # a reload keeps it
    with pytest.raises(review.ClaimLost):
        review.check_claim(second, a.prediction.id, "reviewer-b")


def test_expired_claims_are_taken_over_and_skips_stay_skipped(store_url):
    store, other = FeedbackStore(store_url), FeedbackStore(store_url)
    (only,) = _log(store, ["Only one."], [{"a": 0.6, "b": 0.4}])
    assert review.claim_next(store, "reviewer-a", timedelta(0)).prediction.id == only  # expires at once
    taken = review.claim_next(other, "reviewer-b", TTL)
    assert taken.prediction.id == only
    with pytest.raises(review.ClaimLost):
        review.check_claim(store, only, "reviewer-a")
    with pytest.raises(review.ClaimLost):
        review.skip(store, only, "reviewer-a")  # b holds it: a cannot skip it away from b
    review.skip(other, only, "reviewer-b")
    assert review.claim_next(other, "reviewer-b", TTL) is None  # skipped: not shown to b again
    assert review.claim_next(store, "reviewer-a", TTL).prediction.id == only  # but released for a
    with pytest.raises(UnknownPrediction):
        review.skip(store, "0" * 36, "reviewer-a")


def test_a_record_never_claimed_can_be_skipped(store_url):
    store = FeedbackStore(store_url)
    first, second = _log(store, ["One.", "Two."], [{"a": 0.6, "b": 0.4}, {"a": 0.9, "b": 0.1}])
    review.skip(store, first, "reviewer-a")
    assert review.claim_next(store, "reviewer-a", TTL).prediction.id == second
    assert review.claim_next(store, "reviewer-b", TTL).prediction.id == first


def test_the_queue_can_keep_to_predictions_made_with_the_key(store_url):
    """Anonymous traffic made to look informative (a coin toss, a disagreeing shadow) does not
    reach reviewers whose queue keeps to authenticated traffic."""
    store = FeedbackStore(store_url)
    (keyed,) = _log(store, ["Keyed."], [{"a": 0.9, "b": 0.1}], authenticated=True)
    _log(store, [f"Flood {i}." for i in range(20)], [{"a": 0.5, "b": 0.5}] * 20, shadow_labels=["b"] * 20)
    assert review.claim_next(store, "reviewer-a", TTL).prediction.id != keyed  # all traffic: the flood ranks first
    only = review.claim_next(store, "reviewer-b", TTL, authenticated_only=True)
    assert only.prediction.id == keyed
    assert review.claim_next(store, "reviewer-c", TTL, authenticated_only=True) is None
    assert review.progress(store, authenticated_only=True) == review.Progress(reviewed=0, total=1)
    assert review.progress(store).total == 21


def _work_through(url: str, reviewer: str) -> list[str]:
    store = FeedbackStore(url)
    seen = []
    while (item := review.claim_next(store, reviewer, TTL)) is not None:
        seen.append(item.prediction.id)
        store.add_feedback("a", prediction_id=item.prediction.id)
        review.release(store, item.prediction.id, reviewer)
    store.close()
    return seen


def test_two_processes_working_one_queue_review_every_record_once(store_url):
    store = FeedbackStore(store_url)
    ids = _log(
        store, [f"Clause {i}." for i in range(40)], [{"a": 0.5 + i / 100, "b": 0.5 - i / 100} for i in range(40)]
    )
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        seen = pool.starmap(_work_through, [(store_url, "reviewer-a"), (store_url, "reviewer-b")])
    assert not set(seen[0]) & set(seen[1])
    assert sorted(seen[0] + seen[1]) == sorted(ids)
    assert store.counts()["feedback"] == len(ids)  # nobody answered a record twice


def test_reviewed_document_and_accuracy_per_day(store_url):
    store = FeedbackStore(store_url)
    (first, second), rows = prediction_rows(
        "lexflow", 1, "production", ["Law.", "Pay."], ["a", "b"], [{"a": 0.9, "b": 0.1}, {"a": 0.2, "b": 0.8}]
    )
    document_id = review.save_document(store, "contract.txt", ["1. Law", ""], rows)
    store.add_feedback("b", prediction_id=first)
    store.add_feedback("a", prediction_id=first)  # the latest correction counts
    name, provisions = review.load_document(store, document_id)
    assert name == "contract.txt"
    assert [(p.heading, p.prediction.id, p.correction.label if p.correction else None) for p in provisions] == [
        ("1. Law", first, "a"),
        ("", second, None),
    ]
    assert review.load_document(store, "00000000-0000-0000-0000-000000000000") is None
    (point,) = review.accuracy_by_day(store)
    assert (point.version, point.feedback, point.correct) == (1, 1, 1)
    assert review.class_accuracy(store) == {"a": 1.0}


def test_a_document_and_its_predictions_are_stored_together_or_not_at_all(store_url):
    store = FeedbackStore(store_url)
    ids, rows = prediction_rows("lexflow", 1, "production", ["One.", "Two."], ["a", "a"], [{"a": 1.0}] * 2)
    rows[1]["id"] = ids[0]  # the second insert fails (duplicate key) after the first went in
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        review.save_document(store, "broken.txt", ["", ""], rows)
    with store.session() as session:
        assert session.query(PredictionRow).count() == 0 and session.query(ReviewDocumentRow).count() == 0
