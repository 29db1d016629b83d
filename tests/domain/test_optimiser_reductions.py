"""Model reductions of the optimiser (issue 3, radius targets): each keeps the optimum, checked against the
brute-force oracle on tiny instances and against the unreduced model on MILP-sized ones."""
from __future__ import annotations

import math
import random

import pytest

from planner.domain.optimiser import formulation
from planner.domain.optimiser.enumeration import solve_by_enumeration
from planner.domain.optimiser.formulation import build
from planner.domain.optimiser.milp import _solve, plan_value, solve_exact
from planner.domain.optimiser.pruning import kept_members
from planner.domain.optimiser.subproblems import Infeasible, decompose

from .test_optimiser_api import region_instance
from .test_optimiser_oracle import random_instance


def _x_columns(model):
    return sum(len(f.x) for f in model.facilities)


def _subproblems(seed):
    try:
        return decompose(random_instance(random.Random(seed)))
    except Infeasible:
        return []


@pytest.mark.parametrize("seed", range(80))
def test_pruned_model_keeps_the_enumerated_optimum(seed, monkeypatch):
    """The pruned model's integer optimum is the enumerated optimum; its LP still bounds it from below."""
    for sp in _subproblems(2000 + seed):
        if not sp.options:
            continue
        try:
            optimum, _ = solve_by_enumeration(sp)
        except Infeasible:
            continue
        if not math.isfinite(optimum):
            continue
        pruned = build(sp)
        lp = _solve(pruned, "highs", relax=True, time_limit=None)
        assert lp is not None and lp[0] <= optimum + 1e-6
        mip = _solve(pruned, "highs", relax=False, time_limit=None)
        assert mip[2] and mip[0] == pytest.approx(optimum, rel=1e-9, abs=1e-3)
        monkeypatch.setattr(formulation, "PRUNING", False)
        full = build(sp)
        monkeypatch.setattr(formulation, "PRUNING", True)
        assert _x_columns(pruned) <= _x_columns(full)


def test_pruning_removes_members_worse_off_than_alone_on_a_real_sized_component(monkeypatch):
    inst = region_instance(120, seed=5, geography={"type": "radius_km", "km": 90})
    sp = max(decompose(inst), key=lambda s: s.size)
    pruned = build(sp)
    monkeypatch.setattr(formulation, "PRUNING", False)
    full = build(sp)
    assert _x_columns(pruned) < _x_columns(full)
    # Every removed column is one the proof covers: its member pays more there than alone, is not the lead's.
    for fp, ff in zip(pruned.facilities, full.facilities):
        assert (fp.option, fp.copy, fp.line) == (ff.option, ff.copy, ff.line)
        opt = sp.options[ff.option]
        hb = next(h for k, _, h in opt.lines if k == ff.line)
        for i in set(ff.x) - set(fp.x):
            j = opt.members.index(i)
            assert i not in opt.required and sp.alone_ok[i]
            assert opt.base[j] + hb * sp.volumes[i] > sp.standalone[i]
    a = solve_exact(sp, warm=None, warm_value=math.inf, time_limit=None, gap=0.0, backend="highs")
    monkeypatch.setattr(formulation, "PRUNING", True)
    b = solve_exact(sp, warm=None, warm_value=math.inf, time_limit=None, gap=0.0, backend="highs")
    assert a.status == b.status == "optimal"
    assert b.objective == pytest.approx(a.objective, rel=1e-9)
    assert plan_value(sp, b.groups) == pytest.approx(b.objective, rel=1e-12)


def test_a_partner_that_cannot_go_alone_keeps_every_column():
    """The pair argument splits {i, j} into two standalone needs: not allowed when j must be in a group."""
    inst = region_instance(30, seed=7, geography={"type": "radius_km", "km": 90})
    sp = max(decompose(inst), key=lambda s: s.size)
    opt = next(o for o in sp.options if not o.required)
    usable = list(range(len(opt.members)))
    _, f, hb = opt.lines[0]
    # Make every member dearer than alone: all but pair-protected columns would go.
    sp.standalone = tuple(0.0 for _ in sp.standalone)
    assert kept_members(sp, opt, usable, f, hb) == []
    sp.alone_ok = tuple(i != opt.members[0] for i in range(sp.size))
    assert kept_members(sp, opt, usable, f, hb) == usable
