"""The generation worker in process, with a stand-in engine: what it does when the images cannot be stored."""

from __future__ import annotations

import errno
from pathlib import Path

from PIL import Image

from shoegen.config.generation import ImageParams
from shoegen.engine.engine import GeneratedImage, GenerationResult
from shoegen.service.jobs import JobQueue
from shoegen.storage import Gallery
from shoegen.storage import gallery as gallery_module


class ImagesOfOneColour:
    """Answers every request with one grey image per request, at once."""

    def generate_many(self, requests, **_) -> list[GenerationResult]:
        return [GenerationResult([GeneratedImage(Image.new("RGB", (8, 8), "grey"),
                                                 ImageParams(prompt=request.prompt, seed=1, model_name="tiny",
                                                             width=8, height=8))], seconds=0.01)
                for request in requests]


def test_images_that_cannot_be_written_end_the_job_with_the_reason_at_once(tmp_path: Path, monkeypatch) -> None:
    def disk_full(*_, **__):
        raise OSError(errno.ENOSPC, "No space left on device")

    with Gallery.for_data_dir(tmp_path) as gallery:
        queue = JobQueue(ImagesOfOneColour(), gallery, max_queued=10, max_batch=2)
        monkeypatch.setattr(gallery_module, "save_png_with_parameters", disk_full)
        queue.start()
        try:
            jobs = [queue.store.submit({"prompt": "shoes"}, total_steps=2, batch_key="k", max_queued=10)
                    for _ in range(2)]
            queue._wake.set()
            ended = [queue.wait(queue.get(job.id), timeout=30) for job in jobs]
            # Each job of the batch ends on its first try, saying why; none is left to be retried by another worker.
            assert [(job.status, job.error) for job in ended] == \
                [("error", "the images could not be stored: No space left on device")] * 2
            assert [queue.store.get(job.id).attempts for job in jobs] == [1, 1]
            monkeypatch.undo()  # the disk has room again: the worker goes on with the next job
            later = queue.store.submit({"prompt": "shoes"}, total_steps=2, batch_key="k", max_queued=10)
            queue._wake.set()
            assert queue.wait(queue.get(later.id), timeout=30).status == "done"
            assert gallery.list().total == 1
        finally:
            queue.stop()
