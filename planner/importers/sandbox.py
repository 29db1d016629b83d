"""Run a parser in a forked child with a time and memory limit, so that no upload can hold or grow a web worker
(issue #30): the child's memory is its own (and capped by RLIMIT_AS), and it is killed at the deadline.

Fork, not spawn: the child starts in a millisecond with the parser already imported, where a fresh interpreter
would spend most of the time budget importing openpyxl. The child only parses bytes it was handed and writes the
pickled result to a pipe; it touches no database connection, lock or socket of the worker, and leaves with
os._exit so that nothing of the parent's (atexit handlers, buffered files) runs twice.
"""

from __future__ import annotations

import ctypes
import gc
import os
import pickle
import resource
import select
import signal
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import FileProblems, Problem

T = TypeVar("T")

TIME_LIMIT_S = 15.0  # a 20,000-row needs workbook (the largest file any import accepts) reads in ~4 s under load
MEMORY_LIMIT_BYTES = 768 << 20  # above the worker's address space at the fork; such a workbook needs ~100 MB
_PR_SET_PDEATHSIG = 1


def _vm_size() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _child(write_fd: int, fn: Callable[..., Any], args: tuple[Any, ...], time_limit: float, memory: int) -> None:
    status = 0
    # Everything inherited from the worker (its database connections among it) is never collected here, so that no
    # finalizer closes what the worker still uses.
    gc.freeze()
    try:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
            signal.signal(sig, signal.SIG_DFL)
        try:  # die with the worker even if it is killed with SIGKILL
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
        base = _vm_size()
        if base:
            resource.setrlimit(resource.RLIMIT_AS, (base + memory, base + memory))
        cpu = int(time_limit) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        try:
            outcome: tuple[str, Any] = ("ok", fn(*args))
        except FileProblems as e:
            outcome = ("problems", e.problems)
        except MemoryError:
            outcome = ("memory", None)
        except Exception as e:  # any parser failure is the file's fault: report it, never a 500
            outcome = ("error", f"{type(e).__name__}: {str(e)[:200]}")
        payload = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_fd, "wb") as out:
            out.write(payload)
    except BaseException:
        status = 1
    finally:
        os._exit(status)


def run_bounded(
    file_name: str,
    fn: Callable[..., T],
    *args: Any,
    time_limit: float = TIME_LIMIT_S,
    memory: int = MEMORY_LIMIT_BYTES,
    broken_message: str = "ファイルとして読めません",
) -> T:
    """``fn(*args)`` computed in a child process; FileProblems (naming ``file_name``) when it raises them, breaks,
    runs past ``time_limit`` seconds or needs more than ``memory`` bytes beyond what the worker has mapped."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child exits inside
        os.close(read_fd)
        _child(write_fd, fn, args, time_limit, memory)
    os.close(write_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + time_limit
    timed_out = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_fd], [], [], left)[0]:
                timed_out = True
                break
            data = os.read(read_fd, 1 << 20)
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(read_fd)
        if timed_out:
            _kill(pid)
        _, status = os.waitpid(pid, 0)
    if timed_out:
        raise FileProblems(
            [
                Problem(
                    file_name,
                    f"ファイルの読み取りが {time_limit:g} 秒で終わらないため打ち切りました。"
                    "行・列・書式の少ないファイルに分けてください",
                )
            ]
        )
    if not chunks:
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGXCPU, signal.SIGKILL):
            raise FileProblems([Problem(file_name, "ファイルの読み取りに時間がかかりすぎるため打ち切りました")])
        raise FileProblems([Problem(file_name, f"{broken_message}（読み取り中に異常終了しました）")])
    kind, value = pickle.loads(b"".join(chunks))
    if kind == "ok":
        return value  # type: ignore[no-any-return]
    if kind == "problems":
        raise FileProblems(value)
    if kind == "memory":
        raise FileProblems(
            [
                Problem(
                    file_name,
                    f"ファイルの読み取りに必要なメモリが上限（{memory >> 20:,} MB）を超えました。"
                    "ファイルを分けてください",
                )
            ]
        )
    raise FileProblems([Problem(file_name, f"{broken_message}（{value}）")])


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
