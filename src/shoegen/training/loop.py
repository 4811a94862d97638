"""`shoegen train`: LoRA fine-tuning of a Stable Diffusion 1.x UNet, read top to bottom.

check_settings (what would be refused, before the run folder is touched) → load (accelerator, data, models: reads
only) → setup (the run folder, caches, optimizer) → restore (exact resume) → fit (the step loop: noise, predict,
weight, backward, step) → save (checkpoints, validation, final adapter).
accelerate underneath: one process on CPU/MPS/one GPU, or `accelerate launch` for several, unchanged.
"""

from __future__ import annotations

import logging
import os
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from shoegen.config.threads import describe_threads
from shoegen.config.train import FOLDER_SETTINGS, TrainConfig
from shoegen.data.formats import read_dataset
from shoegen.data.splits import load_training_examples
from shoegen.errors import ShoegenError
from shoegen.models.resolve import classify, load_pipeline
from shoegen.training import batches
from shoegen.training import checkpoint as ckpt
from shoegen.training import lora
from shoegen.training.logs import LogSummary, RunLog, current_loss_curve, read_log
from shoegen.training.losses import denoising_target, min_snr_weights, per_example_mse
from shoegen.training.run_folder import RunFolder
from shoegen.training.step_tuning import StepTuner, training_choices
from shoegen.training.validation import ValidationScoring, save_validation, validation_images, validation_loss

log = logging.getLogger("shoegen.train")
RESUME_MUST_MATCH = ("rank", "lora_alpha", "lora_target_modules", "train_text_encoder", "train_batch_size",
                     "gradient_accumulation_steps", "seed", "random_flip", "resolution", "reg_data_dir",
                     "prior_loss_weight")


@dataclass
class TrainResult:
    output_dir: Path
    final_step: int
    lora_weights: Path
    checkpoints: list[Path]
    records: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    is_main_process: bool = True
    stopped: bool = False
    """Stopped on request before max_train_steps (a checkpoint at `final_step` holds it; no final adapter)."""
    resumed_from: int | None = None
    """The checkpoint's step a resumed run started from; steps up to it were trained by an earlier process."""


@dataclass
class Inputs:
    """What a run reads before it writes anything: its devices, its images, its models."""

    accelerator: Any
    train: list[batches.BucketedExample]
    validation: list[batches.BucketedExample]
    reg: list[batches.BucketedExample]
    pipeline: Any
    params: list


@dataclass
class Run:
    """Everything the step loop touches, built once by `setup`."""

    config: TrainConfig
    folder: RunFolder  # where the run writes: config.output_dir
    accelerator: object
    unet: torch.nn.Module
    text_encoder: torch.nn.Module
    tokenizer: object
    vae: torch.nn.Module
    noise_scheduler: object
    optimizer: torch.optim.Optimizer
    lr_scheduler: object
    params: list[torch.nn.Parameter]
    train: list[batches.BucketedExample]
    validation: list[batches.BucketedExample]
    stream: batches.BatchStream
    latents: dict | None
    text: dict | None
    generator: torch.Generator
    run_log: RunLog | None
    step_unet: torch.nn.Module  # the UNet as the training step calls it: compiled with --torch_compile
    reg: list[batches.BucketedExample]  # regularisation images (prior preservation), after train + validation
    reg_stream: batches.BatchStream | None
    step: int = 0
    scoring: ValidationScoring | None = None  # --validation_metrics, built at the first validation
    stopped: bool = False  # a stop request ended the fit early


def train(config: TrainConfig, show_progress: bool = True) -> TrainResult:
    """Train `config`'s run. Whatever is refused before the run starts (the settings, the dataset, the base model)
    leaves OUTPUT_DIR as it was, an earlier run's status and checkpoints included; once the run has started, an
    error or an interruption is written into its status.json."""
    started = time.perf_counter()
    config = config.with_absolute_folders()  # as run.yaml and the checkpoints' state record them
    folder = RunFolder(config.output_dir)
    resume_from = check_settings(config)
    # Decided by every process before `load` (whose Accelerator is their rendezvous), so that they all agree on
    # the barrier the deletion waits at: after it, the main process may have deleted what the others would look at.
    replace_earlier = resume_from is None and bool(folder.checkpoints())
    inputs = load(config)
    try:
        run = setup(config, inputs, resume_from, replace_earlier, show_progress)
        if resume_from is not None:
            restore(run, resume_from)
        fit(run, show_progress)
        result = finish(run)
    except KeyboardInterrupt:
        _write_status(folder, config, "interrupted", _last_step(folder))
        draw_pictures(folder)
        raise
    except Exception as error:
        message = str(error) if isinstance(error, ShoegenError) else f"{type(error).__name__}: {error}"
        _write_status(folder, config, "error", _last_step(folder), error=message)
        draw_pictures(folder)
        raise
    del run, inputs  # the models, caches and optimizer go before the picture is drawn: they set the peak memory
    draw_pictures(folder)
    result.seconds = time.perf_counter() - started
    result.resumed_from = resume_from.step if resume_from is not None else None
    return result


