"""Service settings, read from the environment (SHOEGEN_*) when the app is created, never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from shoegen.config.engine import EngineSettings
from shoegen.config.models import ModelSettings


class ServiceSettings(ModelSettings, EngineSettings):
    """The API service's settings; base model, models folder and the engine's options (SHOEGEN_COMPILE) as every
    command has them."""

    host: str = "127.0.0.1"
    """Address to listen on."""
    port: int = Field(8011, ge=1, le=65535)
    """Port to listen on."""
    data_dir: Path = Path("shoegen-data")
    """Gallery database and image files."""
    database_url: str | None = None
    """SQLAlchemy URL of the gallery database; default SQLite in data_dir. Use PostgreSQL for several replicas."""
    api_key: SecretStr | None = None
    """When set, every route except the minimal health answer requires it (Bearer or X-API-Key)."""
    cors_origins: list[str] = []
    """Browser origins allowed to call the API (JSON list), e.g. ["http://localhost:5173"]."""
    queue_size: int = Field(16, ge=1, le=1000)
    """Jobs waiting at most; beyond it requests get 429 with Retry-After."""
    max_batch: int = Field(4, ge=1, le=64)
    """Queued requests that differ only in prompt and seed are run together, up to this many per call."""
    role: Literal["all", "api", "worker"] = "all"
    """What this process does: all (the API and the workers for its device: generation, and training one run at a
    time), api (the API only: no worker, the model not loaded at start) or worker (the workers only, with
    /api/health). Replicas of each share the database."""
    job_lease_seconds: float = Field(30.0, ge=0.5, le=3600)
    """A worker holds a running job this long between heartbeats (renewed every third of it); a replica killed
    mid-job leaves the job to another worker once it runs out."""
    job_retention_days: float = Field(7.0, gt=0, le=3650)
    """Finished jobs (and their events) are deleted this many days after they end; their images stay in the
    gallery. A job's per-step progress events go as soon as it ends."""
    max_adapters: int = Field(8, ge=1, le=128)
    """LoRA adapters kept loaded (least recently used evicted)."""
    max_body_bytes: int = Field(20 * 2**20, ge=1024)
    """Largest request body accepted."""
    max_image_pixels: int = Field(4096 * 4096, ge=64 * 64)
    """Largest uploaded image (an init image, or one in a dataset), in pixels, checked before decoding."""
    datasets_dir: Path | None = None
    """The allowed root of the studio's datasets: uploads land here and folders can be registered only inside it;
    default <data_dir>/datasets."""
    max_upload_bytes: int = Field(4 * 2**30, ge=1024)
    """Largest dataset upload (POST /api/datasets), and the most bytes its ZIP may extract to; every other route
    keeps max_body_bytes."""
    max_dataset_file_bytes: int = Field(64 * 2**20, ge=1024)
    """Largest single file in a dataset upload (after extraction)."""
    max_dataset_files: int = Field(20_000, ge=1)
    """Most files in one dataset upload (after extraction)."""
    train_processes: int = Field(1, ge=1, le=64)
    """Processes (devices) one training run uses: above 1, the worker starts `shoegen train` under
    `accelerate launch --num_processes N` (several GPUs of this machine)."""
    preview_every: int = Field(0, ge=0)
    """Send a small preview image every N denoising steps in job events (0: none)."""
    device: str | None = None
    """Torch device (cuda, mps, cpu); default: the best available."""
    web_dir: Path | None = None
    """Built web UI to serve at / (default: the repository's web/dist when it has been built)."""
    warm_up: bool = True
    """Load the base model at start instead of on the first request (with compile: and compile it for one image
    at the native size, the warm-up time in the start-up log)."""

    @property
    def datasets_root(self) -> Path:
        """The folder datasets live in: datasets_dir, or datasets/ in data_dir."""
        return Path(self.datasets_dir) if self.datasets_dir is not None else Path(self.data_dir) / "datasets"
