"""Files written so that a reader, another replica or a crash sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PARTIAL_SUFFIX = ".partial"
"""How the temporary file beside the target ends: `.<name>.<32 hex digits>.partial`."""


@contextmanager
def replaced_atomically(path: Path, *, durable: bool = False) -> Iterator[Path]:
    """A temporary path in `path`'s folder to write the new file to; when the block ends without an error the
    temporary file replaces `path` in one rename, and when it raises the temporary file is removed and `path` is
    left as it was. A file that is replaced keeps its permissions; a new one gets the process umask's, like any
    file. `durable` flushes the bytes to disk before the rename, for a file a database row will point at."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}{PARTIAL_SUFFIX}")
    try:
        yield temporary
        if durable:
            descriptor = os.open(temporary, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        try:
            os.chmod(temporary, stat.S_IMODE(path.stat().st_mode))
        except FileNotFoundError:
            pass
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text_atomically(path: Path, text: str) -> None:
    """`text` (UTF-8) written to `path` through `replaced_atomically`."""
    with replaced_atomically(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
