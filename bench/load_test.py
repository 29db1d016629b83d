"""Load and concurrency benchmark (issues 7, 13): ``planner run`` (gunicorn workers) on PostgreSQL, 50 concurrent
users for 60 s, no lost update, no traceback in the server's log.

    .venv/bin/python bench/load_test.py [--database-url URL] [--clients 50] [--duration 60] [--workers 4]

Without --database-url a fresh database is created on 127.0.0.1:5432 (PLANNER_LOAD_PG_ADMIN_URL to change) and
dropped at the end (--keep keeps it). The data: ``planner init-db`` (1,788 bodies, price book, rules), ``planner
demo`` (長野県), a few thousand more needs across the country, the demo scenario solved once (the real job path),
and two municipality accounts for each of the busiest 長野県 bodies, so that two people edit the same needs.

Each simulated user signs in through the login form (CSRF token and all) and then, with a think time between
clicks, reads its plan page, reads the needs list, edits one of its body's needs (form page, then POST with the
version it saw) or registers a new one. Coordinators read the whole plan and edit needs anywhere in 長野県.

The server is started exactly as ``planner run`` starts it (this checkout's code first on PYTHONPATH), with its
output in a log file that is searched for tracebacks at the end. Loopback only.

Printed: throughput, p50/p95/p99 latency per kind of request and over all requests, errors; then the checks: every edit a client saw
succeed is in the database exactly once (versions advance by one per success, no two successes from the same
version, the final volume is the last success's), every conflict came back as the clear 409 message, every
registration exists and no (body, category) is registered twice. Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.concurrency.live import TOKEN, Browser, free_port, planner_env, start_server  # noqa: E402

BIN = Path(sys.executable).parent
PASSWORD = "load-password-1"
CONFLICT_MESSAGE = "保存していません"  # both the flash and the form's warning box say it
READ_KINDS = ("GET plan", "GET needs list", "GET edit form", "GET new form")


# --- setup ------------------------------------------------------------------------------------------------------------


def create_database() -> tuple[str, callable]:
    import sqlalchemy as sa

    admin_url = sa.engine.make_url(
        os.environ.get("PLANNER_LOAD_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    )
    name = f"planner_load_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.set(database=name).render_as_string(hide_password=False), drop


def run_cli(env: dict, *args: str) -> None:
    result = subprocess.run([str(BIN / "planner"), *args], env=env, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"planner {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


@dataclass
class Fixture:
    plan_id: int
    users: list[tuple[str, str, str | None]]  # username, role, body code
    needs_by_body: dict[str, list[tuple[int, str, int]]]  # body -> [(need id, category, start year)]
    free_categories: dict[str, list[str]]  # body -> categories it has not registered yet
    plan_bodies: set[str]
    initial: dict[int, tuple[int, float]]  # need id -> (version, volume) before the run
    total_needs: int


def seed(url: str, clients: int, extra_per_body: int, rnd: random.Random) -> Fixture:
    from sqlmodel import Session, func, select

    from planner.db.models import Body, Category, Need, Plan, PlanRelease, Scenario, utcnow
    from planner.db.session import make_engine
    from planner.jobs.runner import run_solve
    from planner.services.users import create_user

    engine = make_engine(url)
    with Session(engine) as session:
        categories = [c.id for c in session.exec(select(Category))]
        have = {(n.body_code, n.category_id) for n in session.exec(select(Need))}
        rows = []
        for body in session.exec(select(Body).where(Body.kind != "prefecture", Body.prefecture_code != "20")):
            for cat in rnd.sample(categories, k=min(len(categories), rnd.randint(1, extra_per_body))):
                if (body.code, cat) not in have:
                    rows.append(
                        Need(
                            body_code=body.code,
                            category_id=cat,
                            volume=float(rnd.randint(1, 500)),
                            start_year=rnd.choice((2026, 2027, 2028)),
                            accepts_lead=True,
                            accepts_unified=True,
                        )
                    )
        session.add_all(rows)
        session.commit()
        # The edits below send every flag, so the needs under edit start with the values the form will send.
        for need in session.exec(select(Need).where(Need.body_code.like("20%"))):
            need.accepts_lead, need.accepts_unified, need.can_lead = True, True, False
            session.add(need)
        session.commit()

        scenario = session.exec(select(Scenario).where(Scenario.prefecture_code == "20")).first()
        job_id = uuid.uuid4().hex
        scenario.status, scenario.job_id, scenario.time_limit_seconds = "queued", job_id, 60
        # Without the official population file (not shipped) a population split cannot be computed.
        scenario.allocation_method, scenario.allocation_weights = "equal", {}
        scenario.progress = {"runner": "thread", "queued_at": utcnow().isoformat()}
        session.add(scenario)
        session.commit()
        scenario_id = scenario.id
    started = time.monotonic()
    status = run_solve(engine, scenario_id, job_id)
    print(f"  solved the demo scenario: {status} in {time.monotonic() - started:.1f} s")
    if status != "done":
        with Session(engine) as session:
            raise SystemExit(session.get(Scenario, scenario_id).log)
    with Session(engine) as session:
        # The demo published 計画 No.1 from this scenario (and left a 試算 beside it): the municipalities read the
        # published plan, as their users do; a draft is the prefecture's only.
        release = session.exec(select(PlanRelease).where(PlanRelease.state == "published")).first()
        plan = (
            session.get(Plan, release.plan_id)
            if release is not None
            else session.exec(select(Plan).where(Plan.scenario_id == scenario_id).order_by(Plan.id.desc())).first()
        )
        plan_id = plan.id
        plan_bodies = {n["body"] for n in plan.instance_doc["needs"]}
        counts = defaultdict(int)
        for need in session.exec(select(Need).where(Need.body_code.in_(plan_bodies), Need.status == "active")):
            counts[need.body_code] += 1
        coordinators = max(1, clients // 10)
        busiest = sorted(counts, key=lambda b: (-counts[b], b))[: max(1, (clients - coordinators + 1) // 2)]
        users = []
        for i in range(coordinators):
            user = create_user(session, f"load-pref-{i}", PASSWORD, "prefecture", prefecture_code="20")
            users.append((user.username, "prefecture", None))
        for i in range(clients - coordinators):
            body = busiest[i % len(busiest)]
            name = f"load-{body}-{i // len(busiest)}"
            create_user(session, name, PASSWORD, "municipality", body_code=body)
            users.append((name, "municipality", body))
        session.commit()
        needs_by_body: dict[str, list] = defaultdict(list)
        initial = {}
        for need in session.exec(select(Need).where(Need.body_code.in_(busiest), Need.status == "active")):
            needs_by_body[need.body_code].append((need.id, need.category_id, need.start_year))
            initial[need.id] = (need.version, need.volume)
        free = {
            b: [c for c in categories if (b, c) not in {(x, y) for x, ys in needs_by_body.items() for _, y, _ in ys}]
            for b in busiest
        }
        total = session.exec(select(func.count()).select_from(Need)).one()
    engine.dispose()
    return Fixture(plan_id, users, dict(needs_by_body), free, plan_bodies, initial, total)


# --- one simulated user ------------------------------------------------------------------------------------------


VERSION = re.compile(r'name="version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="version"')


def first(rx: re.Pattern, text: str) -> str | None:
    m = rx.search(text)
    return (m.group(1) or m.group(2)) if m else None


@dataclass
class Log:
    timings: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    edits: list[tuple[int, int, float]] = field(default_factory=list)  # need, version edited from, new volume
    conflicts: int = 0
    unclear_conflicts: list[str] = field(default_factory=list)
    registered: list[tuple[str, str]] = field(default_factory=list)
    duplicates_refused: int = 0


class User(threading.Thread):
    def __init__(
        self,
        index: int,
        username: str,
        role: str,
        body: str | None,
        fx: Fixture,
        port: int,
        clock: dict,
        start: threading.Barrier,
        think: float,
        seed: int,
    ):
        super().__init__(daemon=True)
        self.index, self.username, self.role, self.body = index, username, role, body
        self.fx, self.browser, self.clock, self.start_line, self.think = fx, Browser(port), clock, start, think
        self.rnd = random.Random(seed)
        self.log = Log()
        self.counter = 0

    def timed(self, kind: str, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        started = time.perf_counter()
        try:
            status, text = self.browser.request(method, path, form)
        except Exception as e:  # every failure is counted, none stops the run
            self.log.errors.append(f"{kind} {path}: {type(e).__name__}: {e}")
            return 0, ""
        self.log.timings[kind].append(time.perf_counter() - started)
        return status, text

    def expect(self, kind: str, path: str, status: int, wanted: tuple[int, ...]) -> bool:
        if status not in wanted:
            self.log.errors.append(f"{kind} {path}: HTTP {status}")
            return False
        return True

    def run(self) -> None:
        status, text = self.timed("GET login form", "GET", "/login")
        status, _ = self.timed(
            "POST login",
            "POST",
            "/login",
            {"username": self.username, "password": PASSWORD, "csrf_token": first(TOKEN, text) or ""},
        )
        signed_in = self.expect("POST login", "/login", status, (302,))
        self.start_line.wait()  # everyone signed in (argon2 is slow on purpose): the measured period starts now
        if not signed_in:
            return
        self.log.timings.clear()
        actions = [(self.read_plan, 35), (self.read_needs, 20), (self.edit, 35), (self.register, 10)]
        while time.monotonic() < self.clock["deadline"]:
            action = self.rnd.choices([a for a, _ in actions], weights=[w for _, w in actions])[0]
            action()
            time.sleep(self.rnd.uniform(0.5, 1.5) * self.think)

    def read_plan(self) -> None:
        path = (
            f"/plans/{self.fx.plan_id}" if self.role == "prefecture" else f"/plans/{self.fx.plan_id}/body/{self.body}"
        )
        status, _ = self.timed("GET plan", "GET", path)
        self.expect("GET plan", path, status, (200,))

    def read_needs(self) -> None:
        status, _ = self.timed("GET needs list", "GET", "/needs/")
        self.expect("GET needs list", "/needs/", status, (200,))

    def edit(self) -> None:
        body = self.body or self.rnd.choice(sorted(self.fx.needs_by_body))
        need_id, category, year = self.rnd.choice(self.fx.needs_by_body[body])
        path = f"/needs/{need_id}/edit"
        status, text = self.timed("GET edit form", "GET", path)
        if not self.expect("GET edit form", path, status, (200,)):
            return
        version = first(VERSION, text)
        if self.rnd.random() < 0.3:
            time.sleep(self.think)  # a user who reads the form for a while: the partner may save meanwhile
        self.counter += 1
        volume = float(self.index * 100_000 + self.counter)  # unique to this client and edit
        form = {
            "csrf_token": first(TOKEN, text) or "",
            "version": version or "",
            "body_code": body,
            "category_id": category,
            "volume": f"{volume:.0f}",
            "start_year": str(year),
            "accepts_lead": "y",
            "accepts_unified": "y",
            "notes": f"負荷試験 {self.username} #{self.counter}",
            "save": "1",
        }
        status, text = self.timed("POST edit", "POST", path, form)
        if status == 302:
            self.log.edits.append((need_id, int(version), volume))
        elif status == 409:
            self.log.conflicts += 1
            if CONFLICT_MESSAGE not in text:
                self.log.unclear_conflicts.append(path)
        else:
            self.log.errors.append(f"POST edit {path}: HTTP {status}")

    def register(self) -> None:
        if self.role == "prefecture":
            return self.read_needs()
        free = self.fx.free_categories.get(self.body) or []
        if not free:
            return self.read_needs()
        category = self.rnd.choice(free)
        status, text = self.timed("GET new form", "GET", "/needs/new")
        if not self.expect("GET new form", "/needs/new", status, (200,)):
            return
        form = {
            "csrf_token": first(TOKEN, text) or "",
            "body_code": self.body,
            "category_id": category,
            "volume": "10",
            "start_year": "2027",
            "accepts_lead": "y",
            "accepts_unified": "y",
            "save": "1",
        }
        status, text = self.timed("POST register", "POST", "/needs/new", form)
        if status == 302:
            self.log.registered.append((self.body, category))
        elif status == 422 and "登録済み" in text:
            self.log.duplicates_refused += 1  # the partner registered it first: refused, as it should be
        else:
            self.log.errors.append(f"POST register {category}: HTTP {status}")


def workers_rss(master: int) -> list[int]:
    """The resident memory (MB) of each gunicorn worker: the server's child processes."""
    out = []
    for pid in worker_pids(master):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        rss = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        out.append(rss // 1024)
    return sorted(out)


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds used so far by these processes (from /proc; 0 for one that is gone)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def worker_pids(master: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == master:
                    out.append(int(entry.name))
            except OSError:
                continue
    return out


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def warm_up(port: int, requests: int) -> None:
    """Wait for gunicorn, and let every worker load the application before anything is measured."""
    deadline = time.monotonic() + 120
    while True:
        try:
            Browser(port).request("GET", "/login")
            break
        except OSError as e:
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start") from e
            time.sleep(0.2)
    threads = [threading.Thread(target=Browser(port).request, args=("GET", "/login")) for _ in range(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# --- checks -------------------------------------------------------------------------------------------------------


def verify(url: str, fx: Fixture, logs: list[Log]) -> list[str]:
    from sqlalchemy import func
    from sqlmodel import Session, select

    from planner.db.models import AuditLog, Need
    from planner.db.session import make_engine

    problems = []
    edits: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for log in logs:
        for need_id, version, volume in log.edits:
            edits[need_id].append((version, volume))
    engine = make_engine(url)
    with Session(engine) as session:
        for need_id, done in edits.items():
            need = session.get(Need, need_id)
            versions = sorted(v for v, _ in done)
            if len(set(versions)) != len(versions):
                problems.append(f"need {need_id}: two edits succeeded from the same version {versions}")
            start_version, _ = fx.initial[need_id]
            if need.version != start_version + len(done):
                problems.append(f"need {need_id}: version {need.version}, expected {start_version} + {len(done)} edits")
            last = max(done)[1]
            if need.volume != last:
                problems.append(f"need {need_id}: volume {need.volume}, the last successful edit wrote {last}")
            audited = session.exec(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.entity == "need", AuditLog.entity_id == str(need_id), AuditLog.action == "update")
            ).one()
            if audited != len(done):
                problems.append(f"need {need_id}: {audited} audit entries for {len(done)} edits")
        for log in logs:
            for body, category in log.registered:
                if not session.exec(
                    select(Need).where(Need.body_code == body, Need.category_id == category, Need.status == "active")
                ).first():
                    problems.append(f"registered need {body}/{category} is missing")
        doubles = session.exec(
            select(Need.body_code, Need.category_id, func.count())
            .where(Need.status == "active")
            .group_by(Need.body_code, Need.category_id)
            .having(func.count() > 1)
        ).all()
        problems += [f"{b}/{c} registered {n} times" for b, c, n in doubles]
    engine.dispose()
    return problems


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def report(logs: list[Log], elapsed: float) -> tuple[list[str], float]:
    timings: dict[str, list[float]] = defaultdict(list)
    for log in logs:
        for kind, values in log.timings.items():
            timings[kind] += values
    total = sum(len(v) for v in timings.values())
    lines = [f"{'request':<18} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"]
    for kind in sorted(timings):
        v = timings[kind]
        lines.append(
            f"{kind:<18} {len(v):>7} {statistics.median(v) * 1000:>8.1f} {percentile(v, 95) * 1000:>8.1f} "
            f"{percentile(v, 99) * 1000:>8.1f} {max(v) * 1000:>8.1f}"
        )
    reads = [x for k in READ_KINDS for x in timings.get(k, [])]
    read_p95 = percentile(reads, 95) * 1000 if reads else float("nan")
    lines.append(f"all page reads      {len(reads):>7} p95 {read_p95:.1f} ms")
    everything = [x for v in timings.values() for x in v]
    all_p95 = percentile(everything, 95) * 1000 if everything else float("nan")
    lines.append(
        f"throughput: {total} requests in {elapsed:.1f} s = {total / elapsed:.1f} req/s; "
        f"p95 over all requests {all_p95:.1f} ms"
    )
    return lines, read_p95


# --- main -------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("PLANNER_LOAD_DATABASE_URL"))
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (gthread)")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between a user's clicks")
    parser.add_argument("--extra-needs-per-body", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the database that was created")
    args = parser.parse_args()

    drop = None
    url = args.database_url
    if not url:
        url, drop = create_database()
    instance = Path(tempfile.mkdtemp(prefix="planner-load-"))
    env = planner_env(url, instance)
    servers: list[subprocess.Popen] = []
    try:
        return run(args, url, env, servers)
    finally:
        for server in servers:
            if server.poll() is None:
                server.terminate()
                server.wait(timeout=30)
        shutil.rmtree(instance, ignore_errors=True)
        if drop is not None and not args.keep:
            drop()


def run(args, url: str, env: dict, servers: list) -> int:
    t0 = time.monotonic()
    print(f"database: {url.rsplit('@', 1)[-1]}")
    run_cli(env, "init-db")
    run_cli(env, "demo")
    fx = seed(url, args.clients, args.extra_needs_per_body, random.Random(7))
    print(
        f"  data ready in {time.monotonic() - t0:.1f} s: {fx.total_needs} needs, plan {fx.plan_id} "
        f"({len(fx.plan_bodies)} bodies), {len(fx.users)} users, {len(fx.needs_by_body)} bodies under edit"
    )
    port = free_port()
    server_log = Path(env["PLANNER_INSTANCE_PATH"]) / "server.log"
    server = start_server(env, port, server_log, workers=args.workers, threads=args.threads)
    servers.append(server)
    warm_up(port, args.workers * args.threads * 2)
    rss_warm = workers_rss(server.pid)
    print(
        f"planner run: {args.workers} gunicorn workers × {args.threads} threads on 127.0.0.1:{port}; "
        f"{args.clients} users for {args.duration:.0f} s, think time ~{args.think:.1f} s"
    )
    clock: dict[str, float] = {}

    workers = worker_pids(server.pid)
    measured: dict = {}

    def start_clock() -> None:
        clock["started"] = time.monotonic()
        clock["deadline"] = clock["started"] + args.duration
        # The load generator runs on the same machine as the server: its own CPU is printed beside the server's,
        # so that a reader can tell whether the clients took the cores the server needed.
        measured["client"] = time.process_time()
        measured["server"] = cpu_seconds(workers)
        measured["load"] = load_average()

    start = threading.Barrier(len(fx.users), action=start_clock)
    users = [
        User(i + 1, name, role, body, fx, port, clock, start, args.think, seed=i)
        for i, (name, role, body) in enumerate(fx.users)
    ]
    for u in users:
        u.start()
    for u in users:
        u.join()
    elapsed = time.monotonic() - clock["started"]
    client_cpu = time.process_time() - measured["client"]
    server_cpu = cpu_seconds(workers) - measured["server"]
    load_after = load_average()
    for u in users:
        u.browser.conn.close()
    time.sleep(2)  # the last requests' memory back, as after a quiet moment
    rss_end = workers_rss(server.pid)
    server.terminate()
    server.wait(timeout=60)
    tracebacks = [
        line
        for line in server_log.read_text(errors="replace").splitlines()
        if "Traceback (most recent call last)" in line or "[ERROR]" in line
    ]

    logs = [u.log for u in users]
    lines, read_p95 = report(logs, elapsed)
    errors = [e for log in logs for e in log.errors]
    edits = sum(len(log.edits) for log in logs)
    conflicts = sum(log.conflicts for log in logs)
    unclear = [p for log in logs for p in log.unclear_conflicts]
    problems = verify(url, fx, logs)
    print("\n".join(lines))
    print(
        f"edits saved: {edits}; conflicts answered 409 with the message: {conflicts - len(unclear)} "
        f"(without it: {len(unclear)}); registrations: {sum(len(log.registered) for log in logs)} "
        f"(duplicates refused: {sum(log.duplicates_refused for log in logs)})"
    )
    print(
        "gunicorn workers' RSS (MB): after warm-up "
        + ", ".join(f"{v}" for v in rss_warm)
        + "; after the run "
        + ", ".join(f"{v}" for v in rss_end)
    )
    print(
        f"CPU during the run: gunicorn workers {server_cpu:.1f} s ({server_cpu / elapsed:.2f} cores), this load "
        f"generator {client_cpu:.1f} s ({client_cpu / elapsed:.2f} cores)"
    )
    print(f"load average (1, 5, 15 min): at the start {measured['load']}; at the end {load_after}")
    print(f"errors: {len(errors)}" + "".join(f"\n  {e}" for e in errors[:20]))
    print(f"lost or doubled updates: {len(problems)}" + "".join(f"\n  {p}" for p in problems[:20]))
    print(f"tracebacks or errors in the server log: {len(tracebacks)}" + "".join(f"\n  {t}" for t in tracebacks[:10]))
    ok = not errors and not problems and not unclear and not tracebacks
    print(
        f"target (no errors, no lost updates, page-read p95 < 300 ms): {'met' if ok and read_p95 < 300 else 'NOT met'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
