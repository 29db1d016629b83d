"""``planner solve`` and ``planner bench``: the optimiser on instance files, no database needed.

Bad input exits with status 2 and a message naming the record and field; the plan file is written atomically
(a temporary file renamed into place), so a failed run never leaves half a plan behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import click

from .app_context import fail
from .group import main

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHARED = PROJECT_ROOT.parent / "shared"


def write_json_atomically(path: Path, doc: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, indent=1)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _load_instance_or_exit(path: Path):
    from planner.domain.instance_io import InstanceError, load_instance

    try:
        return load_instance(path)
    except InstanceError as e:
        click.echo(f"エラー: インスタンスファイル {path} が不正です（invalid instance）:", err=True)
        for p in e.problems[:50]:
            click.echo(f"  - {p}", err=True)
        if len(e.problems) > 50:
            click.echo(f"  ... ほか {len(e.problems) - 50} 件", err=True)
        raise SystemExit(2) from e
    except OSError as e:
        fail(f"インスタンスファイル {path} を読めません: {e.strerror or e}")


def _load_rules_or_exit(path: Path | None, what: str = "補助制度ルール"):
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            rules = json.load(f)
    except json.JSONDecodeError as e:
        fail(f"{what} {path} が JSON として読めません（{e.lineno} 行 {e.colno} 列: {e.msg}）")
    except OSError as e:
        fail(f"{what} {path} を読めません: {e.strerror or e}")
    if not isinstance(rules, dict):
        fail(f"{what} {path}: JSON オブジェクトではありません")
    return rules


def _load_effect_inputs_or_exit(path: Path | None, instance_file: Path):
    """The effect model (the file given, or the shipped one) and the instance file's optional effect inputs."""
    from planner.domain.effects import (
        EffectModelError,
        default_effect_model_doc,
        inputs_from_instance_doc,
        parse_effect_model,
    )

    try:
        doc = _load_rules_or_exit(path, "導入効果モデル") if path is not None else default_effect_model_doc()
        model = parse_effect_model(doc)
    except EffectModelError as e:
        click.echo(f"エラー: 導入効果モデル {path or '（同梱）'} が不正です:", err=True)
        for p in e.problems:
            click.echo(f"  - {p}", err=True)
        raise SystemExit(2) from e
    with open(instance_file, encoding="utf-8") as f:
        baselines, staff_costs, problems = inputs_from_instance_doc(json.load(f))
    if problems:
        click.echo(f"エラー: インスタンスファイル {instance_file} が不正です（invalid instance）:", err=True)
        for p in problems:
            click.echo(f"  - {p}", err=True)
        raise SystemExit(2)
    return model, baselines, staff_costs


