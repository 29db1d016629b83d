"""The type-check gate is what docs/architecture.md says: `mypy` (scripts/check.sh, CI) checks all of planner/,
and planner/domain and planner/services with every flag of `mypy --strict`.

mypy takes ``strict = true`` only for a whole run, so pyproject.toml lists the strict flags for the two packages;
this test reads mypy's own list of them, so that a mypy release adding a flag to --strict fails here rather than
quietly loosening the gate.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from mypy.main import define_options
from mypy.options import PER_MODULE_OPTIONS

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
STRICT_MODULES = ["planner.domain.*", "planner.services.*"]


def _config() -> dict:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["mypy"]


def _strict_flags() -> dict[str, bool]:
    """``--strict``'s settings as mypy defines them, e.g. {"disallow_untyped_defs": True, "implicit_reexport": False}."""
    _parser, _names, assignments = define_options()
    return dict(assignments)


def test_the_whole_package_is_checked():
    config = _config()
    assert config["files"] == ["planner"]
    assert not config.get("ignore_errors")


def test_the_domain_and_the_services_get_every_strict_flag():
    config = _config()
    strict = _strict_flags()
    run_wide = {k: v for k, v in strict.items() if k not in PER_MODULE_OPTIONS}
    per_module = {k: v for k, v in strict.items() if k in PER_MODULE_OPTIONS}
    assert {k: config.get(k) for k in run_wide} == run_wide, "set these in [tool.mypy] itself"
    overrides = [o for o in config.get("overrides", []) if sorted(o["module"]) == STRICT_MODULES]
    assert len(overrides) == 1, f"one [[tool.mypy.overrides]] for exactly {STRICT_MODULES}"
    assert {k: overrides[0].get(k) for k in per_module} == per_module


def test_no_package_is_set_aside():
    config = _config()
    ignored = {m for o in config.get("overrides", []) if o.get("ignore_errors") for m in o["module"]}
    assert not ignored, f"fix the type errors instead of ignoring them: {sorted(ignored)}"
