"""Pretraining a small Stable Diffusion 1.x base from scratch on rendered shoe photos: the `demo` base.

The built-in `tiny` base has random weights, so it can only prove that code runs. The `demo` base is
trained, offline on a CPU in about ten minutes, on `shoegen sample-data` renders with one pattern held
out (watermelon), so a newcomer sees what training does: prompts naming a colour should give shoes of
that colour, and a LoRA trained with `shoegen train` should teach it the pattern it never saw
(`make test-demo` measures both; see the README for where the current recipe stands).

Two stages, each a plain loop with a progress bar:
1. the AutoencoderKL (SD's 8x down-sampling, 4 latent channels) learns to reconstruct the photos, the
   held-out pattern's included: like SD's autoencoder, trained on generic photos, it is the base's
   image codec and must be able to draw whatever a LoRA later asks of it;
2. the UNet and the CLIP text encoder learn to denoise the photos' latents given their captions, with
   10% of the captions dropped so classifier-free guidance works. They never see the held-out pattern
   (nor its name), so the base cannot generate it until a LoRA teaches it.
The result is an ordinary diffusers folder: anything that loads SD1.5 from a folder loads it.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from shoegen.config.pretrain import PretrainRecipe
from shoegen.data.sample import PATTERNS, allowed_patterns, caption_for, draw_shoe_spec, render_shoe
from shoegen.models.clip_vocab import CLIP_VOCAB_SIZE, MODEL_MAX_LENGTH, write_tokenizer_files
from shoegen.models.tiny import SD15_SCHEDULER_CONFIG
from shoegen.training.batches import tokenize
from shoegen.training.losses import denoising_target, min_snr_weights, per_example_mse

RECIPE_FILE = "shoegen_pretrain.json"
# Written into the cached `demo` folder; a change to the recipe or the code below must bump it.
DEMO_FORMAT_VERSION = "6"


def check_recipe(recipe: PretrainRecipe) -> None:
    """What the recipe cannot check itself (config/ knows nothing of the renderer): that the held-out
    pattern is one the renderer draws. Callers check before they write anything."""
    if recipe.held_out_pattern is not None:
        allowed_patterns(exclude_patterns=(recipe.held_out_pattern,))  # names an unknown pattern


def build_components(recipe: PretrainRecipe, tokenizer_folder: Path):
    """The untrained VAE, UNet, text encoder, tokenizer and scheduler, SD1.5's classes at small sizes."""
    from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(recipe.seed)
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1, norm_num_groups=8,
        block_out_channels=(16, 32, 64, 64), down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4, sample_size=recipe.resolution,
    )
    unet = UNet2DConditionModel(
        sample_size=recipe.resolution // 8, in_channels=4, out_channels=4, layers_per_block=1,
        block_out_channels=(64, 128), norm_num_groups=8, cross_attention_dim=64, attention_head_dim=4,
        # Cross-attention at the 4x4 level only: a third cheaper per step than at both levels, so more
        # photos fit in the time budget; colour and pattern are global enough to be read there.
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
    )
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=CLIP_VOCAB_SIZE, hidden_size=64, intermediate_size=256, num_hidden_layers=2,
        num_attention_heads=4, max_position_embeddings=MODEL_MAX_LENGTH, projection_dim=64,
        hidden_act="quick_gelu", bos_token_id=49406, eos_token_id=49407, pad_token_id=49407,
    ))
    tokenizer = CLIPTokenizer.from_pretrained(tokenizer_folder)
    return vae, unet, text_encoder, tokenizer, PNDMScheduler.from_config(SD15_SCHEDULER_CONFIG)


def render_training_set(recipe: PretrainRecipe, show_progress: bool) -> tuple[torch.Tensor, list[str], torch.Tensor]:
    """The photos as a [-1, 1] tensor, their captions and which of them show the held-out pattern,
    rendered in memory (no files)."""
    pixels = np.empty((recipe.images, recipe.resolution, recipe.resolution, 3), dtype=np.uint8)
    captions, held_out = [], torch.zeros(recipe.images, dtype=torch.bool)
    for index in tqdm(range(recipe.images), desc="rendering photos", unit="image", disable=not show_progress):
        spec = draw_shoe_spec(recipe.seed, index, PATTERNS)
        pixels[index] = np.asarray(render_shoe(spec, recipe.resolution))
        captions.append(caption_for(spec))
        held_out[index] = spec.pattern == recipe.held_out_pattern
    return torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 127.5 - 1, captions, held_out


