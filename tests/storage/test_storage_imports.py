"""The storage layer stays free of the heavy engine and web stacks."""

from __future__ import annotations

import subprocess
import sys


def test_storage_imports_without_torch_diffusers_or_fastapi() -> None:
    code = (
        "import sys, shoegen.storage, shoegen.storage.gallery, shoegen.storage.png; "
        "heavy = [m for m in ('torch', 'diffusers', 'transformers', 'fastapi') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
