"""The gallery and the job queue across restarts: a clean stop, and a SIGKILL in the middle of a generation.

A kill during denoising leaves no file (PNGs are written only once an image is done), and the instant
between writing a PNG and committing its row cannot be hit by timing. So after the kill the test lays
out on disk exactly what a crash in that instant leaves (a PNG without a row, a temporary file of an
interrupted write) plus a row whose PNG was lost, and checks that the restarted server's own startup
cleanup repairs it, sparing files younger than the grace period that another replica may still be
committing.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

from live_server import GENERATE, sse_events, wait_for_job

from shoegen.storage import Gallery, JobStore

HOUR_AGO = time.time() - 3600


def gallery_files(data_dir: Path) -> dict[str, Path]:
    """Gallery-named PNGs under the image folder, by id."""
    return {path.stem: path for path in (data_dir / "images").rglob("*.png") if len(path.stem) == 32}


def listed_ids(client) -> list[str]:
    body = client.get("/api/gallery", params={"limit": 200}).json()
    assert body["total"] == len(body["items"])
    return [item["id"] for item in body["items"]]


def test_the_gallery_survives_a_clean_restart_and_a_kill_mid_generation(server_factory, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("restarted") / "data"

    # 1. Generate, then stop cleanly.
    first = server_factory(data_dir=data_dir, name="restart-1")
    with first.client() as client:
        response = client.post("/api/generate", json={**GENERATE, "num_images": 3, "prompt": "kept across restarts"})
        kept = [image["id"] for image in response.json()["images"]]
    # uvicorn shuts down cleanly on SIGTERM, then re-raises the signal: -15, not -9 from our fallback kill.
    assert first.stop() in (0, -15)
    assert "Application shutdown complete" in first.log()

    # 2. Restart on the same folder: everything is still there; then kill it in the middle of a job.
    second = server_factory(data_dir=data_dir, name="restart-2")
    with second.client() as client:
        assert sorted(listed_ids(client)) == sorted(kept)
        job = client.post("/api/jobs", json={**GENERATE, "num_inference_steps": 150}).json()
        for name, event in sse_events(client, job["id"]):
            if name == "progress" and event["step"] >= 2:
                break
        second.kill()
    assert second.process.returncode == -9

    # 3. What a crash between "PNG written" and "row committed" leaves, old and young; and a lost PNG.
    folder = gallery_files(data_dir)[kept[0]].parent
    old_orphan = folder / f"{uuid.uuid4().hex}.png"
    shutil.copy(gallery_files(data_dir)[kept[0]], old_orphan)
    old_partial = folder / f".{uuid.uuid4().hex}.png.{uuid.uuid4().hex}.partial"
    old_partial.write_bytes(b"\x89PNG half written")
    for path in (old_orphan, old_partial):
        os.utime(path, (HOUR_AGO, HOUR_AGO))
    young_orphan = folder / f"{uuid.uuid4().hex}.png"
    shutil.copy(gallery_files(data_dir)[kept[1]], young_orphan)
    gallery_files(data_dir)[kept[2]].unlink()
    unrelated = data_dir / "images" / "notes.txt"  # not the gallery's: never touched
    unrelated.write_text("keep me")

    third = server_factory({"SHOEGEN_WARM_UP": "false"}, data_dir=data_dir, name="restart-3")
    assert "gallery cleanup after an unclean stop" in third.log()
    with third.client() as client:
        # The killed job is still in the queue's table, held by the dead worker until its lease runs out (then
        # another worker would take it over: see the next test); cancelled now, it never runs again.
        assert client.delete(f"/api/jobs/{job['id']}").json()["status"] in ("running", "cancelled")
        listed = listed_ids(client)
        assert sorted(listed) == sorted(kept[:2])  # the row of the lost PNG is gone, the others remain
        assert client.get("/api/gallery", params={"job_id": job["id"]}).json()["total"] == 0
        for image_id in listed:
            response = client.get(f"/api/gallery/{image_id}/image")
            assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
        assert client.get(f"/api/gallery/{kept[2]}").status_code == 404

        assert not old_orphan.exists() and not old_partial.exists()
        assert young_orphan.exists()  # inside the grace period: another replica may be about to commit it
        assert set(gallery_files(data_dir)) == set(listed) | {young_orphan.stem}

        # An operator's cleanup with no grace period (here beside the running server, as another replica
        # would) leaves exactly one PNG per listed image.
        with Gallery.for_data_dir(data_dir) as gallery:
            report = gallery.reconcile(grace_seconds=0)
        assert (report.removed_rows, report.removed_files) == (0, 1)
        assert set(gallery_files(data_dir)) == set(listed_ids(client)) == set(kept[:2])
    assert unrelated.read_text() == "keep me"


def follow_until_running(client, job_id: str) -> None:
    for name, event in sse_events(client, job_id):
        if name == "progress" and event["step"] >= 1:
            return
    raise AssertionError(f"job {job_id} ended before it ran")


def event_names(client, job_id: str) -> list[str]:
    return [name for name, _ in sse_events(client, job_id)]


def test_queued_and_interrupted_jobs_run_after_a_restart(server_factory, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("durable") / "data"
    lease = {"SHOEGEN_JOB_LEASE_SECONDS": "2"}

    # 1. A clean stop with a job running and two queued: the running one goes back to the queue, unfinished.
    first = server_factory(lease, data_dir=data_dir, name="durable-1")
    with first.client() as client:
        interrupted = client.post("/api/jobs", json={**GENERATE, "num_inference_steps": 150, "seed": 1}).json()
        follow_until_running(client, interrupted["id"])
        queued = [client.post("/api/jobs", json={**GENERATE, "seed": seed}).json() for seed in (2, 3)]
    assert first.stop() in (0, -15)
    with Gallery.for_data_dir(data_dir) as gallery:
        jobs = JobStore(gallery)
        assert [jobs.get(job["id"]).status for job in (interrupted, *queued)] == ["queued"] * 3
        assert gallery.list().total == 0

    # 2. After the restart every one of them runs, the interrupted one from the start.
    second = server_factory(lease, data_dir=data_dir, name="durable-2")
    with second.client() as client:
        for job in (interrupted, *queued):
            finished = wait_for_job(client, job["id"])
            assert finished["status"] == "done" and len(finished["image_ids"]) == 1
            assert client.get("/api/gallery", params={"job_id": job["id"]}).json()["total"] == 1
        names = event_names(client, interrupted["id"])
        # Put back in the queue, run again (its steps' events dropped once it was done).
        assert names == ["queued", "started", "queued", "started", "done"]

        # 3. A kill mid-job: the restarted server takes the job over once the dead worker's lease runs out.
        killed = client.post("/api/jobs", json={**GENERATE, "num_inference_steps": 150, "seed": 4}).json()
        follow_until_running(client, killed["id"])
        second.kill()
    third = server_factory(lease, data_dir=data_dir, name="durable-3")
    with third.client() as client:
        finished = wait_for_job(client, killed["id"])
        assert finished["status"] == "done" and len(finished["image_ids"]) == 1
        assert client.get("/api/gallery", params={"job_id": killed["id"]}).json()["total"] == 1
        assert event_names(client, killed["id"]).count("started") == 2
        assert set(gallery_files(data_dir)) == set(listed_ids(client))  # every image once, no stray file