@main.command(
    "solve",
    help="インスタンスファイルを最適化し、計画（按分・補助金見込額付き）を JSON で書き出します。"
    "時間制限で打ち切った場合も終了コード 0（計画の status が time_limit）。",
)
@click.argument("instance_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="出力する計画ファイル (PLAN.json)",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="計算時間の上限（秒）。超えたら最良の計画と証明済みの下界を返す",
)
@click.option(
    "--gap",
    type=click.FloatRange(min=0, max=1, max_open=True),
    default=0.0,
    show_default=True,
    help="許容する相対ギャップ (objective - bound) / objective",
)
@click.option(
    "--solver",
    type=click.Choice(["auto", "highs", "cbc"]),
    default="auto",
    show_default=True,
    help="MILP ソルバー（auto は HiGHS、なければ CBC）",
)
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="補助制度ルールの JSON（省略時は同梱の最新版）",
)
@click.option(
    "--effects",
    "effects_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="導入効果モデルの JSON（省略時は同梱の最新版）",
)
@click.option(
    "--core",
    type=click.Choice(["report", "adjust", "rule"]),
    default=None,
    help="コア調整: report は按分方法どおり（公平性の証明を記載）、adjust は最も近いコア内の配分へ調整、"
    "rule はコアと実質負担の条件を満たす最も近い割合（5%刻み、次に1%刻み）、なければ調整。"
    "省略時はインスタンスの allocation.core",
)
def solve_command(
    instance_file: Path,
    out: Path,
    time_limit: float | None,
    gap: float,
    solver: str,
    rules_file: Path | None,
    effects_file: Path | None,
    core: str | None,
) -> None:
    from planner.domain.allocation import AllocationError
    from planner.domain.optimiser import Infeasible
    from planner.domain.subsidies import SubsidyRulesError
    from planner.services.solving import EffectInputs, SolveProgress, solve_and_settle

    instance = _load_instance_or_exit(instance_file)
    rules = _load_rules_or_exit(rules_file)
    effect_model, baselines, staff_costs = _load_effect_inputs_or_exit(effects_file, instance_file)
    started = time.perf_counter()
    optimised = started

    def on_progress(event: SolveProgress) -> None:
        nonlocal optimised
        if event.stage == "solved":
            optimised = time.perf_counter()

    try:
        plan = solve_and_settle(
            instance,
            rules=rules,
            core=core,
            effects=EffectInputs(effect_model, baselines, staff_costs),
            time_limit=time_limit,
            gap=gap,
            solver=solver,
            progress=on_progress,
        )
    except Infeasible as e:
        fail(f"条件を満たす計画がありません（infeasible）: {e}")
    except SubsidyRulesError as e:
        click.echo(f"エラー: 補助制度ルール {rules_file} が不正です:", err=True)
        for p in e.problems:
            click.echo(f"  - {p}", err=True)
        raise SystemExit(2) from e
    except AllocationError as e:  # e.g. 人口割 with a body whose population is missing
        click.echo(f"エラー: 負担金の按分ができません: {e}", err=True)
        raise SystemExit(2) from e
    write_json_atomically(out, plan.to_dict())
    saving = plan.standalone_total_yen - plan.objective_yen
    joint = sum(1 for g in plan.groups if g.mode != "standalone")
    click.echo(
        f"状態 status: {plan.status}  総費用 objective: {plan.objective_yen:,}円  "
        f"下界 bound: {plan.lower_bound_yen:,}円  ギャップ gap: {plan.gap:.4%}  "
        f"{plan.solve_seconds:.2f} 秒"
    )
    click.echo(
        f"共同調達グループ {joint}、単独 {len(plan.groups) - joint}、単独導入との差 {saving:,}円"
        f"（{saving / plan.standalone_total_yen:.1%} 削減）"
        if plan.standalone_total_yen
        else ""
    )
    settled = time.perf_counter()
    click.echo(fairness_summary(plan))
    click.echo(f"最適化 {optimised - started:.2f} 秒、按分・公平性の証明・補助金見込 {settled - optimised:.2f} 秒")
    click.echo(f"計画を {out} に書き出しました（按分・補助金見込額・導入効果の見込み付き）")