def color_preconditioner(pixels: torch.Tensor) -> torch.Tensor:
    """A 3x3 colour transform that evens out the variance of the photos' colour directions.

    In product photos the brightness direction varies ~170x more than the least-varying hue direction,
    and a network learns a direction roughly in proportion to its variance: trained on raw RGB the VAE
    gets shapes right long before it tells red from brown. Trained on C^(-1/4)-transformed pixels
    (half-way to whitening, which would starve the shapes instead) it learns both within minutes. The
    scale (the weakest colour direction amplified 2x) is the best of those tried: at 1x the brightness
    direction is learned too slowly (black comes out navy), keeping the total variance loses red.
    """
    covariance = torch.cov(pixels.permute(1, 0, 2, 3).reshape(3, -1))
    eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
    transform = eigenvectors @ torch.diag(eigenvalues.clamp(min=1e-8).pow(-0.25)) @ eigenvectors.T
    return 2 * transform / torch.linalg.matrix_norm(transform, ord=2)


@torch.no_grad()
def fold_color_transform(vae, transform: torch.Tensor) -> None:
    """Absorb `transform` into the VAE's first and last convolutions (both linear in the colour
    channels, zero padding maps to zero padding), so the saved VAE reads and writes plain RGB."""
    conv_in, conv_out = vae.encoder.conv_in, vae.decoder.conv_out
    conv_in.weight.copy_(torch.einsum("oikl,ij->ojkl", conv_in.weight, transform))
    inverse = torch.linalg.inv(transform)
    conv_out.weight.copy_(torch.einsum("ij,jokl->iokl", inverse, conv_out.weight))
    conv_out.bias.copy_(inverse @ conv_out.bias)


