"""The settled plan as typed records: one JSON conversion, old plans still read, one member-lines reader."""

import copy
import dataclasses
import json

import pytest

from planner.domain.plan import is_settled_doc, plan_from_dict
from planner.domain.settled import Allocation, SubsidyEstimate, Totals, member_lines
from planner.domain.settled_plan import settled_plan_from_dict
from planner.domain.settlement import settle_plan

from .test_settlement import plan_and_instance


@pytest.fixture(scope="module")
def settled():
    inst, plan = plan_and_instance()
    return inst, settle_plan(inst, plan)


def test_groups_carry_typed_records_that_survive_the_plan_file(settled):
    _inst, plan = settled
    for g in plan.groups:
        assert isinstance(g.allocation, Allocation)
        assert all(isinstance(s, SubsidyEstimate) for s in g.subsidies.values())
    doc = json.loads(json.dumps(plan.to_dict(), ensure_ascii=False))
    back = settled_plan_from_dict(doc)
    assert [(g.allocation, g.subsidies) for g in back.groups] == [(g.allocation, g.subsidies) for g in plan.groups]
    assert back.to_dict() == doc


def test_a_plan_written_before_the_proof_fields_reads_as_not_proved(settled):
    _, plan = settled
    doc = plan.to_dict()
    for g in doc["groups"]:
        for key in ("min_excess_yen", "worst_coalition", "least_core_yen", "tightest_coalitions", "core"):
            g["allocation"].pop(key, None)
        g["allocation"]["exhaustive_check"] = True  # what such plans wrote
    back = settled_plan_from_dict(doc)
    proof = back.groups[0].allocation.proof
    assert not proof.exhaustive_check and proof.min_excess_yen is None and proof.tightest == ()


def test_shares_written_without_their_standalone_cost_take_the_plans_own(settled):
    """Old plans: the page and the documents both read the need's standalone cost from the plan (they used to
    differ: the page fell back to it, the PDF to 0)."""
    inst, plan = settled
    doc = plan.to_dict()
    for g in doc["groups"]:
        for share in g["allocation"]["shares"].values():
            del share["standalone_total_yen"]
    back = settled_plan_from_dict(doc)
    for g in back.groups:
        for line in member_lines(inst, g):
            assert line.standalone_total_yen == plan.need_standalone_yen[line.need_id]


def test_member_lines_and_totals(settled):
    inst, plan = settled
    g = plan.groups[0]
    lines = member_lines(inst, g)
    assert [ln.need_id for ln in lines] == list(g.members) and [ln.is_lead for ln in lines] == [True, False, False]
    for ln in lines:
        sub = g.subsidies[ln.need_id]
        assert ln.net_yen == ln.total_yen - sub.grant_yen - sub.special_tax_yen
        assert ln.standalone_net_yen == sub.standalone.net_yen
    t = Totals.of(lines)
    assert t.joint_yen == g.cost.total_yen and t.members == 3
    assert t.net_saving_yen == sum(ln.net_saving_yen for ln in lines)


def test_a_group_without_its_allocation_or_estimates_is_refused_when_read_as_settled(settled):
    """Settled is a type: a document whose groups lack the settlement fields is not read as a SettledPlan (the
    group named); ``plan_from_dict`` reads its optimiser part, which the settlement can settle again."""
    inst, plan = settled
    for field in ("allocation", "subsidies"):
        doc = copy.deepcopy(plan.to_dict())
        doc["groups"][1].pop(field)
        with pytest.raises(ValueError, match=f"グループ {plan.groups[1].id} .*{field}"):
            settled_plan_from_dict(doc)
    doc = plan.to_dict()
    for g in doc["groups"]:
        g.pop("allocation")
        g.pop("subsidies")
    assert not is_settled_doc(doc)
    again = settle_plan(inst, plan_from_dict(doc))
    assert again.to_dict() == plan.to_dict()


def test_a_settled_plan_is_frozen(settled):
    _, plan = settled
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.groups[0].allocation = None  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.status = "optimal"  # type: ignore[misc]


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda g: g["subsidies"]["a"].__setitem__("net_yen", 5), "実質負担 5円"),
        (lambda g: g["allocation"]["shares"]["a"].__setitem__("total_yen", "1,000"), "整数の円"),
        (lambda g: g["allocation"]["shares"].pop("b"), "参加団体 b"),
        (lambda g: g["subsidies"]["c"].pop("gross"), "負担額（gross）"),
    ],
)
def test_contradicting_records_are_refused_when_read(settled, breakage, message):
    _, plan = settled
    doc = copy.deepcopy(plan.to_dict())
    breakage(doc["groups"][0])
    with pytest.raises(ValueError, match="グループ g1") as e:
        settled_plan_from_dict(doc)
    assert message in str(e.value)
