"""`shoegen.files`: a file is replaced whole or not at all."""

from __future__ import annotations

import os
import stat

import pytest

from shoegen.files import PARTIAL_SUFFIX, replaced_atomically, write_text_atomically


def test_the_new_file_replaces_the_old_one_and_nothing_is_left_beside_it(tmp_path):
    target = tmp_path / "status.json"
    target.write_text("old")
    with replaced_atomically(target) as temporary:
        assert temporary.parent == tmp_path and temporary.name.endswith(PARTIAL_SUFFIX)
        temporary.write_text("new")
        assert target.read_text() == "old"  # a reader sees the old file until the block ends
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["status.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "captions.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), replaced_atomically(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("disk gone")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["captions.json"]


def test_a_replaced_file_keeps_its_permissions_and_a_new_one_gets_the_umasks(tmp_path):
    shared = tmp_path / "shared.txt"
    shared.write_text("old")
    shared.chmod(0o640)
    write_text_atomically(shared, "new")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o640 and shared.read_text() == "new"

    previous = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.txt"
        write_text_atomically(fresh, "text")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644


def test_a_durable_write_is_replaced_the_same_way(tmp_path):
    target = tmp_path / "image.png"
    with replaced_atomically(target, durable=True) as temporary:
        temporary.write_bytes(b"\x89PNG")
    assert target.read_bytes() == b"\x89PNG"
