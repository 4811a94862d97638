"""`shoegen serve` refuses what cannot work before the server starts."""

from __future__ import annotations

from pathlib import Path

from shoegen.cli.main import main


def test_a_base_that_cannot_load_is_one_paragraph_before_the_server_starts(tmp_path: Path, capsys,
                                                                          monkeypatch) -> None:
    monkeypatch.delenv("SHOEGEN_DATABASE_URL", raising=False)
    assert main(["serve", "--base-model", "nosuch", "--port", "8799", "--data-dir", str(tmp_path / "data")]) == 2
    captured = capsys.readouterr()
    assert "Base model 'nosuch' is neither a built-in base" in captured.err
    assert "Traceback" not in captured.err and "API on" not in captured.out
