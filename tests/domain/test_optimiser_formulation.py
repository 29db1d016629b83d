"""The optimiser's model as data: rows labelled by constraint family and readable, the shared HiGHS builder, and the
options object that replaces module globals (issue 16, item 4)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from planner.domain.highs import LinearModel, SparseMatrix, load_model
from planner.domain.optimiser import OptimiserOptions, optimise
from planner.domain.optimiser.formulation import ASSIGN, FAMILIES, LINK, MIN_SIZE, Formulation, build
from planner.domain.optimiser.milp import _solve, plan_value, solve_exact
from planner.domain.optimiser.subproblems import decompose

from .test_optimiser_api import region_instance


def _largest(n_needs: int, seed: int, km: float = 90) -> object:
    inst = region_instance(n_needs, seed=seed, geography={"type": "radius_km", "km": km})
    return max(decompose(inst), key=lambda s: s.size)


def test_every_row_is_labelled_by_its_constraint_family():
    sp = _largest(40, seed=3)
    m = build(sp)
    counts = m.family_counts()
    assert set(counts) <= set(FAMILIES)
    assert sum(counts.values()) == m.n_rows == len(list(m.rows))
    # One assignment row per need, one link row per assignment column, one minimum-size row per facility.
    assert counts[ASSIGN] == sp.size
    assert counts[LINK] == sum(len(f.x) for f in m.facilities)
    assert counts[MIN_SIZE] == len(m.facilities)
    # The labels name the rows' own columns: assign[i] holds exactly need i's columns.
    labels = m.column_labels()
    for r in range(m.n_rows):
        if m.row_family[r] == ASSIGN:
            (i,) = m.row_key[r]
            _, _, idx, _ = next(row for k, row in enumerate(m.rows) if k == r)
            names = {labels[j] for j in idx}
            assert names and all(re.fullmatch(rf"(alone\[{i}\]|join\[{i},\d+,\d+,\d+\])", name) for name in names)


def test_describe_prints_the_model_readably():
    sp = _largest(12, seed=4)
    m = build(sp)
    text = m.describe(sp.need_ids)
    lines = text.splitlines()
    assert lines[0].startswith("minimise ")
    assert lines[1] == f"subject to ({m.n_rows} rows)"
    rows = [line for line in lines if line.startswith("  ")]
    assert len(rows) == m.n_rows
    assert f"  {ASSIGN}[0]: " in text and " = 1" in next(r for r in rows if r.startswith(f"  {ASSIGN}[0]: "))
    link = next(r for r in rows if r.startswith(f"  {LINK}["))
    assert re.fullmatch(r"  link\[\d+,\d+\]: join\[\d+,\d+,\d+,\d+\] - open\[\d+,\d+,\d+\] <= 0", link)
    assert lines[-1] == "needs: " + ", ".join(f"{i}={nid}" for i, nid in enumerate(sp.need_ids))


def test_the_array_model_holds_the_rows_as_written():
    sp = _largest(30, seed=6)
    m = build(sp)
    lm = m.linear_model(integer=True)
    assert lm.n_cols == m.n_cols and lm.n_rows == m.n_rows and lm.integer
    assert lm.matrix.rowwise
    for r, (lo, hi, idx, val) in enumerate(m.rows):
        a, b = lm.matrix.start[r], lm.matrix.start[r + 1]
        assert list(lm.matrix.index[a:b]) == idx and list(lm.matrix.value[a:b]) == val
        assert (lm.row_lower[r], lm.row_upper[r]) == (lo, hi)
    # Two copies side by side solve to twice the optimum (columns renumbered, families kept).
    single = _solve(m, "highs", relax=False, time_limit=None)
    double = Formulation.block_diagonal([m, m])
    assert double.n_cols == 2 * m.n_cols and double.family_counts() == {k: 2 * v for k, v in m.family_counts().items()}
    both = _solve(double, "highs", relax=False, time_limit=None)
    assert single.proven and both.proven
    assert both.bound == pytest.approx(2 * single.bound, rel=1e-9)


def test_the_builder_takes_rows_dense_or_triplets_alike():
    # min -x - 2y s.t. x + y <= 4, x - y >= -2, 0 <= x, y <= 3: optimum x = 1, y = 3.
    dense = [[1.0, 1.0], [1.0, -1.0]]
    by_rows = SparseMatrix.from_rows([([0, 1], [1.0, 1.0]), ([0, 1], [1.0, -1.0])])
    by_dense = SparseMatrix.from_dense(dense)
    by_triplets = SparseMatrix.from_triplets([1, 0, 1, 0], [1, 1, 0, 0], [-1.0, 1.0, 1.0, 1.0], 2)
    assert np.array_equal(by_rows.start, by_dense.start) and np.array_equal(by_rows.value, by_dense.value)
    assert not by_triplets.rowwise and list(by_triplets.start) == [0, 2, 4]
    for matrix in (by_rows, by_dense, by_triplets):
        model = LinearModel.of([-1.0, -2.0], [0, 0], [3, 3], [-math.inf, -2.0], [4.0, math.inf], matrix)
        h = load_model(model)
        h.run()
        assert list(h.getSolution().col_value) == pytest.approx([1.0, 3.0])
    with pytest.raises(ValueError, match="matrix"):
        LinearModel.of([1.0], [0.0], [1.0], [0.0, 0.0], [1.0, 1.0], by_rows)


def test_options_replace_the_module_switches():
    """Pruning and the LP shortcuts are options of a run; off, the answer is the same optimum."""
    sp = _largest(60, seed=5)
    fast = solve_exact(sp, warm=None, warm_value=math.inf, time_limit=None, gap=0.0, backend="highs")
    slow = solve_exact(
        sp,
        warm=None,
        warm_value=math.inf,
        time_limit=None,
        gap=0.0,
        backend="highs",
        pruning=False,
        lp_shortcuts=False,
    )
    assert fast.status == slow.status == "optimal"
    assert slow.objective == pytest.approx(fast.objective, rel=1e-9)
    assert plan_value(sp, slow.groups) == pytest.approx(slow.objective, rel=1e-12)
    assert build(sp, pruning=False).n_cols >= build(sp).n_cols


def test_optimise_takes_options_or_keywords_not_both():
    inst = region_instance(10, seed=1, geography={"type": "radius_km", "km": 60})
    by_keywords = optimise(inst, solver="highs", workers=1)
    by_options = optimise(inst, options=OptimiserOptions(solver="highs", workers=1, enumeration_max_needs=0))
    assert by_options.objective_yen == by_keywords.objective_yen
    assert by_options.stats["solver"] == "highs"
    with pytest.raises(TypeError):
        optimise(inst, gap=0.1, options=OptimiserOptions())
    with pytest.raises(ValueError, match="solver"):
        OptimiserOptions(solver="glpk")
    with pytest.raises(ValueError, match="gap"):
        optimise(inst, gap=1.0)


def test_the_optimiser_modules_import_one_another_without_a_cycle():
    """Records live in types.py so that no module imports back the one that imports it (assemble used to import
    SubResult from the driver under TYPE_CHECKING). Every relative import counts, TYPE_CHECKING ones too."""
    import ast
    from pathlib import Path

    import planner.domain.optimiser as package

    deps: dict[str, set[str]] = {}
    for f in Path(package.__file__).parent.glob("*.py"):
        found: set[str] = set()
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                found.update([node.module.split(".")[0]] if node.module else [a.name for a in node.names])
        deps[f.stem] = found
    assert deps["assemble"] <= {"subproblems", "types"} and deps["types"] == set()

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for d in deps.get(start, ()):
            if d == goal or (d not in seen and reaches(d, goal, seen | {d})):
                return True
        return False

    assert [m for m in deps if reaches(m, m, {m})] == []
