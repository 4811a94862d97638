"""The built-in `tiny` base: Stable Diffusion 1.x's architecture at toy sizes, built offline.

Same component classes, scheduler settings, tokenizer (the real CLIP vocabulary, so prompts tokenize
exactly as for SD1.5) and VAE down-sampling factor (8: 64 px images give 8x8 latents) as SD1.5, with
random weights from a fixed seed, so everything that runs on SD1.5 runs on it in seconds on a CPU.
"""

from __future__ import annotations

from pathlib import Path

from shoegen.models.clip_vocab import CLIP_VOCAB_SIZE, MODEL_MAX_LENGTH, write_tokenizer_files

TINY_RESOLUTION = 64
# Written into the folder; a change to the architecture below must bump it so caches are rebuilt.
TINY_FORMAT_VERSION = "1"

# SD1.5's published noise schedule (scheduler_config.json of stable-diffusion-v1-5).
SD15_SCHEDULER_CONFIG = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000,
    "set_alpha_to_one": False,
    "steps_offset": 1,
    "skip_prk_steps": True,
    "prediction_type": "epsilon",
}


def build_tiny_pipeline(tokenizer_folder: Path, seed: int = 0):
    """A StableDiffusionPipeline with SD1.5's structure and small widths; weights from `seed`."""
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=TINY_RESOLUTION // 8,
        in_channels=4,
        out_channels=4,
        block_out_channels=(32, 64),
        layers_per_block=2,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=8,
        norm_num_groups=32,
    )
    torch.manual_seed(seed + 1)
    # Four blocks (three down-samplings) like SD's VAE: the 8x factor keeps latents small at any size.
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        block_out_channels=(32, 32, 64, 64),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=32,
        sample_size=TINY_RESOLUTION,
        scaling_factor=0.18215,
    )
    torch.manual_seed(seed + 2)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=CLIP_VOCAB_SIZE,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=MODEL_MAX_LENGTH,
            projection_dim=32,
            hidden_act="quick_gelu",
            bos_token_id=49406,
            eos_token_id=49407,
            pad_token_id=49407,
        )
    )
    return StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=CLIPTokenizer.from_pretrained(tokenizer_folder),
        unet=unet,
        scheduler=PNDMScheduler.from_config(SD15_SCHEDULER_CONFIG),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def write_tiny_base(folder: Path) -> None:
    """Build the tiny base into the empty `folder` (a diffusers folder any diffusers code can load)."""
    write_tokenizer_files(folder / "tokenizer")
    build_tiny_pipeline(folder / "tokenizer").save_pretrained(folder, safe_serialization=True)
