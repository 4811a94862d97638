"""Write the service's OpenAPI schema to web/openapi.json (or the path given), without starting a server.

The web UI's TypeScript client is generated from this file (`npm run generate-client` in web/), so the
schema, not the Python code, is the contract the UI is written against. Usage:

    .venv/bin/python scripts/export_openapi.py [OUTPUT]     # default: web/openapi.json
    .venv/bin/python scripts/export_openapi.py -            # to stdout
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from shoegen.service.app import create_app
from shoegen.config.service import ServiceSettings

DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "web" / "openapi.json"


def openapi_text() -> str:
    # A throwaway data dir: building the app opens a gallery database, which must not touch real data.
    with tempfile.TemporaryDirectory(prefix="shoegen-schema-") as data_dir:
        settings = ServiceSettings(base_model="tiny", data_dir=Path(data_dir), models_dir=Path(data_dir) / "runs",
                                   warm_up=False, api_key=None)
        schema = create_app(settings).openapi()
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    target = argv[0] if argv else str(DEFAULT_OUTPUT)
    text = openapi_text()
    if target == "-":
        sys.stdout.write(text)
    else:
        Path(target).write_text(text, encoding="utf-8")
        print(f"wrote {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