def fairness_summary(plan) -> str:
    """Two lines: how many joint groups were proved, how many were outside the core as the method splits them, how
    many follow a stated formula and how many were adjusted member by member, how many stay outside the core and
    why, and how many members pay more than alone; then the net figures (without and with the grant).

    A group outside the core is named for its reason, never all of them 「コアが空」: its core is empty (the least
    core value is negative: no split at all keeps every coalition), the net guarantee won over the core (core
    "adjust" or "rule"), or its method's own shares were kept (core "report": no adjustment was asked for)."""
    joint = [g for g in plan.groups if len(g.members) > 1]
    proved = sum(1 for g in joint if g.allocation.exhaustive_check)
    before = sum(1 for g in joint if not (g.allocation.unadjusted_proof or g.allocation.proof).in_core)
    adjusted = sum(1 for g in joint if g.allocation.adjusted)
    formula = sum(1 for g in joint if isinstance(g.allocation.rule, Mapping))
    outside = [g for g in joint if not g.allocation.in_core]
    empty = sum(1 for g in outside if g.allocation.proof.core_empty)
    kept = sum(1 for g in outside if not g.allocation.proof.core_empty and g.allocation.core == "report")
    net_won = len(outside) - empty - kept
    reasons = [f"コアが空 {empty}", f"実質負担の保証を優先 {net_won}"]
    if kept:
        reasons.append(f"コア調整なしの按分（core report） {kept}")
    over = sum(1 for g in joint for s in g.allocation.shares if s.total_yen > s.standalone_total_yen)
    net_over = sum(
        1 for g in joint for e in g.subsidies.values() if e.net_without_grant_yen > e.standalone_net_without_grant_yen
    )
    worse = [(g, e) for g in joint for e in g.subsidies.values() if e.worse_off_if_grant_awarded_yen]
    return (
        f"公平性: 共同グループ {len(joint)}、厳密に証明 {proved}、按分方法どおりではコア外 {before}、"
        f"割合どおり（協定書に記載の算定方法） {formula}、団体ごとに調整 {adjusted}、"
        f"最終的にコア外 {len(outside)}（うち{'、'.join(reasons)}）、"
        f"単独より高い団体 {over}\n"
        f"実質負担: 補助金なしで単独より高い団体 {net_over}、補助金が採択された場合に単独より不利な団体 {len(worse)}"
        f"（合計 {sum(e.worse_off_if_grant_awarded_yen for _, e in worse):,}円）"
    )


# --- bench ------------------------------------------------------------------------------------------------------


