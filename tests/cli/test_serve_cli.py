"""`shoegen serve` refuses what cannot work before the server starts."""

from __future__ import annotations

import socket
from pathlib import Path


from shoegen.cli.main import main


def test_a_base_that_cannot_load_is_one_paragraph_before_the_server_starts(tmp_path: Path, capsys,
                                                                          monkeypatch) -> None:
    monkeypatch.delenv("SHOEGEN_DATABASE_URL", raising=False)
    assert main(["serve", "--base-model", "nosuch", "--port", "8799", "--data-dir", str(tmp_path / "data")]) == 2
    captured = capsys.readouterr()
    assert "Base model 'nosuch' is neither a built-in base" in captured.err
    assert "Traceback" not in captured.err and "API on" not in captured.out


def test_a_port_in_use_is_refused_before_the_base_loads_or_the_banner_says_it_serves(tmp_path: Path, capsys,
                                                                                      monkeypatch) -> None:
    monkeypatch.delenv("SHOEGEN_DATABASE_URL", raising=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # A base that cannot load: the port is what is refused, so it was checked first.
        assert main(["serve", "--base-model", "nosuch", "--port", str(port), "--data-dir", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: cannot serve on 127.0.0.1:{port}: Address already in use; another "
                                   f"program listens on port {port}: stop it, or pick another --port")
    assert "API on" not in captured.out and "nosuch" not in captured.err


def test_an_address_that_is_not_this_machines_is_refused_naming_it(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("SHOEGEN_DATABASE_URL", raising=False)
    host = "192.0.2.1"  # TEST-NET-1: documentation only, never a machine's own address
    assert main(["serve", "--base-model", "tiny", "--host", host, "--port", "8799", "--data-dir", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: cannot serve on {host}:8799: Cannot assign requested address; {host} is "
                                   "no address of this machine: use 127.0.0.1, or 0.0.0.0")
    assert "API on" not in captured.out
