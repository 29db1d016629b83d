"""The Alembic migrations build exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from planner.db import models  # noqa: F401
from planner.db.migrate import alembic_config, current_revision, head_revision, upgrade


def test_upgrade_from_empty_produces_the_models_schema(migrated_engine):
    with migrated_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
    tables = set(sa.inspect(migrated_engine).get_table_names())
    assert tables == set(SQLModel.metadata.tables) | {"alembic_version"}
    assert current_revision(migrated_engine) == head_revision()


def test_upgrade_at_head_changes_nothing(migrated_engine):
    assert upgrade(migrated_engine) == (head_revision(), head_revision())


def test_downgrade_to_base_removes_every_table(migrated_engine):
    config = alembic_config(migrated_engine)
    with migrated_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(sa.inspect(migrated_engine).get_table_names()) <= {"alembic_version"}
    upgrade(migrated_engine)  # and back up again from the empty schema
    assert current_revision(migrated_engine) == head_revision()


def test_naive_utc_timestamps_round_trip(migrated_engine):
    from sqlmodel import Session

    from planner.db.models import DataVintage, utcnow

    stamp = utcnow()
    with Session(migrated_engine) as session:
        session.add(DataVintage(dataset="population", imported_at=stamp))
        session.commit()
        stored = session.exec(sa.select(DataVintage.imported_at)).scalar_one()
    assert stored.replace(microsecond=0) == stamp.replace(microsecond=0) and stored.tzinfo is None


def _revisions() -> list[str]:
    """Every revision in the script directory, oldest first (new migrations are picked up by themselves)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions("base", "heads")))]


@pytest.mark.parametrize("start", _revisions())
def test_upgrade_from_every_earlier_revision_reaches_the_models_schema(db_url, start):
    """A database left at any released revision upgrades to head and ends with exactly the models' schema."""
    from planner.db.session import make_engine

    engine = make_engine(db_url)
    try:
        config = alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, start)
        assert current_revision(engine) == start
        before, after = upgrade(engine)
        assert (before, after) == (start, head_revision())
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
    finally:
        engine.dispose()


PRICE_COLUMNS = ("fixed_initial", "fixed_annual", "member_initial", "member_annual", "per_km_annual")


def test_amounts_past_32_bits_are_stored(migrated_engine):
    """A prefecture's plan totals pass 2,147,483,647 yen (PostgreSQL's INTEGER refused the demo's plan): every
    amount column in yen holds 64-bit values, the price columns too."""
    from sqlmodel import Session

    from planner.db.models import MemberShare, Plan, Scenario, SubsidyEstimate
    from tests.support.plans import add_plan_rows

    big = 9_876_543_210
    with Session(migrated_engine) as session:
        scenario = Scenario(name="大きな金額")
        session.add(scenario)
        session.flush()
        add_plan_rows(session, scenario.id, yen=big, standalone_yen=big + 1, lower_bound_yen=big - 1, subsidy_yen=big)
        session.commit()
    with Session(migrated_engine) as session:
        assert session.exec(sa.select(Plan.standalone_total_yen)).scalar_one() == big + 1
        assert session.exec(sa.select(MemberShare.total_yen)).scalar_one() == big
        assert session.exec(sa.select(SubsidyEstimate.standalone_net_yen)).scalar_one() == big
    if migrated_engine.dialect.name == "postgresql":
        inspector = sa.inspect(migrated_engine)
        for table in ("plan", "consortium", "member_share", "subsidy_estimate", "price_entry", "scenario_quote"):
            for column in inspector.get_columns(table):
                if column["name"].endswith("_yen") or column["name"] in PRICE_COLUMNS:
                    assert isinstance(column["type"], sa.BigInteger), (table, column["name"], column["type"])


def test_every_migration_file_has_its_own_revision_and_one_head():
    """Two helpers landing the same number would give two files one revision id: Alembic keeps one of them silently
    and the other never runs (the schema test above would not notice when the kept one is enough for the models)."""
    import ast
    from pathlib import Path

    from alembic.script import ScriptDirectory

    versions = Path(__file__).resolve().parents[2] / "planner" / "migrations" / "versions"
    revisions = []
    for path in sorted(versions.glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "revision":
                revisions.append((ast.literal_eval(node.value), path.name))
    ids = [r for r, _name in revisions]
    assert len(ids) == len(set(ids)), sorted(revisions)
    assert all(name.startswith(f"{rev}_") for rev, name in revisions), revisions
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1