def _cpu_seconds() -> float:
    """User + system time of this process and its finished worker processes (the machine is shared, so wall
    time alone says little)."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


METHODS = ("colgen", "previous")  # the optimiser as it is, and with column generation off (the method before it)
TRACE_POINTS = 16  # at most this many (time, incumbent, bound) points of a run are printed


def calibration_seconds() -> float:
    """Seconds a fixed pure-Python loop takes now: printed beside every benchmark, since the machine is shared and
    its speed moves with the other jobs (the same loop took 1.0-2.1 s on this machine)."""
    started = time.perf_counter()
    total = 0.0
    for i in range(10**7):
        total += i * 1.000001
    return round(time.perf_counter() - started, 2)


def bench_one(
    path: str, time_limit: float | None, solver: str, gap: float = 0.0, method: str = "colgen", baselines: bool = True
) -> dict:
    """Measure one instance in this (fresh) process: optimiser (with its bound and incumbent over time), then the
    three baselines."""
    import resource

    from planner.domain.baselines import greedy_merging, prefecture_practice, standalone_plan
    from planner.domain.instance_io import load_instance
    from planner.domain.optimiser import OptimiserOptions, optimise

    instance = load_instance(path)
    trace: list[tuple[float, int | None, int | None]] = []

    def progress(p: dict) -> None:
        point = (round(p["elapsed"], 2), p["incumbent_yen"], p["bound_yen"])
        if not trace or trace[-1][1:] != point[1:]:
            trace.append(point)

    options = OptimiserOptions(
        solver=solver,
        time_limit=time_limit,
        gap=gap,
        column_generation=method == "colgen",
        colgen_under_time_limit=method == "colgen",
    )
    started = time.perf_counter()
    cpu_before = _cpu_seconds()
    plan = optimise(instance, options=options, progress=progress)
    wall = time.perf_counter() - started
    trace.append((round(wall, 2), plan.objective_yen, plan.lower_bound_yen))  # as the plan states them
    # Worker processes start from a fork server, not from this process: they report their own usage in the stats.
    cpu = _cpu_seconds() - cpu_before + plan.stats.get("worker_cpu_seconds", 0.0)
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = plan.stats.get("worker_peak_rss_mb", 0.0) * 1024
    compared = {}
    for name, func in (
        ("standalone", standalone_plan),
        ("prefecture", prefecture_practice),
        ("greedy", greedy_merging),
    ):
        if not baselines:
            break
        t = time.perf_counter()
        total = func(instance).objective_yen
        compared[name] = {"objective_yen": total, "seconds": round(time.perf_counter() - t, 2)}
    return {
        "instance": Path(path).name,
        "method": method,
        "needs": len(instance.needs),
        "subproblems": plan.stats["subproblems"],
        "largest_subproblem": plan.stats["largest_subproblem_needs"],
        "by_method": plan.stats["subproblems_by_method"],
        "status": plan.status,
        "objective_yen": plan.objective_yen,
        "lower_bound_yen": plan.lower_bound_yen,
        "gap": plan.gap,
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "peak_rss_mb": round(self_kb / 1024, 1),
        "peak_rss_worker_mb": round(child_kb / 1024, 1),
        "solver": plan.stats["solver"],
        "phase_seconds": plan.stats["phase_seconds"],
        "solve_phases": plan.stats.get("solve_phases", {}),
        "components": plan.stats.get("components", []),
        "trace": trace,
        "baselines": compared,
    }


def _default_instances(tmp: Path) -> list[Path]:
    bench = SHARED / "bench"
    if not bench.is_dir():
        click.echo(
            f"../shared が見つからないため既定のベンチマークは実行できません（{SHARED}）。--instances を指定してください。"
        )
        return []
    files = sorted(bench.glob("*.json"))
    tool = SHARED / "tools" / "make_instance.py"
    if tool.exists():
        out = tmp / "national_radius100.json"
        subprocess.run(
            [sys.executable, str(tool), "--geography", "radius_km", "--km", "100", "-o", str(out)],
            check=True,
            capture_output=True,
        )
        files.append(out)
    return files


@main.command(
    "bench",
    help="ベンチマーク: 各インスタンスを新しいプロセスで最適化し、ニーズ数・部分問題数・総費用・下界・"
    "ギャップ・実時間・最大メモリ（RSS）と 3 つの比較基準に対する削減額を表示します。",
)
@click.option(
    "--instances",
    "instances",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="インスタンスファイルまたはフォルダ（複数可）。省略時は ../shared/bench/*.json と全国 100 km 半径",
)
@click.option(
    "--time-limit", type=click.FloatRange(min=0, min_open=True), default=None, help="各インスタンスの上限（秒）"
)
@click.option(
    "--gap",
    type=click.FloatRange(min=0, max=1, max_open=True),
    default=0.0,
    show_default=True,
    help="許容する相対ギャップ",
)
@click.option("--solver", type=click.Choice(["auto", "highs", "cbc"]), default="auto", show_default=True)
@click.option(
    "--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="結果を JSON でも書き出す"
)
@click.option(
    "--compare",
    is_flag=True,
    help="同じ実行で、列生成を切った従来の方法と、同じモデルの素の HiGHS MILP（分野×導入年度ごと）とも比較します",
)
def bench_command(
    instances: tuple[Path, ...],
    time_limit: float | None,
    gap: float,
    solver: str,
    json_out: Path | None,
    compare: bool,
) -> None:
    with tempfile.TemporaryDirectory(prefix="planner-bench-") as tmpdir:
        files: list[Path] = []
        for p in instances:
            files.extend(sorted(p.glob("*.json")) if p.is_dir() else [p])
        if not instances:
            files = _default_instances(Path(tmpdir))
        if not files:
            return
        click.echo(
            "peak memory: ru_maxrss (getrusage) of the measuring process / of its largest worker process; "
            f"time limit {time_limit or 'none'} s, gap {gap}, solver {solver}"
        )
        rows = []
        for f in files:
            click.echo(_machine_line())
            for method in METHODS if compare else METHODS[:1]:
                code = (
                    "import json, sys; from planner.cli.solving import bench_one; "
                    "print(json.dumps(bench_one(sys.argv[1], None if sys.argv[2] == 'none' else float(sys.argv[2]), "
                    "sys.argv[3], float(sys.argv[4]), sys.argv[5], sys.argv[6] == '1')))"
                )
                args = [str(f), str(time_limit or "none"), solver, str(gap), method, "0" if method != "colgen" else "1"]
                proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
                if proc.returncode != 0:
                    click.echo(f"{f.name}: 失敗 (exit {proc.returncode}) {proc.stderr.strip().splitlines()[-1:]}")
                    continue
                row = json.loads(proc.stdout.strip().splitlines()[-1])
                rows.append(row)
                click.echo(_format_row(row))
            if compare:
                limit = time_limit or PLAIN_DEFAULT_LIMIT
                row = _in_fresh_process("plain_milp(sys.argv[1], float(sys.argv[2]))", str(f), str(limit))
                rows.append(row | {"method": "plain_milp"})
                click.echo(_format_plain(row))
            click.echo(_machine_line())
    if json_out is not None:
        write_json_atomically(json_out, {"rows": rows})


PLAIN_DEFAULT_LIMIT = 300.0


def _machine_line() -> str:
    load = os.getloadavg()
    return (
        f"[machine] {time.strftime('%H:%M:%S', time.gmtime())} UTC, load average {load[0]:.1f} {load[1]:.1f} "
        f"{load[2]:.1f} on {os.cpu_count()} cores, calibration loop {calibration_seconds():.2f} s"
    )


def _format_plain(r: dict) -> str:
    if r.get("skipped"):
        return f"{r['instance']} [plain_milp]: not built ({r['skipped']})"
    return (
        f"{r['instance']} [plain_milp]: {r['models']} models (category x start year), {r['unfinished']} not proven "
        f"within the limit, objective {r['objective_yen']:,}, bound {r['bound_yen']:,}, gap {r['gap']:.4%}, "
        f"{r['seconds']:.2f} s wall, peak RSS {r['peak_rss_mb']:.0f} MB"
    )


def _format_row(r: dict) -> str:
    obj = r["objective_yen"]
    parts = [
        f"{r['instance']} [{r.get('method', 'colgen')}]: needs {r['needs']}, sub-problems {r['subproblems']} "
        f"(largest {r['largest_subproblem']}; {r.get('by_method', {})}), "
        f"{r['status']}, objective {obj:,}, bound {r['lower_bound_yen']:,}, gap {r['gap']:.4%}, "
        f"{r['wall_seconds']:.2f} s wall ({r['cpu_seconds']:.1f} s CPU), peak RSS {r['peak_rss_mb']:.0f} MB / worker {r['peak_rss_worker_mb']:.0f} MB"
    ]
    trace = r.get("trace") or []
    if trace:
        step = max(1, -(-len(trace) // TRACE_POINTS))
        shown = trace[::step] + ([trace[-1]] if (len(trace) - 1) % step else [])
        parts.append(
            "  trace (s: incumbent / bound / gap): "
            + "; ".join(
                f"{t:.1f}: {inc:,} / {bnd:,} / {(inc - bnd) / inc:.3%}" if inc and bnd is not None else f"{t:.1f}: -"
                for t, inc, bnd in shown
            )
        )
    parts.extend(_where_the_time_goes(r))
    for name, b in r["baselines"].items():
        base = b["objective_yen"]
        parts.append(f"  vs {name}: {base:,} -> saving {base - obj:,} ({(base - obj) / base:.2%})")
    return "\n".join(parts)


def _where_the_time_goes(r: dict) -> list[str]:
    """The run's phases (wall seconds in the parent), each method's steps summed over its sub-problems (wall
    seconds in whichever process ran them, and their CPU seconds), and the timeline of the biggest ones."""
    lines = []
    if r.get("phase_seconds"):
        lines.append("  phases (s wall, parent): " + ", ".join(f"{k} {v:.2f}" for k, v in r["phase_seconds"].items()))
    for method, steps in (r.get("solve_phases") or {}).items():
        rest = {k: v for k, v in steps.items() if k not in ("count", "seconds", "cpu")}
        lines.append(
            f"  {method}: {int(steps['count'])} sub-problems, {steps['seconds']:.2f} s wall summed, "
            f"{steps['cpu']:.2f} s CPU" + ("; " + ", ".join(f"{k} {v:.2f}" for k, v in rest.items()) if rest else "")
        )
    for c in r.get("components") or []:
        when = f"{c['start']:.1f}-{c['end']:.1f} s" if c.get("start") is not None else "-"
        steps = ", ".join(f"{k} {v:.2f}" for k, v in c["phases"].items())
        lines.append(
            f"  component {c['needs']} needs: {c['method']} {c['status']}, {when} ({c['cpu']:.1f} s CPU), "
            f"gap {c['gap']:.3%}; {steps}"
        )
    return lines


# --- the settlement targets (issue 11) -------------------------------------------------------------------------

TARGET_HALF_OF_PLAIN = 0.5  # national_radius60 end to end <= half the plain facility-location MILP
TARGET_HOKKAIDO_NUCLEOLUS_S = 15.0
TARGET_DEMO_CLICK_S = 5.0


def end_to_end(path: str, method: str | None = None, core: str | None = None) -> dict:
    """``planner solve`` in this (fresh) process without writing the file: optimise, then settle (allocation, the
    exact proof of fairness, core adjustment, subsidy estimates), each timed."""
    from planner.domain.instance_io import load_instance
    from planner.services.solving import SolveProgress, solve_and_settle

    instance = load_instance(path)
    started = time.perf_counter()
    optimised = started

    def on_progress(event: SolveProgress) -> None:
        nonlocal optimised
        if event.stage == "solved":
            optimised = time.perf_counter()

    plan = solve_and_settle(instance, method=method, core=core, progress=on_progress)
    settled = time.perf_counter()
    joint = [g for g in plan.groups if len(g.members) > 1]
    return {
        "instance": Path(path).name,
        "method": method or instance.allocation.method,
        "core": core or instance.allocation.core,
        "status": plan.status,
        "solve_seconds": round(optimised - started, 2),
        "settle_seconds": round(settled - optimised, 2),
        "total_seconds": round(settled - started, 2),
        "joint_groups": len(joint),
        "largest_group": max((len(g.members) for g in joint), default=0),
        "proved": sum(1 for g in joint if g.allocation.exhaustive_check),
        "outside_core_unadjusted": sum(
            1 for g in joint if not (g.allocation.unadjusted_proof or g.allocation.proof).in_core
        ),
        "outside_core": sum(1 for g in joint if not g.allocation.in_core),
        "members_over_standalone": sum(
            1 for g in joint for s in g.allocation.shares if s.total_yen > s.standalone_total_yen
        ),
        "formula_groups": sum(1 for g in joint if isinstance(g.allocation.rule, Mapping)),
        "adjusted_groups": sum(1 for g in joint if g.allocation.rule == "adjusted"),
        "members_net_over_standalone_without_grant": sum(
            1
            for g in joint
            for e in g.subsidies.values()
            if e.net_without_grant_yen > e.standalone_net_without_grant_yen
        ),
        "members_worse_off_if_grant_awarded": sum(
            1 for g in joint for e in g.subsidies.values() if e.worse_off_if_grant_awarded_yen
        ),
    }


PLAIN_MAX_COLUMNS = 1_500_000  # a block model this big would take the plain MILP's process past 1 GB


def plain_milp(path: str, time_limit: float, per_component: bool = False) -> dict:
    """The yardstick: the textbook facility-location MILP of the instance, solved by HiGHS branch and bound in this
    process -- one model per category x start year (the independent sub-problems of cost-model.md), made of the
    optimiser's own formulation of every candidate (lead, mode, line) without pruning, heuristic, LP shortcut or
    enumeration. ``per_component`` solves the optimiser's connected components one by one instead (a stronger
    yardstick: the component split is itself part of the optimiser's work). Each model is built, solved and
    dropped in turn; a block whose model would pass PLAIN_MAX_COLUMNS is not built at all (reported)."""
    import math
    import resource

    from planner.domain.instance_io import load_instance
    from planner.domain.optimiser import formulation, milp
    from planner.domain.optimiser.driver import model_columns
    from planner.domain.optimiser.subproblems import decompose

    instance = load_instance(path)
    started = time.perf_counter()
    deadline = started + time_limit
    components = decompose(instance)
    blocks: dict = {}
    for sp in components:
        key = id(sp) if per_component else (sp.category, sp.start_year)
        blocks.setdefault(key, []).append(sp)
    widest = max((sum(model_columns(sp) + sp.size for sp in parts) for parts in blocks.values()), default=0)
    base = {"instance": Path(path).name, "models": len(blocks), "components": len(components)}
    if widest > PLAIN_MAX_COLUMNS:
        return base | {
            "skipped": f"the largest model would have about {widest:,} columns",
            "per_component": per_component,
        }
    unfinished = 0
    objective = bound = 0.0
    for parts in blocks.values():
        model = formulation.Formulation.block_diagonal([formulation.build(sp, pruning=False) for sp in parts])
        alone = sum(sum(sp.standalone) for sp in parts)
        left = deadline - time.perf_counter()
        result = milp._solve(model, "highs", relax=False, time_limit=left) if left > 0 else None
        if not (result and result[2]):
            unfinished += 1
        if result is None or result[1] is None:
            objective += alone  # no answer in time: everyone alone is the plan this method has
            bound += max(0.0, result[0]) if result is not None and math.isfinite(result[0]) else 0.0
            continue
        value = sum(c * v for c, v in zip(model.cost, result[1], strict=True))
        objective += value
        bound += min(value, result[0]) if math.isfinite(result[0]) else 0.0
    return base | {
        "unfinished": unfinished,
        "objective_yen": round(objective),
        "bound_yen": math.floor(bound),
        "gap": (objective - bound) / objective if objective else 0.0,
        "seconds": round(time.perf_counter() - started, 2),
        "time_limit": time_limit,
        "per_component": per_component,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def demo_click_to_plan() -> dict:
    """The demo scenario's 計画を作成: the web job (planner.jobs.runner.run_solve: build the instance from the
    database, optimise, settle, persist) on a fresh SQLite database made by init-db and the demo loader."""
    import uuid

    from sqlmodel import Session

    from planner.db.models import Scenario, utcnow
    from planner.db.rows import fetch
    from planner.db.session import make_engine
    from planner.jobs.runner import run_solve
    from planner.jobs.state import iso
    from planner.services.demo import load_demo
    from planner.services.init_db import init_database

    with tempfile.TemporaryDirectory(prefix="planner-demo-bench-") as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        init_database(engine)
        with Session(engine) as session:
            report = load_demo(session)
            session.commit()
            scenario = fetch(session, Scenario, report.scenario_id)
            job_id = uuid.uuid4().hex
            scenario.status, scenario.job_id = "queued", job_id
            scenario.progress = {"runner": "thread", "queued_at": iso(utcnow())}
            session.add(scenario)
            session.commit()
        started = time.perf_counter()
        status = run_solve(engine, report.scenario_id, job_id)
        seconds = time.perf_counter() - started
        with Session(engine) as session:
            progress = dict(fetch(session, Scenario, report.scenario_id).progress or {})
        engine.dispose()
    phases = progress.get("phase_seconds") or {}
    return {"status": status, "needs": report.needs, "seconds": round(seconds, 2), "phases": phases}


def _in_fresh_process(call: str, *args: str) -> dict:
    code = f"import json, sys; from planner.cli.solving import *; print(json.dumps({call}))"
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise click.ClickException(f"{call}: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


@main.command(
    "bench-settle",
    help="按分・公平性の証明の目標を測ります（各測定は新しいプロセス）: national_radius60 の"
    "最適化＋按分（コア調整）と素の施設配置 MILP の比較、北海道の仁（厳密に証明）、"
    "デモのシナリオの「計画を作成」（Web のジョブと同じ処理）。",
)
@click.option(
    "--bench-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="ベンチマークのインスタンスのフォルダ（省略時は ../shared/bench）",
)
@click.option(
    "--plain-limit", type=click.FloatRange(min=1), default=600.0, show_default=True, help="素の MILP の時間上限（秒）"
)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def bench_settle_command(bench_dir: Path | None, plain_limit: float, json_out: Path | None) -> None:
    bench = bench_dir or SHARED / "bench"
    if not (bench / "national_radius60.json").exists():
        raise click.ClickException(f"{bench} に national_radius60.json がありません（--bench-dir を指定してください）")
    click.echo(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (the machine may be shared)")
    rows: dict = {}
    national = str(bench / "national_radius60.json")
    e2e = _in_fresh_process("end_to_end(sys.argv[1], None, 'rule')", national)  # the default for new scenarios
    plain = _in_fresh_process("plain_milp(sys.argv[1], float(sys.argv[2]))", national, str(plain_limit))
    by_component = _in_fresh_process("plain_milp(sys.argv[1], float(sys.argv[2]), True)", national, str(plain_limit))
    rows["national_radius60"] = {"end_to_end": e2e, "plain_milp": plain, "plain_milp_per_component": by_component}
    ratio = e2e["total_seconds"] / plain["seconds"] if plain["seconds"] else float("inf")
    click.echo(
        f"national_radius60 ({e2e['method']}, core {e2e['core']}): solve {e2e['solve_seconds']:.2f} s + "
        f"settle {e2e['settle_seconds']:.2f} s = {e2e['total_seconds']:.2f} s end to end; "
        f"{e2e['joint_groups']} joint groups (largest {e2e['largest_group']}), proved {e2e['proved']}, "
        f"outside the core before/after adjustment {e2e['outside_core_unadjusted']}/{e2e['outside_core']}; "
        f"shares by a stated formula {e2e['formula_groups']}, adjusted member by member {e2e['adjusted_groups']}; "
        f"members paying more net than alone without the grant {e2e['members_net_over_standalone_without_grant']}, "
        f"worse off if the grant is awarded {e2e['members_worse_off_if_grant_awarded']}"
    )
    more = f" ({plain['unfinished']} components unfinished at the limit)" if plain["unfinished"] else ""
    click.echo(
        f"  plain facility-location MILP ({plain['models']} models, one per category x start year): "
        f"{plain['seconds']:.2f} s{more}; end to end / plain = {ratio:.2f} "
        f"(target <= {TARGET_HALF_OF_PLAIN}: {'met' if ratio <= TARGET_HALF_OF_PLAIN else 'NOT met'})"
    )
    ratio_c = e2e["total_seconds"] / by_component["seconds"] if by_component["seconds"] else float("inf")
    click.echo(
        f"  the same MILP per connected component ({by_component['components']} models, the optimiser's "
        f"split): {by_component['seconds']:.2f} s; end to end / that = {ratio_c:.2f}"
    )
    hokkaido = bench / "hokkaido.json"
    if hokkaido.exists():
        h = _in_fresh_process("end_to_end(sys.argv[1], 'nucleolus')", str(hokkaido))
        rows["hokkaido_nucleolus"] = h
        ok = h["total_seconds"] <= TARGET_HOKKAIDO_NUCLEOLUS_S and h["proved"] == h["joint_groups"]
        click.echo(
            f"hokkaido nucleolus (core {h['core']}): solve {h['solve_seconds']:.2f} s + settle "
            f"{h['settle_seconds']:.2f} s = {h['total_seconds']:.2f} s; proved {h['proved']} of "
            f"{h['joint_groups']} joint groups, outside the core {h['outside_core']} "
            f"(target <= {TARGET_HOKKAIDO_NUCLEOLUS_S:g} s, all proved: {'met' if ok else 'NOT met'})"
        )
    demo = _in_fresh_process("demo_click_to_plan()")
    rows["demo_click_to_plan"] = demo
    phases = ", ".join(f"{k} {v:.2f} s" for k, v in demo["phases"].items()) if demo["phases"] else ""
    click.echo(
        f"demo click-to-plan (web job, {demo['needs']} needs): {demo['status']} in {demo['seconds']:.2f} s"
        f"{' (' + phases + ')' if phases else ''} (target <= {TARGET_DEMO_CLICK_S:g} s: "
        f"{'met' if demo['seconds'] <= TARGET_DEMO_CLICK_S else 'NOT met'})"
    )
    if json_out is not None:
        write_json_atomically(json_out, rows)
