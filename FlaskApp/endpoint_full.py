"""Serve every exported model in a models directory: JSON API + web page.

    python FlaskApp/endpoint_full.py                       # models/ on http://127.0.0.1:5000
    python FlaskApp/endpoint_full.py --models-dir DIR --host 0.0.0.0 --port 8080
    gunicorn -w 2 --threads 8 -b 0.0.0.0:8000 'FlaskApp.endpoint_full:create_app()'   # production

Flags override environment variables, which override the defaults:
CONDGAN_MODELS_DIR, CONDGAN_HOST, CONDGAN_PORT, CONDGAN_MAX_N, CONDGAN_MICRO_BATCHING (1/0),
CONDGAN_MAX_WAIT_MS, CONDGAN_DEFAULT_CAPTION_MODEL.  Training jobs (the Train and Jobs pages,
/v1/jobs) are on when CONDGAN_ADMIN_TOKEN is set; CONDGAN_JOB_WORKER=0 leaves running them to
`python -m condgan jobs worker`.  All logic lives in `condgan.serve`; see docs/serving.md.
"""
from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from condgan.env_settings import env_flag, env_float, env_int
from condgan.errors import UserError, exit_with_user_error
from condgan.jobs.submission import settings_from_env
from condgan.paths import project_path


def create_app(models_dir: str | None = None, **options):
    """The app for gunicorn (`'FlaskApp.endpoint_full:create_app()'`): settings from the env.

    Models load and warm up *inside* this call (background_load=False) unless told otherwise.
    gunicorn calls the factory in each worker before that worker accepts a connection, so a
    worker takes no request until its models are in.  Loading in the background instead would
    let a worker accept at once and answer 503 `not_ready` while its sibling already serves,
    and the master's shared socket gives connections to whichever worker accepts, ready or not.
    Until the first worker is in, connections wait in the socket's backlog, they are not refused.
    """
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    from condgan.serve.app import create_app as factory

    options.setdefault("background_load", False)

    options.setdefault("max_n", env_int("CONDGAN_MAX_N", 16))
    options.setdefault("micro_batching", env_flag("CONDGAN_MICRO_BATCHING", True))
    if os.environ.get("CONDGAN_MAX_WAIT_MS"):
        options.setdefault("max_wait_ms", env_float("CONDGAN_MAX_WAIT_MS", 4.0))
    options.setdefault("default_caption_model", os.environ.get("CONDGAN_DEFAULT_CAPTION_MODEL"))
    options.setdefault("web_dir", Path(__file__).resolve().parent)
    models_dir = models_dir or os.environ.get("CONDGAN_MODELS_DIR") or str(project_path("models"))
    options.setdefault("jobs", settings_from_env(models_dir))
    options.setdefault("admin_token", os.environ.get("CONDGAN_ADMIN_TOKEN") or None)
    options.setdefault("job_worker", env_flag("CONDGAN_JOB_WORKER", True))
    return factory(models_dir, **options)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", default=None,
                        help="folder of exported models (env CONDGAN_MODELS_DIR; default models/)")
    parser.add_argument("--host", default=os.environ.get("CONDGAN_HOST", "127.0.0.1"),
                        help="interface to listen on (default 127.0.0.1; 0.0.0.0 exposes it)")
    parser.add_argument("--port", type=int, default=None, help="port (env CONDGAN_PORT; 5000)")
    parser.add_argument("--max-n", type=int, default=None, help="most images per request (16)")
    parser.add_argument("--no-micro-batching", action="store_true",
                        help="run each request on its own instead of batching concurrent ones")
    parser.add_argument("--max-wait-ms", type=float, default=None,
                        help="longest wait to gather a micro-batch (env CONDGAN_MAX_WAIT_MS; 4)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        port = args.port if args.port is not None else env_int("CONDGAN_PORT", 5000)
        options = {}
        if args.max_n is not None:
            options["max_n"] = args.max_n
        if args.max_wait_ms is not None:
            options["max_wait_ms"] = args.max_wait_ms
        if args.no_micro_batching:
            options["micro_batching"] = False
        # One process, so no worker to route around: listen at once and load in the background
        # (/healthz answers immediately, /readyz says when the models are in).
        app = create_app(args.models_dir, background_load=True, **options)
    except UserError as error:
        exit_with_user_error(error)
    # Werkzeug's threaded server: fine for one machine; use gunicorn for production.
    app.run(host=args.host, port=port, threaded=True, use_reloader=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
