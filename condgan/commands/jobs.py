"""`python -m condgan jobs`: the training-job worker on its own, and the jobs table from the
shell.  The server's Train page and `/v1/jobs` queue jobs; a worker (this command, or the
development server's own thread) runs them."""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import signal
import threading


def add_jobs_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["worker", "list"],
                        help="worker: run queued jobs until stopped (Ctrl-C; running children "
                             "keep training and are re-attached next time); list: the jobs table")
    parser.add_argument("--models-dir", default=None,
                        help="where finished jobs export their versions (env CONDGAN_MODELS_DIR; "
                             "default models/)")


def run_jobs(args: argparse.Namespace) -> int:
    import os

    from condgan.jobs.store import JobStore
    from condgan.jobs.submission import settings_from_env
    from condgan.paths import project_path

    models_dir = args.models_dir or os.environ.get("CONDGAN_MODELS_DIR") or project_path("models")
    settings = settings_from_env(models_dir)
    store = JobStore(settings.database)
    if args.action == "list":
        for job in reversed(store.list()):
            created = dt.datetime.fromtimestamp(job["created_at"]).isoformat(timespec="seconds")
            version = f" -> {job['name']}/{job['model_version']}" if job["model_version"] else ""
            print(f"{job['id']:>4}  {job['status']:<11} {created}  {job['recipe']} as "
                  f"{job['name']}{version}" + (f"  ({job['error']})" if job["error"] else ""))
        return 0
    from condgan.jobs.worker import JobWorker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker = JobWorker(store, settings).start()
    print(f"job worker: {settings.database}, at most {settings.max_running} at once (Ctrl-C stops)")
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    worker.stop()
    return 0
