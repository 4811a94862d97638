"""Training as separate processes: a kill in the middle of writing a checkpoint, and a 2-process
(gloo, CPU) data-parallel run through `accelerate launch`."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import torch

from shoegen.training.run_folder import RunFolder

FLAGS = ["--pretrained_model_name_or_path", "tiny", "--resolution", "64", "--train_batch_size", "2",
         "--gradient_accumulation_steps", "2", "--validation_inference_steps", "2", "--num_validation_images", "1",
         "--quiet"]

# Runs the real CLI, but the process dies (as under SIGKILL: no cleanup, no exception handlers) halfway
# through writing the optimizer file of checkpoint-4.
DIE_DURING_CHECKPOINT = textwrap.dedent("""
    import os, sys, torch
    real_save = torch.save
    def save_then_die(obj, target, *args, **kwargs):
        if "checkpoint-4" in str(target) and str(target).endswith("optimizer.pt"):
            with open(target, "wb") as handle:
                handle.write(b"half a file")
            os._exit(137)
        return real_save(obj, target, *args, **kwargs)
    torch.save = save_then_die
    from shoegen.cli.main import main
    sys.exit(main(sys.argv[1:]))
""")


CLI = [sys.executable, "-m", "shoegen.cli.main"]
DYING_CLI = [sys.executable, "-c", DIE_DURING_CHECKPOINT]
LAUNCHED_CLI = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
                "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                "--main_process_port", "29517", "-m", "shoegen.cli.main"]


def run_cli(args, command=CLI):
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=300)


def test_kill_while_writing_checkpoint_keeps_previous_usable(sample_dataset, tiny_base, tmp_path):
    run_dir = tmp_path / "run"
    common = [*FLAGS, "--dataset_path", str(sample_dataset), "--output_dir", str(run_dir),
              "--checkpointing_steps", "2", "--validation_steps", "100"]
    died = run_cli(["train", *common, "--max_train_steps", "6"], DYING_CLI)
    assert died.returncode == 137, died.stderr[-2000:]

    checkpoints = run_dir / "checkpoints"
    assert [c.step for c in RunFolder(run_dir).checkpoints()] == [2]
    assert not (checkpoints / "checkpoint-4").exists()

    resumed = run_cli(["train", *common, "--max_train_steps", "6", "--resume_from_checkpoint", "latest"])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert [c.step for c in RunFolder(run_dir).checkpoints()] == [2, 4, 6]
    assert not [p for p in checkpoints.iterdir() if p.name.startswith(".")], "staging leftovers were not swept"
    steps = [json.loads(line)["step"] for line in (run_dir / "logs" / "train_log.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[-1] == 6


def test_two_process_data_parallel_run(sample_dataset, tiny_base, tmp_path):
    run_dir = tmp_path / "ddp"
    common = [*FLAGS, "--dataset_path", str(sample_dataset), "--output_dir", str(run_dir),
              "--checkpointing_steps", "2", "--validation_steps", "4", "--validation_split", "0.25"]
    result = run_cli(["train", *common, "--max_train_steps", "4"], LAUNCHED_CLI)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("trained 4 steps") == 1  # the summary comes from the main process only

    last = run_dir / "checkpoints" / "checkpoint-4"
    state = json.loads((last / "training_state.json").read_text())
    assert state["num_processes"] == 2
    random_states = torch.load(last / "random_states.pt", weights_only=True)["processes"]
    assert len(random_states) == 2
    assert not torch.equal(random_states[0]["generator"], random_states[1]["generator"])  # each rank its own noise
    assert (run_dir / "lora_weights" / "pytorch_lora_weights.safetensors").is_file()
    records = [json.loads(line) for line in (run_dir / "logs" / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "loss" in r] == [1, 2, 3, 4]
    assert any("val_loss" in r for r in records)

    resumed = run_cli(["train", *common, "--max_train_steps", "6", "--resume_from_checkpoint", "latest"],
                      LAUNCHED_CLI)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert (run_dir / "checkpoints" / "checkpoint-6").is_dir()

    # Both processes agree that the earlier run is replaced (decided before either loads, so none waits alone at the
    # deletion's barrier), and only the new run's checkpoints are left.
    replaced = run_cli(["train", *common, "--max_train_steps", "2", "--overwrite_output_dir"], LAUNCHED_CLI)
    assert replaced.returncode == 0, replaced.stderr[-3000:]
    assert [c.step for c in RunFolder(run_dir).checkpoints()] == [2]
