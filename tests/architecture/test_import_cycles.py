"""No import cycles in planner/ (migrations aside): every import counts, at module level and inside functions, so an
import moved into a function to dodge a cycle still fails here (tests/architecture/imports.py reads them with ast).
Two modules that need each other share a piece that belongs below both: move it there (as domain/shares.py holds
the ratios and the yen split that allocation.py and formula_rule.py both use).
"""

from __future__ import annotations

from .imports import cycles, graph, path_within


def test_the_reader_sees_function_level_imports_and_skips_type_checking_ones():
    edges = graph()
    assert "planner.services.solving" in edges["planner.cli.solving"]  # imported inside solve_command
    assert "planner.domain.settled_plan" not in edges["planner.domain.settled"]  # under TYPE_CHECKING only


def test_no_import_cycles():
    edges = graph()
    found = cycles(edges)
    assert not found, "import cycles: " + "; ".join(" -> ".join(path_within(edges, c)) for c in found)
