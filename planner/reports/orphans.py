"""Render worker processes die with the process that started them (issue #30).

A ZIP build renders on a pool of spawned processes (planner.reports.bundle). When the web worker or the RQ work
horse running the build is killed (kill -9, the OOM killer, gunicorn's timeout), nothing shuts the pool down, and
its workers went on rendering for an owner that was gone. Each worker therefore asks the kernel for SIGKILL when
its parent dies (Linux's PR_SET_PDEATHSIG), and a watchdog thread exits as soon as the parent has changed, for
systems without prctl and for a parent that died before the request was made.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading

_PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 0.5


def die_with_parent(parent_pid: int) -> None:
    """Called first thing in a worker process, with the pid of the process that started it."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the watchdog alone
        pass
    if os.getppid() != parent_pid:  # died before the request above
        os._exit(1)

    def watch() -> None:
        while True:
            threading.Event().wait(WATCH_SECONDS)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="planner-parent-watchdog", daemon=True).start()
