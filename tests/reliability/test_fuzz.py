"""Bad input: property-based tests of the text normaliser and the feedback export, schema-driven
fuzzing of the whole HTTP API (schemathesis over the app's own OpenAPI document), and Unicode
edge cases. The bar: no 5xx, every error a JSON {"error": ...}, nothing invalid stored."""

import csv
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from feedback.export import export_feedback
from feedback.store import FeedbackStore
from lexflow.runs.preflight import check_csv

# -- the text normaliser (trainer/text.py): runs inside the served graph -----------------------

# Any text the gateway accepts: no lone surrogates (they cannot be UTF-8) and no NUL (see
# test_nul_ends_the_text_for_the_tokenizer for why the gateway refuses it).
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=200)
BIG = 10_000


def _tokens(texts: list[str], max_tokens: int = BIG) -> list[list[bytes]]:
    import tensorflow as tf

    from trainer.text import tokenize

    return tokenize(tf.constant(texts, dtype=tf.string), max_tokens).to_list()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(TEXT, min_size=1, max_size=8))
def test_normalize_is_idempotent_and_keeps_the_batch_shape(texts):
    import tensorflow as tf

    from trainer.text import normalize

    once = normalize(tf.constant(texts, dtype=tf.string))
    twice = normalize(once)
    assert once.shape == (len(texts),)
    assert once.numpy().tolist() == twice.numpy().tolist()
    for value in once.numpy().tolist():
        value.decode("utf-8")  # valid UTF-8 in, valid UTF-8 out


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=TEXT, b=TEXT, max_tokens=st.integers(1, 30))
def test_tokens_never_cross_a_separator_and_truncation_is_a_prefix(a, b, max_tokens):
    whole, left, right = _tokens([f"{a} {b}", a, b])
    # No state across a space (and no empty token where a text starts with a separator).
    assert whole == left + right
    assert all(token and b" " not in token for token in whole)
    # Re-tokenising the tokens gives the tokens: normalisation and splitting are stable.
    assert _tokens([b" ".join(whole).decode("utf-8")])[0] == whole
    # Truncation by slicing: a prefix, never longer than asked.
    assert _tokens([f"{a} {b}"], max_tokens)[0] == whole[:max_tokens]


def test_nul_ends_the_text_for_the_tokenizer():
    """Found by the property above: the graph's regex split (RE2 on a C string) stops at the first
    NUL, so everything after it would be silently ignored. The gateway refuses NUL with a 422
    (serving/service.py); this pins the reason, so the check is not removed as redundant."""
    assert _tokens(["governed by law\x00 termination for cause"])[0] == [b"governed", b"by", b"law"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT, ngram_max=st.integers(1, 3))
def test_ngrams_count_matches_the_token_count(text, ngram_max):
    import tensorflow as tf

    from trainer.text import ngrams, tokenize

    tokens = tokenize(tf.constant([text]), BIG)
    grams = ngrams(tokens, ngram_max).to_list()[0]
    n = len(tokens.to_list()[0])
    assert len(grams) == sum(max(0, n - k + 1) for k in range(1, ngram_max + 1))
    assert grams[:n] == tokens.to_list()[0]


# -- the feedback export (feedback/export.py): its CSV is the next span ExampleGen reads ---------

# What the gateway accepts as a feedback text (serving/service.py check_texts): non-blank, no NUL.
FEEDBACK_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=120
).filter(lambda t: t.strip())
LABELS = ["governing_law", "termination", "confidentiality", 'quote"d,label']


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(FEEDBACK_TEXT, st.sampled_from(LABELS)), min_size=1, max_size=12))
def test_export_round_trips_any_accepted_text_one_record_per_line(rows):
    with tempfile.TemporaryDirectory() as tmp:
        store = FeedbackStore(f"sqlite:///{tmp}/fb.sqlite")
        try:
            for text, label in rows:
                store.add_feedback(label, text=text)
            data_root = Path(tmp) / "data"
            result = export_feedback(store, data_root)
            assert result.span == 0 and result.rows == len(rows)
            raw = result.path.read_bytes()
            # Beam's text reader splits lines before the CSV decoder sees them: one record per
            # physical line, whatever the text held (\r, \n, \u2028, \x85, ...).
            assert b"\r" not in raw and raw.count(b"\n") == len(rows) + 1
            check_csv(result.path)  # the preflight every run does on its input
            with result.path.open(newline="", encoding="utf-8") as handle:
                exported = list(csv.DictReader(handle))
            assert exported == [
                {"text": " ".join(t.split()), "label": label, "source": "feedback"} for t, label in rows
            ]
            assert export_feedback(store, data_root).span is None  # and never twice
        finally:
            store.engine.dispose()


