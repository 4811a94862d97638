"""The workers' housekeeping (in process, no model): finished jobs older than the retention are deleted."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from shoegen.config.service import ServiceSettings
from shoegen.service.jobs import JobQueue
from shoegen.storage import Gallery


def test_housekeeping_deletes_the_jobs_finished_longer_ago_than_the_retention(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SHOEGEN_JOB_RETENTION_DAYS", "0.5")
    assert ServiceSettings().job_retention_days == 0.5 and ServiceSettings.model_fields["job_retention_days"
                                                                                         ].default == 7
    with Gallery.for_data_dir(tmp_path) as gallery:
        queue = JobQueue(None, gallery, max_queued=10, retention=timedelta(days=7))  # the worker side needs no model
        finished, waiting = (queue.store.submit({"prompt": "shoes"}, total_steps=2, batch_key=None, max_queued=10)
                             for _ in range(2))
        queue.store.claim("w1", lease_seconds=30)
        queue.store.finish("w1", [finished.id], "error", error="boom")
        assert queue.housekeeping() == 0
        queue.retention = timedelta(0)
        assert queue.housekeeping() == 1
        assert queue.get(finished.id) is None and queue.get(waiting.id).status == "queued"
