"""The serving commands of README.md and docs/serving.md, run as a new user runs them.

The server is started the way the README says and the documented `curl` block is run at once,
while the models are still loading, with only the address changed (a free port on 127.0.0.1
instead of 5000, so that parallel runs never collide).  Every command must succeed and every
`-o` file must be a real PNG: an error answer must never be saved as a picture.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import requests

from conftest import ROOT
from test_serve_registry import LiveServer

SHIPPED = ROOT / "models"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
pytestmark = pytest.mark.skipif(
    not (SHIPPED / "cgan_cifar10" / "card.json").is_file() or not os.path.exists("/usr/bin/curl"),
    reason="needs the shipped models/ and curl")


def block_after(text: str, marker: str) -> str:
    """The first fenced code block after the line containing `marker`."""
    start = text.index(marker)
    match = re.search(r"```[a-z]*\n(.*?)```", text[start:], re.S)
    assert match, f"no code block after {marker!r}"
    return match.group(1)


def run_block(block: str, port: int, cwd: Path) -> subprocess.CompletedProcess:
    assert "localhost:5000" in block
    script = block.replace("localhost:5000", f"127.0.0.1:{port}")
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=cwd, timeout=240,
                          capture_output=True)


@pytest.fixture()
def starting_server(tmp_path_factory):
    # returned as soon as its port answers, while the models are still loading: "straight
    # after it starts"
    server = LiveServer(None, wait_for="/healthz", log_dir=tmp_path_factory.mktemp("docs"))
    yield server
    server.stop()


def skip_if_ready(server: LiveServer) -> None:
    ready = requests.get(f"http://127.0.0.1:{server.port}/readyz", timeout=5)
    if ready.status_code == 200:
        pytest.skip("the models loaded before the commands ran: nothing left to test")


def test_readme_curl_block_works_straight_after_the_server_starts(starting_server, tmp_path):
    readme = (ROOT / "README.md").read_text()
    block = block_after(readme, "Then, with the server running:")
    skip_if_ready(starting_server)
    result = run_block(block, starting_server.port, tmp_path)
    assert result.returncode == 0, result.stderr.decode()[-2000:] + starting_server.output()
    assert b'"seeds":[7,8,9,10]' in result.stdout.replace(b" ", b"")
    assert (tmp_path / "ships.png").read_bytes()[:8] == PNG_MAGIC


def test_serving_doc_curl_block_works(starting_server, tmp_path):
    block = block_after((ROOT / "docs" / "serving.md").read_text(), "From the command line")
    result = run_block(block, starting_server.port, tmp_path)
    assert result.returncode == 0, result.stderr.decode()[-2000:] + starting_server.output()
    outputs = re.findall(r"-o (\S+\.png)", block)
    assert outputs
    for name in outputs:
        assert (tmp_path / name).read_bytes()[:8] == PNG_MAGIC, name


def test_documented_png_curl_fails_instead_of_saving_an_error(starting_server, tmp_path):
    """The README's PNG command alone, while the models load (503): it must fail and leave no
    ships.png behind."""
    block = block_after((ROOT / "README.md").read_text(), "Then, with the server running:")
    command = next(c for c in re.split(r"(?<!\\)\n", block) if "-o ships.png" in c)
    skip_if_ready(starting_server)
    result = run_block(command, starting_server.port, tmp_path)
    assert result.returncode != 0 and b"503" in result.stderr, result.stderr
    assert not (tmp_path / "ships.png").exists()


def test_serving_doc_inference_protocol_block_works(starting_server, tmp_path):
    block = block_after((ROOT / "docs" / "serving.md").read_text(), "An Open")
    result = run_block(block, starting_server.port, tmp_path)
    assert result.returncode == 0, result.stderr.decode()[-2000:] + starting_server.output()
    assert b"image [2, 32, 32, 3]" in result.stdout
    assert b'"name":"cgan_cifar10"' in result.stdout.replace(b" ", b"")
    metrics = requests.get(f"http://127.0.0.1:{starting_server.port}/metrics", timeout=10).text
    assert 'condgan_images_generated_total{model="cgan_cifar10"}' in metrics