def _write_status(folder: RunFolder, config: TrainConfig, state: str, step: int, error: str | None = None,
                  run_log: RunLog | None = None) -> None:
    """status.json with the log's summary (the run's log, kept as it trains, or read once when it ends early), from
    the main process only (the others would overwrite it with their pid); a run refused before its folder was made
    leaves no folder behind."""
    from accelerate import PartialState

    if folder.path.is_dir() and PartialState().is_main_process:
        summary = run_log.summary() if run_log is not None else LogSummary.of(read_log(folder))
        # A run that ended early passes status.json's step, which is rewritten only every few seconds: the log
        # has its last step.
        step = max(step, summary.step)
        folder.write_status(state, step, config.max_train_steps, error=error, log=summary.to_status())


def draw_pictures(folder: RunFolder) -> None:
    """What is drawn from the log once the run has let go of its models: the loss curve (the studio's server draws
    it again while a run trains, from the same log). From the main process only."""
    from accelerate import PartialState

    if folder.path.is_dir() and PartialState().is_main_process:
        try:
            current_loss_curve(folder)
        except Exception as error:  # a picture of the log, which is kept: never what fails (or hides why) a run
            log.warning("could not draw the loss curve %s: %s", folder.loss_curve, error)


def _last_step(folder: RunFolder) -> int:
    status = folder.read_status() or {}
    return int(status.get("step") or 0)


# ---------------------------------------------------------------------------------------------- setup

def check_settings(config: TrainConfig, *, device: bool = True) -> ckpt.Checkpoint | None:
    """Refuse what training would refuse, before OUTPUT_DIR is touched: no or an empty dataset folder, a base model
    path that is no model, fp16 where there is no GPU (unless not `device`: checked where the run will not train,
    an API-only replica), an OUTPUT_DIR that is a file, a resume that cannot resume (no checkpoint, no steps left,
    settings that differ from the run that wrote it), a run in the way. Reads only; returns the checkpoint a
    resume starts from (None for a new run)."""
    if config.dataset_path is None:
        raise ShoegenError("--dataset_path is required: the folder of training images and captions.")
    # config/train.py's policy for `auto`: fp16 only on CUDA. On the CPU the frozen fp16 base meets fp32 inputs.
    if device and config.mixed_precision == "fp16" and not _has_accelerator():
        raise ShoegenError("--mixed_precision fp16 needs a GPU (CUDA or MPS), and this machine has none: fp16 "
                           "training does not run on the CPU. Use --mixed_precision auto (fp32 here), no, or bf16.")
    for flag, path in (("--dataset_path", config.dataset_path), ("--validation_path", config.validation_path),
                       ("--reg_data_dir", config.reg_data_dir)):
        if path is None:
            continue
        try:
            listing = read_dataset(path)  # lists and pairs the files; decoding them is `load`'s
        except ShoegenError as error:
            raise ShoegenError(f"{flag}: {error}") from None
        if not any(entry.caption for entry in listing.entries):
            raise ShoegenError(f"{flag}: {path} holds no captioned image ({listing.layout} layout): nothing to "
                               f"train on. `shoegen dataset check {path}` says what it found.")
    classify(config.pretrained_model_name_or_path)  # a path that is no model is refused here; a hub id when loaded
    if config.output_dir.exists() and not config.output_dir.is_dir():
        raise ShoegenError(f"--output_dir {config.output_dir} is a file, not a folder: pick another --output_dir.")
    folder = RunFolder(config.output_dir)
    if config.resume_from_checkpoint:
        found = ckpt.find_resume_checkpoint(folder, config.resume_from_checkpoint)
        if found.step >= config.max_train_steps:
            raise ShoegenError(
                f"{found.path.name} is already at step {found.step} and --max_train_steps is "
                f"{config.max_train_steps}: nothing to train. Raise --max_train_steps to train further."
            )
        state = ckpt.read_state(found)
        changed = [name for name in RESUME_MUST_MATCH if _as_compared(name, state["config"].get(name))
                   != _as_compared(name, _jsonable(config, name))]
        if changed:
            raise ShoegenError(
                f"Cannot resume {found.path}: these settings differ from the run that wrote it: "
                + ", ".join(f"--{n} (was {state['config'].get(n)!r}, now {_jsonable(config, n)!r})" for n in changed)
            )
        return found
    if folder.checkpoints() and not config.overwrite_output_dir:
        raise ShoegenError(
            f"{config.output_dir} already holds a training run with checkpoints. Continue it with "
            "--resume_from_checkpoint latest, pick another --output_dir, or pass --overwrite_output_dir "
            "to delete it and start again."
        )
    return None


