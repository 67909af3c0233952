"""The studio pages (Train, Jobs, Models and the Generate page's ?model=&version=) in a real
browser: headless Debian chromium driven by Playwright, against a live server with job settings
whose worker runs real child processes (`python -m condgan train`, then `export`).

One tiny recipe is trained from the Train page (the admin token typed in, one setting changed,
submitted from the keyboard), followed on the Jobs page to `succeeded` over the event stream
(sample grid rendered, loss chart drawn), then its new version is opened on the Generate page
and on the Models page.  Also: a wrong token and a missing token get a clear message, a server
without a token (or without job settings) says how to turn jobs on, and each page fits a
400-pixel-wide screen.  Skips only when /usr/bin/chromium or playwright is absent; never
downloads a browser.
"""
from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path

import pytest

from test_serve_browser import ARGS, CHROMIUM
from test_serve_registry import make_models

TOKEN = "s3cret"
JOB_TIMEOUT_MS = 240_000  # train + export as child processes, on a busy two-core machine
TINY_RECIPE = '''from condgan.families.gan import GanConfig


def get_config():
    return GanConfig(name="tiny", data="data/tiny.npz", image_size=16, latent_dim=16, g_channels=16,
                     d_channels=16, batch_size=16, epochs=2, checkpoint_every_steps=0,
                     tensorboard=False, samples_per_class=4, verbose=0)
'''
pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"{CHROMIUM} is absent: apt-get install -y chromium"),
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None,
                       reason="playwright is not installed: pip install -r requirements-dev.txt"),
]


class ThreadServer:
    """The app on a free port, served by werkzeug's threaded server in a thread of the test
    process: `create_app(jobs=..., admin_token=...)` takes objects the command line cannot."""

    def __init__(self, app) -> None:
        from werkzeug.serving import make_server

        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        worker = self.app.extensions["condgan"].get("job_worker")
        if worker is not None:
            worker.stop()
        self.server.shutdown()
        self.thread.join(10)


def job_settings(root: Path, runs: str = "runs"):
    """A recipes folder with the tiny recipe, its data under the data root, a models folder
    holding two single-version models (tiny_cgan with a card metric, tiny_gan)."""
    from condgan.data.arrays import save_array_set
    from condgan.jobs.submission import JobSettings
    from tests.helpers import tiny_array_set

    if not (root / "recipes").is_dir():
        (root / "recipes").mkdir(parents=True)
        (root / "data").mkdir()
        save_array_set(root / "data" / "tiny.npz", tiny_array_set(64, 16), source="tiny test data")
        (root / "recipes" / "tiny.py").write_text(TINY_RECIPE)
        make_models(root / "models", caption=False)
    return JobSettings(recipes_dir=root / "recipes", data_root=root / "data", runs_root=root / runs,
                       models_dir=root / "models", cwd=root, min_free_gb=0.1)


def shot(tab, folder: Path, name: str) -> Path:
    path = Path(os.environ.get("SERVE_SCREENSHOT_DIR", folder)) / name
    tab.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """A server with jobs on (token TOKEN), one with jobs off (no token), one without job
    settings, and a browser."""
    from playwright.sync_api import sync_playwright

    from condgan.serve.app import create_app

    root = tmp_path_factory.mktemp("studio")
    settings = job_settings(root)
    servers = {
        "on": ThreadServer(create_app(settings.models_dir, jobs=settings, admin_token=TOKEN,
                                      background_load=False, warm_up=False)),
        "no_token": ThreadServer(create_app(settings.models_dir, jobs=job_settings(root, "runs_off"),
                                            admin_token=None, background_load=False, warm_up=False)),
        "no_jobs": ThreadServer(create_app(settings.models_dir, background_load=False, warm_up=False)),
    }
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            context = browser.new_context(viewport={"width": 1000, "height": 900})
            context.set_default_timeout(30000)
            yield {"context": context, "root": root, **{k: s.url for k, s in servers.items()}}
            browser.close()
    finally:
        for server in servers.values():
            server.stop()


