"""Instructions the CPU executes to render batches of the demo's documents, as the ZIP's render workers do.

Seconds on a shared machine moved by up to a factor of two within minutes (bench/README.md); callgrind's count of
executed instructions does not depend on the load, so it compares two versions of the rendering exactly:

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/dev/null \\
        .venv/bin/python bench/render_instructions.py [--kind member|statement|group] [--count 10] [--batches 1] \\
        [--without line-cache,pdf-output,prepared-faces,worker-fonts]

The figure is callgrind's "Collected" line: the count runs only while the batches render (``callgrind_control -i
on``/``off`` around them), after a warm-up batch of 2 (imports, fonts). The process starts and runs each batch as a
render worker does (``bundle._init_worker``, ``bundle._render_in_worker``): one font configuration for all its
batches, the cyclic collector paused during a batch and run after it. ``--without`` switches off the rendering's
speed-ups for the "before" figure: planner/reports/line_cache.py, pdf_output.py (or only its prepared faces), the
worker's one font configuration (then each batch makes its own). Run without valgrind, it prints the batches' CPU
seconds instead.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def demo_documents():
    """The instance and plan of the demo's published plan (planner demo), as the web's ZIP build reads them."""
    from sqlmodel import Session

    from planner.db.models import Plan as PlanRow
    from planner.db.session import make_engine
    from planner.domain.instance_io import parse_instance
    from planner.domain.plan import plan_from_dict
    from tests.support.demo import demo_database

    folder = tempfile.mkdtemp()
    url = f"sqlite:///{folder}/demo.sqlite"
    _, plans = demo_database(url)
    engine = make_engine(url)
    with Session(engine) as session:
        row = session.get(PlanRow, plans.published_plan_id)
        instance, plan = parse_instance(row.instance_doc), plan_from_dict(row.plan_doc)
    engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)
    return instance, plan


def _callgrind(switch: str) -> None:
    """Count from here (``on``) or stop counting (``off``), when running under valgrind (its preload is there)."""
    if "vgpreload" in os.environ.get("LD_PRELOAD", ""):
        subprocess.run(["callgrind_control", "-i", switch, str(os.getpid())], check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", default="member", choices=("member", "statement", "group"))
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--batches", type=int, default=1, help="batches of --count documents, one after the other")
    parser.add_argument(
        "--without", default="", help="comma-separated: line-cache, pdf-output, prepared-faces, worker-fonts"
    )
    args = parser.parse_args()

    from planner.reports import bundle, line_cache, pdf_output

    without = {w.strip() for w in args.without.split(",") if w.strip()}
    if "line-cache" in without:
        line_cache.enable = lambda font_config: None
    if "pdf-output" in without:
        pdf_output.install = lambda: None
        pdf_output.font_files_once = contextlib.nullcontext
    if "prepared-faces" in without or "pdf-output" in without:
        pdf_output.prepared_face = lambda face: None

    if "worker-fonts" in without:
        bundle._font_configuration = lambda: None  # each batch makes its own

    instance, plan = demo_documents()
    docs = [d for d in bundle.plan_documents(plan, instance) if d.kind == args.kind]
    # As a render worker: started by _init_worker (the render stack, its font configuration, the collector's freeze),
    # each batch run by _render_in_worker (the collector paused during it and run once after it).
    bundle._init_worker(instance, plan, None)
    bundle._render_in_worker(tuple(docs[:2]))
    jobs = [tuple(docs[2 + i * args.count : 2 + (i + 1) * args.count]) for i in range(args.batches)]
    _callgrind("on")
    started = time.process_time()
    for job in jobs:
        bundle._render_in_worker(job)
    seconds = time.process_time() - started
    _callgrind("off")
    print(
        f"{sum(map(len, jobs))} {args.kind} documents in {len(jobs)} batches, without [{','.join(sorted(without))}]: "
        f"{seconds:.2f} s CPU"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
