"""The web page's time to first image, in a real browser (Debian's chromium, headless).

    python bench/page_first_image.py                       # the shipped models, 5 tries
    python bench/page_first_image.py --models-dir DIR --model NAME --label horse --tries 10

Starts `FlaskApp/endpoint_full.py` on 127.0.0.1, waits until `/readyz` answers 200, then for
each try opens a fresh browser page and measures: the page loaded (DOMContentLoaded), the model
list filled from /v1/models, and, after pressing Generate with one image, that image decoded
and drawn (`naturalWidth > 0`).  Prints the medians and each try.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from serve_load import free_port, start_server  # this script's folder is on the path

ROOT = Path(__file__).resolve().parent.parent

CHROMIUM = "/usr/bin/chromium"


def one_try(browser, url: str, model: str, label: str | None) -> dict[str, float]:
    page = browser.new_page()
    start = time.perf_counter()
    page.goto(url + "/", wait_until="domcontentloaded")
    loaded = time.perf_counter()
    page.wait_for_selector(f"#model option[value='{model}']", state="attached")
    page.select_option("#model", model)
    listed = time.perf_counter()
    if label is not None:
        page.select_option("#label", label)
    page.fill("#n", "1")
    page.fill("#seed", "7")
    clicked = time.perf_counter()
    page.click("#generate")
    page.wait_for_function("(() => { const i = document.querySelector('#grid img');"
                           " return i && i.complete && i.naturalWidth > 0; })()")
    drawn = time.perf_counter()
    page.close()
    return {"page_loaded_ms": (loaded - start) * 1000, "models_listed_ms": (listed - start) * 1000,
            "first_image_after_click_ms": (drawn - clicked) * 1000,
            "first_image_from_open_ms": (drawn - start) * 1000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", default=str(ROOT / "models"))
    parser.add_argument("--model", default="cgan_cifar10")
    parser.add_argument("--label", default="horse", help="class to pick ('' for none)")
    parser.add_argument("--tries", type=int, default=5)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"{CHROMIUM} is absent: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkdtemp(prefix="page_bench_")) / "server.log"
    server = start_server([sys.executable, str(ROOT / "FlaskApp" / "endpoint_full.py"),
                           "--models-dir", args.models_dir, "--port", str(port)], url, log)
    tries = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=["--no-sandbox", "--disable-gpu"])
            one_try(browser, url, args.model, args.label or None)  # the server's first request
            for _ in range(args.tries):
                tries.append(one_try(browser, url, args.model, args.label or None))
            browser.close()
    finally:
        server.terminate()
        server.wait(20)
    medians = {key: round(statistics.median(t[key] for t in tries), 1) for key in tries[0]}
    result = {"model": args.model, "tries": args.tries, "median": medians,
              "each": [{k: round(v, 1) for k, v in t.items()} for t in tries],
              "loadavg": os.getloadavg()}
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