def train_vae(vae, pixels: torch.Tensor, recipe: PretrainRecipe, show_progress: bool) -> list[float]:
    """Reconstruction in the preconditioned colour space, folded back into RGB at the end: MSE with the
    shoe's pixels weighted up (most of a product photo is white background), plus SD's tiny KL term,
    with a warmup and cosine decay of the learning rate. Decodes the posterior mean, which is what LoRA
    training encodes later."""
    from diffusers.optimization import get_cosine_schedule_with_warmup

    transform = color_preconditioner(pixels)
    foreground = (pixels < 0.9).any(dim=1, keepdim=True)
    pixels = torch.einsum("ij,njhw->nihw", transform, pixels)
    generator = torch.Generator().manual_seed(recipe.seed)
    optimizer = torch.optim.AdamW(vae.parameters(), lr=recipe.vae_learning_rate, weight_decay=0.0)
    schedule = get_cosine_schedule_with_warmup(optimizer, min(50, recipe.vae_steps // 10), recipe.vae_steps)
    losses = []
    vae.train()
    bar = tqdm(range(recipe.vae_steps), desc="stage 1/2 autoencoder", unit="step", disable=not show_progress)
    for _ in bar:
        index = torch.randint(0, len(pixels), (recipe.vae_batch_size,), generator=generator)
        batch = pixels[index]
        posterior = vae.encode(batch).latent_dist
        reconstruction = vae.decode(posterior.mode()).sample
        weight = 1 + 4 * foreground[index].float()
        loss = ((reconstruction - batch) ** 2 * weight).mean() / weight.mean() + 1e-6 * posterior.kl().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.4f}", refresh=False)
    vae.eval()
    fold_color_transform(vae, transform)
    return losses


@torch.no_grad()
def encode_all(vae, pixels: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    """Unscaled latent means of every photo."""
    return torch.cat([vae.encode(pixels[i:i + batch_size]).latent_dist.mean
                      for i in range(0, len(pixels), batch_size)])


def train_denoiser(unet, text_encoder, tokenizer, latents: torch.Tensor, captions: list[str],
                   recipe: PretrainRecipe, show_progress: bool) -> list[float]:
    """Full training of the UNet and the text encoder on (scaled latent, caption) pairs: SD's
    epsilon objective with min-SNR-5 weighting (Hang et al. 2023: faster convergence from scratch)."""
    from diffusers import DDPMScheduler
    from diffusers.optimization import get_cosine_schedule_with_warmup

    noise_scheduler = DDPMScheduler.from_config(SD15_SCHEDULER_CONFIG)
    tokens = tokenize(tokenizer, captions)
    empty = tokenize(tokenizer, [""])
    params = [*unet.parameters(), *text_encoder.parameters()]
    optimizer = torch.optim.AdamW(params, lr=recipe.unet_learning_rate, weight_decay=0.01, foreach=True)
    schedule = get_cosine_schedule_with_warmup(optimizer, min(100, recipe.unet_steps // 10), recipe.unet_steps)
    generator = torch.Generator().manual_seed(recipe.seed + 1)
    losses = []
    unet.train()
    text_encoder.train()
    bar = tqdm(range(recipe.unet_steps), desc="stage 2/2 UNet + text encoder", unit="step",
               disable=not show_progress)
    for _ in bar:
        index = torch.randint(0, len(latents), (recipe.unet_batch_size,), generator=generator)
        batch_tokens = tokens[index].clone()
        dropped = torch.rand(len(index), generator=generator) < recipe.caption_dropout
        batch_tokens[dropped] = empty
        clean = latents[index]
        noise = torch.randn(clean.shape, generator=generator)
        timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (len(index),), generator=generator)
        noisy = noise_scheduler.add_noise(clean, noise, timesteps)
        prediction = unet(noisy, timesteps, text_encoder(batch_tokens)[0]).sample
        per_example = per_example_mse(prediction, denoising_target(noise_scheduler, clean, noise, timesteps))
        loss = (per_example * min_snr_weights(noise_scheduler, timesteps, 5.0)).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{_tail_mean(losses, 20):.4f}", refresh=False)
    unet.eval()
    text_encoder.eval()
    return losses


def write_demo_base(folder: Path) -> None:
    """The built-in `demo` base: the default recipe, with progress bars (it takes minutes)."""
    pretrain_base(folder, PretrainRecipe(), show_progress=True)


def pretrain_base(staging: Path, recipe: PretrainRecipe, show_progress: bool = True) -> None:
    """Train a base with `recipe` and write it into the empty folder `staging` as a diffusers folder.
    Callers build into a staging folder and rename it (`resolve.write_atomically`)."""
    from diffusers import StableDiffusionPipeline

    check_recipe(recipe)
    started = time.perf_counter()
    write_tokenizer_files(staging / "tokenizer")
    vae, unet, text_encoder, tokenizer, scheduler = build_components(recipe, staging / "tokenizer")
    pixels, captions, held_out = render_training_set(recipe, show_progress)
    vae_losses = train_vae(vae, pixels, recipe, show_progress)
    latents = encode_all(vae, pixels[~held_out])
    captions = [caption for caption, held in zip(captions, held_out.tolist()) if not held]
    # SD's convention: scale latents to unit variance; pipelines read the factor from the VAE config.
    scaling_factor = float(1 / latents.std())
    vae.register_to_config(scaling_factor=scaling_factor)
    denoiser_losses = train_denoiser(unet, text_encoder, tokenizer, latents * scaling_factor, captions, recipe,
                                     show_progress)
    pipeline = StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )
    pipeline.save_pretrained(staging, safe_serialization=True)
    report = {
        "recipe": recipe.model_dump(),
        "seconds": round(time.perf_counter() - started, 1),
        "denoiser_photos": len(captions),
        "vae_final_loss": _tail_mean(vae_losses),
        "denoiser_final_loss": _tail_mean(denoiser_losses),
        "scaling_factor": scaling_factor,
    }
    (staging / RECIPE_FILE).write_text(json.dumps(report, indent=2) + "\n")


def _tail_mean(losses: list[float], tail: int = 50) -> float:
    last = losses[-tail:]
    return round(sum(last) / len(last), 5) if last else math.nan
