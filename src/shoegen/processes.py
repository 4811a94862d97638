"""A process that ends with the one that started it: a studio worker's training process, and each process
`accelerate launch` starts for it, never trains on unseen once the worker is gone."""

from __future__ import annotations

import os
import signal
import sys

DIE_WITH_PARENT_ENV = "SHOEGEN_DIE_WITH_PARENT"
"""Set to 1 in a process's environment: it (and every process it starts) dies with its parent
(`follow_parent_if_asked`)."""


def die_with_parent() -> None:
    """Linux: this process is killed (SIGKILL) when the thread that started it ends (PR_SET_PDEATHSIG); nothing
    elsewhere. Usable as a Popen `preexec_fn`."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def follow_parent_if_asked() -> None:
    """In a process whose environment sets `DIE_WITH_PARENT_ENV`: die with its parent, and exit at once when the
    parent is already gone. torch's elastic launcher (under `accelerate launch`) starts each training process in
    a session of its own, so a death signal set on the launcher alone leaves them training."""
    if os.environ.get(DIE_WITH_PARENT_ENV) != "1":
        return
    parent = os.getppid()
    die_with_parent()
    if os.getppid() != parent:  # it died before the signal was asked for
        os._exit(1)
