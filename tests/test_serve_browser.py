"""The web page in a real browser: headless Debian chromium driven by Playwright.

Loads the page from a live server, picks a class, presses Generate, checks the images really
rendered (naturalWidth > 0), the download is a PNG, and that an invalid input shows the API's
own error message on the page.  Skips (with the reason) only when /usr/bin/chromium is absent;
CI installs it (`apt-get install -y chromium`).  Never downloads a browser.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from test_serve_registry import LiveServer, make_models

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"{CHROMIUM} is absent: apt-get install -y chromium"),
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None,
                       reason="playwright is not installed: pip install -r requirements-dev.txt"),
]


@contextlib.contextmanager
def browser_tab(models_dir, log_dir, path: str = "/"):
    """A live server over `models_dir` (its log in `log_dir`) and a headless Chromium tab, 900 px
    square, opened at `path`; the calling test is skipped when Chromium or Playwright is absent."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent: apt-get install -y chromium")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    server = LiveServer(models_dir, log_dir=log_dir)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            tab = browser.new_page(viewport={"width": 900, "height": 900})
            tab.set_default_timeout(30000)
            tab.goto(server.url + path)
            yield tab
            browser.close()
    finally:
        server.stop()


def png_pixels(b64: str) -> np.ndarray:
    """uint8 (H, W, 3): a base64 PNG, as the API's `b64_json` and the page's data URLs carry it."""
    import base64
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGB"))


def grid_pixels(tab) -> np.ndarray:
    """uint8 (N, H, W, 3): the images the page's grid shows, decoded from their data URLs."""
    sources = tab.eval_on_selector_all("#grid img", "imgs => imgs.map(i => i.src)")
    return np.stack([png_pixels(s.split(",", 1)[1]) for s in sources])


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    root = tmp_path_factory.mktemp("browser")
    server = LiveServer(make_models(root / "models", caption=False))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 900, "height": 800}, accept_downloads=True)
        tab = context.new_page()
        tab.set_default_timeout(20000)
        tab.goto(server.url + "/")
        tab.screenshot_dir = root
        yield tab
        browser.close()
    server.stop()


def rendered_widths(tab) -> list[int]:
    return tab.eval_on_selector_all("#grid img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")


def test_generate_shows_images(page):
    page.wait_for_selector("#model option[value=tiny_cgan]", state="attached")
    page.select_option("#model", "tiny_cgan")
    page.select_option("#label", "horse")
    page.fill("#n", "6")
    page.fill("#seed", "7")
    page.click("#generate")
    page.wait_for_function("document.querySelectorAll('#grid img').length === 6")
    page.wait_for_function("[...document.querySelectorAll('#grid img')].every(i => i.complete)")
    assert rendered_widths(page) == [8] * 6
    assert page.inner_text("#grid figure:first-child figcaption") == "seed 7"
    assert page.is_hidden("#error")
    with page.expect_download() as download:
        page.click("#download")
    path = download.value.path()
    assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page.screenshot(path=str(Path(os.environ.get("SERVE_SCREENSHOT_DIR", page.screenshot_dir))
                             / "serve_page.png"), full_page=True)


def test_invalid_input_shows_api_error(page):
    page.select_option("#model", "tiny_cgan")
    page.fill("#n", "99")  # over the server's cap of 16
    page.click("#generate")
    page.wait_for_selector("#error:not([hidden])")
    text = page.inner_text("#error")
    assert "n must be an integer from 1 to 16" in text and "invalid_n" in text
    page.screenshot(path=str(Path(os.environ.get("SERVE_SCREENSHOT_DIR", page.screenshot_dir))
                             / "serve_page_error.png"))


def test_keyboard_only(page):
    page.select_option("#model", "tiny_gan")  # unconditional: no class list
    assert page.is_hidden("#label-field")
    page.fill("#n", "2")
    page.fill("#seed", "")
    page.focus("#seed")
    page.keyboard.press("Enter")  # submitting the form from the keyboard
    page.wait_for_function("document.querySelectorAll('#grid img').length === 2")
    page.wait_for_function("[...document.querySelectorAll('#grid img')].every(i => i.complete)")
    assert all(width > 0 for width in rendered_widths(page)) and page.is_hidden("#error")


def test_grid_is_responsive(page):
    columns = "getComputedStyle(document.querySelector('#grid')).gridTemplateColumns.split(' ').length"
    wide = page.evaluate(columns)
    page.set_viewport_size({"width": 380, "height": 800})
    try:
        assert page.evaluate(columns) == 2 < wide
        page.screenshot(path=str(Path(os.environ.get("SERVE_SCREENSHOT_DIR", page.screenshot_dir))
                                 / "serve_page_narrow.png"), full_page=True)
    finally:
        page.set_viewport_size({"width": 900, "height": 800})
