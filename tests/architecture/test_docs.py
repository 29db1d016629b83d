"""docs/model.md names every module of planner/domain, and docs/architecture.md every document kind: a module or
kind added without a line there fails here."""

from __future__ import annotations

from pathlib import Path

from planner.reports.kinds import KINDS

ROOT = Path(__file__).resolve().parents[2]


def test_model_md_names_every_domain_module():
    text = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    domain = ROOT / "planner" / "domain"
    modules = [p.relative_to(domain).as_posix() for p in sorted(domain.rglob("*.py")) if p.name != "__init__.py"]
    modules.append("optimiser/__init__.py")
    missing = [m for m in modules if f"`{m}`" not in text]
    assert not missing, f"docs/model.md does not name {missing}"


def test_architecture_md_names_every_document_kind():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [name for name in KINDS if f"`{name}`" not in text]
    assert not missing, f"docs/architecture.md does not name the document kinds {missing}"
