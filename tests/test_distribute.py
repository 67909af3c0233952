"""tf.distribute: 2 logical CPU devices, and 2 worker processes on 127.0.0.1, give the same
weights as one device fed the same global batches (float tolerance: replicas sum gradients
in a different order)."""
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import ROOT, run_script

TOLERANCE = 1e-4
COMMON = ["--images", "64", "--set", "epochs=1"]


def _state(run_dir):
    with np.load(run_dir / "final_state.npz") as npz:
        return {k: npz[k] for k in npz.files}


def _assert_same_training(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(a[key], b[key], atol=TOLERANCE, rtol=TOLERANCE, err_msg=key)


@pytest.fixture(scope="module")
def single_device(tmp_path_factory):
    run = tmp_path_factory.mktemp("single") / "run"
    result = run_script("tests/scripts/train_tiny.py", str(run), *COMMON)
    assert result.returncode == 0, result.stderr[-3000:]
    return _state(run)


def test_mirrored_on_two_logical_cpus_matches_one_device(single_device, tmp_path):
    result = run_script("tests/scripts/train_tiny.py", str(tmp_path / "run"), "--logical-cpus", "2",
                        "--strategy", "mirrored", *COMMON)
    assert result.returncode == 0, result.stderr[-3000:]
    _assert_same_training(single_device, _state(tmp_path / "run"))


@pytest.mark.parametrize("recipe", [["--set", "aux_classifier_weight=1"],   # a second D output
                                    ["--set", "loss=bce"]])                   # the shared D backward
def test_mirrored_matches_one_device_for_other_recipes(recipe, tmp_path):
    single = run_script("tests/scripts/train_tiny.py", str(tmp_path / "one"), *COMMON, *recipe)
    assert single.returncode == 0, single.stderr[-3000:]
    mirrored = run_script("tests/scripts/train_tiny.py", str(tmp_path / "two"), "--logical-cpus", "2",
                          "--strategy", "mirrored", *COMMON, *recipe)
    assert mirrored.returncode == 0, mirrored.stderr[-3000:]
    _assert_same_training(_state(tmp_path / "one"), _state(tmp_path / "two"))


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_workers_on_localhost_match_one_device(single_device, tmp_path):
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    procs = []
    for index in range(2):
        env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3",
                   TF_CONFIG=json.dumps({"cluster": {"worker": workers},
                                         "task": {"type": "worker", "index": index}}))
        procs.append(subprocess.Popen(
            [sys.executable, "tests/scripts/train_tiny.py", str(tmp_path / f"worker{index}"),
             "--strategy", "multiworker", *COMMON],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=600) for p in procs]
    for proc, (_, err) in zip(procs, outputs):
        assert proc.returncode == 0, err[-3000:]
    _assert_same_training(single_device, _state(tmp_path / "worker0"))
    _assert_same_training(single_device, _state(tmp_path / "worker1"))
