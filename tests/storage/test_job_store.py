"""The durable job queue's rows (storage.jobs.JobStore), on SQLite and PostgreSQL: the bound, atomic claims with
batching, leases taken over when a worker dies, fenced writes, the images of a job stored once, numbered events."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from shoegen.config.generation import ImageParams
from shoegen.storage import Gallery, JobStore, OptionStore, QueueFull
from shoegen.storage.jobs import MAX_ATTEMPTS

LEASE = 30.0


@pytest.fixture
def store(gallery: Gallery) -> JobStore:
    return JobStore(gallery)


def submit(store: JobStore, key: str | None = "k", max_queued: int = 100, **params) -> str:
    return store.submit({"prompt": "shoes", **params}, total_steps=4, batch_key=key, max_queued=max_queued).id


def events(store: JobStore, job_id: str) -> list[tuple[int, str, dict]]:
    return [(event.number, event.type, event.payload) for event in store.events(job_id)]


def png_files(gallery: Gallery) -> set[str]:
    return {path.stem for path in gallery.image_dir.rglob("*.png")}


def test_submit_queues_in_order_and_the_bound_holds(store: JobStore) -> None:
    first, second = submit(store, max_queued=2), submit(store, max_queued=2)
    with pytest.raises(QueueFull):
        submit(store, max_queued=2)
    assert store.depth() == 2
    assert events(store, second) == [(1, "queued", {"position": 2})]
    assert store.get(first).status == "queued" and store.get("nope") is None and store.get("0" * 32) is None
    assert [job.id for job in store.list()] == [second, first]


def test_a_claim_takes_the_oldest_job_and_the_queued_ones_with_its_batch_key(store: JobStore) -> None:
    a, b, lone, c, d = submit(store), submit(store), submit(store, key=None), submit(store), submit(store)
    other = submit(store, key="other")
    batch = store.claim("w1", lease_seconds=LEASE, max_batch=3)
    assert [job.id for job in batch] == [a, b, c]
    assert all(job.status == "running" and job.worker_id == "w1" and job.attempts == 1 for job in batch)
    assert events(store, b)[-1] == (2, "started", {"batch_size": 3})
    assert [job.id for job in store.claim("w2", lease_seconds=LEASE, max_batch=3)] == [lone]
    assert [job.id for job in store.claim("w2", lease_seconds=LEASE, max_batch=3)] == [d]
    assert [job.id for job in store.claim("w2", lease_seconds=LEASE, max_batch=3)] == [other]
    assert store.claim("w2", lease_seconds=LEASE) == []
    assert store.running().id == a and store.depth() == 0


def test_workers_claiming_together_never_take_the_same_job(store: JobStore, gallery: Gallery,
                                                           database_url: str) -> None:
    submitted = {submit(store, key=None) for _ in range(30)}
    claimed: list[str] = []
    start = threading.Barrier(4)

    def work(worker: str) -> None:
        own = JobStore(Gallery(database_url, gallery.image_dir))  # a replica of its own: its own engine
        start.wait()
        while batch := own.claim(worker, lease_seconds=LEASE):
            claimed.extend(job.id for job in batch)
        own._gallery.close()

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(claimed) == sorted(submitted)


def test_progress_renews_the_lease_and_reports_a_cancel_from_elsewhere(store: JobStore) -> None:
    job_id = submit(store)
    store.claim("w1", lease_seconds=LEASE)
    assert store.progress("w1", [job_id], step=1, total=4, payload={"step": 1, "total": 4},
                          lease_seconds=LEASE) == ({job_id}, set())
    assert store.cancel(job_id).status == "running"  # flagged: the worker stops at its next step
    held, cancelled = store.progress("w1", [job_id], step=2, total=4, payload={"step": 2, "total": 4},
                                     lease_seconds=LEASE)
    assert held == cancelled == {job_id}
    assert [kind for _, kind, _ in events(store, job_id)] == ["queued", "started", "progress", "progress"]
    assert store.finish("w1", [job_id], "cancelled") == {job_id}
    # Its steps' events went when it ended; the others keep their numbers.
    assert [(number, kind) for number, kind, _ in events(store, job_id)] == [(1, "queued"), (2, "started"),
                                                                             (5, "cancelled")]
    assert store.get(job_id).step == 2 and store.cancel(job_id).status == "cancelled"


def test_complete_adds_the_images_and_marks_done_in_one_transaction(store: JobStore, gallery: Gallery,
                                                                    small_image: Image.Image,
                                                                    make_params: Callable[..., ImageParams]) -> None:
    job_id = submit(store)
    store.claim("w1", lease_seconds=LEASE)
    stored = store.complete("w1", job_id, [(small_image, make_params(seed=1), None),
                                           (small_image, make_params(seed=2), None)],
                            generation_time=1.5, warnings=["far from native"])
    job = store.get(job_id)
    assert job.status == "done" and job.image_ids == [image.id for image in stored] and job.generation_time == 1.5
    assert events(store, job_id)[-1] == (3, "done", {"image_ids": job.image_ids, "warnings": ["far from native"]})
    assert sorted(image.id for image in gallery.iter_images()) == sorted(job.image_ids) == sorted(png_files(gallery))
    # Done once: the same worker (or any other) cannot complete it again.
    assert store.complete("w1", job_id, [(small_image, make_params(), None)], generation_time=1) is None
    assert gallery.list().total == 2 and len(png_files(gallery)) == 2


def test_a_job_whose_worker_died_is_taken_over_and_the_dead_worker_writes_nothing(
        store: JobStore, gallery: Gallery, small_image: Image.Image, make_params: Callable[..., ImageParams]) -> None:
    job_id = submit(store)
    store.claim("dead", lease_seconds=0.05)
    time.sleep(0.1)
    taken = store.claim("alive", lease_seconds=LEASE)
    assert [(job.id, job.worker_id, job.attempts) for job in taken] == [(job_id, "alive", 2)]
    # The first worker was only slow, not dead: its writes are refused, and it leaves no file behind.
    assert store.progress("dead", [job_id], step=3, total=4, payload={}, lease_seconds=LEASE) == (set(), set())
    assert store.heartbeat("dead", [job_id], lease_seconds=LEASE) == set()
    assert store.complete("dead", job_id, [(small_image, make_params(), None)], generation_time=1) is None
    assert store.finish("dead", [job_id], "error", error="boom") == set()
    assert gallery.list().total == 0 and png_files(gallery) == set()
    assert store.heartbeat("alive", [job_id], lease_seconds=LEASE) == {job_id}
    assert len(store.complete("alive", job_id, [(small_image, make_params(), None)], generation_time=1)) == 1
    assert gallery.list().total == 1 and len(png_files(gallery)) == 1
    assert [kind for _, kind, _ in events(store, job_id)] == ["queued", "started", "started", "done"]


def test_dead_jobs_flagged_for_cancelling_or_failed_too_often_are_ended(store: JobStore) -> None:
    flagged, cursed = submit(store, key=None), submit(store, key=None)
    # A lease long enough that the cancel below finds the worker alive on a loaded machine.
    store.claim("w1", lease_seconds=0.5)
    assert store.cancel(flagged).status == "running"  # its worker is alive still
    time.sleep(0.6)
    for attempt in range(MAX_ATTEMPTS):
        # The flagged one's lease ran out: it is ended; each worker claiming the other dies at once.
        assert [job.id for job in store.claim(f"w{attempt}", lease_seconds=0.01)] == [cursed]
        time.sleep(0.05)
    assert store.get(flagged).status == "cancelled"
    assert store.claim("w9", lease_seconds=LEASE) == []
    assert store.get(cursed).status == "error" and "stopped 3 times" in store.get(cursed).error
    # A cancel of a job whose worker died ends it at once.
    dead = submit(store)
    store.claim("w1", lease_seconds=0.01)
    time.sleep(0.05)
    assert store.cancel(dead).status == "cancelled"


def test_a_clean_stop_puts_held_jobs_back_in_the_queue(store: JobStore) -> None:
    first, second = submit(store, key=None), submit(store, key=None)
    store.claim("w1", lease_seconds=LEASE)
    assert store.release("w1", [first]) == {first}
    assert store.get(first).status == "queued" and store.get(first).worker_id is None
    assert events(store, first)[-1] == (3, "queued", {"position": 1})
    assert [job.id for job in store.claim("w2", lease_seconds=LEASE)] == [first]
    assert store.depth() == 1 and store.get(second).status == "queued"


def test_a_clean_stop_costs_no_attempt_ends_a_cancelled_job_and_counts_the_queue_of_its_kind(
        store: JobStore) -> None:
    store.submit({"run": "r"}, total_steps=4, batch_key=None, max_queued=10, kind="training")  # another queue
    first, flagged = submit(store), submit(store)
    for _ in range(MAX_ATTEMPTS + 1):  # restarts of the server, each in the middle of the job
        store.claim("w1", lease_seconds=LEASE)
        store.release("w1", [first])
    again = store.get(first)
    assert (again.status, again.attempts) == ("queued", 0)
    assert events(store, first)[-1][1:] == ("queued", {"position": 1})  # the training run is not ahead of it
    store.claim("w1", lease_seconds=LEASE, max_batch=2)
    store.cancel(flagged)  # flagged on another replica while the server here was stopping
    assert store.release("w1", [first, flagged]) == {first, flagged}
    assert store.get(flagged).status == "cancelled" and store.get(first).status == "queued"
    assert events(store, flagged)[-1][1] == "cancelled"


def test_a_training_run_done_before_its_cancel_is_done(store: JobStore) -> None:
    job = train_job(store, "a")
    store.claim("trainer", lease_seconds=LEASE, kind="training")
    store.cancel(job)  # came after the run's last step
    assert store.complete("trainer", job, [], generation_time=1) is None  # a generation job would stop here
    assert store.complete("trainer", job, [], generation_time=1, despite_cancel=True) == []
    assert store.get(job).status == "done"


def test_finished_jobs_keep_their_final_events_and_go_after_the_retention(
        store: JobStore, gallery: Gallery, small_image: Image.Image, make_params: Callable[..., ImageParams]) -> None:
    done, failed, running, queued = (submit(store, key=None) for _ in range(4))
    for job_id in (done, failed, running):
        store.claim("w1", lease_seconds=LEASE)
        store.progress("w1", [job_id], step=1, total=4, payload={"step": 1, "total": 4}, lease_seconds=LEASE)
    store.complete("w1", done, [(small_image, make_params(), None)], generation_time=1)
    store.finish("w1", [failed], "error", error="boom")
    assert [kind for _, kind, _ in events(store, done)] == ["queued", "started", "done"]
    assert [kind for _, kind, _ in events(store, failed)] == ["queued", "started", "error"]
    assert [kind for _, kind, _ in events(store, running)] == ["queued", "started", "progress"]

    assert store.purge(timedelta(days=7)) == 0  # finished just now: kept
    assert store.purge(timedelta(0), limit=1) == 1 and store.purge(timedelta(0)) == 1
    assert store.get(done) is store.get(failed) is None and events(store, done) == events(store, failed) == []
    assert store.purge(timedelta(0)) == 0
    assert {job.id for job in store.list()} == {queued, running}  # unfinished jobs stay, however old
    assert gallery.list().total == 1  # the images outlive their job


def test_a_job_and_its_events_survive_reopening(store: JobStore, open_gallery: Callable[[], Gallery],
                                                tmp_path: Path) -> None:
    job_id = submit(store)
    with open_gallery() as reopened:
        assert JobStore(reopened).get(job_id).status == "queued"
        assert [event.type for event in JobStore(reopened).events(job_id)] == ["queued"]


def test_service_options_are_shared_and_kept(gallery: Gallery, open_gallery: Callable[[], Gallery]) -> None:
    options = OptionStore(gallery)
    assert options.get("sd_model_checkpoint") is None
    options.set("sd_model_checkpoint", "shoesA")
    options.set("sd_model_checkpoint", "shoesB")
    with open_gallery() as reopened:
        assert OptionStore(reopened).get("sd_model_checkpoint") == "shoesB"
    options.set("sd_model_checkpoint", None)
    assert options.get("sd_model_checkpoint") is None


def train_job(store: JobStore, run: str, max_queued: int = 100) -> str:
    return store.submit({"run": run}, total_steps=40, batch_key=None, max_queued=max_queued, kind="training").id


def test_training_jobs_have_their_own_queue_and_are_never_taken_over(store: JobStore) -> None:
    generation = submit(store)
    first, second = train_job(store, "a"), train_job(store, "b")
    assert store.depth() == 1 and store.depth("training") == 2
    assert [store.position(store.get(job)) for job in (first, second)] == [1, 2]
    # Each worker claims its own kind only.
    assert [job.id for job in store.claim("gen", lease_seconds=LEASE)] == [generation]
    assert store.claim("gen", lease_seconds=LEASE) == []
    assert [job.id for job in store.claim("trainer", lease_seconds=0.05, kind="training")] == [first]
    assert store.running("training").id == first and store.position(store.get(second)) == 1
    time.sleep(0.1)  # the trainer died: its lease ran out
    assert store.interrupt_expired("training") == 1 and store.interrupt_expired("training") == 0
    interrupted = store.get(first)
    assert interrupted.status == "interrupted" and "worker stopped" in interrupted.error
    assert events(store, first)[-1] == (3, "interrupted", {"error": interrupted.error})
    # The next claim takes the next run, not the interrupted one again.
    assert [job.id for job in store.claim("trainer2", lease_seconds=LEASE, kind="training")] == [second]


def test_an_expired_training_job_is_interrupted_by_the_next_claim_and_requeued_on_request(store: JobStore) -> None:
    job = train_job(store, "a")
    store.claim("dead", lease_seconds=0.05, kind="training")
    time.sleep(0.1)
    assert store.claim("alive", lease_seconds=LEASE, kind="training") == []
    assert store.get(job).status == "interrupted"
    assert store.heartbeat("dead", [job], lease_seconds=LEASE) == set()  # the dead worker writes nothing more

    other = train_job(store, "b", max_queued=2)
    with pytest.raises(QueueFull):
        store.requeue(job, max_queued=1)
    requeued = store.requeue(job, max_queued=2)
    assert (requeued.status, requeued.error, requeued.attempts, requeued.worker_id) == ("queued", None, 0, None)
    assert store.position(requeued) == 2  # behind the run queued meanwhile
    assert events(store, job)[-1][1:] == ("queued", {"position": 2})
    assert store.requeue(other, max_queued=5).status == "queued"  # not resumable: unchanged
    assert store.requeue("f" * 32, max_queued=5) is None
    claimed = store.claim("alive", lease_seconds=LEASE, kind="training")
    assert [j.id for j in claimed] == [other]
    assert store.finish("alive", [other], "stopped") == {other} and store.get(other).status == "stopped"


def test_an_expired_evaluation_job_is_interrupted_not_taken_over(store: JobStore) -> None:
    """Its process may still be writing the run's evaluation: a second one on the same folder must not start."""
    job = store.submit({"run": "a"}, total_steps=0, batch_key=None, max_queued=4, kind="evaluation").id
    store.claim("dead", lease_seconds=0.05, kind="evaluation")
    time.sleep(0.1)
    assert store.claim("alive", lease_seconds=LEASE, kind="evaluation") == []
    assert store.get(job).status == "interrupted" and store.get(job).attempts == 1


def test_option_prefixes_list_only_their_names(gallery: Gallery) -> None:
    options = OptionStore(gallery)
    options.set("training-worker:1", {"seen": "x"})
    options.set("training-worker:2", {"seen": "y"})
    options.set("training_workerX", 1)  # `_` is not a LIKE wildcard here
    assert options.with_prefix("training-worker:") == {"training-worker:1": {"seen": "x"},
                                                       "training-worker:2": {"seen": "y"}}
    assert options.with_prefix("training_w") == {"training_workerX": 1}
