"""Training runs through the API: settings refused by name, the queue of one device, steering (stop, resume), the CLI
`shoegen runs` on the same runs, generation beside training, and a run that survives a killed server."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from live_server import GENERATE, LiveServer, wait_for_run
from safetensors.torch import load_file

from shoegen.cli.main import main as shoegen
from shoegen.config.service import ServiceSettings
from shoegen.config.train import TrainConfig
from shoegen.service.app import create_app
from shoegen.training.logs import LogTail, read_log
from shoegen.training.lora import LORA_WEIGHTS_NAME
from shoegen.training.run_folder import RunFolder

# A short run on the tiny base: validation only at the end, checkpoints every 10 steps.
SHORT = {"max_train_steps": 30, "checkpointing_steps": 10, "validation_steps": 30, "train_batch_size": 2,
         "validation_inference_steps": 2}


@pytest.fixture
def folders(tmp_path, sample_dataset):
    """(models folder, data folder) with the sample dataset as the dataset `shoes`."""
    data = tmp_path / "data"
    shutil.copytree(sample_dataset, data / "datasets" / "shoes")
    return tmp_path / "models", data


def settings(folders, **changes) -> ServiceSettings:
    models, data = folders
    return ServiceSettings(**{"base_model": "tiny", "models_dir": models, "data_dir": data, "warm_up": False,
                              **changes})


def logged_step(run: Path) -> int:
    records = read_log(RunFolder(run))
    return records[-1]["step"] if records else 0


def test_settings_are_refused_by_name_and_queued_runs_say_why_they_wait(folders):
    with TestClient(create_app(settings(folders, role="api"))) as client:
        recipes = client.get("/api/recipes").json()
        assert {"original", "quick-test", "demo"} <= {recipe["name"] for recipe in recipes["recipes"]}
        fields = {field["name"]: field for field in recipes["fields"]}
        rate = fields["learning_rate"]
        assert (rate["group"], rate["type"], rate["exclusive_minimum"], rate["maximum"]) == ("Optimisation", "number",
                                                                                            0, 1.0)
        assert rate["help"] == TrainConfig.model_fields["learning_rate"].description
        assert "dataset_path" not in fields and "output_dir" not in fields

        def refused(body) -> tuple[int, str]:
            response = client.post("/api/runs", json={"name": "r", "dataset": "shoes", **body})
            return response.status_code, str(response.json()["detail"])

        assert refused({"settings": {"learning_rate": -1}}) == (
            422, "settings.learning_rate: Input should be greater than 0 (got -1)")
        assert refused({"settings": {"resolution": 100}})[1].startswith("settings.resolution: must be a multiple of 8")
        assert refused({"settings": {"learning_rat": 1}}) == (422, "unknown option `settings.learning_rat`: did you "
                                                               "mean `settings.learning_rate`? (see `GET /api/recipes`"
                                                               " for the valid options)")
        assert "did you mean `settings.pretrained_model_name_or_path`?" in refused({"settings": {"base-model": 1}})[1]
        # A rule across settings names them as the body does, not as the command line's flags.
        assert refused({"settings": {"dynamo_backend": "aot_eager"}}) == (
            422, "settings.dynamo_backend needs settings.torch_compile")
        # Only what a run's body may set is suggested: the run folder is the server's (output_dir and
        # overwrite_output_dir would be the nearest names).
        assert "did you mean" not in refused({"settings": {"output_di": 1}})[1]
        assert refused({"settings": {"train_batch_size": 10**9}})[1].startswith("settings.train_batch_size: Input "
                                                                               "should be less than or equal to 256")
        assert refused({"settings": {"output_dir": "/etc"}}) == (422, refused({"settings": {"output_dir": "x"}})[1])
        assert refused({"settings": {"output_dir": "/etc"}})[1].startswith("settings.output_dir: set by the server")
        assert refused({"dataset": "nope"})[0] == 404 and "nope" in refused({"dataset": "nope"})[1]
        assert refused({"recipe": "nope"}) == (404, refused({"recipe": "nope"})[1])
        assert refused({"validation_prompts": [" "]})[0] == 422
        assert refused({"validation_prompts": ["a" * 4001]})[0] == 422  # a generation's prompt limit
        assert client.post("/api/runs", json={"name": "../x", "dataset": "shoes"}).status_code == 422
        base = client.post("/api/runs", json={"name": "tiny", "dataset": "shoes"})  # the base model's name
        assert base.status_code == 422 and "would pick the base, never this run's adapter" in base.json()["detail"]
        assert not (folders[0] / "r").exists()

        first = client.post("/api/runs", json={"name": "first", "dataset": "shoes", "settings": SHORT})
        assert first.status_code == 202, first.text
        second = client.post("/api/runs", json={"name": "second", "dataset": "shoes"}).json()
        assert client.post("/api/runs", json={"name": "first", "dataset": "shoes"}).status_code == 409
        (folders[0] / "loose.safetensors").write_bytes(b"a LoRA file's name")  # `model_name: loose` is taken
        clash = client.post("/api/runs", json={"name": "loose", "dataset": "shoes"})
        assert clash.status_code == 409 and "a LoRA file named 'loose' (loose.safetensors)" in clash.json()["detail"]
        assert (first.json()["status"], first.json()["position"]) == ("queued", 1)
        assert (second["status"], second["position"], second["max_steps"]) == ("queued", 2, 40)  # quick-test's
        assert second["waiting_reason"].startswith("1 run ahead of it; no training worker is running")
        # Stopping a queued run cancels it; the next one moves up.
        assert client.post("/api/runs/first/stop").json()["status"] == "cancelled"
        assert client.get("/api/runs/second").json()["position"] == 1
        assert client.post("/api/runs/second/save").status_code == 409
        assert client.delete("/api/runs/second").status_code == 409  # queued
        assert client.delete("/api/runs/first").status_code == 204
        assert not (folders[0] / "first").exists()

        # A recipe for a base of other layers is refused: this server's generation could not use the run's adapters.
        assert (recipes["base_model"], recipes["default_recipe"]) == ("tiny", "quick-test")
        assert refused({"recipe": "original"}) == (
            422, "recipe: 'original' trains on the base 'stable-diffusion-v1-5/stable-diffusion-v1-5', whose layers "
                 "differ from those of 'tiny', the base this server generates with, which could not use the run's "
                 "adapters: pick 'quick-test', or set settings.pretrained_model_name_or_path to train for another "
                 "server")
        # No recipe: TrainConfig's defaults on the server's base; a base named in the settings is the run's.
        defaults = client.post("/api/runs", json={"name": "defaults", "dataset": "shoes", "recipe": None})
        assert defaults.status_code == 202 and defaults.json()["base_model"] == "tiny"
        elsewhere = client.post("/api/runs", json={"name": "elsewhere", "dataset": "shoes", "recipe": "original",
                                                   "settings": {"pretrained_model_name_or_path": "demo"}})
        assert elsewhere.status_code == 202 and elsewhere.json()["base_model"] == "demo"

        # What the training process would refuse before its first step is refused now, in the body's terms, not
        # after the run waited its turn.
        status, detail = refused({"settings": {"pretrained_model_name_or_path": "/nonexistent/base"}})
        assert status == 422 and "/nonexistent/base" in detail and "--" not in detail
        assert refused({"settings": {"lora_target_modules": []}}) == (
            422, "settings.lora_target_modules: List should have at least 1 item after validation, not 0 (got [])")
        assert client.post("/api/runs/elsewhere/stop").json()["status"] == "cancelled"
        shutil.rmtree(folders[1] / "datasets" / "shoes")
        gone = client.post("/api/runs/elsewhere/resume")
        assert gone.status_code == 422 and gone.json()["detail"].startswith("dataset_path (run.yaml): "), gone.text
        assert client.get("/api/runs/elsewhere").json()["status"] == "cancelled"  # not queued again


def test_one_run_trains_at_a_time_beside_generation_and_the_cli_steers_it(folders, capsys):
    models, data = folders
    cli = ["--models-dir", str(models), "--data-dir", str(data)]
    with TestClient(create_app(settings(folders, job_lease_seconds=2))) as client:
        long = client.post("/api/runs", json={"name": "long", "dataset": "shoes",
                                              "settings": {**SHORT, "max_train_steps": 5000}})
        assert long.status_code == 202, long.text
        short = client.post("/api/runs", json={"name": "short", "dataset": "shoes",
                                               "settings": {**SHORT, "max_train_steps": 4, "checkpointing_steps": 2}})
        running = wait_for_run(client, "long", lambda run: run["status"] == "running" and run["step"] >= 3)
        assert running["source"] == "studio" and running["steps_per_second"] > 0 and running["eta_seconds"] > 0
        waiting = client.get("/api/runs/short").json()
        assert (waiting["status"], waiting["position"]) == ("queued", 1), waiting
        assert "waiting for 'long' to finish: one run trains (or is evaluated) at a time on each device" in waiting["waiting_reason"]

        # Generation goes on while a run trains (both slower); the run keeps training.
        generated = client.post("/api/generate", json=GENERATE)
        assert generated.status_code == 200, generated.text
        assert client.get("/api/runs/long").json()["status"] == "running"

        # The CLI sees the studio's runs and steers them the same way.
        assert shoegen(["runs", "list", *cli]) == 0
        listed = capsys.readouterr().out
        assert "long" in listed and "running" in listed and "short" in listed and "queued" in listed
        assert shoegen(["runs", "save", "long", *cli]) == 0
        assert shoegen(["runs", "stop", "long", *cli]) == 0
        stopped = wait_for_run(client, "long", lambda run: run["status"] not in ("running", "stopping"))
        assert stopped["status"] == "stopped" and stopped["resumable"] and not stopped["has_final"]
        assert stopped["checkpoints"][-1]["step"] == stopped["step"]  # the stop wrote a checkpoint of its step

        done = wait_for_run(client, "short", lambda run: run["status"] not in ("queued", "running"))
        assert done["status"] == "done" and done["has_final"], done
        models_listed = {model["name"] for model in client.get("/api/models").json()["models"]}
        assert {"short", "short/checkpoint-2", "short/checkpoint-4", stopped["checkpoints"][-1]["name"]} <= models_listed

        log = client.get("/api/runs/short/log", params={"since_step": 3}).json()
        assert [record["step"] for record in log["records"]] == [3, 4] and log["last_step"] == 4
        assert "val_loss" not in log["records"][-1] and "loss" in log["records"][-1]

        assert shoegen(["runs", "resume", "long", *cli]) == 0
        assert wait_for_run(client, "long", lambda run: run["status"] == "running" and run["step"] > stopped["step"])
        client.put("/api/runs/long/validation-prompts", json={"prompts": ["a red sneaker"]})
        assert client.post("/api/runs/long/sample").status_code == 202
        sampled = wait_for_run(client, "long", lambda run: run["validation_steps"])
        assert sampled["validation_prompts"] == ["a red sneaker"]
        assert client.post("/api/runs/long/stop").status_code == 202


def test_a_killed_server_leaves_the_run_interrupted_and_its_resume_equals_a_run_never_stopped(folders, tmp_path):
    models, data = folders
    env = {"SHOEGEN_JOB_LEASE_SECONDS": "1", "SHOEGEN_WARM_UP": "false"}
    server = LiveServer(models, data, tmp_path / "server.log", env).start()
    try:
        with server.client() as client:
            assert client.post("/api/runs", json={"name": "cut", "dataset": "shoes", "settings": SHORT}
                               ).status_code == 202
            # How far the process got is its log (the API's step trails it by status.json's few seconds).
            wait_for_run(client, "cut", lambda run: run["checkpoints"] and logged_step(models / "cut") >= 12)
        server.kill()  # kill -9: the training process dies with it
        cut_at = max(record["step"] for record in map(yaml.safe_load, (models / "cut/logs/train_log.jsonl")
                                                       .read_text().splitlines()))
        assert cut_at < SHORT["max_train_steps"]

        server.start()
        with server.client() as client:
            interrupted = client.get("/api/runs/cut").json()
            assert interrupted["status"] == "interrupted" and interrupted["resumable"], interrupted
            assert "worker stopped" in interrupted["error"]
            assert client.post("/api/runs/cut/resume").json()["status"] in ("queued", "running")
            done = wait_for_run(client, "cut", lambda run: run["status"] not in ("queued", "running"))
            assert done["status"] == "done" and done["step"] == SHORT["max_train_steps"], done

            # The same settings trained in a terminal, never stopped, into the same models folder.
            values = yaml.safe_load((models / "cut" / "run.yaml").read_text())
            values.update(output_dir=str(models / "straight"), resume_from_checkpoint=None)
            (tmp_path / "straight.yaml").write_text(yaml.safe_dump(values))
            subprocess.run([sys.executable, "-m", "shoegen.cli.main", "train", "--config", str(tmp_path / "straight.yaml"),
                            "--quiet"], check=True, capture_output=True)
            terminal = client.get("/api/runs/straight").json()
            assert (terminal["source"], terminal["status"], terminal["has_final"]) == ("terminal", "done", True)
    finally:
        server.stop()
    resumed = load_file(models / "cut" / "lora_weights" / LORA_WEIGHTS_NAME)
    straight = load_file(models / "straight" / "lora_weights" / LORA_WEIGHTS_NAME)
    assert resumed.keys() == straight.keys()
    import torch

    for key in straight:
        torch.testing.assert_close(resumed[key], straight[key], rtol=1e-5, atol=1e-6)
    # Each step is logged once, across the two processes.
    steps = [record["step"] for record in map(yaml.safe_load, (models / "cut/logs/train_log.jsonl").read_text()
                                              .splitlines()) if "loss" in record]
    assert steps == list(range(1, SHORT["max_train_steps"] + 1))


def test_on_an_sd1_server_the_sd15_recipe_trains_on_the_servers_own_base(folders):
    """Any SD1.x base takes SD1.5's adapters: the `original` recipe is the default there and trains on the
    server's base, whatever its name (here a hub id other than the recipe's, not in the cache)."""
    with TestClient(create_app(settings(folders, role="api", base_model="runwayml/stable-diffusion-v1-5"))) as client:
        assert client.get("/api/recipes").json()["default_recipe"] == "original"
        created = client.post("/api/runs", json={"name": "sd", "dataset": "shoes"})
        assert created.status_code == 202, created.text
        assert (created.json()["base_model"], created.json()["max_steps"]) == ("runwayml/stable-diffusion-v1-5", 3000)
        quick = client.post("/api/runs", json={"name": "quick", "dataset": "shoes", "recipe": "quick-test"})
        assert quick.status_code == 422 and "pick 'original'" in quick.json()["detail"]


def test_fp16_without_a_gpu_is_refused_where_the_run_would_train_not_on_an_api_only_replica(folders):
    import torch

    if torch.cuda.is_available() or torch.backends.mps.is_available():
        pytest.skip("this machine has a GPU: fp16 trains here")
    body = {"name": "half", "dataset": "shoes", "settings": {"mixed_precision": "fp16"}}
    with TestClient(create_app(settings(folders))) as client:  # this machine trains the runs
        refused = client.post("/api/runs", json=body)
        assert refused.status_code == 422
        assert refused.json()["detail"].startswith("settings.mixed_precision fp16 needs a GPU (CUDA or MPS)")
    with TestClient(create_app(settings(folders, role="api"))) as client:  # its workers' machines may have one
        assert client.post("/api/runs", json=body).status_code == 202


LAUNCHER = """
import subprocess, sys
# As torch's elastic launcher under `accelerate launch` starts each training process: in a session of its own.
child = subprocess.Popen(sys.argv[2:], start_new_session=True)
open(sys.argv[1], "w").write(str(child.pid))
child.wait()
"""
WORKER = """
import sys, time
from pathlib import Path
from shoegen.service.trainer import start_training_process
start_training_process([sys.executable, "-c", sys.argv[1], *sys.argv[2:]], Path(sys.argv[2]).with_suffix(".log"))
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"  # a zombie is dead
    except (OSError, IndexError):
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the death signal is Linux's")
def test_a_dead_workers_training_process_dies_with_it_under_a_launcher_of_its_own(folders, tmp_path):
    """kill -9 of a worker whose run a launcher started in a session of its own (as `accelerate launch` does for
    several devices): the run's process goes too, instead of training on unseen beside the next run."""
    models, data = folders
    run = RunFolder(models / "orphan")
    run.write_config(TrainConfig(pretrained_model_name_or_path="tiny", dataset_path=data / "datasets" / "shoes",
                                 output_dir=run.path, resolution=64, train_batch_size=2, max_train_steps=100000,
                                 checkpointing_steps=100000, validation_steps=100000, num_validation_images=0))
    pid_file = tmp_path / "training.pid"
    train = [sys.executable, "-m", "shoegen.cli.main", "train", "--config", str(run.config_file), "--quiet"]
    worker = subprocess.Popen([sys.executable, "-c", WORKER, LAUNCHER, str(pid_file), *train])
    try:
        deadline = time.monotonic() + 120
        while not (run.train_log.is_file() and run.train_log.read_text().count("\n") >= 2):
            assert time.monotonic() < deadline and worker.poll() is None, "the run did not start training"
            time.sleep(0.2)
        training = int(pid_file.read_text())
        assert _alive(training)
        worker.kill()
        deadline = time.monotonic() + 20
        while _alive(training) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(training), "the training process trains on after its worker died"
    finally:
        worker.kill()
        if pid_file.is_file() and _alive(int(pid_file.read_text())):
            subprocess.run(["kill", "-9", pid_file.read_text()])


