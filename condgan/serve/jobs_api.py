"""Training jobs over HTTP (`condgan.jobs`): start, list, watch, cancel and resume them.

  GET  /v1/recipes                   the recipes a job may train, their fields, the data sets
  POST /v1/jobs                      {"config" | "family", "data", "name", "set"} -> 202, the job
  GET  /v1/jobs, /v1/jobs/<id>       status, images seen, images/s, losses, ETA, samples, log
  POST /v1/jobs/<id>:cancel          stop it (resumable from its newest checkpoint)
  POST /v1/jobs/<id>:resume          queue a failed, cancelled or interrupted job again
                                     (optional {"set": {...}}: a new schedule, e.g. more epochs)
  GET  /v1/jobs/<id>/events          its progress as Server-Sent Events, until it ends
  GET  /v1/jobs/<id>/sample.png      its newest sample grid

Every route needs `Authorization: Bearer <CONDGAN_ADMIN_TOKEN>` and is off (403) when no
token is configured; the token is compared in constant time and never logged.
"""
from __future__ import annotations

import hmac
import json
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, request, send_file

from condgan.errors import UserError
from condgan.jobs import progress as job_progress
from condgan.jobs.store import ACTIVE, FINISHED, RESUMABLE, JobStore
from condgan.jobs.submission import JobSettings, check_request, check_resume, data_sets, recipes
from condgan.jobs.worker import job_folder, job_log
from condgan.serve.validation import ApiError, parse_json_object

EVENT_POLL_S = 1.0
HEARTBEAT_S = 15.0


def require_admin(token: str | None) -> None:
    """The request's bearer token must be `token`; 403 when training is off (no token set)."""
    if not token:
        raise ApiError(403, "jobs_disabled", "training jobs are off on this server: start it with "
                       "the environment variable CONDGAN_ADMIN_TOKEN set, then send "
                       "'Authorization: Bearer <token>'")
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise ApiError(401, "unauthorized", "this route needs 'Authorization: Bearer <token>' "
                       "with the server's CONDGAN_ADMIN_TOKEN")
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise ApiError(403, "forbidden", "the bearer token is not this server's admin token")


def job_view(job: dict[str, Any], settings: JobSettings, history: bool = False) -> dict[str, Any]:
    run_dir = Path(job["run_dir"])
    root = f"{settings.cwd}/" if settings.cwd else "\0"  # paths in the log, relative to the project
    seen = job_progress.progress(run_dir, job["status"], job["started_at"])
    if not history:
        seen.pop("history")
    sample = job_progress.newest_sample(run_dir)
    version = job["model_version"]
    return {
        "id": job["id"], "name": job["name"], "config": job["recipe"], "data": job["data"] or None,
        "set": job["overrides"], "status": job["status"], "error": job["error"],
        "cancel_requested": job["cancel_requested"], "attempts": job["attempts"],
        "created_at": job["created_at"], "started_at": job["started_at"], "ended_at": job["ended_at"],
        **seen,
        "sample_url": f"/v1/jobs/{job['id']}/sample.png" if sample else None,
        "sample_epoch": int(sample.stem.split("_")[-1]) if sample else None,
        "model_version": version,
        "model_url": f"/v1/models/{job['name']}/versions/{version}" if version else None,
        "log": [line.replace(root, "") for line in job_progress.log_tail(job_log(job))],
        "cancellable": job["status"] in ("queued", *ACTIVE) and not job["cancel_requested"],
        "resumable": job["status"] in RESUMABLE,
    }


def jobs_blueprint(store: JobStore | None, settings: JobSettings, token: str | None) -> Blueprint:
    jobs = Blueprint("jobs", __name__)

    @jobs.before_request
    def authorize():
        require_admin(token)

    def get_job(job_id: int) -> dict[str, Any]:
        job = store.get(job_id)
        if job is None:
            raise ApiError(404, "job_not_found", f"no job {job_id}: GET /v1/jobs lists them")
        return job

    @jobs.get("/v1/recipes")
    def list_recipes():
        return jsonify({"recipes": [r.describe(settings) for r in recipes(settings).values()],
                        "data_sets": data_sets(settings),
                        "limits": {"max_running": settings.max_running,
                                   "max_queued": settings.max_queued,
                                   "max_minutes": settings.max_minutes}})

    @jobs.post("/v1/jobs")
    def submit():
        body = parse_json_object(request.get_data(cache=False))
        try:
            checked = check_request(body, settings)
        except UserError as error:
            raise ApiError(400, "invalid_job", str(error)) from None
        if store.count(("queued",)) >= settings.max_queued:
            raise ApiError(429, "queue_full", f"{settings.max_queued} jobs are queued already: "
                           "wait for one to start, or cancel one")
        job = store.create(name=checked.name, recipe=checked.recipe.name, data=checked.data,
                           overrides=checked.overrides,
                           run_dir_for=lambda i: job_folder(settings, i, checked.name) / "run")
        response = jsonify(job_view(job, settings))
        response.status_code = 202
        response.headers["Location"] = f"/v1/jobs/{job['id']}"
        return response

    @jobs.get("/v1/jobs")
    def list_jobs():
        return jsonify({"jobs": [job_view(job, settings) for job in store.list()]})

    @jobs.get("/v1/jobs/<int:job_id>")
    def one_job(job_id: int):
        return jsonify(job_view(get_job(job_id), settings, history=True))

    @jobs.post("/v1/jobs/<int:job_id>:cancel")
    def cancel(job_id: int):
        job = get_job(job_id)
        if job["status"] in FINISHED:
            raise ApiError(409, "not_running", f"job {job_id} has already ended ({job['status']})")
        return jsonify(job_view(store.request_cancel(job_id), settings))

    @jobs.post("/v1/jobs/<int:job_id>:resume")
    def resume(job_id: int):
        job = get_job(job_id)
        if job["status"] not in RESUMABLE:
            raise ApiError(409, "not_resumable", f"job {job_id} is {job['status']}: only a "
                           f"{', '.join(RESUMABLE)} job resumes")
        raw = request.get_data(cache=False)
        try:
            overrides = check_resume(job, parse_json_object(raw) if raw.strip() else {}, settings)
        except UserError as error:
            raise ApiError(400, "invalid_resume", str(error)) from None
        if store.count(("queued",)) >= settings.max_queued:
            raise ApiError(429, "queue_full", f"{settings.max_queued} jobs are queued already")
        return jsonify(job_view(store.request_resume(job_id, overrides), settings))

    @jobs.get("/v1/jobs/<int:job_id>/sample.png")
    def sample(job_id: int):
        newest = job_progress.newest_sample(Path(get_job(job_id)["run_dir"]))
        if newest is None:
            raise ApiError(404, "no_sample", f"job {job_id} has drawn no sample grid yet: one "
                           "comes at the end of each epoch")
        response = send_file(newest, mimetype="image/png", max_age=0)
        response.headers["Cache-Control"] = "no-store"
        return response

    @jobs.get("/v1/jobs/<int:job_id>/events")
    def events(job_id: int):
        get_job(job_id)

        def stream():
            last, beat = None, time.monotonic()
            while True:
                job = store.get(job_id)
                view = job_view(job, settings, history=True)
                text = json.dumps(view)
                if text != last:
                    yield f"event: job\ndata: {text}\n\n"
                    last, beat = text, time.monotonic()
                elif time.monotonic() - beat > HEARTBEAT_S:
                    yield ": still here\n\n"
                    beat = time.monotonic()
                if job["status"] in FINISHED:
                    yield "event: end\ndata: {}\n\n"
                    return
                time.sleep(EVENT_POLL_S)

        return Response(stream(), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    return jobs
