"""Assignment columns that no optimal plan uses, left out of the facility model before it is solved.

For a facility f = (option, line) with fixed cost F >= 0, a member i costs c_i = base_i + hb * v_i there, and
d_i = c_i - s_i is what i pays in f beyond going alone (s_i its standalone cost). The model's x_if is dropped
when all of these hold:

* i may stay alone (no override keeps it in a group; needs with a together partner never may),
* i is not one of the lead's own needs (the option's ``required``),
* d_i > 0, and
* every possible partner j of i in a group of two on f may stay alone and has F + d_i + d_j > 0. The partners
  are the option's required needs when it has any (a group needs one of them), else its other members.

Proof that every optimal solution of the model avoids such an x_if (so leaving it out keeps the optimum):
suppose one uses it, in a group G of facility f.
- |G| >= 3: take i out and let it go alone. G - {i} still has >= 2 members, keeps the lead's need (i is not
  required), breaks no apart pair and no together pair (i has none), and fits max_members. Its price on line f
  falls by exactly c_i; its true cost is at most that price; i alone costs s_i. The total changes by
  s_i - c_i = -d_i < 0: the solution was not optimal.
- |G| = 2, G = {i, j}: j is a possible partner, so splitting G into two standalone needs is allowed and
  changes the total by s_i + s_j - (F + c_i + c_j) = -(F + d_i + d_j) < 0: again not optimal. Closing f's copy
  may leave a later copy of the same option open while this one is closed; renumbering the copies (they are
  identical, and the rule above does not depend on the copy) restores the copy order at no cost.
The test is the same for every copy and uses only the instance's data, so it is valid for the LP relaxation's
bound too: the reduced model has the same integer optimum, and its LP bounds that optimum from below.
"""

from __future__ import annotations

from ..tolerances import COST_RELATIVE_NOISE
from .subproblems import Option, SubProblem

# A strict inequality is demanded with this relative margin so that rounding in the float costs can never turn
# an equality into a removal.
_MARGIN = COST_RELATIVE_NOISE


def kept_members(sp: SubProblem, opt: Option, usable: list[int], f: float, hb: float) -> list[int]:
    """The positions j (into ``opt.members``) of ``usable`` whose x column may be used on line (f, hb)."""
    d: dict[int, float] = {}
    for j in usable:
        i = opt.members[j]
        d[j] = opt.base[j] + hb * sp.volumes[i] - sp.standalone[i]
    required = set(opt.required)
    partners = [j for j in usable if opt.members[j] in required] if required else list(usable)
    if any(not sp.alone_ok[opt.members[j]] for j in partners):
        # A partner that cannot go alone: the pair argument does not apply, keep every column of this facility.
        return list(usable)
    lowest = sorted(partners, key=lambda j: d[j])[:2]
    kept = []
    for j in usable:
        i = opt.members[j]
        tol = _MARGIN * max(1.0, sp.standalone[i])
        if not sp.alone_ok[i] or i in required or d[j] <= tol:
            kept.append(j)
            continue
        others = [k for k in lowest if k != j]
        if others and f + d[j] + d[others[0]] <= tol:
            kept.append(j)
    return kept