def new_tab(studio):
    """A fresh tab: its own sessionStorage, so no token from another test."""
    tab = studio["context"].new_page()
    tab.errors = []
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    return tab


def nav_links(tab) -> dict[str, str | None]:
    return dict(tab.eval_on_selector_all(
        "nav.site-nav ul a", "links => links.map(a => [a.textContent, a.getAttribute('aria-current')])"))


def test_a_missing_or_wrong_token_gets_a_clear_message(studio):
    tab = new_tab(studio)
    tab.goto(studio["on"] + "/train")
    assert nav_links(tab) == {"Generate": None, "Models": None, "Train": "page", "Jobs": None,
                              "Style": None}
    tab.wait_for_selector("#auth-message:not([hidden])")
    assert "needs the server's admin token" in tab.inner_text("#auth-message")
    assert tab.is_hidden("#train-form")
    tab.fill("#token", "not-the-token")
    tab.click("#token-save")
    tab.wait_for_function("document.querySelector('#auth-message').textContent.includes('refused')")
    text = tab.inner_text("#auth-message")
    assert "not the server's CONDGAN_ADMIN_TOKEN" in text and tab.is_hidden("#train-form")
    tab.goto(studio["on"] + "/jobs")  # the same tab keeps the (wrong) token
    tab.wait_for_selector("#auth-message:not([hidden])")
    assert "refused" in tab.inner_text("#auth-message") and tab.is_hidden("#job-list")
    assert tab.errors == []
    tab.close()