def _has_accelerator() -> bool:
    return torch.cuda.is_available() or torch.backends.mps.is_available()


def load(config: TrainConfig) -> Inputs:
    """The accelerator, the images (decoded, split, bucketed) and the models with their LoRA layers; writes nothing,
    so a dataset or a base that fails here fails before the run folder is touched. Data first: a bad image fails in
    seconds, before any model is loaded."""
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    # cpu=True on machines without an accelerator lets `accelerate launch`/torchrun processes join a gloo group.
    accelerator = Accelerator(mixed_precision=_mixed_precision(config.mixed_precision), cpu=not _has_accelerator())
    validation = config.validation_path if config.validation_path else (config.validation_split or None)
    examples = load_training_examples(config.dataset_path, min_side=config.min_image_side,
                                      validation=validation, seed=config.seed)
    train_set = batches.assign_buckets(examples.train, config.resolution, config.enable_bucket)
    validation_set = batches.assign_buckets(examples.validation, config.resolution, config.enable_bucket)
    reg_set = []
    if config.reg_data_dir is not None:
        try:
            reg = load_training_examples(config.reg_data_dir, min_side=config.min_image_side, validation=None,
                                         seed=config.seed)
        except ShoegenError as error:
            raise ShoegenError(f"--reg_data_dir: {error}") from error
        reg_set = batches.assign_buckets(reg.train, config.resolution, config.enable_bucket)

    # Models: frozen base in the compute precision, trainable LoRA layers in fp32.
    pipeline = load_pipeline(config.pretrained_model_name_or_path, single_file_config=config.single_file_config)
    weight_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(accelerator.mixed_precision, torch.float32)
    unet, vae, text_encoder = pipeline.unet, pipeline.vae, pipeline.text_encoder
    vae.requires_grad_(False)
    for module in (unet, vae, text_encoder):
        module.to(accelerator.device)
        if weight_dtype != torch.float32:
            module.to(dtype=weight_dtype)
    set_seed(config.seed)  # LoRA initialisation draws from the global generator
    params = lora.add_lora_layers(unet, text_encoder, config)
    if config.gradient_checkpointing:
        unet.enable_gradient_checkpointing()
        if config.train_text_encoder:
            # transformers 5.x renamed it; 4.x only has the old name.
            enable = getattr(text_encoder, "activation_checkpointing_enable", None)
            (enable or text_encoder.gradient_checkpointing_enable)()
    return Inputs(accelerator, train_set, validation_set, reg_set, pipeline, params)


