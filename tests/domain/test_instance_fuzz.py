"""Property-based: no document makes validation fail with anything but InstanceError naming where."""

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.domain.instance_io import InstanceError, parse_instance

from .factories import body, instance_doc, need

BASE = instance_doc(
    [body("202011", "長野市", 36.6486, 138.1948, kind="city"), body("202029", "松本市", 36.2380, 137.9720)],
    [need("a", "202011", can_lead=True), need("b", "202029")],
    together=[("a", "b")],
    fixed=[{"need": "a", "mode": "lead"}],
)

json_scalars = (
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats(allow_nan=True) | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def paths(doc, prefix=()):
    """Every (path) into the document, so that a mutation can hit any field of any record."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from paths(v, (*prefix, i))


ALL_PATHS = [p for p in paths(BASE) if p]


def mutate(doc, path, value, delete):
    doc = copy.deepcopy(doc)
    target = doc
    for key in path[:-1]:
        target = target[key]
    if delete and isinstance(target, dict):
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return doc


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(ALL_PATHS), json_values, st.booleans()), min_size=1, max_size=3))
def test_any_mutation_is_either_valid_or_named(mutations):
    doc = BASE
    for path, value, delete in mutations:
        try:
            doc = mutate(doc, path, value, delete)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the path
    try:
        parse_instance(doc)
    except InstanceError as e:
        assert e.problems, "an InstanceError must list its problems"
        for problem in e.problems:
            assert ": " in problem, f"problem without a location: {problem!r}"


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_arbitrary_json_never_crashes(doc):
    try:
        parse_instance(doc)
    except InstanceError as e:
        assert e.problems