# -- the HTTP API, driven by its own OpenAPI document (schemathesis) ---------------------------

KEY = "fuzz-key"
GOVERNING = "This Agreement shall be governed by and construed in accordance with the laws of the State of New York."


@pytest.fixture(scope="module")
def gateway(pipeline_run, tmp_path_factory):
    """The real app, model and SQLite store; the backend and store are ours, to inspect afterwards."""
    import shutil

    from serving.app import create_app
    from serving.backends.inprocess import InProcessBackend
    from serving.settings import ServingSettings

    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(pipeline_run.model_dir, root / "serving" / "lexflow" / pipeline_run.model_dir.name)
    settings = ServingSettings(
        model_base_dir=root / "serving",
        database_url=f"sqlite:///{root}/fb.sqlite",
        api_key=KEY,
        export_data_root=root / "export",
        max_text_chars=20_000,
    )
    backend = InProcessBackend(settings.model_base_dir, settings.model_name, poll_seconds=60)
    store = FeedbackStore(settings.database_url)
    app = create_app(settings, backend=backend, store=store)
    yield app, store, settings
    backend.close()


def _operations(app):
    import schemathesis

    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return schema, [result.ok() for result in schema.get_all_operations()]


@pytest.mark.e2e
def test_schema_driven_fuzzing_finds_no_5xx_and_only_json_errors(gateway):
    """Every operation in the OpenAPI document (the review console's included), with valid and
    invalid inputs (schemathesis' positive and negative modes), with and without the API key."""
    from schemathesis import GenerationMode

    app, store, _ = gateway
    _, operations = _operations(app)
    assert len(operations) >= 15  # the gateway's own API and the TF Serving routes
    seen: dict[str, set] = {}
    problems: list[str] = []

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(operation, mode, seen, problems)
    assert not problems, "\n".join(problems[:20])
    # Not vacuous: the fuzzer got through to the model and the store, and was refused too.
    assert 200 in seen["POST /v1/classify"] and 422 in seen["POST /v1/classify"]
    assert {400, 404} <= seen["POST /v1/models/{name}:predict"]
    assert 401 in seen["POST /v1/feedback"] and 401 in seen["PUT /v1/routing"]
    # The review console's routes are in the schema too, and were driven past the key.
    for label in ("POST /ui/documents", "POST /ui/feedback", "POST /ui/queue/next", "GET /ui/models"):
        assert seen.get(label, set()) - {401}, (label, seen.get(label))
    _assert_store_holds_only_valid_rows(store, app)
    # The fuzzer may have changed the shared routing: back to the defaults for the other tests here.
    gateway = app.state.gateway
    defaults = {"production": None, "staging": None, "canary_share": 0.0, "shadow": None}
    gateway.selector.apply(gateway.store.change_routing(gateway.settings.model_name, defaults, "test cleanup"))


def _fuzz_operation(operation, mode, seen: dict[str, set], problems: list[str]) -> None:
    """One operation in one generation mode; what the gateway answered goes to `seen` and `problems`."""

    @settings(max_examples=15, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), with_key=st.booleans(), served_name=st.booleans())
    def fuzz(case, with_key, served_name):
        if served_name and "name" in (case.path_parameters or {}):
            case.path_parameters["name"] = "lexflow"  # past the model check, into the payload
        response = case.call(headers={"X-API-Key": KEY} if with_key else {})
        seen.setdefault(operation.label, set()).add(response.status_code)
        if response.status_code >= 500:
            problems.append(
                f"{operation.label}: {response.status_code} for {case.path_parameters} "
                f"{case.query} {str(case.body)[:200]!r}: {response.text[:200]}"
            )
        elif response.status_code >= 400:
            body = response.json()
            if not isinstance(body.get("error"), str):
                problems.append(f"{operation.label}: {response.status_code} error body {body}")

    try:
        fuzz()
    except Unsatisfiable:
        assert mode.name == "NEGATIVE"  # nothing to make invalid (e.g. GET /healthz)


