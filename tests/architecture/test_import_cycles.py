"""No import cycles in planner/ (migrations aside): every import counts, at module level and inside functions, so an
import moved into a function to dodge a cycle still fails here (tests/architecture/imports.py reads them with ast).

``ALLOWED`` lists the cycles that remain, each to be removed (the list only shrinks); planner/reports and
planner/services must never appear in it.
"""

from __future__ import annotations

from .imports import cycles, graph, path_within

# Cycles outside reports/ and services/ that other work owns; remove an entry with its cycle.
ALLOWED: list[frozenset[str]] = [
    # the 按分方法 formula rule and the allocation it weighs (issue 26, net fairness)
    frozenset({"planner.domain.allocation", "planner.domain.formula_rule"}),
    # the xlsx scanner reads the tabular reader's limits, which call the scanner
    frozenset({"planner.importers.tabular", "planner.importers.xlsx_scan"}),
]


def test_the_reader_sees_function_level_imports_and_skips_type_checking_ones():
    edges = graph()
    assert "planner.services.solving" in edges["planner.cli.solving"]  # imported inside solve_command
    assert "planner.domain.settled_plan" not in edges["planner.domain.settled"]  # under TYPE_CHECKING only


def test_no_import_cycles_outside_the_allowed_ones():
    edges = graph()
    found = cycles(edges)
    unexpected = [c for c in found if frozenset(c) not in ALLOWED]
    assert not unexpected, "import cycles: " + "; ".join(" -> ".join(path_within(edges, c)) for c in unexpected)
    gone = [sorted(c) for c in ALLOWED if list(sorted(c)) not in found]
    assert not gone, f"cycles no longer there: remove them from ALLOWED: {gone}"


def test_reports_and_services_are_never_allowed_a_cycle():
    for cycle in ALLOWED:
        assert not any(m.startswith(("planner.reports", "planner.services")) for m in cycle), sorted(cycle)