def setup(config: TrainConfig, inputs: Inputs, resume_from: ckpt.Checkpoint | None, replace_earlier: bool,
          show_progress: bool) -> Run:
    """The run starts here: an earlier run deleted (`replace_earlier`: --overwrite_output_dir over a run's
    checkpoints), caches, optimizer, schedule, log."""
    from diffusers import DDPMScheduler
    from diffusers.optimization import get_scheduler

    accelerator, pipeline, params = inputs.accelerator, inputs.pipeline, inputs.params
    train_set, validation_set, reg_set = inputs.train, inputs.validation, inputs.reg
    unet, vae, text_encoder = pipeline.unet, pipeline.vae, pipeline.text_encoder
    everything = train_set + validation_set + reg_set  # the caches' order: reg images come last
    folder = RunFolder(config.output_dir)
    if replace_earlier:
        if accelerator.is_main_process:
            folder.remove_training_outputs()
        accelerator.wait_for_everyone()
    noise_scheduler = DDPMScheduler.from_config(pipeline.scheduler.config)

    # Caches: with the VAE and text encoder frozen, a step needs only the UNet.
    main = accelerator.is_main_process
    latents = None
    if config.cache_latents:
        cache_file = None
        if config.cache_latents_to_disk:
            key = batches.latent_cache_key(everything, config.pretrained_model_name_or_path, config.random_flip)
            cache_file = folder.latent_cache(key)
            if not main:
                accelerator.wait_for_everyone()  # let the main process write the file once
        latents = batches.build_latent_cache(everything, vae, config.random_flip, cache_file, show_progress and main)
        if config.cache_latents_to_disk and main:
            accelerator.wait_for_everyone()
    text = None
    if not config.train_text_encoder:
        captions = [e.caption for e in everything]
        text = batches.build_text_cache(captions, pipeline.tokenizer, text_encoder, show_progress and main)

    # fused: one kernel for the whole update (CPU and CUDA; about 4x faster than foreach for a rank-8 LoRA on
    # the CPU); foreach elsewhere, one kernel per parameter group instead of one per tensor.
    fused = accelerator.device.type in ("cpu", "cuda")
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, betas=(config.adam_beta1, config.adam_beta2),
                                  weight_decay=config.adam_weight_decay, eps=config.adam_epsilon,
                                  fused=fused or None, foreach=None if fused else True)
    # Not passed through accelerator.prepare: it would step the schedule once per process.
    lr_scheduler = get_scheduler(config.lr_scheduler, optimizer, num_warmup_steps=config.lr_warmup_steps,
                                 num_training_steps=config.max_train_steps)
    if config.train_text_encoder:
        unet, text_encoder, optimizer = accelerator.prepare(unet, text_encoder, optimizer)
    else:
        unet, optimizer = accelerator.prepare(unet, optimizer)

    generator = torch.Generator().manual_seed(config.seed * 1000 + accelerator.process_index)
    if main:
        folder.write_config(config)
    run_log = RunLog(folder, resume_from.step if resume_from else None) if main else None
    stream = batches.BatchStream(train_set, config.train_batch_size, config.seed, config.random_flip)
    reg_stream = batches.BatchStream(reg_set, config.train_batch_size, config.seed + 1, config.random_flip) \
        if reg_set else None
    # Only the training step is compiled: validation and saving use the plain module (same parameters), so
    # evaluation mode and other batch shapes never trigger a recompilation.
    step_unet = unet
    if config.torch_compile:
        options = {"cpp_wrapper": True} if config.torch_compile_cpp_wrapper else None
        step_unet = torch.compile(unet, backend=config.dynamo_backend, options=options)
    run = Run(config=config, folder=folder, accelerator=accelerator, unet=unet, text_encoder=text_encoder,
              tokenizer=pipeline.tokenizer, vae=vae, noise_scheduler=noise_scheduler, optimizer=optimizer,
              lr_scheduler=lr_scheduler, params=params, train=train_set, validation=validation_set, stream=stream,
              latents=latents, text=text, generator=generator, run_log=run_log, step_unet=step_unet, reg=reg_set,
              reg_stream=reg_stream)
    if main:
        log.info("threads: %s", describe_threads(torch.get_num_threads()))
        log.info("training %d images (%d validation, %d regularisation) in %d buckets, %d micro-batches per epoch",
                 len(train_set), len(validation_set), len(reg_set), len({e.bucket for e in train_set}),
                 stream.batches_per_epoch)
    return run


def _mixed_precision(requested: str) -> str:
    if requested != "auto":
        return requested
    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "no"


def _jsonable(config: TrainConfig, name: str):
    return config.model_dump(mode="json")[name]


def _as_compared(name: str, value):
    """A checkpoint's setting as a resume compares it: a folder by its absolute path (a checkpoint written before
    the folders were recorded absolute holds it relative to the working folder it was trained from)."""
    return os.path.abspath(value) if name in FOLDER_SETTINGS and isinstance(value, str) else value


# -------------------------------------------------------------------------------------------- restore