def _assert_store_holds_only_valid_rows(store, app):
    """Whatever got through was valid: texts the gateway accepts, labels the model knows."""
    from feedback.tables import FeedbackRow, PredictionRow

    labels = set(app.state.gateway.backend.classes())
    with store.session() as session:
        predictions = list(session.query(PredictionRow))
        feedback = list(session.query(FeedbackRow))
    for row in predictions:
        assert row.text and row.text.strip() and "\x00" not in row.text and len(row.text) <= 20_000
        assert row.label in labels
    for row in feedback:
        assert row.text.strip() and "\x00" not in row.text and row.label in labels
        row.text.encode("utf-8")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []


UNICODE_OK = {
    "arabic (RTL)": "يخضع هذا الاتفاق لقوانين ولاية نيويورك",
    "hebrew with RLO override": "\u202eהסכם זה כפוף לחוקי מדינת ניו יורק\u202c",
    "combining marks (zalgo)": "gov" + "\u0301\u0316\u0354" * 300 + "erned by law",
    "decomposed accents": "e\u0301te\u0301 cafe\u0301 re\u0301sume\u0301",
    "emoji and ZWJ": "\U0001f468\u200d\U0001f469\u200d\U0001f467 contract \U0001f4dc",
    "BOM and zero-width": "\ufeffgoverned\u200bby\u200claw",
    "noncharacters and plane 16": "\uffff\ufffe \U0010ffff text",
    "CJK": "本契約はニューヨーク州法に準拠する",
    "control characters": "Governed\x01by\x1flaw\x7f",
    "line and paragraph separators": "line one\u2028line two\u2029\x85end",
}
# Raw JSON bodies, as a client could send them (escapes the json module would refuse to make).
UNICODE_REFUSED = {
    "NUL": ('"a\\u0000b"', 422, "NUL"),
    "lone high surrogate": ('"\\ud800"', 422, "surrogate"),
    "lone low surrogate": ('"x\\udfff y"', 422, "surrogate"),
    "reversed pair": ('"\\udc00\\ud800"', 422, "surrogate"),
}


@pytest.mark.e2e
def test_unicode_edge_cases_get_200_or_a_clear_json_4xx_on_every_text_route(gateway):
    from fastapi.testclient import TestClient

    app, store, _ = gateway
    headers = {"X-API-Key": KEY, "Content-Type": "application/json"}
    with TestClient(app) as client:
        before = client.get("/v1/health").json()
        for name, text in UNICODE_OK.items():
            answer = client.post("/v1/classify", json={"texts": [text]})
            assert answer.status_code == 200, (name, answer.text)
            prediction_id = answer.json()["predictions"][0]["prediction_id"]
            assert store.get_prediction(prediction_id).text == text, name  # stored exactly, not "cleaned"
            tf_serving = client.post("/v1/models/lexflow:predict", json={"instances": [text]})
            assert tf_serving.status_code == 200, (name, tf_serving.text)
            feedback = client.post("/v1/feedback", json={"text": text, "label": "governing_law"}, headers=headers)
            assert feedback.status_code == 201 and feedback.json()["text"] == text, (name, feedback.text)
        # A valid surrogate *pair* escape is just an emoji.
        pair = client.post("/v1/classify", content='{"texts": "\\ud83d\\udcdc scroll"}', headers=headers)
        assert pair.status_code == 200

        for name, (literal, status, message) in UNICODE_REFUSED.items():
            for path, body in [
                ("/v1/classify", '{"texts": [%s]}'),
                ("/v1/models/lexflow:predict", '{"instances": [%s]}'),
                ("/v1/feedback", '{"text": %s, "label": "governing_law"}'),
                ("/v1/feedback", '{"prediction_id": %s, "label": "governing_law"}'),
                ("/v1/feedback", '{"text": "ok", "label": %s}'),
                ("/v1/models/lexflow:predict", '{"signature_name": %s, "instances": ["x"]}'),
                ("/v1/models/lexflow:predict", '{"instances": [{%s: "x"}]}'),
            ]:
                answer = client.post(path, content=body % literal, headers=headers)
                assert 400 <= answer.status_code < 500, (name, path, body, answer.status_code, answer.text)
                assert isinstance(answer.json()["error"], str)
                if body.startswith(('{"texts"', '{"instances": [%s')) or '"text": %s' in body:
                    assert answer.status_code == status and message in answer.json()["error"], (name, path, answer.text)

        # 1 MB of text: over the default limit it is a 413 that says so, never a timeout or a 5xx.
        megabyte = ("Governed by the laws of New York. " * 31_000)[:1_000_000]
        too_big = client.post("/v1/classify", json={"texts": [megabyte]})
        assert too_big.status_code == 413 and "exceeds the limit of 20000" in too_big.json()["error"]
        after = client.get("/v1/health").json()
        # Refused requests stored nothing: exactly the accepted ones were logged.
        assert after["predictions"] - before["predictions"] == 2 * len(UNICODE_OK) + 1
        assert after["feedback"] - before["feedback"] == len(UNICODE_OK)
    _assert_store_holds_only_valid_rows(store, app)


