"""The consortium optimiser (issue 3): group needs into joint-procurement groups at least total cost.

``optimise(instance)`` decomposes the instance into independent sub-problems (category x start year, prefecture
under ``same_prefecture``, connected components of "some lead could take both"), solves the small ones exactly
by enumeration and the rest as a facility-location MILP (HiGHS through highspy, or CBC through PuLP) after a
greedy + local-search plan, in worker processes when several are big, and returns a
:class:`~planner.domain.plan.Plan` with a proven lower bound. :class:`OptimiserOptions` holds every setting of a
run (types.py). Pure domain code: no Flask, no database. Measured figures and the design notes:
``bench/README.md``.
"""

from .driver import Cancelled, optimise
from .subproblems import Infeasible
from .types import SOLVERS, OptimiserOptions

__all__ = ["SOLVERS", "Cancelled", "Infeasible", "OptimiserOptions", "optimise"]