def restore(run: Run, checkpoint: ckpt.Checkpoint) -> None:
    """Weights, optimizer, schedule, step and random state exactly as they were at the checkpoint."""
    config, accelerator = run.config, run.accelerator
    lora.load_resume_state(checkpoint.path, accelerator.unwrap_model(run.unet),
                           accelerator.unwrap_model(run.text_encoder), config.train_text_encoder)
    run.optimizer.load_state_dict(ckpt.load_torch_state(checkpoint.path / "optimizer.pt"))
    run.lr_scheduler.load_state_dict(ckpt.load_torch_state(checkpoint.path / "lr_scheduler.pt"))
    random_states = ckpt.load_torch_state(checkpoint.path / "random_states.pt")["processes"]
    if len(random_states) == accelerator.num_processes:
        mine = random_states[accelerator.process_index]
        run.generator.set_state(mine["generator"])
        torch.set_rng_state(mine["torch"])
    else:
        log.warning("checkpoint was written by %d processes, resuming with %d: the data order continues "
                    "exactly, the noise does not", len(random_states), accelerator.num_processes)
        run.generator.manual_seed(config.seed * 1000 + accelerator.process_index + checkpoint.step)
    run.step = checkpoint.step
    if accelerator.is_main_process:
        log.info("resumed from %s at step %d", checkpoint.path, checkpoint.step)


# ------------------------------------------------------------------------------------------------ fit

STATUS_SECONDS = 2.0
"""How often status.json is rewritten while the run trains."""


def fit(run: Run, show_progress: bool) -> None:
    config, accelerator = run.config, run.accelerator
    bar = tqdm(total=config.max_train_steps, initial=run.step, desc="Training", unit="step",
               disable=not (show_progress and accelerator.is_main_process), dynamic_ncols=True)
    run.unet.train()
    trained = [accelerator.unwrap_model(run.unet)]
    if config.train_text_encoder:
        trained.append(accelerator.unwrap_model(run.text_encoder))
    tuner = StepTuner.for_run(training_choices(trained, compiled=config.torch_compile), accelerator.device.type,
                              accelerator.num_processes, config.max_train_steps, run.step, run.folder.logs_dir,
                              resuming=run.step > 0)
    _write_status(run.folder, config, "running", run.step, run_log=run.run_log)
    status_written = float("-inf")  # rewritten after the first step: the studio stops saying "starting"
    try:
        while run.step < config.max_train_steps:
            if _handle_requests(run):
                break
            if tuner is not None:
                tuner.before_step()
            step_started = time.perf_counter()
            loss, prior_loss = optimizer_step(run)
            if tuner is not None:
                tuner.after_step(time.perf_counter() - step_started)
            run.step += 1
            if accelerator.is_main_process:
                lr = run.lr_scheduler.get_last_lr()[0]
                extra = {} if prior_loss is None else {"prior_loss": prior_loss}
                run.run_log.log(run.step, loss=loss, **extra, lr=lr, seconds=time.perf_counter() - step_started)
                bar.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:.2e}", refresh=False)  # redrawn by update()
            bar.update(1)
            if run.step % config.validation_steps == 0 or run.step == config.max_train_steps:
                validate(run)
            if run.step % config.checkpointing_steps == 0 or run.step == config.max_train_steps:
                save_checkpoint(run)
            if time.monotonic() - status_written >= STATUS_SECONDS:
                _write_status(run.folder, config, "running", run.step, run_log=run.run_log)
                status_written = time.monotonic()
    finally:
        if tuner is not None:
            tuner.close()
    bar.close()


def _handle_requests(run: Run) -> bool:
    """Carry out what the studio or `shoegen runs` asked for (RunFolder.request) before the next step; True when
    the run stops here (after writing a checkpoint of this step)."""
    accelerator, folder = run.accelerator, run.folder
    requests = sorted(folder.requested()) if accelerator.is_main_process else []
    if accelerator.num_processes > 1:  # every process must take the same branch: the main one decides
        from accelerate.utils import broadcast_object_list

        requests = broadcast_object_list([requests])[0]
    if not requests:
        return False
    if "sample" in requests:
        validate(run)
    stop = "stop" in requests
    if ("save" in requests or stop) and not folder.checkpoint(run.step).is_dir() and run.step > 0:
        save_checkpoint(run)
    if accelerator.is_main_process:
        for what in requests:
            folder.take_request(what)
    if stop:
        run.stopped = True
        if accelerator.is_main_process:
            log.info("stopped on request at step %d", run.step)
    return stop


