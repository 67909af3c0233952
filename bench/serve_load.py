"""Bounded load against the live server on 127.0.0.1: images/s and p50/p99 latency.

    python bench/serve_load.py                                   # DCGAN-size 32x32 cGAN, all modes
    python bench/serve_load.py --models-dir models --model cgan_cifar10 --requests 96

Three servers, run one at a time on 127.0.0.1 so they never share the CPU:
  batched    FlaskApp/endpoint_full.py (micro-batching on, the default)
  unbatched  FlaskApp/endpoint_full.py --no-micro-batching
  naive      a minimal Flask endpoint in this file that calls `model.predict()` per request
  gunicorn   the documented production command, `gunicorn -w 2 --threads 8 ... create_app()`
For each, a fixed number of requests at concurrency 1, 8, 32 with n=1 and n=16.  Also the
compute bound: the generator's forward GFLOP per image against the machine's measured matmul
GFLOP/s, and the raw generator throughput without HTTP.  Without --models-dir the benchmark
exports the project's 32x32 class-conditional generator (`condgan.models.build_generator`,
untrained weights: speed does not depend on training) into a temporary models/ folder.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
CIFAR10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


# ---------------------------------------------------------------- the naive baseline endpoint
def serve_naive(models_dir: str, model_name: str, port: int) -> None:
    """The endpoint most tutorials write: load the model, `model.predict()` per request."""
    import base64
    import io

    import keras
    from flask import Flask, jsonify, request
    from PIL import Image

    import condgan.models  # noqa: F401  custom layers

    card = json.loads((Path(models_dir) / model_name / "card.json").read_text())
    model = keras.saving.load_model(Path(models_dir) / model_name / "generator.keras",
                                    compile=False)
    app = Flask("naive")

    @app.get("/readyz")
    def ready():
        return jsonify({"ready": True})

    @app.post("/v1/models/<name>:generate")
    def generate(name):
        body = request.get_json()
        n, seed = int(body.get("n", 1)), int(body.get("seed", 0))
        noise = np.stack([np.random.default_rng(seed + i).standard_normal(card["latent_dim"])
                          for i in range(n)]).astype("float32")
        labels = np.full((n,), card["classes"].index(body["label"]), dtype="int32")
        images = model.predict([noise, labels], verbose=0)
        images = np.clip(np.rint((images + 1) * 127.5), 0, 255).astype("uint8")
        out = []
        for i, image in enumerate(images):
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, format="PNG")
            out.append({"seed": seed + i, "b64_json": base64.b64encode(buffer.getvalue()).decode()})
        return jsonify({"seeds": [seed + i for i in range(n)], "images": out})

    app.run(host="127.0.0.1", port=port, threaded=True)


# ---------------------------------------------------------------- compute bound
def layer_flops(model) -> float:
    """Multiply-adds x2 of the Dense / Conv layers for one image (norms, activations ignored)."""
    from keras import layers

    total = 0.0
    for layer in model.layers:
        if isinstance(layer, layers.Dense):
            total += 2 * layer.input.shape[-1] * layer.units
        elif isinstance(layer, layers.Conv2DTranspose):
            _, h, w, cin = layer.input.shape
            total += 2 * np.prod(layer.kernel_size) * cin * layer.filters * h * w
        elif isinstance(layer, layers.Conv2D):
            _, h, w, cout = layer.output.shape
            total += 2 * np.prod(layer.kernel_size) * layer.input.shape[-1] * cout * h * w
    return float(total)


def matmul_gflops(size: int = 1024, repeats: int = 20) -> float:
    import tensorflow as tf

    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    tf.matmul(a, b).numpy()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            c = tf.matmul(a, b)
        c.numpy()
        best = min(best, (time.perf_counter() - start) / repeats)
    return 2 * size ** 3 / best / 1e9


def raw_throughput(model_dir: Path, batch: int = 64, repeats: int = 5) -> float:
    """Images/s of the loaded generator's generate_for_seeds alone (no HTTP, no PNG): what the
    server runs for each micro-batch."""
    from condgan.api import load_generator

    generator = load_generator(model_dir)
    labels = [i % len(generator.classes) for i in range(batch)] if generator.conditioning == "class" else None
    generator.generate_for_seeds(range(batch), labels)
    start = time.perf_counter()
    for r in range(repeats):
        generator.generate_for_seeds(range(r * batch, (r + 1) * batch), labels)
    return batch * repeats / (time.perf_counter() - start)


# ---------------------------------------------------------------- load generation
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(command: list[str], url: str, log_path: Path, env: dict | None = None
                 ) -> subprocess.Popen:
    import requests

    log = open(log_path, "w")
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"server exited, see {log_path}")
        try:
            if requests.get(url + "/readyz", timeout=2).status_code == 200:
                return process
        except (requests.ConnectionError, requests.Timeout):
            pass  # not listening yet, or (gunicorn) listening while its workers still load
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"server not ready, see {log_path}")


def run_load(url: str, model: str, label: str, n: int, concurrency: int, requests_total: int
             ) -> dict:
    """`requests_total` POSTs from `concurrency` threads (one keep-alive session each)."""
    import requests

    latencies: list[float] = []
    errors = [0]
    counter = iter(range(requests_total))
    lock = threading.Lock()

    def worker():
        session = requests.Session()
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            body = {"label": label, "n": n, "seed": 1000 + 16 * i}
            start = time.perf_counter()
            response = session.post(f"{url}/v1/models/{model}:generate", json=body, timeout=120)
            ok = response.status_code == 200 and len(response.json()["images"]) == n
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                errors[0] += 0 if ok else 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    ms = np.array(latencies) * 1000
    return {"n": n, "concurrency": concurrency, "requests": requests_total, "errors": errors[0],
            "images_per_s": round(requests_total * n / wall, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1), "wall_s": round(wall, 2)}


def export_bench_model(root: Path, conditioning: str, base_channels: int, latent_dim: int) -> Path:
    import keras

    from condgan.families.gan.family import save_generator
    from condgan.models import build_generator

    keras.utils.set_random_seed(0)
    generator = build_generator(32, latent_dim=latent_dim, base_channels=base_channels,
                                num_classes=10, conditioning=conditioning)
    return save_generator(generator, root / "bench_cgan", latent_dim=latent_dim, classes=CIFAR10,
                          legacy_h5=False, training={"note": "untrained: serving benchmark only"})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", help="serve this folder (default: export a bench model)")
    parser.add_argument("--model", default="bench_cgan")
    parser.add_argument("--label", default="horse")
    parser.add_argument("--requests", type=int, default=96, help="requests per configuration")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--n", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--modes", nargs="+", default=["batched", "unbatched", "naive"],
                        choices=["batched", "unbatched", "naive", "gunicorn"])
    parser.add_argument("--conditioning", default="projection")
    parser.add_argument("--base-channels", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=128)
    parser.add_argument("--max-wait-ms", type=float, default=None,
                        help="micro-batching wait (server default when unset)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--serve-naive", nargs=3, metavar=("MODELS_DIR", "MODEL", "PORT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_naive:
        serve_naive(args.serve_naive[0], args.serve_naive[1], int(args.serve_naive[2]))
        return 0

    tmp = Path(tempfile.mkdtemp(prefix="serve_load_"))
    models_dir = Path(args.models_dir) if args.models_dir else tmp / "models"
    if not args.models_dir:
        export_bench_model(models_dir, args.conditioning, args.base_channels, args.latent_dim)
    from condgan.api import load_generator

    generator = load_generator(models_dir / args.model)
    gflop = layer_flops(generator.model) / 1e9
    machine = matmul_gflops()
    raw = raw_throughput(models_dir / args.model)
    del generator
    results = {"model": args.model, "gflop_per_image": round(gflop, 4),
               "matmul_gflops": round(machine, 1),
               "compute_bound_images_per_s": round(machine / gflop, 0),
               "raw_generator_images_per_s": round(raw, 1), "cpus": os.cpu_count(),
               "loadavg_start": os.getloadavg(), "runs": []}
    print(json.dumps({k: v for k, v in results.items() if k != "runs"}), flush=True)
    python = sys.executable
    for mode in args.modes:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = None
        if mode == "naive":
            command = [python, __file__, "--serve-naive", str(models_dir), args.model, str(port)]
        elif mode == "gunicorn":  # README's production command, on this port
            command = [python, "-m", "gunicorn", "-w", "2", "--threads", "8", "-b",
                       f"127.0.0.1:{port}", "FlaskApp.endpoint_full:create_app()"]
            env = {**os.environ, "CONDGAN_MODELS_DIR": str(models_dir.resolve())}
            if args.max_wait_ms is not None:
                env["CONDGAN_MAX_WAIT_MS"] = str(args.max_wait_ms)
        else:
            command = [python, str(ROOT / "FlaskApp" / "endpoint_full.py"), "--models-dir",
                       str(models_dir), "--port", str(port)]
            command += ["--no-micro-batching"] if mode == "unbatched" else []
            if args.max_wait_ms is not None:
                command += ["--max-wait-ms", str(args.max_wait_ms)]
        process = start_server(command, url, tmp / f"{mode}.log", env)
        try:
            run_load(url, args.model, args.label, 1, 4, 16)  # warm the server's code paths
            for n in args.n:
                for concurrency in args.concurrency:
                    row = {"mode": mode, **run_load(url, args.model, args.label, n, concurrency,
                                                    args.requests)}
                    results["runs"].append(row)
                    print(json.dumps(row), flush=True)
        finally:
            process.terminate()
            process.wait(20)
    results["loadavg_end"] = os.getloadavg()
    print(table(results["runs"]))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


def table(runs: list[dict]) -> str:
    lines = ["| mode | n | concurrency | images/s | p50 ms | p99 ms | errors |",
             "|---|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r['mode']} | {r['n']} | {r['concurrency']} | {r['images_per_s']} | "
                     f"{r['p50_ms']} | {r['p99_ms']} | {r['errors']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
