"""The Style page in a real browser: headless Debian chromium driven by Playwright, against a
small Flask app serving the page, the shared static files and the /v1/style blueprint, whose
network is VGG19 with random weights (the blueprint's test hook: the mechanics, not the art).

Two images are picked (previews shown), the form is sent from the keyboard, the result image
renders at the content image's aspect and downloads as a PNG; a file that is not an image
shows the API's own message; a server without the VGG19 weights says how to install them; the
page fits a 400-pixel-wide screen.  Skips only when /usr/bin/chromium or playwright is absent;
never downloads a browser or weights.
"""
from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from test_serve_browser import ARGS, CHROMIUM

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"{CHROMIUM} is absent: apt-get install -y chromium"),
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None,
                       reason="playwright is not installed: pip install -r requirements-dev.txt"),
]


def page_app(**blueprint_options):
    """The Style page as the real app serves it: the page (with the endpoints the shared
    navigation links to) and the blueprint under test."""
    from flask import Flask, jsonify, render_template

    from condgan.serve.style_api import style_blueprint

    app = Flask("style-page-test", template_folder=str(ROOT / "FlaskApp" / "templates"),
                static_folder=str(ROOT / "FlaskApp" / "static"), static_url_path="/static")
    app.add_url_rule("/", "generate_page", lambda: "the Generate page")
    app.add_url_rule("/models", "models_page", lambda: "the Models page")
    app.add_url_rule("/openapi.json", "openapi", lambda: jsonify({}))
    app.add_url_rule("/style", "style_page",
                     lambda: render_template("style.html", active="style", jobs_enabled=False, max_n=16))
    app.register_blueprint(style_blueprint(**blueprint_options))
    return app


class ThreadServer:
    def __init__(self, app) -> None:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(10)


def write_picture(path: Path, height: int, width: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    image = np.stack([np.sin(6 * x + seed), np.cos(5 * y), np.sin(4 * (x + y))], -1) * 100 + 128
    Image.fromarray((image + rng.uniform(0, 20, image.shape)).clip(0, 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    import keras
    from playwright.sync_api import sync_playwright

    from condgan.style import load_vgg_features

    root = tmp_path_factory.mktemp("style_page")
    keras.utils.set_random_seed(0)
    network = load_vgg_features(random_weights_for_tests=True)
    files = {"content": write_picture(root / "photo.png", 40, 30, 1),
             "style": write_picture(root / "painting.jpg", 32, 32, 2),
             "text": root / "notes.png"}
    files["text"].write_text("this is not an image")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KERAS_HOME", str(root / "empty_keras_home"))  # the no-weights server's cache
        env.delenv("CONDGAN_VGG19_WEIGHTS", raising=False)
        servers = {"ready": ThreadServer(page_app(network_factory=lambda: network, default_size=32,
                                                  max_size=64, default_steps=2, max_steps=5)),
                   "no_weights": ThreadServer(page_app())}
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
                context = browser.new_context(viewport={"width": 1000, "height": 900}, accept_downloads=True)
                context.set_default_timeout(60000)
                yield {"context": context, "root": root, "files": files,
                       **{name: server.url for name, server in servers.items()}}
                browser.close()
        finally:
            for server in servers.values():
                server.stop()


def new_tab(site, url: str):
    tab = site["context"].new_page()
    tab.errors = []
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.goto(url + "/style")
    return tab


def natural_size(tab, selector: str) -> list[int]:
    return tab.eval_on_selector(selector, "i => i.complete ? [i.naturalWidth, i.naturalHeight] : [0, 0]")


def shot(tab, site, name: str) -> None:
    folder = Path(os.environ.get("SERVE_SCREENSHOT_DIR", site["root"]))
    tab.screenshot(path=str(folder / name), full_page=True)


def test_upload_two_images_and_get_the_result(site):
    tab = new_tab(site, site["ready"])
    links = dict(tab.eval_on_selector_all(
        "nav.site-nav ul a", "links => links.map(a => [a.textContent, a.getAttribute('aria-current')])"))
    assert links == {"Generate": None, "Models": None, "Style": "page"}
    tab.wait_for_function("document.querySelector('#style-limits').textContent.includes('at most 5 steps')")
    assert tab.input_value("#size") == "32" and tab.get_attribute("#size", "max") == "64"
    tab.set_input_files("#content", str(site["files"]["content"]))
    tab.set_input_files("#style", str(site["files"]["style"]))
    tab.wait_for_function(
        "['content', 'style'].every(n => document.getElementById(n + '-preview').naturalWidth > 0)")
    assert natural_size(tab, "#content-preview") == [30, 40]
    tab.fill("#steps", "2")
    tab.focus("#steps")
    tab.keyboard.press("Enter")  # submits the form, as the button would
    tab.wait_for_selector("#style-result:not([hidden])")
    tab.wait_for_function("document.getElementById('result-image').naturalWidth > 0")
    assert natural_size(tab, "#result-image") == [24, 32]  # the content's aspect, longer side 32
    assert tab.inner_text("#style-status").startswith("Done in")
    assert "photo.png in the style of painting.jpg" in tab.inner_text("#result-caption")
    assert tab.evaluate("document.activeElement.id") == "result-heading"
    assert tab.is_hidden("#style-error") and tab.is_hidden("#style-progress")
    assert not tab.is_disabled("#transfer")
    with tab.expect_download() as download:
        tab.click("#result-download")
    assert download.value.suggested_filename == "photo-styled.png"
    assert Path(download.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    shot(tab, site, "style_page.png")
    assert tab.errors == []
    tab.close()


def test_a_file_that_is_not_an_image_shows_the_api_message(site):
    tab = new_tab(site, site["ready"])
    tab.wait_for_function("document.querySelector('#style-limits').textContent.includes('at most 5 steps')")
    tab.set_input_files("#content", str(site["files"]["content"]))
    tab.set_input_files("#style", str(site["files"]["text"]))
    tab.click("#transfer")
    tab.wait_for_selector("#style-error:not([hidden])")
    text = tab.inner_text("#style-error")
    assert "not an image" in text and "not_an_image, HTTP 400" in text
    assert tab.is_hidden("#style-result") and not tab.is_disabled("#transfer")
    tab.fill("#size", "")
    tab.set_input_files("#style", [])  # a missing file is caught before any request
    tab.click("#transfer")
    tab.wait_for_function(
        "document.querySelector('#style-error').textContent.includes('Choose a style image')")
    assert tab.evaluate("document.activeElement.id") == "style"
    assert tab.errors == []
    tab.close()


def test_a_server_without_weights_says_how_to_install_them(site):
    tab = new_tab(site, site["no_weights"])
    tab.wait_for_selector("#weights-notice:not([hidden])")
    text = tab.inner_text("#weights-notice")
    assert "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5" in text and "keras.applications.VGG19" in text
    assert tab.is_disabled("#transfer")
    assert tab.errors == []
    tab.close()


def test_the_page_fits_a_narrow_screen(site):
    tab = new_tab(site, site["ready"])
    tab.set_viewport_size({"width": 400, "height": 800})
    tab.set_input_files("#content", str(site["files"]["content"]))
    tab.set_input_files("#style", str(site["files"]["style"]))
    tab.wait_for_function("document.getElementById('style-preview').naturalWidth > 0")
    assert tab.evaluate("document.documentElement.scrollWidth") <= 400
    lefts = tab.eval_on_selector_all(".style-pick", "boxes => boxes.map(b => b.getBoundingClientRect().left)")
    assert lefts[0] == lefts[1]  # stacked, not side by side
    shot(tab, site, "style_page_narrow.png")
    tab.close()
