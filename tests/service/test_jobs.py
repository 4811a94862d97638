"""Asynchronous jobs over real HTTP: submit, follow with Server-Sent Events, cancel, and a full queue."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from live_server import API_KEY, GENERATE, sse_events, wait_for_job

from shoegen.storage import Gallery, JobStore


def submit(client: httpx.Client, **changes) -> dict:
    response = client.post("/api/jobs", json={**GENERATE, **changes})
    assert response.status_code == 202, response.text
    return response.json()


def images_of_job(client: httpx.Client, job_id: str) -> int:
    return client.get("/api/gallery", params={"job_id": job_id}).json()["total"]


def test_a_job_streams_queued_started_progress_done(client):
    job = submit(client, num_inference_steps=4, seed=11)
    assert job["status"] in ("queued", "running")
    assert job["total_steps"] == 4 and job["image_ids"] == []

    events = list(sse_events(client, job["id"]))
    # A follower sees the steps it polls in time: those still stored when the job ends are dropped then.
    assert [name for name, _ in events] == ["queued", "started"] + ["progress"] * (len(events) - 3) + ["done"]
    steps = [(data["step"], data["total"]) for name, data in events if name == "progress"]
    assert steps == sorted(steps) and set(steps) <= {(1, 4), (2, 4), (3, 4), (4, 4)}
    image_ids = events[-1][1]["image_ids"]
    assert len(image_ids) == 1

    finished = client.get(f"/api/jobs/{job['id']}").json()
    assert finished["status"] == "done" and finished["step"] == 4
    assert finished["image_ids"] == image_ids and finished["generation_time"] > 0
    stored = client.get(f"/api/gallery/{image_ids[0]}").json()
    assert stored["job_id"] == job["id"] and stored["seed"] == 11
    # A client that connects late gets the history without the steps (dropped when the job ended), then the
    # stream ends.
    assert list(sse_events(client, job["id"])) == events[:2] + events[-1:]
    # Each event's SSE id is its number; a client reconnecting with Last-Event-ID gets only what follows it.
    stream = client.get(f"/api/jobs/{job['id']}/events").text
    assert [line for line in stream.splitlines() if line.startswith("id:")] == ["id: 1", "id: 2", "id: 7"]
    assert list(sse_events(client, job["id"], last_event_id="3")) == events[-1:]
    assert list(sse_events(client, job["id"], last_event_id="7")) == []
    for wrong in ("x", "-1", "8"):
        response = client.get(f"/api/jobs/{job['id']}/events", headers={"Last-Event-ID": wrong})
        assert response.status_code == 400
        assert response.json()["detail"] == (f"Last-Event-ID: expected the id of an event this job's stream has "
                                              f"sent (1-7), got {wrong!r}")
    # Listed newest first, filtered by state; a state the API does not know is a 422.
    newer = submit(client, num_inference_steps=2, seed=12)
    listed = client.get("/api/jobs", params={"limit": 2}).json()
    assert [item["id"] for item in listed["items"]] == [newer["id"], job["id"]] and listed["limit"] == 2
    wait_for_job(client, newer["id"])
    assert job["id"] in [item["id"] for item in client.get("/api/jobs", params={"status": "done"}).json()["items"]]
    assert all(item["status"] == "queued" for item in client.get("/api/jobs", params={"status": "queued"}).json()[
        "items"])
    assert client.get("/api/jobs", params={"status": "lost"}).status_code == 422
    assert client.get("/api/jobs", params={"limit": 0}).status_code == 422
    # Cancelling a finished job changes nothing.
    assert client.delete(f"/api/jobs/{job['id']}").json()["status"] == "done"


def test_unknown_jobs_are_404(client):
    for method, path in (("GET", "/api/jobs/nope"), ("DELETE", "/api/jobs/nope"), ("GET", "/api/jobs/nope/events")):
        assert client.request(method, path).status_code == 404


def test_cancel_a_queued_job_and_a_running_one(client):
    running = submit(client, num_inference_steps=150, seed=1)
    queued = submit(client, seed=2)
    response = client.delete(f"/api/jobs/{queued['id']}")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"

    events = []
    for name, data in sse_events(client, running["id"]):
        events.append((name, data))
        if name == "progress" and data["step"] == 1:
            assert client.delete(f"/api/jobs/{running['id']}").status_code == 200
    names = [name for name, _ in events]
    assert names[:3] == ["queued", "started", "progress"] and names[-1] == "cancelled"
    assert "done" not in names
    assert max(data["step"] for name, data in events if name == "progress") < 150

    for job, never_started in ((running, False), (queued, True)):
        state = client.get(f"/api/jobs/{job['id']}").json()
        assert state["status"] == "cancelled" and state["image_ids"] == []
        assert images_of_job(client, job["id"]) == 0
    assert [name for name, _ in sse_events(client, queued["id"])] == ["queued", "cancelled"]
    # The worker carries on with the next job.
    follow_up = submit(client, seed=3)
    assert wait_for_job(client, follow_up["id"])["status"] == "done"


def test_a_full_queue_answers_429_with_retry_after_and_accepted_jobs_finish(locked_server, locked_client):
    # The locked server holds at most two waiting jobs; fire ten at once. Each job runs 100 steps, so the
    # worker cannot drain the queue while the burst arrives (at 2 steps a busy machine let 6 in).
    start = threading.Barrier(10)

    def post(seed: int) -> httpx.Response:
        start.wait()
        return httpx.post(f"{locked_server.url}/api/jobs", json={**GENERATE, "seed": seed, "num_inference_steps": 100},
                          headers={"X-API-Key": API_KEY}, timeout=60)

    with ThreadPoolExecutor(10) as pool:
        responses = list(pool.map(post, range(10)))
    accepted = [r.json()["id"] for r in responses if r.status_code == 202]
    rejected = [r for r in responses if r.status_code == 429]
    assert len(accepted) + len(rejected) == 10, [r.status_code for r in responses]
    assert 2 <= len(accepted) <= 5
    assert rejected
    for response in rejected:
        assert int(response.headers["Retry-After"]) >= 1
        assert "queue is full" in response.json()["detail"]
    for job_id in accepted:
        job = wait_for_job(locked_client, job_id)
        assert job["status"] == "done" and len(job["image_ids"]) == 1
    assert locked_client.get("/api/health").json()["queue"] == {"depth": 0, "running": None}


def test_the_stream_of_a_job_queued_again_goes_on_with_its_next_attempt(server, client):
    """A training run stopped and resumed is one job: following it shows the first attempt's end, then the
    second attempt's events, and ends at the job's last end (it ended at the first). Driven through the shared
    database as a worker would, with a kind of job no worker of the server takes."""
    with Gallery.for_data_dir(server.data_dir) as gallery:
        store = JobStore(gallery)
        job = store.submit({}, total_steps=1, batch_key=None, max_queued=10, kind="stream-test")
        store.claim("test-worker", lease_seconds=60, kind="stream-test")
        store.finish("test-worker", [job.id], "stopped")
        store.requeue(job.id, max_queued=10)
        names: list[str] = []
        follower = threading.Thread(target=lambda: names.extend(name for name, _ in sse_events(client, job.id)))
        follower.start()
        time.sleep(2)
        assert follower.is_alive(), names  # still following the queued attempt
        store.claim("test-worker", lease_seconds=60, kind="stream-test")
        store.finish("test-worker", [job.id], "stopped")
        follower.join(timeout=20)
        assert not follower.is_alive()
    assert names == ["queued", "started", "stopped", "queued", "started", "stopped"]