def optimizer_step(run: Run) -> tuple[float, float | None]:
    """One optimizer step: `gradient_accumulation_steps` micro-batches, gradients synchronised on the last.
    Returns the training images' loss and, with regularisation images, theirs."""
    config, accelerator = run.config, run.accelerator
    accumulation = config.gradient_accumulation_steps
    total = torch.zeros((), device=accelerator.device)
    prior_total = torch.zeros((), device=accelerator.device)
    reg_offset = len(run.train) + len(run.validation)
    for micro in range(accumulation):
        k = ((run.step * accumulation + micro) * accelerator.num_processes) + accelerator.process_index
        last = micro == accumulation - 1
        with nullcontext() if last else accelerator.no_sync(run.unet), accelerator.autocast():
            loss = micro_batch_loss(run, run.stream[k], run.train)
            objective = loss
            if run.reg_stream is not None:
                prior_loss = micro_batch_loss(run, run.reg_stream[k], run.reg, reg_offset)
                objective = loss + config.prior_loss_weight * prior_loss
                prior_total += prior_loss.detach() / accumulation
            accelerator.backward(objective / accumulation)
        total += loss.detach() / accumulation
    accelerator.clip_grad_norm_(run.params, config.max_grad_norm)
    run.optimizer.step()
    run.lr_scheduler.step()
    run.optimizer.zero_grad(set_to_none=True)
    prior = accelerator.reduce(prior_total, reduction="mean").item() if run.reg_stream is not None else None
    return accelerator.reduce(total, reduction="mean").item(), prior


def micro_batch_loss(run: Run, batch: batches.MicroBatch, pool: list[batches.BucketedExample],
                     cache_offset: int = 0) -> torch.Tensor:
    """The loss of one micro-batch of `pool` (training or regularisation images, which sit at `cache_offset`
    in the latent cache)."""
    config, device = run.config, run.accelerator.device
    examples = [pool[i] for i in batch.indices]
    if run.latents is not None:
        latents = torch.stack([run.latents[(cache_offset + i, flip)] for i, flip in zip(batch.indices, batch.flips)])
    else:
        pixels = torch.stack([batches.load_pixels(e, flip) for e, flip in zip(examples, batch.flips)])
        latents = batches.encode_pixels(run.vae, pixels).float().cpu()
    captions = [e.caption for e in examples]
    if run.text is not None:
        context = torch.stack([run.text[c] for c in captions]).to(device)
    else:
        context = run.text_encoder(batches.tokenize(run.tokenizer, captions).to(device))[0]

    # Noise and timesteps come from the run's own generator (on the CPU): resumable and device-independent.
    noise = torch.randn(latents.shape, generator=run.generator)
    if config.noise_offset:
        noise += config.noise_offset * torch.randn((latents.shape[0], latents.shape[1], 1, 1),
                                                   generator=run.generator)
    timesteps = torch.randint(0, run.noise_scheduler.config.num_train_timesteps, (latents.shape[0],),
                              generator=run.generator)
    noisy = run.noise_scheduler.add_noise(latents, noise, timesteps)
    target = denoising_target(run.noise_scheduler, latents, noise, timesteps)
    try:
        prediction = run.step_unet(noisy.to(device), timesteps.to(device), context).sample
    except Exception as error:
        if config.torch_compile and _is_compile_failure(error):
            raise ShoegenError(
                f"--torch_compile: torch.compile could not compile the UNet's training step with the "
                f"{config.dynamo_backend} backend ({_first_line(error)}). Train without --torch_compile, or try "
                "--dynamo_backend aot_eager to see whether tracing alone works; inductor needs Triton on CUDA "
                "and a C++ compiler (g++) on the CPU."
            ) from error
        raise
    per_example = per_example_mse(prediction, target.to(device))
    if config.snr_gamma is not None:
        per_example = per_example * min_snr_weights(run.noise_scheduler, timesteps, config.snr_gamma).to(device)
    return per_example.mean()


def _is_compile_failure(error: Exception) -> bool:
    from torch._dynamo.exc import TorchDynamoException

    return isinstance(error, TorchDynamoException)


def _first_line(error: Exception) -> str:
    error = getattr(error, "inner_exception", None) or error  # a backend's failure carries the real cause
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


# ------------------------------------------------------------------------------------ save & validate

