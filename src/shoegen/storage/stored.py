"""A gallery image as the rest of the program sees it: plain frozen values, no ORM object or session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from shoegen.config.generation import ImageParams
from shoegen.config.scores import CatalogueScores


@dataclass(frozen=True)
class StoredImage:
    """One gallery image as callers see it: plain values, no database session behind it."""

    id: str
    created_at: datetime
    """UTC, time-zone aware."""
    params: ImageParams
    job_id: str | None
    file_name: str
    """POSIX path of the PNG relative to the gallery's image folder."""
    path: Path | None
    """Absolute path of the PNG; None when the stored file name points outside the image folder."""
    scores: CatalogueScores | None = None
    """Its catalogue scores; None for an image stored without them (before scoring existed)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (used by metadata exports); `params` is `ImageParams.to_dict()`."""
        return {
            "id": self.id,
            "created_at": self.created_at.isoformat(),
            "job_id": self.job_id,
            "file_name": self.file_name,
            "params": self.params.to_dict(),
            "scores": None if self.scores is None else self.scores.model_dump(mode="json"),
        }
