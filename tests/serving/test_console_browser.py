"""The review console in a real browser: Debian's headless Chromium driven by Selenium against a
real uvicorn server (the gateway with the stand-in backend and a SQLite store).

Upload a contract, see it classified, correct a provision, find the correction in the store and
in the export, work three queue records by keyboard, open the models page and its drift report
(with the key); reach every one of 13 labels (spaces, `/`, commas) by keyboard; stored markup
(a meta refresh, a script) stays text; a bad upload shows its message. Screenshots of each page
go to test-output/screenshots/. Skipped when Chromium or chromedriver is missing, unless
LEXFLOW_REQUIRE_CHROMIUM is set (.ci/run sets it).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from core.reports import write_lineage
from feedback.tables import FeedbackRow
from serving.app import create_app
from serving.settings import ServingSettings
from tests.serving.stand_in import GOVERNING, LABELS, TERMINATION, StandInBackend
from tests.serving.test_console import CONTRACT

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
KEY = "browser-key"
# More labels than number keys, written as a user's own dataset writes them (issue 26).
EXTRA_LABELS = [
    "data retention",
    "first party collection/use",
    "third party sharing/collection",
    "user access, edit and deletion",
    "user choice/control",
    "policy change",
    "do not track",
    "international and specific audiences",
    "z: other",
]
ALL_LABELS = sorted([*LABELS, *EXTRA_LABELS])
REPORT_MARKER = "A drift report served with the key"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, object]]:
    tmp = tmp_path_factory.mktemp("console")
    settings = ServingSettings(
        database_url=f"sqlite:///{tmp}/feedback.sqlite",
        model_base_dir=tmp / "models",
        export_data_root=tmp / "data",
        reports_dir=tmp / "reports",
        api_key=KEY,
    )
    # What `lexflow run` and `lexflow drift --live` would have written, for the models page.
    write_lineage(
        tmp / "reports", 7, {"spans": [1, 2], "blessed": True, "evaluation": {"accuracy": 0.93, "macro_f1": 0.9}}
    )
    verdict = {"feature": "text_length", "metric": "JSD", "value": 0.04, "threshold": 0.1, "drifted": False}
    (tmp / "reports" / "drift-live.json").write_text(
        json.dumps(
            {
                "drifted": False,
                "report": "drift-live-1.html",
                "current_rows": 7,
                "baseline_rows": 900,
                "measures": [verdict],
            }
        )
    )
    (tmp / "reports" / "drift-live-1.html").write_text(f"<!doctype html><title>drift</title><h1>{REPORT_MARKER}</h1>")
    app = create_app(settings, backend=StandInBackend(extra_labels=EXTRA_LABELS))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        if os.environ.get("LEXFLOW_REQUIRE_CHROMIUM"):
            pytest.fail("chromium/chromium-driver not installed (apt-get install chromium chromium-driver)")
        pytest.skip("chromium/chromium-driver not installed (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def _wait(driver, condition, timeout: float = 20.0):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def _css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def _log_in(driver, base: str, path: str) -> None:
    driver.get(base + path)
    _css(driver, "#api-key")[0].send_keys(KEY)
    _css(driver, "#save-key")[0].click()
    _wait(driver, lambda d: _css(d, "#key-state")[0].text == "key set")


def test_review_a_contract_in_the_browser(server, browser):
    from selenium.webdriver.support.ui import Select

    base, app = server
    store = app.state.gateway.store
    browser.get(base + "/ui/review")  # without the key: the page reads, a write is refused with the reason
    _css(browser, "#paste")[0].send_keys(CONTRACT)
    _css(browser, "#classify-paste")[0].click()
    _wait(browser, lambda d: _css(d, "#message.error") and "API key" in _css(d, "#message")[0].text)
    browser.save_screenshot(str(SCREENSHOTS / "review-no-key.png"))
    assert store.counts()["predictions"] == 0

    _log_in(browser, base, "/ui/review")
    _css(browser, "#classify-paste")[0].click()  # nothing pasted: the page says why, nothing stored
    _wait(browser, lambda d: _css(d, "#message.error") and "empty" in _css(d, "#message")[0].text)
    browser.save_screenshot(str(SCREENSHOTS / "review-bad-input.png"))
    assert store.counts()["predictions"] == 0

    _css(browser, "#paste")[0].send_keys(CONTRACT)
    _css(browser, "#classify-paste")[0].click()
    rows = _wait(browser, lambda d: len(_css(d, "tr.provision")) == 3 and _css(d, "tr.provision"))
    options = rows[0].find_elements("css selector", "select.label-choice option")
    assert [o.get_attribute("value") for o in options] == ALL_LABELS  # every label, in a keyboard-usable select
    assert [r.find_element("css selector", ".predicted").text for r in rows] == [
        "governing_law",
        "termination",
        "confidentiality",
    ]
    rows[0].find_element("css selector", "button.confirm").click()
    Select(rows[1].find_element("css selector", "select.label-choice")).select_by_value("payment_terms")
    _wait(
        browser,
        lambda d: (
            [r.find_element("css selector", ".status").text for r in _css(d, "tr.provision")][:2]
            == ["confirmed", "corrected"]
        ),
    )
    browser.save_screenshot(str(SCREENSHOTS / "review.png"))

    corrected = rows[1].get_attribute("data-prediction-id")
    assert [(f.label, f.predicted_label) for f in store.corrections(corrected)] == [("payment_terms", "termination")]
    export = _css(browser, "#export-json")[0].get_attribute("href")
    with urllib.request.urlopen(urllib.request.Request(export, headers={"X-API-Key": KEY}), timeout=10) as response:
        provisions = json.load(response)["provisions"]
    assert [(p["prediction_id"], p["label"], p["status"]) for p in provisions][1] == (
        corrected,
        "payment_terms",
        "corrected",
    )

    _css(browser, 'a[href^="/ui/documents/"]:not(.download)')[0].click()  # the review's own page
    statuses = ["confirmed", "corrected", "unreviewed"]
    _wait(
        browser, lambda d: [r.find_element("css selector", ".status").text for r in _css(d, "tr.provision")] == statuses
    )


def test_work_the_queue_by_keyboard_and_open_the_models_page(server, browser):
    from selenium.webdriver.common.keys import Keys

    base, app = server
    store = app.state.gateway.store
    request = urllib.request.Request(
        base + "/v1/classify",
        data=json.dumps({"texts": [GOVERNING, TERMINATION, "An unclear clause.", "Another unclear clause."]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).close()
    before = store.counts()["feedback"]
    _log_in(browser, base, "/ui/queue")
    body = _css(browser, "body")[0]
    seen = []
    for key in (Keys.ENTER, "2", "s"):
        record = _wait(browser, lambda d: _css(d, ".queue-record") and _css(d, ".queue-record")[0])
        seen.append(record.get_attribute("data-prediction-id"))
        if key == Keys.ENTER:
            browser.save_screenshot(str(SCREENSHOTS / "queue.png"))
        body.send_keys(key)
        _wait(browser, lambda d: not _css(d, f'.queue-record[data-prediction-id="{seen[-1]}"]'))
    assert len(set(seen)) == 3
    with store.session() as session:
        answered = {f.prediction_id: f.label for f in session.query(FeedbackRow).filter(FeedbackRow.id > 0)}
    assert store.counts()["feedback"] == before + 2 and seen[0] in answered and seen[1] in answered
    assert answered[seen[1]] == ALL_LABELS[1]  # key 2: the second label in the list
    assert seen[2] not in answered  # skipped

    browser.get(base + "/ui/models")
    _wait(browser, lambda d: _css(d, "section.version"))
    assert "Version 7" in _css(browser, "section.version h2")[0].text and _css(browser, "svg.chart circle")
    assert "No drift" in _css(browser, "section.drift")[0].text and "[1, 2]" in _css(browser, "dl.lineage")[0].text
    browser.save_screenshot(str(SCREENSHOTS / "models.png"))
    # The report needs the key, which a plain link cannot send: the page's script fetches it with the key.
    models = browser.current_window_handle
    _css(browser, "a.report")[0].click()
    _wait(browser, lambda d: len(d.window_handles) == 2)
    browser.switch_to.window(next(h for h in browser.window_handles if h != models))
    _wait(browser, lambda d: REPORT_MARKER in d.page_source)
    browser.close()
    browser.switch_to.window(models)


def _shown_record(driver):
    """(prediction id, text) of the queue record on the page, read in one step (the page swaps it)."""
    return driver.execute_script(
        "const r = document.querySelector('.queue-record');"
        "return r ? [r.dataset.predictionId, r.querySelector('blockquote').textContent] : null;"
    )


def test_every_label_by_keyboard_and_stored_markup_stays_text(server, browser):
    """Issue 26: the queue offered only `labels[:9]`. Issue 21: a classified text carrying a
    `<meta http-equiv="refresh">` sent a reviewer's browser elsewhere when the queue showed it."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    def _keys(*keys):  # to whatever has the focus, as a person types
        ActionChains(browser).send_keys(*keys).perform()

    base, app = server
    store = app.state.gateway.store
    refresh = '<meta http-equiv="refresh" content="0;url=/ui/models"><script>document.title="owned"</script>'
    request = urllib.request.Request(
        base + "/v1/classify",
        data=json.dumps({"texts": [f"A clause no keyword decides {i} {refresh}" for i in range(3)]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).close()
    _log_in(browser, base, "/ui/review")  # not on the queue page: its login would load a second record view
    browser.execute_script("sessionStorage.removeItem('lexflow-reviewer')")  # a reviewer holding nothing yet
    browser.get(base + "/ui/queue")
    for _ in range(10):  # earlier tests' records may rank first: skip to one of these
        shown, text = _wait(browser, _shown_record)
        if refresh in text:  # shown as text
            break
        _css(browser, "body")[0].send_keys("s")
        _wait(browser, lambda d, skipped=shown: _shown_record(d) and _shown_record(d)[0] != skipped)
    assert refresh in text
    assert not _css(browser, ".queue-record meta, .queue-record script") and browser.current_url.endswith("/ui/queue")
    assert [b.get_attribute("data-label") for b in _css(browser, "button.choice")] == ALL_LABELS

    answered = []
    # The filter: "/" then part of a label's name, Enter picks the first match (the 13th label here).
    _keys("/", "choice/con", Keys.ENTER)
    _wait(browser, lambda d: _shown_record(d) and _shown_record(d)[0] != shown)
    answered.append((shown, "user choice/control"))
    # Tab to a label past the ninth, Enter on it.
    second, target = _wait(browser, _shown_record)[0], ALL_LABELS[11]
    for _ in range(40):
        if browser.execute_script("return document.activeElement.dataset.label") == target:
            break
        _keys(Keys.TAB)
    _keys(Keys.ENTER)
    _wait(browser, lambda d: _shown_record(d) and _shown_record(d)[0] != second)
    answered.append((second, target))
    for prediction_id, label in answered:
        assert [f.label for f in store.corrections(prediction_id)] == [label]
    assert browser.title != "owned"


def test_upload_a_docx_in_the_browser(server, browser, tmp_path):
    docx = pytest.importorskip("docx")
    base, _app = server
    document = docx.Document()
    for paragraph in CONTRACT.split("\n\n"):
        document.add_paragraph(paragraph.strip())
    path = tmp_path / "master-agreement.docx"
    document.save(str(path))
    _log_in(browser, base, "/ui/review")
    _css(browser, "#upload")[0].send_keys(str(path))
    _css(browser, "#classify-file")[0].click()
    _wait(browser, lambda d: len(_css(d, "tr.provision")) == 3)
    assert "master-agreement.docx" in _css(browser, ".document h2")[0].text
    browser.save_screenshot(str(SCREENSHOTS / "review-docx.png"))