def validate(run: Run) -> None:
    """Validation loss and images, on the main process; the others wait."""
    accelerator, config = run.accelerator, run.config
    if accelerator.is_main_process:
        unet = accelerator.unwrap_model(run.unet)
        text_encoder = accelerator.unwrap_model(run.text_encoder)
        unet.eval()
        values = {}
        if run.validation:
            offset = len(run.train)
            latents = [_example_latents(run, offset + i, e) for i, e in enumerate(run.validation)]
            embeddings = [_caption_embedding(run, text_encoder, e.caption) for e in run.validation]
            with accelerator.autocast():
                values["val_loss"] = validation_loss(unet, run.noise_scheduler, latents, embeddings, config.seed)
        if config.num_validation_images:
            prompts = run.folder.validation_prompts() or sorted({e.caption for e in run.train})[:2]
            rows = validation_images(_pipeline_for_validation(run, unet, text_encoder), prompts,
                                     config.num_validation_images, config.seed, config.validation_inference_steps,
                                     (config.resolution, config.resolution))
            save_validation(rows, run.folder, run.step)
            run.run_log.log_images(run.step, "validation", [image for row in rows for image in row])
            if config.validation_metrics:
                if run.scoring is None:
                    run.scoring = ValidationScoring.for_photos(config.validation_metrics,
                                                               [e.image_path for e in run.train])
                values |= run.scoring.scores(rows, prompts)
        if values:
            run.run_log.log(run.step, **values)
        run.run_log.flush()
        unet.train()
    accelerator.wait_for_everyone()


def _example_latents(run: Run, cache_index: int, example: batches.BucketedExample) -> torch.Tensor:
    if run.latents is not None:
        return run.latents[(cache_index, False)]
    return batches.encode_pixels(run.vae, batches.load_pixels(example, False).unsqueeze(0))[0].float().cpu()


def _caption_embedding(run: Run, text_encoder, caption: str) -> torch.Tensor:
    if run.text is not None:
        return run.text[caption]
    return batches.encode_text(run.tokenizer, text_encoder, [caption])[0].float().cpu()


def _pipeline_for_validation(run: Run, unet, text_encoder):
    from diffusers import DPMSolverMultistepScheduler, StableDiffusionPipeline

    pipeline = StableDiffusionPipeline(
        vae=run.vae, text_encoder=text_encoder, tokenizer=run.tokenizer, unet=unet,
        scheduler=DPMSolverMultistepScheduler.from_config(run.noise_scheduler.config),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def save_checkpoint(run: Run) -> None:
    accelerator, config = run.accelerator, run.config
    # Every process hands over its random state; only the main process writes.
    from accelerate.utils import gather_object

    random_state = {"generator": run.generator.get_state(), "torch": torch.get_rng_state()}
    random_states = gather_object([random_state])
    if accelerator.is_main_process:
        unet = accelerator.unwrap_model(run.unet)
        text_encoder = accelerator.unwrap_model(run.text_encoder)

        def write_payload(folder: Path) -> None:
            lora.save_lora_weights(folder, unet, text_encoder, config.train_text_encoder)
            lora.save_resume_state(folder, unet, text_encoder, config.train_text_encoder)
            torch.save(run.optimizer.state_dict(), folder / "optimizer.pt")
            torch.save(run.lr_scheduler.state_dict(), folder / "lr_scheduler.pt")
            torch.save({"processes": random_states}, folder / "random_states.pt")

        state = {"step": run.step, "num_processes": accelerator.num_processes,
                 "config": config.model_dump(mode="json")}
        ckpt.save_checkpoint(run.folder, run.step, write_payload, state)
        ckpt.prune_checkpoints(run.folder, config.checkpoints_total_limit)
    accelerator.wait_for_everyone()


def finish(run: Run) -> TrainResult:
    """The final adapter (unless the run was stopped early), the log closed, status.json's last word."""
    accelerator, config = run.accelerator, run.config
    records = []
    if accelerator.is_main_process:
        if not run.stopped:
            lora.save_lora_weights(run.folder.final_weights_dir, accelerator.unwrap_model(run.unet),
                                   accelerator.unwrap_model(run.text_encoder), config.train_text_encoder)
            run.folder.write_final_weights_step(run.step)
        records = run.run_log.records()
        run.run_log.close()
        run.folder.write_status("stopped" if run.stopped else "done", run.step, config.max_train_steps,
                                log=run.run_log.summary().to_status())
    accelerator.wait_for_everyone()
    checkpoints = [c.path for c in run.folder.checkpoints()]
    return TrainResult(config.output_dir, run.step, run.folder.final_adapter, checkpoints, records,
                       is_main_process=accelerator.is_main_process, stopped=run.stopped)
