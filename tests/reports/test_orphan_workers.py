"""Render workers die with their parent (issue #30): kill -9 of the process building a ZIP (a web worker or an RQ
work horse) mid-build leaves no render worker process running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = """
import sys
from planner.reports import bundle
from tests.reports.fixtures import nagano_instance, nagano_plan

instance = nagano_instance()
plan = nagano_plan(instance)
docs = bundle.plan_documents(plan, instance) * 20  # long enough to be killed in the middle
bundle.PARALLEL_FROM = 1
print("building", flush=True)
bundle.render_files(instance, plan, None, docs, workers=2)
"""


def _children(pid: int) -> set[int]:
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.add(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _render_workers(pid: int) -> set[int]:
    found = set()
    for child in _children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            found.add(child)
    return found


def test_render_workers_die_when_the_building_process_is_killed():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", BUILD], cwd=ROOT, env=env, stdout=subprocess.PIPE)
    workers: set[int] = set()
    try:
        assert parent.stdout.readline().strip() == b"building"
        deadline = time.monotonic() + 120
        while len(workers) < 2 and time.monotonic() < deadline and parent.poll() is None:
            workers |= _render_workers(parent.pid)
            time.sleep(0.1)
        assert len(workers) == 2, f"the pool did not start ({workers})"
        time.sleep(1.5)  # into the rendering
        assert parent.poll() is None, "the build ended before it could be killed"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        survivors = [w for w in workers if _alive(w)]
        assert not survivors, f"render workers still running after their parent was killed: {survivors}"
    finally:
        if parent.poll() is None:
            parent.kill()
        for w in workers | _render_workers(parent.pid):  # a survivor is reparented: killed by its recorded pid
            if _alive(w):
                os.kill(w, signal.SIGKILL)
