"""The README's production command under real gunicorn: no request may reach a loading worker.

gunicorn's master binds the port before its workers have loaded anything, so the port accepts
connections from the first instant.  Requests fired from that instant on, over fresh
connections so that both workers take some, must all be answered by a worker whose models are
in: never 503 `not_ready`.
"""
from __future__ import annotations

import importlib.util
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

from conftest import ROOT
from test_serve_registry import free_port, make_models

pytestmark = pytest.mark.skipif(importlib.util.find_spec("gunicorn") is None,
                                reason="gunicorn is not installed: pip install -r requirements.txt")


def production_command(port: int) -> list[str]:
    """The README's `Production:` command, bound to 127.0.0.1:port instead of 0.0.0.0:8000."""
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"Production: `(gunicorn [^`]+)`", readme).group(1)
    assert "0.0.0.0:8000" in command
    argv = shlex.split(command.replace("0.0.0.0:8000", f"127.0.0.1:{port}"))
    return [sys.executable, "-m", "gunicorn", *argv[1:]]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.01)
    raise AssertionError("gunicorn never accepted a connection")


def test_production_command_never_answers_not_ready(tmp_path):
    models = make_models(tmp_path / "models", caption=False)
    port = free_port()
    command = production_command(port)
    assert "-w" in command and "2" in command
    env = {**os.environ, "CONDGAN_MODELS_DIR": str(models), "KERAS_BACKEND": "tensorflow",
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    log = open(tmp_path / "gunicorn.log", "w+")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()
    first_ok: list[float] = []
    url = f"http://127.0.0.1:{port}/v1/models/tiny_cgan:generate"

    def client(i: int) -> None:
        # Keep firing until 5 s after the first 200, so the second worker's start is covered.
        while not first_ok or time.monotonic() - first_ok[0] < 5:
            response = requests.post(url, json={"label": "horse", "n": 1, "seed": i}, timeout=120,
                                     headers={"Connection": "close"})
            code = response.json().get("error", {}).get("code", "") if not response.ok else ""
            with lock:
                answers.append((response.status_code, code))
                if response.ok and not first_ok:
                    first_ok.append(time.monotonic())

    try:
        wait_for_port(port, process)
        threads = [threading.Thread(target=client, args=(i,)) for i in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(180)
        log.seek(0)
        output = log.read()[-3000:]
        assert answers and not any(t.is_alive() for t in threads), output
        refused = [a for a in answers if a[0] != 200]
        assert not refused, (f"{len(refused)} of {len(answers)} requests refused, e.g. "
                             f"{refused[:3]}\n{output}")
        assert output.count("Booting worker") >= 2 and "WORKER TIMEOUT" not in output, output
    finally:
        process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
