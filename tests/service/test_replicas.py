"""Two `shoegen serve` replicas sharing one PostgreSQL database and one data folder: any replica answers for any
job, follows it and cancels it (and sees the AUTOMATIC1111 checkpoint set through the other); a replica killed mid-job leaves the job to the other, which finishes it once its
lease runs out, every image once in the gallery."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from live_server import GENERATE, LiveServer, sse_events, wait_for_job

from shoegen.storage import Gallery, JobStore

LEASE_SECONDS = "2"
QUEUE_SIZE = 3


@pytest.fixture
def replicas(server_factory, postgres_url, tmp_path_factory) -> tuple[LiveServer, LiveServer]:
    shared = tmp_path_factory.mktemp("replicas") / "data"
    env = {"SHOEGEN_DATABASE_URL": postgres_url, "SHOEGEN_JOB_LEASE_SECONDS": LEASE_SECONDS,
           "SHOEGEN_QUEUE_SIZE": str(QUEUE_SIZE)}
    first = server_factory(env, data_dir=shared, name="replica-a")
    second = server_factory(env, data_dir=shared, name="replica-b")
    yield first, second
    for server in (first, second):
        server.stop()


def submit(client: httpx.Client, **changes) -> dict:
    response = client.post("/api/jobs", json={**GENERATE, **changes})
    assert response.status_code == 202, response.text
    return response.json()


def gallery_of(server: LiveServer, database_url: str) -> Gallery:
    return Gallery(database_url, server.data_dir / "images")


def test_a_job_submitted_to_one_replica_is_seen_followed_and_cancelled_through_the_other(replicas, postgres_url):
    first, second = replicas
    with first.client() as to_first, second.client() as to_second:
        job = submit(to_first, num_inference_steps=4, seed=21)
        assert to_second.get(f"/api/jobs/{job['id']}").json()["id"] == job["id"]
        assert job["id"] in [listed["id"] for listed in to_second.get("/api/jobs").json()["items"]]
        events = list(sse_events(to_second, job["id"]))
        # The steps that were still stored when it polled (a job's progress events go when it ends).
        assert [name for name, _ in events] == ["queued", "started"] + ["progress"] * (len(events) - 3) + ["done"]
        image_ids = events[-1][1]["image_ids"]
        assert to_first.get(f"/api/jobs/{job['id']}").json()["image_ids"] == image_ids
        done = to_second.get("/api/jobs", params={"status": "done", "limit": 1}).json()
        assert [(listed["id"], listed["image_ids"]) for listed in done["items"]] == [(job["id"], image_ids)]
        assert to_first.get(f"/api/gallery/{image_ids[0]}").json()["job_id"] == job["id"]
        # Resuming on the other replica with Last-Event-ID gets what follows.
        assert list(sse_events(to_first, job["id"], last_event_id="2")) == events[-1:]  # the steps went at the end

        long = submit(to_first, num_inference_steps=150, seed=22)
        names = []
        for name, data in sse_events(to_second, long["id"]):
            names.append(name)
            if name == "progress" and data["step"] == 1:
                assert to_second.delete(f"/api/jobs/{long['id']}").status_code == 200
        assert names[-1] == "cancelled" and "done" not in names
        assert to_first.get(f"/api/jobs/{long['id']}").json()["status"] == "cancelled"
        assert to_first.get("/api/gallery", params={"job_id": long["id"]}).json()["total"] == 0

        # AUTOMATIC1111's current checkpoint and Clip skip are the database's, not one process's.
        assert to_first.post("/sdapi/v1/options", json={"sd_model_checkpoint": "shoesA",
                                                        "CLIP_stop_at_last_layers": 2}).status_code == 200
        assert to_second.get("/sdapi/v1/options").json() == {"sd_model_checkpoint": "shoesA",
                                                             "CLIP_stop_at_last_layers": 2}


def test_a_replica_killed_mid_job_leaves_it_to_the_other_which_finishes_it_once(replicas, postgres_url):
    first, second = replicas
    with first.client() as to_first:
        job = submit(to_first, num_inference_steps=150, seed=31, num_images=2)
        for name, data in sse_events(to_first, job["id"]):
            if name == "progress" and data["step"] >= 2:
                break
    with gallery_of(first, postgres_url) as gallery:
        worker = JobStore(gallery).get(job["id"]).worker_id
    running, survivor = (first, second) if f":{first.process.pid}:" in worker else (second, first)
    assert f":{running.process.pid}:" in worker
    running.kill()

    with survivor.client() as client:
        finished = wait_for_job(client, job["id"], timeout=240)
        assert finished["status"] == "done" and len(finished["image_ids"]) == 2
        names = [name for name, _ in sse_events(client, job["id"])]
        assert names.count("started") == 2 and names[-1] == "done"
        assert client.get("/api/gallery", params={"job_id": job["id"]}).json()["total"] == 2
    with gallery_of(survivor, postgres_url) as gallery:
        taken_over = JobStore(gallery).get(job["id"])
        assert f":{survivor.process.pid}:" in taken_over.worker_id and taken_over.attempts == 2
        # The killed worker was denoising: it wrote no file, so a clean-up without grace finds nothing to remove.
        report = gallery.reconcile(grace_seconds=0)
        assert (report.removed_rows, report.removed_files) == (0, 0)
        files = {path.stem for path in gallery.image_dir.rglob("*.png")}
        assert files == {image.id for image in gallery.iter_images()} and len(files) == 2


def test_a_burst_over_the_bound_across_both_replicas_gets_429s_and_every_accepted_job_finishes_once(replicas):
    # Sixteen jobs at once, half to each replica, against one bound of three waiting jobs for both together.
    start = threading.Barrier(16)
    servers = [server for server in replicas for _ in range(8)]

    def post(seed: int) -> httpx.Response:
        start.wait()
        return httpx.post(f"{servers[seed].url}/api/jobs", json={**GENERATE, "seed": seed, "num_inference_steps": 60},
                          timeout=60)

    with ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(post, range(16)))
    assert sorted({r.status_code for r in responses}) == [202, 429], [r.status_code for r in responses]
    accepted = [r.json()["id"] for r in responses if r.status_code == 202]
    # Waiting jobs never exceed the bound; at most one batch (SHOEGEN_MAX_BATCH, 4) per replica runs meanwhile.
    assert len(accepted) <= QUEUE_SIZE + 2 * 4
    for response in responses:
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) >= 1
    with replicas[1].client() as client:
        for job_id in accepted:
            job = wait_for_job(client, job_id, timeout=240)
            assert job["status"] == "done" and len(job["image_ids"]) == 1
            assert client.get("/api/gallery", params={"job_id": job_id}).json()["total"] == 1
        assert client.get("/api/gallery").json()["total"] == len(accepted)


def test_api_only_and_worker_only_processes_split_the_work(server_factory, postgres_url, tmp_path_factory):
    shared = tmp_path_factory.mktemp("split") / "data"
    env = {"SHOEGEN_DATABASE_URL": postgres_url}
    api = server_factory({**env, "SHOEGEN_ROLE": "api"}, data_dir=shared, name="api-only")
    with api.client() as client:
        job = submit(client, seed=41)
        time.sleep(1.5)  # no worker yet: the job waits
        assert client.get(f"/api/jobs/{job['id']}").json()["status"] == "queued"
        assert client.get("/api/health").json()["queue"] == {"depth": 1, "running": None}
        worker = server_factory({**env, "SHOEGEN_ROLE": "worker"}, data_dir=shared, name="worker-only")
        try:
            finished = wait_for_job(client, job["id"])
            assert finished["status"] == "done" and len(finished["image_ids"]) == 1
            with gallery_of(api, postgres_url) as gallery:
                assert f":{worker.process.pid}:" in JobStore(gallery).get(job["id"]).worker_id
            with worker.client() as to_worker:
                assert to_worker.get("/api/health").json()["status"] == "ok"
                assert to_worker.post("/api/jobs", json=GENERATE).status_code in (404, 405)
        finally:
            worker.stop()
    api.stop()


def test_nul_characters_are_refused_naming_where_they_are_and_the_text_around_them_still_works(
        server_factory, postgres_url, tmp_path_factory):
    """PostgreSQL refuses U+0000 in text: each place a request carries text gets a 422, never a 500 or a job that
    generates and then cannot be stored; the six characters `\\u0000` typed as text are ordinary text."""
    server = server_factory({"SHOEGEN_DATABASE_URL": postgres_url}, name="nul",
                            data_dir=tmp_path_factory.mktemp("nul") / "data")
    try:
        with server.client() as client:
            for method, path, body, location in (
                    ("GET", "/api/gallery?q=%00", None, ["query", "q"]),
                    ("GET", "/api/gallery?model=tiny&job_id=a%00b", None, ["query", "job_id"]),
                    ("GET", "/api/gallery/abc%00", None, ["path"]),
                    ("POST", "/api/jobs", {**GENERATE, "prompt": "red\u0000shoes"}, ["body", "prompt"]),
                    ("POST", "/api/generate", {**GENERATE, "loras": [{"name": "x\u0000"}]}, ["body", "loras", 0, "name"]),
                    ("POST", "/api/gallery/metadata", {"q": "\u0000"}, ["body", "q"]),
                    ("POST", "/sdapi/v1/txt2img", {"prompt": "a", "negative_prompt": "\u0000"},
                     ["body", "negative_prompt"])):
                response = client.request(method, path, json=body)
                assert response.status_code == 422, (path, response.text)
                assert response.json()["detail"][0]["loc"] == location
                assert "NUL" in response.json()["detail"][0]["msg"]
            typed = "a shoe \\u0000 sketch"  # a backslash, then u0000: text, not a NUL
            job = wait_for_job(client, client.post("/api/jobs", json={**GENERATE, "prompt": typed}).json()["id"])
            assert job["status"] == "done", job
            found = client.get("/api/gallery", params={"q": "\\u0000"}).json()
            assert [image["prompt"] for image in found["items"]] == [typed]
    finally:
        server.stop()
