"""The web page over the shipped models, in headless Debian chromium (Playwright).

What a new user sees first: the default model is the Shapes caption model, so the caption
placeholder must be a caption that model knows (not a bird caption); switching models updates
it; and the model line shows the card's metrics as numbers, nested ones included, never
`[object Object]`.  Skips only when /usr/bin/chromium, playwright or the shipped models are
absent.
"""
from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

from conftest import ROOT
from test_serve_browser import ARGS, CHROMIUM, grid_pixels, png_pixels
from test_serve_registry import LiveServer

SHIPPED = ROOT / "models"
pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"{CHROMIUM} is absent: apt-get install -y chromium"),
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None,
                       reason="playwright is not installed: pip install -r requirements-dev.txt"),
    pytest.mark.skipif(not (SHIPPED / "attngan_shapes" / "card.json").is_file(),
                       reason="needs the shipped models/"),
]


def shot(tab, name: str) -> None:
    folder = Path(os.environ.get("SERVE_SCREENSHOT_DIR", tab.screenshot_dir))
    tab.screenshot(path=str(folder / name), full_page=True)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    root = tmp_path_factory.mktemp("shipped")
    (root / "models").symlink_to(SHIPPED, target_is_directory=True)  # server log goes in root
    server = LiveServer(root / "models")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        tab = browser.new_context(viewport={"width": 900, "height": 800}).new_page()
        tab.set_default_timeout(30000)
        tab.goto(server.url + "/")
        tab.wait_for_selector("#model option[value=attngan_shapes]", state="attached")
        tab.screenshot_dir = root
        yield tab
        browser.close()
    server.stop()


def shapes_vocabulary() -> set[str]:
    return set(json.loads((SHIPPED / "attngan_shapes" / "vocabulary.json").read_text())["words"])


def test_caption_placeholder_is_one_the_selected_model_knows(page):
    assert page.input_value("#model") == "attngan_shapes"  # the first model is the default
    assert page.is_visible("#caption")
    placeholder = page.get_attribute("#caption", "placeholder")
    assert placeholder and "bird" not in placeholder
    assert set(placeholder.split()) <= shapes_vocabulary()
    shot(page, "serve_page_shapes.png")
    page.fill("#caption", placeholder)  # the example generates with every word known
    page.fill("#n", "2")
    page.fill("#seed", "5")
    page.click("#generate")
    page.wait_for_function("document.querySelectorAll('#grid img').length === 2")
    assert page.is_hidden("#unknown-words") and page.is_hidden("#error")


def test_changing_the_model_updates_the_hints(page):
    page.select_option("#model", "cgan_cifar10")
    assert page.is_hidden("#caption-field")
    classes = json.loads((SHIPPED / "cgan_cifar10" / "card.json").read_text())["classes"]
    options = page.eval_on_selector_all("#label option", "os => os.map(o => o.value)")
    assert options == classes
    page.evaluate("document.querySelector('#caption').placeholder = 'stale'")
    page.select_option("#model", "attngan_shapes")
    assert set(page.get_attribute("#caption", "placeholder").split()) <= shapes_vocabulary()
    page.fill("#caption", "")  # an empty caption: the API's error suggests the same example
    page.click("#generate")
    page.wait_for_selector("#error:not([hidden])")
    assert page.get_attribute("#caption", "placeholder") in page.inner_text("#error")


def test_model_line_shows_nested_metrics_readably(page):
    page.select_option("#model", "cgan_cifar10")
    line = page.inner_text("#model-info")
    assert "[object Object]" not in line
    assert "classifier_accuracy 0.866" in line and "classifier_fid 10.1" in line
    shot(page, "serve_page_cgan.png")
    page.select_option("#model", "attngan_shapes")
    line = page.inner_text("#model-info")
    assert "[object Object]" not in line
    assert "r_precision_generated 0.828" in line
    assert "colour 0.912" in line  # inside the nested caption_accuracy_generated value


TWO_OBJECTS = ("a large red circle in the upper left corner and a large blue square at the bottom "
               "on a white background")


def test_word_attention_of_a_two_object_caption(page):
    """The page offers a two-object example the model knows; the attention button shows, for
    the caption and the first seed on the page, the picture the library draws
    (`attention_grid`): stage 2's image is the generated image itself."""
    import numpy as np

    from condgan.attngan_viz import attention_grid
    from condgan.families.attngan.model import load_attngan

    page.select_option("#model", "cgan_cifar10")
    assert page.is_hidden("#attention")              # a class model has no word attention
    page.select_option("#model", "attngan_shapes")
    assert page.is_visible("#attention") and page.is_hidden("#attention-view")
    examples = page.locator("#examples .example")
    assert examples.count() >= 2 and examples.nth(0).inner_text() == page.get_attribute("#caption", "placeholder")
    page.click(f"#examples .example:has-text('{TWO_OBJECTS}')")
    assert page.input_value("#caption") == TWO_OBJECTS
    page.fill("#n", "1")
    page.fill("#seed", "11")
    page.click("#generate")
    page.wait_for_function("document.querySelectorAll('#grid img').length === 1")
    page.click("#attention")
    page.wait_for_selector("#attention-view:not([hidden])")
    shown = png_pixels(page.get_attribute("#attention-image", "src").split(",", 1)[1])
    model = load_attngan(SHIPPED / "attngan_shapes")
    result = model.attention(TWO_OBJECTS, seed=11)
    np.testing.assert_array_equal(shown, attention_grid(result))
    np.testing.assert_array_equal(grid_pixels(page)[0], result["images"][-1])
    note = page.inner_text("#attention-note")
    assert "Seed 11" in note and " ".join(result["words"]) in note
    shot(page, "serve_page_attention.png")