@pytest.mark.e2e
def test_one_megabyte_text_is_answered_when_the_limit_allows_it(pipeline_run, tmp_path):
    """The model itself copes with 1 MB (the graph truncates tokens, not the gateway)."""
    import shutil

    from fastapi.testclient import TestClient

    from serving.app import create_app
    from serving.settings import ServingSettings

    shutil.copytree(pipeline_run.model_dir, tmp_path / "serving" / "lexflow" / pipeline_run.model_dir.name)
    settings = ServingSettings(
        model_base_dir=tmp_path / "serving", database_url=f"sqlite:///{tmp_path}/fb.sqlite", max_text_chars=1_100_000
    )
    megabyte = ("This Agreement shall be governed by the laws of New York. " * 20_000)[:1_000_000]
    with TestClient(create_app(settings)) as client:
        answer = client.post("/v1/classify", json={"texts": [megabyte]})
        assert answer.status_code == 200 and answer.json()["predictions"][0]["label"] == "governing_law"


@pytest.mark.e2e
def test_regressions_the_fuzzing_found(gateway, pipeline_run):
    """Each of these was a 500 (or a non-JSON error) before the fix named in RELIABILITY.md."""
    from fastapi.testclient import TestClient

    app, _, _ = gateway
    version = int(pipeline_run.model_dir.name)
    key = {"X-API-Key": KEY}
    with TestClient(app) as client:
        # An explicit null canary share reached the routing table: GET /v1/routing answered 500,
        # and with a staging version set so did every classify.
        assert client.put("/v1/routing", json={"staging": version, "canary_share": 0.5}, headers=key).status_code == 200
        nulled = client.put("/v1/routing", json={"canary_share": None}, headers=key)
        assert nulled.status_code == 422 and "not null" in nulled.json()["error"]
        assert client.get("/v1/routing").json()["canary_share"] == 0.5
        assert client.post("/v1/classify", json={"texts": GOVERNING}).status_code == 200
        client.put("/v1/routing", json={"staging": None, "canary_share": 0.0}, headers=key)
        # Paging past SQLite's 64-bit integers.
        beyond = client.get(f"/v1/feedback?after_id={2**70}", headers=key)
        assert beyond.status_code == 422 and "after_id" in beyond.json()["error"]
        assert client.get(f"/v1/feedback?after_id={2**63 - 1}", headers=key).json()["items"] == []
        # Error messages quoting input that holds a lone surrogate could not be encoded.
        for body in ('{"text": "ok", "label": "\\ud800"}', '{"prediction_id": "\\ud800", "label": "termination"}'):
            answer = client.post("/v1/feedback", content=body, headers={**key, "Content-Type": "application/json"})
            assert answer.status_code == 422 and answer.json()["error"], body
        # Errors from routing and body parsing were {"detail": ...}, not the API's {"error": ...}.
        for answer, status in [
            (client.get("/v1/nothing-here"), 404),
            (client.delete("/v1/classify"), 405),
            (client.post("/v1/classify", content=b"[" * 100_000, headers={"Content-Type": "application/json"}), 400),
        ]:
            assert answer.status_code == status and isinstance(answer.json()["error"], str), answer.text