def test_train_follow_the_job_and_use_its_new_version(studio):
    tab = new_tab(studio)
    requests = []
    tab.on("request", lambda request: requests.append(request.url))
    tab.goto(studio["on"] + "/train")
    tab.fill("#token", TOKEN)
    tab.press("#token", "Enter")  # the token form submits from the keyboard
    tab.wait_for_selector("#set-epochs")
    tab.select_option("#recipe", "tiny")
    assert "cgan" in tab.inner_text("#recipe-info") and "data/tiny.npz" in tab.inner_text("#recipe-info")
    assert tab.input_value("#name") == "tiny" and tab.input_value("#set-epochs") == "2"
    # Every input has a label and a description; booleans are checkboxes, floats take any step.
    assert tab.evaluate("""[...document.querySelectorAll('#train-form input, #train-form select')]
        .every(i => i.labels.length > 0 && i.getAttribute('aria-describedby'))""")
    assert tab.get_attribute("#set-spectral_norm", "type") == "checkbox"
    assert tab.get_attribute("#set-g_lr", "step") == "any"
    assert tab.get_attribute("#set-epochs", "type") == "number"

    tab.fill("#set-epochs", "3")
    assert "changed" in tab.get_attribute("#set-epochs >> xpath=ancestor::div[1]", "class")
    tab.fill("#name", "tiny_cgan")  # a shipped-style single-version model: the server refuses
    tab.press("#name", "Enter")
    tab.wait_for_selector("#train-error:not([hidden])")
    assert "single version" in tab.inner_text("#train-error") and "invalid_job" in tab.inner_text("#train-error")
    tab.fill("#name", "studio_tiny")
    shot(tab, studio["root"], "studio_train.png")
    tab.press("#name", "Enter")
    tab.wait_for_url(lambda url: "/jobs#" in url)
    job_id = int(tab.url.rsplit("#", 1)[1])

    tab.wait_for_selector(f"#jobs-body a[href='#{job_id}'][aria-current]")
    tab.wait_for_function("['succeeded', 'failed', 'cancelled', 'interrupted']"
                          ".includes(document.querySelector('#detail-status').textContent)",
                          timeout=JOB_TIMEOUT_MS)
    assert tab.inner_text("#detail-status") == "succeeded", tab.inner_text("#job-detail")
    assert any(url.endswith(f"/v1/jobs/{job_id}/events") for url in requests)  # followed live
    tab.wait_for_function("document.querySelector('#sample').complete && "
                          "document.querySelector('#sample').naturalWidth > 0")
    assert tab.is_visible("#sample") and "epoch 3" in tab.inner_text("#sample-caption")
    lines = tab.eval_on_selector_all("#loss-chart svg polyline",
                                     "ps => ps.map(p => [p.dataset.loss, p.points.numberOfItems])")
    assert lines and all(points == 3 for _, points in lines)  # one line per loss, one point per epoch
    assert {name for name, _ in lines} >= {"d_loss", "g_loss"}
    assert "Losses over epochs 1 to 3" in tab.get_attribute("#loss-chart svg", "aria-label")
    assert "epochs=3" in tab.inner_text("#detail-facts")
    assert "image_size" not in tab.inner_text("#detail-facts")  # unchanged settings are not sent
    assert "exported" in tab.inner_text("#log")
    assert tab.is_disabled("#cancel") and tab.is_disabled("#resume")
    tab.wait_for_function(f"document.querySelector(\"#jobs-body a[href='#{job_id}']\")"
                          ".closest('tr').textContent.includes('succeeded')")
    shot(tab, studio["root"], "studio_jobs.png")

    link = tab.get_attribute("#generate-link", "href")
    assert link == "/?model=studio_tiny&version=1"
    tab.click("#generate-link")
    tab.wait_for_function("document.querySelector('#model').value === 'studio_tiny'")
    tab.wait_for_function("document.querySelector('#model-info').textContent.startsWith('version 1')")
    tab.select_option("#label", "stripes")
    tab.fill("#n", "4")
    tab.fill("#seed", "3")
    with tab.expect_request(lambda r: r.url.endswith("/v1/models/studio_tiny/versions/1:generate")):
        tab.click("#generate")
    tab.wait_for_function("document.querySelectorAll('#grid img').length === 4")
    tab.wait_for_function("[...document.querySelectorAll('#grid img')].every(i => i.complete)")
    assert tab.eval_on_selector_all("#grid img", "imgs => imgs.map(i => i.naturalWidth)") == [16] * 4
    assert tab.is_hidden("#error")

    tab.click("nav.site-nav >> text=Models")
    tab.wait_for_selector("[id='model-studio_tiny'] .sample-row img")
    card = tab.locator("[id='model-studio_tiny']")
    assert card.locator(".versions a").get_attribute("href") == "/?model=studio_tiny&version=1"
    assert "v1 (newest)" in card.inner_text() and "16 × 16" in card.inner_text()
    assert "dark, stripes" in card.inner_text()
    tab.wait_for_function("[...document.querySelectorAll('.sample-row img')].length === 12 && "
                          "[...document.querySelectorAll('.sample-row img')].every(i => i.complete)")
    widths = tab.eval_on_selector_all(".sample-row img", "imgs => imgs.map(i => i.naturalWidth)")
    assert sorted(widths) == [8] * 8 + [16] * 4  # tiny_cgan, tiny_gan (8 px), studio_tiny (16 px)
    assert "seed 0" in tab.get_attribute("[id='model-tiny_gan'] .sample-row img", "alt")
    metrics = tab.locator("[id='model-tiny_cgan'] table.metrics").inner_text()
    assert "fid" in metrics and "123.4" in metrics
    shot(tab, studio["root"], "studio_models.png")
    assert tab.errors == []
    tab.close()


