"""The numeric tolerances of the optimiser and the cost-game solvers, named once with the reason for each value.

Costs are yen amounts of order 1e5..1e10 carried as floats (sums of prices times horizons and volumes), and the
LP/MIP solvers return values and duals within their own feasibility tolerances (HiGHS: 1e-7). A tolerance here
says how far apart two numbers may be and still mean the same; changing one changes which plans are proven
optimal or which columns are dropped, so each is a deliberate choice, not a guess.
"""

from __future__ import annotations

# --- yen amounts ----------------------------------------------------------------------------------------------

# Absolute leeway on a yen figure made of float sums: a millionth of a yen, far below the one-yen rounding of
# every figure shown, far above the float error of a sum of a few thousand amounts below 1e10 (about 1e-6 yen
# at worst is what it absorbs). Used where a float bound or excess is floored to whole yen, and as the smallest
# "better by" of an absolute comparison.
YEN_NOISE = 1e-6

# Relative leeway between two costs of the same plan computed along different paths (a bound, a sum over
# members, the solver's objective): 1e-9 of 1e10 yen is 10 yen at the very top of the range and a fraction of a
# yen for any single group, while float sums are exact to about 1e-15 relative.
COST_RELATIVE_NOISE = 1e-9

# Two prices of the same group closer than this (absolute, yen) are a tie: the first found is kept, so that
# the choice does not depend on float noise.
YEN_TIE = 1e-9

# A relative gap this small between the objective and the bound is float noise between two sums of the same
# costs, reported as zero.
GAP_NOISE = 1e-12

# The solver's reported objective and our own sum of its answer's column costs may differ by this much
# (relative, at least one yen's millionth) before its proof is distrusted: above HiGHS's 1e-7 feasibility
# tolerance times the few columns a plan holds, well below any real disagreement.
SOLVER_OBJECTIVE_AGREEMENT = 1e-6

# --- values in an LP / MIP solution ---------------------------------------------------------------------------

# A 0/1 column of a MIP answer (or a rounded LP) counts as chosen above one half: integral answers are within
# the solver's 1e-7 of 0 or 1, so any threshold strictly between works and the middle is the most robust.
CHOSEN = 0.5

# An LP column within this of 0 or 1 counts as integral: HiGHS's primal feasibility tolerance.
INTEGRAL = 1e-7

# An LP value above this is not zero (in the LP's support); one within this of a threshold is at it. The
# simplex returns exact zeros up to float noise of this order on values of order 1.
LP_VALUE_NOISE = 1e-9

# A facility whose LP opening y_f is below this is treated as closed when rounding the LP to a plan.
OPEN = 1e-6

# Columns whose reduced cost is at most this share of the LP bound join the restricted model that looks for a
# better incumbent: measured to keep the columns the optimum uses (bench/README.md) while the restricted model
# stays a small fraction of the full one.
NEAR_PRICED_SHARE = 2e-5

# The MIP gap of the auxiliary integer models (the restricted ones that only look for an incumbent): they prove
# nothing, so a tiny relative gap lets HiGHS stop once the answer is good to far below a yen per million.
AUXILIARY_MIP_GAP = 1e-6

# --- time -----------------------------------------------------------------------------------------------------

# Less time than this left (seconds) is no time at all: starting a solve would overrun the limit, and HiGHS is
# never given a smaller time limit than this (it treats 0 as "stop at once", which returns nothing useful).
TIME_SLIVER = 0.05

# --- cost-game LPs (nucleolus, least core, core projection) ------------------------------------------------------

# Feasibility tolerances of the scaled game LPs (costs divided by the largest standalone cost, so a value of 1
# is the biggest member): 1e-10 of that is a fraction of a yen, and the nucleolus's sequence of LPs compounds
# every slack it leaves. HiGHS's default 1e-7 would be some hundreds of yen on a large prefecture.
GAME_LP_FEASIBILITY = 1e-10

# A dual or slack of a scaled game LP beyond this marks a constraint as active (tight) / not.
GAME_LP_ACTIVE = 1e-9

# A vector whose distance to a span is below this (scaled units) lies in it (rank tests of the nucleolus).
GAME_SPAN_RESIDUAL = 1e-7

# --- geography ------------------------------------------------------------------------------------------------

# Distances pre-filtered with numpy within this many km of a radius are re-checked with the domain's own
# geography_allows, so that the optimiser, the separation oracle and group_violations never disagree on the
# boundary (numpy's haversine and the scalar one may differ in the last bits).
RADIUS_RECHECK_KM = 1e-3
