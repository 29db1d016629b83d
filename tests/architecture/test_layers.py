"""Imports go down the layers of docs/architecture.md, never up: the pure domain imports nothing of the project
outside itself; reports and services know nothing of Flask; jobs build on services; the web and the command line
are at the top."""

from __future__ import annotations

from .imports import graph

RANK = {
    "domain": 0,
    "config": 0,
    "db": 1,
    "masterdata": 1,
    "charts": 1,
    "importers": 2,
    "reports": 2,
    "services": 3,
    "jobs": 4,
    "web": 5,
    "cli": 5,
    "app": 5,
}

# Upward imports that remain, each to be removed (the list only shrinks).
ALLOWED = {
    # the demo runs its comparison solve as a job would, through the job's runner and its state helpers
    ("planner.services.demo", "planner.jobs.runner"),
    ("planner.services.demo", "planner.jobs.state"),
}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "app"


def test_every_module_is_in_a_layer():
    assert {_layer(m) for m in graph()} <= set(RANK)


def test_the_domain_imports_only_the_domain():
    outside = sorted((m, t) for m, ts in graph().items() if _layer(m) == "domain" for t in ts if _layer(t) != "domain")
    assert not outside, outside


def test_imports_go_down_the_layers():
    upward = sorted(
        (m, t) for m, ts in graph().items() for t in ts if RANK[_layer(t)] > RANK[_layer(m)] and (m, t) not in ALLOWED
    )
    assert not upward, upward
    stale = sorted(pair for pair in ALLOWED if pair[1] not in graph().get(pair[0], set()))
    assert not stale, f"no longer imported: remove from ALLOWED: {stale}"
