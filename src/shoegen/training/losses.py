"""The denoising objective both trainers minimise: LoRA fine-tuning (`loop`) and pretraining the demo base
from scratch (`pretrain`)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def denoising_target(noise_scheduler, latents: torch.Tensor, noise: torch.Tensor,
                     timesteps: torch.Tensor) -> torch.Tensor:
    """What the UNet should predict: the velocity for v-prediction models, otherwise the noise."""
    if noise_scheduler.config.prediction_type == "v_prediction":
        return noise_scheduler.get_velocity(latents, noise, timesteps)
    return noise


def per_example_mse(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error of each example of the batch, in fp32 whatever the compute precision."""
    return F.mse_loss(prediction.float(), target.float(), reduction="none").mean(dim=(1, 2, 3))


def min_snr_weights(noise_scheduler, timesteps: torch.Tensor, gamma: float) -> torch.Tensor:
    """Min-SNR-gamma (Hang et al. 2023): caps the weight of low-noise timesteps at gamma / SNR."""
    alphas_cumprod = noise_scheduler.alphas_cumprod[timesteps].float()
    snr = alphas_cumprod / (1 - alphas_cumprod)
    weights = torch.clamp(snr, max=gamma) / snr
    if noise_scheduler.config.prediction_type == "v_prediction":
        weights = torch.clamp(snr, max=gamma) / (snr + 1)
    return weights