def test_cancel_and_resume_from_the_page(studio):
    """A long job cancelled from its page, resumed (a second attempt), cancelled again; the
    job list keeps the keyboard focus on its link through the refreshes."""
    import requests

    response = requests.post(studio["on"] + "/v1/jobs", headers={"Authorization": f"Bearer {TOKEN}"},
                             json={"config": "tiny", "name": "studio_long",
                                   "set": {"epochs": 400, "checkpoint_every_steps": 2}}, timeout=30)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    tab = new_tab(studio)
    tab.goto(studio["on"] + "/jobs")
    tab.fill("#token", TOKEN)
    tab.click("#token-save")
    link = f"#jobs-body a[href='#{job_id}']"
    tab.focus(link)
    tab.keyboard.press("Enter")  # a job is picked from the keyboard
    tab.wait_for_function(f"location.hash === '#{job_id}'")
    tab.wait_for_function("document.querySelector('#detail-status').textContent === 'running' && "
                          "/epoch [1-9]/.test(document.querySelector('#detail-summary').textContent)",
                          timeout=JOB_TIMEOUT_MS)
    assert "ETA" in tab.inner_text("#detail-summary")
    tab.focus(link)
    tab.wait_for_timeout(2500)  # past one refresh of the list
    assert tab.evaluate("document.activeElement.getAttribute('href')") == f"#{job_id}"
    tab.click("#cancel")
    tab.wait_for_function("document.querySelector('#detail-status').textContent === 'cancelled'",
                          timeout=JOB_TIMEOUT_MS)
    assert tab.is_enabled("#resume") and tab.is_disabled("#cancel") and tab.is_hidden("#generate-link")
    assert "resume it" in tab.inner_text("#detail-error")
    tab.click("#resume")
    tab.wait_for_function("document.querySelector('#detail-message').textContent.includes('queued again')")
    tab.wait_for_function("document.querySelector('#detail-status').textContent === 'running'"
                          " && !document.querySelector('#cancel').disabled", timeout=JOB_TIMEOUT_MS)
    tab.click("#cancel")
    tab.wait_for_function("document.querySelector('#detail-status').textContent === 'cancelled'",
                          timeout=JOB_TIMEOUT_MS)
    facts = tab.inner_text("#detail-facts")
    assert "Attempts" in facts and facts.rstrip().endswith("2")
    assert tab.errors == []
    tab.close()


def test_jobs_off_says_how_to_turn_them_on(studio):
    tab = new_tab(studio)
    tab.goto(studio["no_token"] + "/jobs")  # job settings, but no admin token configured
    tab.fill("#token", "anything")
    tab.click("#token-save")
    tab.wait_for_function("document.querySelector('#auth-message').textContent.includes('off')")
    text = tab.inner_text("#auth-message")
    assert "Training jobs are off on this server" in text and "CONDGAN_ADMIN_TOKEN" in text
    tab.goto(studio["no_jobs"] + "/train")  # no job settings at all: no job routes
    assert nav_links(tab) == {"Generate": None, "Models": None, "Style": None}
    assert "CONDGAN_ADMIN_TOKEN" in tab.inner_text("#jobs-off")
    assert tab.locator("#token").count() == 0 and tab.is_hidden("#train-form")
    assert tab.errors == []
    tab.close()


@pytest.mark.parametrize("path", ["/", "/models", "/train", "/jobs#1"])
def test_pages_fit_a_narrow_screen(studio, path):
    tab = new_tab(studio)
    tab.set_viewport_size({"width": 400, "height": 800})
    tab.goto(studio["on"] + "/train")
    tab.evaluate(f"sessionStorage.setItem('condgan.admin-token', '{TOKEN}')")
    tab.goto(studio["on"] + path)
    if path.startswith("/jobs"):  # job 1 is the one the test above trained, when it ran first
        tab.wait_for_function("!document.querySelector('#job-detail').hidden || "
                              "(!document.querySelector('#job-list').hidden && "
                              "!document.querySelector('#jobs-body tr'))")
    else:
        tab.wait_for_load_state("networkidle")
    assert tab.evaluate("document.documentElement.scrollWidth") <= 400
    assert tab.evaluate("getComputedStyle(document.querySelector('nav.site-nav')).display") == "flex"
    if path == "/jobs#1":  # the wide job table scrolls inside its own box, not the page
        assert tab.evaluate("document.querySelector('.table-wrap').getBoundingClientRect().right") <= 400
    assert tab.errors == []
    tab.close()
