"""Training jobs end to end: requests checked (auth, recipes, data under the root, typed
overrides), real child processes (`python -m condgan train`, `export --new-version`), versions
served without a restart, cancel and resume, a worker that goes away and one that re-attaches,
the queue and its limits, Server-Sent Events and /metrics."""
from __future__ import annotations

import base64
import io
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from condgan.jobs.store import FINISHED, JobStore
from condgan.jobs.submission import JobSettings
from tests.helpers import tiny_array_set

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TINY_RECIPE = '''"""A tiny GAN recipe for tests."""
from condgan.families.gan import GanConfig


def get_config():
    return GanConfig(name="tiny", data="data/tiny.npz", image_size=16, latent_dim=16, g_channels=16,
                     d_channels=16, batch_size=16, epochs=2, checkpoint_every_steps=2,
                     tensorboard=False, samples_per_class=4, verbose=0)
'''


def make_workspace(root: Path, **limits) -> JobSettings:
    from condgan.data.arrays import save_array_set

    for folder in ("recipes", "data", "models", "outside"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    save_array_set(root / "data" / "tiny.npz", tiny_array_set(64, 16), source="tiny test data")
    save_array_set(root / "outside" / "secret.npz", tiny_array_set(32, 16), source="elsewhere")
    (root / "recipes" / "tiny.py").write_text(TINY_RECIPE)
    (root / "recipes" / "faraway.py").write_text(TINY_RECIPE.replace("data/tiny.npz", "data/gone.npz"))
    return JobSettings(recipes_dir=root / "recipes", data_root=root / "data", runs_root=root / "runs",
                       models_dir=root / "models", cwd=root, min_free_gb=0.01, **limits)


def make_app(settings: JobSettings, **options):
    from condgan.serve.app import create_app

    options.setdefault("admin_token", TOKEN)
    return create_app(settings.models_dir, jobs=settings, background_load=False, **options)


def wait_for(client, job_id: int, statuses, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}", headers=AUTH).get_json()
        if job["status"] in statuses:
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not reach {statuses}: {job}")


def submit(client, **body):
    return client.post("/v1/jobs", headers=AUTH, json={"config": "tiny", "data": "tiny.npz", **body})


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """One app with a worker, and one finished job (version 1 of `mine`)."""
    settings = make_workspace(tmp_path_factory.mktemp("jobs"))
    app = make_app(settings)
    client = app.test_client()
    response = submit(client, name="mine", set={"epochs": 2})
    assert response.status_code == 202, response.get_json()
    assert response.headers["Location"] == f"/v1/jobs/{response.get_json()['id']}"
    job = wait_for(client, response.get_json()["id"], FINISHED)
    assert job["status"] == "succeeded", job
    yield settings, app, client, job
    app.extensions["condgan"]["job_worker"].stop()


# -- requests ---------------------------------------------------------------------------------


def test_jobs_are_off_without_a_token_and_need_the_right_one(tmp_path):
    settings = make_workspace(tmp_path)
    off = make_app(settings, admin_token=None).test_client()
    answer = off.get("/v1/jobs", headers=AUTH)
    assert answer.status_code == 403 and answer.get_json()["error"]["code"] == "jobs_disabled"
    assert "CONDGAN_ADMIN_TOKEN" in answer.get_json()["error"]["message"]
    assert not settings.database.exists()  # no table made for a server that runs no jobs
    on = make_app(settings, job_worker=False).test_client()
    assert on.get("/v1/jobs").status_code == 401
    assert on.get("/v1/jobs", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert on.get("/v1/jobs", headers={"Authorization": TOKEN}).status_code == 401  # no scheme
    assert on.post("/v1/jobs", json={"config": "tiny"}).status_code == 401
    assert on.get("/v1/jobs", headers=AUTH).get_json() == {"jobs": []}


@pytest.mark.parametrize("body, words", [
    ({"config": "nope", "name": "x"}, ['"nope"', "tiny"]),
    ({"family": "attngan", "name": "x"}, ["attngan", "has no recipe", "cgan"]),
    ({"config": "tiny", "name": "x", "colour": "red"}, ["unknown field", "colour"]),
    ({"config": "tiny", "name": "../x", "data": "tiny.npz"}, ["name", "not allowed"]),
    ({"config": "tiny", "name": "x", "data": "../outside/secret.npz"}, ["..", "tiny.npz"]),
    ({"config": "tiny", "name": "x", "data": "/etc/passwd"}, ["absolute", "tiny.npz"]),
    ({"config": "tiny", "name": "x", "data": "escape.npz"}, ["leads out of the data root"]),
    ({"config": "tiny", "name": "x", "data": "missing.npz"}, ["does not exist", "tiny.npz"]),
    ({"config": "faraway", "name": "x"}, ["data/gone.npz", "not here", "tiny.npz"]),
    ({"config": "tiny", "name": "x", "data": "tiny.npz", "set": {"epoch": 3}}, ["'epoch'", "epochs"]),
    ({"config": "tiny", "name": "x", "data": "tiny.npz", "set": {"epochs": "many"}},
     ["epochs", "whole number"]),
    ({"config": "tiny", "name": "x", "data": "tiny.npz", "set": {"damsm": "/tmp"}}, ["may not change"]),
    ({"config": "tiny", "name": "x", "data": "tiny.npz", "set": [1]}, ["set must be an object"]),
    ({"config": "tiny", "name": "single", "data": "tiny.npz"}, ["single version", "another name"]),
])
def test_a_bad_request_is_a_400_naming_the_fix(tmp_path, body, words):
    settings = make_workspace(tmp_path)
    (settings.data_root / "escape.npz").symlink_to(tmp_path / "outside" / "secret.npz")
    (settings.models_dir / "single").mkdir()
    (settings.models_dir / "single" / "card.json").write_text("{}")
    client = make_app(settings, job_worker=False).test_client()
    answer = client.post("/v1/jobs", headers=AUTH, json=body)
    assert answer.status_code == 400, answer.get_json()
    error = answer.get_json()["error"]
    assert error["code"] == "invalid_job"
    for word in words:
        assert word in error["message"], error["message"]
    assert client.get("/v1/jobs", headers=AUTH).get_json() == {"jobs": []}


def test_recipes_describe_their_fields_for_the_train_form(tmp_path):
    settings = make_workspace(tmp_path)
    client = make_app(settings, job_worker=False).test_client()
    body = client.get("/v1/recipes", headers=AUTH).get_json()
    assert body["data_sets"] == ["tiny.npz"] and body["limits"]["max_running"] == 1
    recipes = {recipe["name"]: recipe for recipe in body["recipes"]}
    assert sorted(recipes) == ["faraway", "tiny"] and not recipes["faraway"]["data_present"]
    recipe = recipes["tiny"]
    assert recipe["family"] == "cgan" and recipe["data_present"]
    fields = {f["name"]: f for f in recipe["fields"]}
    assert fields["epochs"]["type"] == "int" and fields["epochs"]["value"] == 2
    assert fields["g_lr"]["type"] == "float" and fields["spectral_norm"]["type"] == "bool"
    assert "fused step" in fields["n_critic"]["help"]  # the comment beside the field
    assert not {"name", "data", "strategy"} & set(fields)  # the job's own


def test_the_job_budget_never_exceeds_the_limit(tmp_path):
    settings = make_workspace(tmp_path, max_minutes=5)
    client = make_app(settings, job_worker=False).test_client()
    job = submit(client, name="a", set={"max_minutes": 60}).get_json()
    assert job["set"][-1] == "max_minutes=5"
    job = submit(client, name="b", set={"max_minutes": 2.5}).get_json()
    assert "max_minutes=2.5" in job["set"] and "max_minutes=5" not in job["set"]


def test_a_full_queue_answers_429(tmp_path):
    settings = make_workspace(tmp_path, max_queued=2)
    client = make_app(settings, job_worker=False).test_client()
    assert [submit(client, name=f"m{i}").status_code for i in range(3)] == [202, 202, 429]
    assert client.post("/v1/jobs/1:cancel", headers=AUTH).get_json()["status"] == "cancelled"
    assert submit(client, name="m3").status_code == 202


# -- running jobs -----------------------------------------------------------------------------


def test_a_finished_job_is_a_served_version_without_a_restart(studio):
    settings, app, client, job = studio
    assert job["model_version"] == 1 and job["model_url"] == "/v1/models/mine/versions/1"
    assert job["images_seen"] == 128 and job["epoch"] == 2 and "d_loss" in job["losses"]
    assert [row["epoch"] for row in job["history"]] == [1, 2]
    assert any(line.startswith("$ python -m condgan train --config") for line in job["log"])
    assert any(line.startswith("exported ") for line in job["log"])
    assert TOKEN not in "\n".join(job["log"])
    sample = client.get(job["sample_url"], headers=AUTH)
    assert sample.status_code == 200 and sample.data[:8] == b"\x89PNG\r\n\x1a\n"
    (info,) = client.get("/v1/models").get_json()["models"]
    assert (info["name"], info["version"], info["versions"]) == ("mine", "1", ["1"])
    card = (settings.models_dir / "mine" / "1" / "card.json").read_text()
    assert '"name": "mine"' in card and '"version": "1"' in card

    from condgan.api import load_generator

    answer = client.post("/v1/models/mine:generate", json={"label": "dark", "n": 3, "seed": 5})
    seeds = answer.get_json()["seeds"]
    direct = load_generator(settings.models_dir / "mine" / "1").generate_for_seeds(seeds, [0] * 3)
    served = np.stack([np.asarray(Image.open(io.BytesIO(base64.b64decode(image["b64_json"]))))
                       for image in answer.get_json()["images"]])
    np.testing.assert_array_equal(served, direct)


def test_a_second_job_adds_version_2_and_the_first_stays_reachable(studio):
    settings, app, client, _ = studio
    job = wait_for(client, submit(client, name="mine", set={"epochs": 1, "ema_decay": 0}).get_json()["id"], FINISHED)
    assert job["status"] == "succeeded" and job["model_version"] == 2
    info = client.get("/v1/models/mine").get_json()
    assert info["version"] == "2" and info["versions"] == ["1", "2"]
    body = {"label": "stripes", "n": 2, "seed": 3}
    newest = client.post("/v1/models/mine:generate", json=body).get_json()
    first = client.post("/v1/models/mine/versions/1:generate", json=body).get_json()
    also_first = client.post("/v1/models/mine:generate", json={**body, "version": 1}).get_json()
    assert (newest["version"], first["version"]) == ("2", "1")
    assert first["images"] == also_first["images"] and first["images"] != newest["images"]
    v2 = client.post("/v2/models/mine/versions/1/infer", json={"inputs": [
        {"name": "label", "datatype": "INT32", "shape": [1], "data": [1]},
        {"name": "seed", "datatype": "INT64", "shape": [1], "data": [3]}]})
    assert v2.status_code == 200 and v2.get_json()["model_version"] == "1"
    missing = client.post("/v1/models/mine/versions/9:generate", json=body)
    assert missing.status_code == 404 and "['1', '2']" in missing.get_json()["error"]["message"]
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'condgan_jobs{status="succeeded"} 2.0' in metrics


def test_events_stream_the_job_until_it_ends(studio):
    _, _, client, job = studio
    text = client.get(f"/v1/jobs/{job['id']}/events", headers=AUTH).get_data(as_text=True)
    assert text.startswith("event: job\ndata: {") and text.endswith("event: end\ndata: {}\n\n")
    assert '"status": "succeeded"' in text


def test_cancel_resume_and_a_worker_that_comes_back(tmp_path):
    """A long job: its worker stops (the child trains on) and a new one re-attaches; cancel
    stops the child; resume continues from the checkpoint to a version."""
    from condgan.jobs.worker import JobWorker

    settings = make_workspace(tmp_path)
    app = make_app(settings)
    client = app.test_client()
    job_id = submit(client, name="long", set={"epochs": 400}).get_json()["id"]
    running = wait_for(client, job_id, ("running",))
    deadline = time.monotonic() + 120
    while not client.get(f"/v1/jobs/{job_id}", headers=AUTH).get_json()["history"]:
        assert time.monotonic() < deadline, "no epoch finished"
        time.sleep(0.5)
    app.extensions["condgan"]["job_worker"].stop()  # the server goes; its child trains on
    pid = JobStore(settings.database).get(job_id)["pid"]
    assert pid and os.path.exists(f"/proc/{pid}")

    second = JobWorker(JobStore(settings.database), settings, poll_s=0.2)
    second.recover()
    assert job_id in second.children and second.children[job_id].process is None  # re-attached
    second.start()
    assert client.post(f"/v1/jobs/{job_id}:cancel", headers=AUTH).get_json()["cancel_requested"]
    cancelled = wait_for(client, job_id, FINISHED, timeout=60)
    assert cancelled["status"] == "cancelled" and cancelled["resumable"]
    assert cancelled["images_seen"] < 400 * 64
    assert client.post(f"/v1/jobs/{job_id}:cancel", headers=AUTH).status_code == 409

    # Resume with a shorter schedule (a resume may change only the schedule fields).
    refused = client.post(f"/v1/jobs/{job_id}:resume", headers=AUTH, json={"set": {"g_lr": 0.1}})
    assert refused.status_code == 400 and "epochs" in refused.get_json()["error"]["message"]
    epochs = cancelled["epoch"] + 1
    resumed = client.post(f"/v1/jobs/{job_id}:resume", headers=AUTH, json={"set": {"epochs": epochs}})
    assert resumed.get_json()["status"] == "queued"
    done = wait_for(client, job_id, FINISHED)
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 2 and any("--resume" in line for line in done["log"])
    assert done["epoch"] == epochs and done["images_seen"] > cancelled["images_seen"]
    second.stop()
    assert running["cancellable"] and not running["resumable"]


def test_a_job_whose_worker_and_child_are_gone_is_interrupted(tmp_path):
    from condgan.jobs.worker import JobWorker

    settings = make_workspace(tmp_path)
    app = make_app(settings)
    client = app.test_client()
    job_id = submit(client, name="lost", set={"epochs": 400}).get_json()["id"]
    wait_for(client, job_id, ("running",))
    app.extensions["condgan"]["job_worker"].stop()
    pid = JobStore(settings.database).get(job_id)["pid"]
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while os.path.exists(f"/proc/{pid}") and "Z" not in open(f"/proc/{pid}/stat").read().split(")")[-1][:3]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    JobWorker(JobStore(settings.database), settings).recover()
    job = client.get(f"/v1/jobs/{job_id}", headers=AUTH).get_json()
    assert job["status"] == "interrupted" and job["resumable"] and "resume" in job["error"]


def test_one_job_at_a_time_the_next_waits_in_the_queue(tmp_path):
    settings = make_workspace(tmp_path)
    client = make_app(settings).test_client()
    first = submit(client, name="first", set={"epochs": 400}).get_json()["id"]
    second = submit(client, name="second").get_json()["id"]
    wait_for(client, first, ("running",))
    time.sleep(2)
    assert client.get(f"/v1/jobs/{second}", headers=AUTH).get_json()["status"] == "queued"
    client.post(f"/v1/jobs/{first}:cancel", headers=AUTH)
    assert wait_for(client, second, FINISHED)["status"] == "succeeded"


def test_openapi_lists_the_job_routes(tmp_path):
    from tests.test_serve_api import api_routes

    app = make_app(make_workspace(tmp_path), job_worker=False)
    spec = app.test_client().get("/openapi.json").get_json()
    assert set(spec["paths"]) == api_routes(app)
    assert spec["paths"]["/v1/jobs"]["post"]["security"] == [{"bearer": []}]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
