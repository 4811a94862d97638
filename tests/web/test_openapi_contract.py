"""The web UI is written against web/openapi.json and the TypeScript client generated from it: both must
match the service as it is now, so that an API change cannot silently leave the UI behind."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
REFRESH = "run `.venv/bin/python scripts/export_openapi.py && (cd web && npm run generate-client)`"


def _export_module():
    spec = importlib.util.spec_from_file_location("export_openapi", ROOT / "scripts" / "export_openapi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_schema_matches_the_service():
    current = json.loads(_export_module().openapi_text())
    committed = json.loads((WEB / "openapi.json").read_text(encoding="utf-8"))
    changed = sorted(set(current["paths"]) ^ set(committed["paths"]))
    assert not changed, f"paths added or removed since web/openapi.json was exported: {changed}; {REFRESH}"
    assert current == committed, f"web/openapi.json is stale; {REFRESH}"


def test_export_is_deterministic(tmp_path):
    module = _export_module()
    assert module.main([str(tmp_path / "a.json")]) == 0
    assert (tmp_path / "a.json").read_text(encoding="utf-8") == module.openapi_text()


@pytest.mark.skipif(shutil.which("node") is None or not (WEB / "node_modules" / "openapi-typescript").is_dir(),
                    reason="needs node and `npm ci` in web/")
def test_generated_client_matches_the_schema():
    result = subprocess.run(["node", "scripts/generate-client.mjs", "--check"], cwd=WEB, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr + result.stdout
