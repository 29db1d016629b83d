"""What was published stays as it was published: the words a version's documents print besides its figures.

The figures are the plan row's own (never recomputed); the title, the issue date, the issuer and the data source
come from the scenario and the prefecture's document settings, which can change after publication. They are
captured here when a version is published and read back by its pages and documents, so that a rename or a new
contact leaves the published PDFs and ZIP byte-identical.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from planner.db.models import Body, DataVintage, DocumentSetting, Partnership, PlanRelease, Scenario
from planner.db.models import Plan as PlanRow
from planner.db.rows import attribute
from planner.reports.control import DATA_TERMS, DEFAULT_DATA_SOURCE, DocumentControl, Issuer


@dataclass(frozen=True)
class Frozen:
    title: str
    issued_on: date
    issuer: Issuer
    data_source: str

    def control(self, live: DocumentControl) -> DocumentControl:
        """The document control with the published words; the lifecycle state (公表中 / 旧版) and its notices
        stay live, since they tell the reader what became of the version."""
        return replace(live, issuer=self.issuer, issued_on=self.issued_on, data_source=self.data_source)


def capture(title: str, issued_on: date, issuer: Issuer, data_source: str) -> dict[str, Any]:
    """The record kept on the release at publication (PlanRelease.frozen)."""
    return {
        "title": title,
        "issued_on": issued_on.isoformat(),
        "issuer": {
            "title": issuer.title,
            "person": issuer.person,
            "contact": issuer.contact,
            "number_prefix": issuer.number_prefix,
        },
        "data_source": data_source,
    }


def frozen_of(session: Session, plan_id: int) -> Frozen | None:
    """The published words of ``plan_id``'s version, or None for a draft, an unpublished 確定案 or a version
    published before they were kept."""
    release = session.exec(
        select(PlanRelease)
        .where(col(PlanRelease.plan_id) == plan_id)
        .options(defer(attribute(col(PlanRelease.inputs))))
    ).first()
    return frozen_of_release(release)


def frozen_of_release(release: PlanRelease | None) -> Frozen | None:
    """:func:`frozen_of` for a release already read."""
    record = release.frozen if release is not None else None
    if not record:
        return None
    who = record.get("issuer") or {}
    return Frozen(
        title=str(record.get("title") or ""),
        issued_on=date.fromisoformat(record["issued_on"]),
        issuer=Issuer(
            str(who.get("title") or ""),
            str(who.get("person") or ""),
            str(who.get("contact") or ""),
            str(who.get("number_prefix") or ""),
        ),
        data_source=str(record.get("data_source") or ""),
    )


def prefecture_issuer(session: Session, prefecture_code: str | None) -> Issuer:
    """Who issues the prefecture's documents (its 文書設定), or nobody named."""
    row = session.get(DocumentSetting, prefecture_code) if prefecture_code else None
    if row is None:
        return Issuer()
    return Issuer(row.issuer_title, row.contact_person, row.contact, row.number_prefix)


def scenario_issuer(session: Session, scenario: Scenario) -> Issuer:
    """Who issues a scenario's plan documents: a lead-run consortium (its name and lead; the lead body issues them,
    not the lead's prefecture, which only reads them), else the prefecture's 文書設定."""
    partnership = session.get(Partnership, scenario.partnership_id) if scenario.partnership_id else None
    if partnership is None:
        return prefecture_issuer(session, scenario.prefecture_code)
    lead = session.get(Body, partnership.lead_body_code)
    return Issuer(f"{partnership.name}（幹事団体 {lead.name if lead else partnership.lead_body_code}）")


def plan_issuer(session: Session, prefecture_code: str | None, plan_id: int) -> Issuer:
    """:func:`scenario_issuer` of ``plan_id``'s scenario (the prefecture's issuer when the plan is not found)."""
    row = session.get(PlanRow, plan_id)
    scenario = session.get(Scenario, row.scenario_id) if row is not None else None
    if scenario is None:
        return prefecture_issuer(session, prefecture_code)
    return scenario_issuer(session, scenario)


def current_data_source(session: Session) -> str:
    """Where the documents' population and fiscal-index figures come from: the newest imports, or the default."""
    newest: dict[str, DataVintage] = {}
    for v in session.exec(select(DataVintage).order_by(col(DataVintage.id))):
        newest[v.dataset] = v
    parts = []
    population = newest.get("population")
    if population and population.source:
        parts.append(
            f"人口：{population.source}" + (f"（{population.as_of:%Y年%m月%d日}現在）" if population.as_of else "")
        )
    fiscal = [newest[k] for k in ("fiscal_municipal", "fiscal_prefecture", "fiscal_designated") if k in newest]
    sources = []
    for v in fiscal:
        if v.source and v.source not in sources:
            sources.append(v.source)
    if sources:
        parts.append("財政力指数：" + "、".join(sources))
    if not parts:
        return DEFAULT_DATA_SOURCE
    return "、".join(parts) + f"（{DATA_TERMS}に基づき利用・加工）"
