"""Real servers for whole-system tests: `shoegen serve` in a subprocess on a free loopback port.

The models folder (two trained runs, see tests/engine/trained_models.py) is built once per session;
servers are started once per session too, except those a test stops, kills or restarts itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live_server import API_KEY, LiveServer


HERE = Path(__file__).parent
TEST_TIMEOUT_SECONDS = 300  # a hung server or event stream fails its test instead of the whole run


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.parent == HERE and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(TEST_TIMEOUT_SECONDS))


@pytest.fixture(scope="session")
def server_factory(models_dir, tmp_path_factory) -> Iterator:
    """Start servers on fresh (or given) data folders; all still running are stopped at the end of the session."""
    started: list[LiveServer] = []

    def start(env: dict[str, str] | None = None, data_dir: Path | None = None, name: str = "server") -> LiveServer:
        folder = tmp_path_factory.mktemp(name)
        server = LiveServer(models_dir, data_dir or folder / "data", folder / "server.log", env)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def server(server_factory) -> LiveServer:
    """The default server, with a small body limit (200 kB) so that 413 is cheap to provoke."""
    return server_factory({"SHOEGEN_MAX_BODY_BYTES": "200000"}, name="main")


@pytest.fixture(scope="session")
def locked_server(server_factory) -> LiveServer:
    """An API key and a queue of two."""
    return server_factory({"SHOEGEN_API_KEY": API_KEY, "SHOEGEN_QUEUE_SIZE": "2"}, name="locked")


@pytest.fixture
def client(server) -> Iterator[httpx.Client]:
    with server.client() as opened:
        yield opened


@pytest.fixture
def locked_client(locked_server) -> Iterator[httpx.Client]:
    with locked_server.client(**{"X-API-Key": API_KEY}) as opened:
        yield opened