def test_worker_command_uses_accelerate_for_several_devices(folders):
    from shoegen.service.trainer import TrainingRuns
    from shoegen.storage import Gallery

    models, data = folders
    with Gallery.for_data_dir(data) as gallery:
        folder = TrainingRuns(gallery, models, max_queued=4, lease_seconds=5).folder("r")
        one = TrainingRuns(gallery, models, max_queued=4, lease_seconds=5).command(folder)
        several = TrainingRuns(gallery, models, max_queued=4, lease_seconds=5, processes=2).command(folder)
    assert one[1:] == ["-m", "shoegen.cli.main", "train", "--config", str(folder.config_file), "--quiet"]
    assert several[1:6] == ["-m", "accelerate.commands.launch", "--num_processes", "2", "-m"]
    assert several[6:] == one[2:]
    assert Path(one[0]).name.startswith("python")


def test_a_run_that_cannot_start_says_why(folders):
    models, data = folders
    (data / "datasets" / "empty").mkdir(parents=True)
    (data / "datasets" / "empty" / "a.txt").write_text("a caption without its image")
    with TestClient(create_app(settings(folders, role="api"))) as client:
        refused = client.post("/api/runs", json={"name": "e", "dataset": "empty"})
        assert refused.status_code == 422 and "no image training can use" in refused.json()["detail"]
        assert client.post("/api/runs", json={"name": "gone", "dataset": "shoes"}).status_code == 202
    (models / "gone" / "run.yaml").write_text("learning_rate: -1\n")  # broken before a worker takes it
    with TestClient(create_app(settings(folders, job_lease_seconds=2))) as client:
        failed = wait_for_run(client, "gone", lambda run: run["status"] not in ("queued", "running"))
        assert failed["status"] == "error" and failed["resumable"]
        assert failed["error"].startswith("the run cannot start: ") and "learning_rate" in failed["error"]


