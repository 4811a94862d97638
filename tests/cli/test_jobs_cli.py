"""`shoegen jobs list|show|cancel` on the database `shoegen serve` keeps its queue in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shoegen.cli.main import main
from shoegen.storage import Gallery, JobStore


def test_list_show_and_cancel_jobs(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("SHOEGEN_DATABASE_URL", raising=False)
    data_dir = tmp_path / "data"
    with Gallery.for_data_dir(data_dir) as gallery:
        store = JobStore(gallery)
        running = store.submit({"prompt": "red boots"}, total_steps=20, batch_key=None, max_queued=10)
        queued = store.submit({"prompt": "blue boots", "init_image": "aGVsbG8="}, total_steps=20, batch_key=None,
                              max_queued=10)
        store.claim("host:1:abc", lease_seconds=30)
    folder = ["--data-dir", str(data_dir)]

    assert main(["jobs", "list", *folder]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [[queued.id, "queued"], [running.id, "running"]]
    assert lines[1].split()[-1] == "host:1:abc"
    assert main(["jobs", "list", "--status", "queued", *folder]) == 0
    assert capsys.readouterr().out.split()[0] == queued.id

    assert main(["jobs", "show", queued.id, *folder]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["params"] == {"prompt": "blue boots"} and shown["has_init_image"] is True
    assert shown["events"] == [{"id": 1, "event": "queued", "position": 2}]

    assert main(["jobs", "cancel", queued.id, *folder]) == 0
    assert capsys.readouterr().out.split() == [queued.id, "cancelled"]
    assert main(["jobs", "cancel", running.id, *folder]) == 0
    assert "running (its worker stops at its next step)" in capsys.readouterr().out
    with Gallery.for_data_dir(data_dir) as gallery:
        assert JobStore(gallery).get(running.id).cancel_requested

    assert main(["jobs", "show", "0" * 32, *folder]) == 2
    assert "no job '00000000000000000000000000000000'" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["list", "show", "cancel"])
def test_jobs_help_names_the_database_flags(capsys, command) -> None:
    with pytest.raises(SystemExit):
        main(["jobs", command, "--help"])
    text = capsys.readouterr().out
    assert "--data-dir" in text and "--database-url" in text


def test_an_empty_list_says_so_and_a_limit_below_one_is_refused(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("SHOEGEN_DATABASE_URL", raising=False)
    folder = ["--data-dir", str(tmp_path / "data")]
    Gallery.for_data_dir(tmp_path / "data").close()  # the gallery `shoegen serve` made, with no job yet
    assert main(["jobs", "list", *folder]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip() == "no jobs"
    assert main(["jobs", "list", "--status", "queued", *folder]) == 0
    assert capsys.readouterr().err.strip() == "no queued jobs"
    with pytest.raises(SystemExit):
        main(["jobs", "list", "--limit", "0", *folder])
    assert "must be at least 1, got 0" in capsys.readouterr().err


def test_a_database_url_that_cannot_work_is_one_line(capsys) -> None:
    assert main(["jobs", "list", "--database-url", "bogus://x"]) != 0
    err = capsys.readouterr().err
    assert "database URL 'bogus://x'" in err and "Traceback" not in err


def test_a_missing_database_a_data_folder_that_is_a_file_and_a_limit_past_the_bound_are_refused(
        tmp_path: Path, capsys, monkeypatch) -> None:
    from shoegen.errors import ShoegenError

    monkeypatch.delenv("SHOEGEN_DATABASE_URL", raising=False)
    # Reading jobs makes nothing: a folder or URL with no database is said to be wrong, not an empty queue.
    for flags, where in ([["--data-dir", str(tmp_path / "typo")], tmp_path / "typo" / "gallery.db"],
                         [["--database-url", f"sqlite:///{tmp_path}/nowhere/x.db"], tmp_path / "nowhere" / "x.db"]):
        assert main(["jobs", "list", *flags]) == 2
        assert f"error: no gallery database at {where}: `shoegen serve` makes it there" in capsys.readouterr().err
    assert sorted(path.name for path in tmp_path.iterdir()) == []
    afile = tmp_path / "data"
    afile.write_text("not a folder")
    with pytest.raises(ShoegenError, match=f"data folder {afile} is a file"):
        Gallery.for_data_dir(afile)
    with pytest.raises(SystemExit):
        main(["jobs", "list", "--limit", "99999999999", "--data-dir", str(tmp_path / "d")])
    assert "--limit: must be at most 1000, got 99999999999" in capsys.readouterr().err
