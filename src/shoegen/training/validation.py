"""What the run reports while it trains: validation images from fixed prompts and seeds, a validation loss
measured at fixed timesteps and fixed noise so values are comparable across steps, and (with
--validation_metrics) the validation images' scores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from PIL import Image

from shoegen.training.run_folder import RunFolder

if TYPE_CHECKING:  # imported when a run scores (--validation_metrics): scikit-image and the rest cost ~13 MiB
    from shoegen.evaluation.catalogue import MemorisationIndex, ReferencePhotos
    from shoegen.evaluation.embeddings import EmbeddingScorer

VALIDATION_TIMESTEPS = (100, 300, 500, 700, 900)


@torch.no_grad()
def validation_loss(unet, noise_scheduler, latents: list[torch.Tensor], embeddings: list[torch.Tensor],
                    seed: int) -> float:
    """Mean denoising MSE over every (example, fixed timestep) pair, with noise fixed per example."""
    device, dtype = unet.device, unet.dtype
    total, count = 0.0, 0
    for index, (latent, embedding) in enumerate(zip(latents, embeddings)):
        generator = torch.Generator().manual_seed(seed + index)
        batch = latent.unsqueeze(0).expand(len(VALIDATION_TIMESTEPS), *latent.shape)
        noise = torch.randn(batch.shape, generator=generator)
        timesteps = torch.tensor(VALIDATION_TIMESTEPS)
        noisy = noise_scheduler.add_noise(batch, noise, timesteps)
        target = noise if noise_scheduler.config.prediction_type == "epsilon" else \
            noise_scheduler.get_velocity(batch, noise, timesteps)
        context = embedding.unsqueeze(0).expand(len(VALIDATION_TIMESTEPS), *embedding.shape)
        prediction = unet(noisy.to(device, dtype), timesteps.to(device), context.to(device, dtype)).sample
        total += torch.nn.functional.mse_loss(prediction.float().cpu(), target, reduction="sum").item()
        count += target.numel()
    return total / max(count, 1)


@torch.no_grad()
def validation_images(pipeline, prompts: list[str], images_per_prompt: int, seed: int, steps: int,
                      size: tuple[int, int]) -> list[list[Image.Image]]:
    """rows[p][i]: prompt p with seed `seed + i`, the same seeds at every validation step."""
    rows = []
    for prompt in prompts:
        row = []
        for offset in range(images_per_prompt):
            generator = torch.Generator().manual_seed(seed + offset)
            row += pipeline(prompt, num_inference_steps=steps, width=size[0], height=size[1],
                            generator=generator).images
        rows.append(row)
    return rows


def save_validation(rows: list[list[Image.Image]], run: RunFolder, step: int) -> Path:
    """Each image as `p{prompt}-s{seed_offset}.png` in the step's folder, and the step's contact sheet."""
    step_dir = run.validation_images_dir(step)
    step_dir.mkdir(parents=True, exist_ok=True)
    for p, row in enumerate(rows):
        for i, image in enumerate(row):
            image.save(step_dir / f"p{p}-s{i}.png")
    width, height = rows[0][0].size
    sheet = Image.new("RGB", (width * max(len(r) for r in rows), height * len(rows)), "white")
    for p, row in enumerate(rows):
        for i, image in enumerate(row):
            sheet.paste(image, (i * width, p * height))
    sheet_path = run.validation_sheet(step)
    sheet.save(sheet_path)
    return sheet_path


@dataclass
class ValidationScoring:
    """What scoring the validation images needs, built once per run from its training photos."""

    groups: Sequence[str]
    reference: ReferencePhotos
    memory: MemorisationIndex
    scorer: EmbeddingScorer | None

    @classmethod
    def for_photos(cls, groups: Sequence[str], photos: Sequence[Path]) -> ValidationScoring:
        from shoegen.evaluation.catalogue import MemorisationIndex, ReferencePhotos
        from shoegen.evaluation.embeddings import EmbeddingScorer

        paths = sorted(set(photos))
        scorer = EmbeddingScorer() if any(group != "catalogue" for group in groups) else None
        return cls(groups, ReferencePhotos.from_files(paths), MemorisationIndex.from_files(paths), scorer)

    def scores(self, rows: list[list[Image.Image]], prompts: Sequence[str]) -> dict[str, float]:
        """The measured metrics as train-log values, `score_<metric>`; metrics that could not run are left out."""
        from shoegen.evaluation.summary import summarise

        summary = summarise(rows, prompts, groups=self.groups, reference=self.reference, memory=self.memory,
                            scorer=self.scorer, reference_images=self.reference.photos)
        return {f"score_{name}": value for name, value in summary.metrics.items() if value is not None}