def test_a_run_refused_by_its_process_says_why_not_what_an_earlier_attempt_wrote(folders):
    models, data = folders
    with TestClient(create_app(settings(folders, role="api"))) as client:
        assert client.post("/api/runs", json={"name": "again", "dataset": "shoes"}).status_code == 202
    # An earlier attempt's last word, then the dataset's images go from under the queued run.
    RunFolder(models / "again").write_status("error", 0, 30, error="an earlier attempt's failure")
    for image in (data / "datasets" / "shoes" / "images").iterdir():
        image.unlink()
    # A lease long enough that a loaded machine's late heartbeat does not end the job first (it flaked at 2 s).
    with TestClient(create_app(settings(folders, job_lease_seconds=10))) as client:
        failed = wait_for_run(client, "again", lambda run: run["status"] not in ("queued", "running"))
    assert failed["status"] == "error" and "earlier attempt" not in failed["error"]
    assert failed["error"].startswith("the training process exited with 2: ") and "--dataset_path" in failed["error"]
    assert RunFolder(models / "again").read_status()["error"] == "an earlier attempt's failure"  # refused: untouched


def test_the_worker_follows_its_runs_log_reading_each_byte_once(folders, monkeypatch):
    """`_follow` publishes each new step from what the run appended to its log, never from half a line."""
    from shoegen.service import trainer
    from shoegen.storage import Gallery

    models, data = folders
    monkeypatch.setattr(trainer, "POLL_SECONDS", 0.01)
    lines = [json.dumps({"step": step, "loss": 0.5, "lr": 1e-4, "seconds": 0.1}) + "\n" for step in (1, 2, 3)]
    chunks = [lines[0], lines[1][:9], lines[1][9:] + json.dumps({"step": 2, "val_loss": 0.4}) + "\n", lines[2]]
    bytes_read = []
    read = LogTail.read

    def counting_read(tail: LogTail) -> list[dict]:
        before = tail.offset
        records = read(tail)
        bytes_read.append(tail.offset - before)
        return records

    monkeypatch.setattr(LogTail, "read", counting_read)
    with Gallery.for_data_dir(data) as gallery:
        runs = trainer.TrainingRuns(gallery, models, max_queued=4, lease_seconds=30)
        folder = runs.folder("followed")
        folder.logs_dir.mkdir(parents=True)
        runs.store.submit({"run": "followed"}, total_steps=3, batch_key=None, max_queued=4, kind=trainer.KIND)
        [job] = runs.store.claim(runs.worker_id, lease_seconds=30, kind=trainer.KIND)

        class Process:  # the training process: each look finds one more piece of its log written
            returncode = None

            def poll(self):
                if not chunks:
                    self.returncode = 0
                    return 0
                with folder.train_log.open("a") as handle:
                    handle.write(chunks.pop(0))
                return None

        assert runs._follow(job, folder, Process(), 3, None)
        steps = [event.payload["step"] for event in runs.store.events(job.id) if event.type == "progress"]
    assert steps == [1, 2, 3]
    assert sum(bytes_read) == folder.train_log.stat().st_size  # each byte read once, not the whole log each time


def test_a_resumed_runs_progress_starts_at_its_checkpoint_and_never_goes_back(folders, monkeypatch):
    """The log of a run killed at step 6 holds steps past its checkpoint at 3; the resumed process drops them
    when it starts, then logs 4, 5: the job's progress reads 3, 4, 5 (it read 6, then fell back), and so does the
    run's step while the new process loads (it read the log's 6)."""
    from shoegen.service import trainer
    from shoegen.storage import Gallery

    models, data = folders
    monkeypatch.setattr(trainer, "POLL_SECONDS", 0.01)
    line = lambda step: json.dumps({"step": step, "loss": 0.5, "lr": 1e-4, "seconds": 0.1}) + "\n"  # noqa: E731
    with Gallery.for_data_dir(data) as gallery:
        runs = trainer.TrainingRuns(gallery, models, max_queued=4, lease_seconds=30)
        folder = runs.folder("resumed")
        folder.logs_dir.mkdir(parents=True)
        folder.train_log.write_text("".join(line(step) for step in range(1, 7)))
        runs.store.submit({"run": "resumed"}, total_steps=5, batch_key=None, max_queued=4, kind=trainer.KIND)
        [job] = runs.store.claim(runs.worker_id, lease_seconds=30, kind=trainer.KIND)
        folder.write_job(job.id)
        writes = [lambda: folder.train_log.write_text("".join(line(step) for step in range(1, 4))),
                  lambda: folder.train_log.open("a").write(line(4)), lambda: folder.train_log.open("a").write(line(5))]

        class Process:  # loads (the log as it was), drops the steps after its checkpoint, trains on
            returncode = None
            looks = 0

            def poll(self):
                self.looks += 1
                if self.looks == 2:  # loading: the run's step is the checkpoint's, not the log's last
                    assert runs.state(folder).step == 3
                if self.looks > 1 and writes:
                    writes.pop(0)()
                elif self.looks > 1:
                    self.returncode = 0
                    return 0
                return None

        assert runs._follow(job, folder, Process(), 5, 3)
        steps = [event.payload["step"] for event in runs.store.events(job.id) if event.type == "progress"]
    assert steps == [3, 4, 5]
