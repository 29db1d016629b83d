"""An upgrade deployed without `planner init-db` answers one clear 503, not errors on every page."""

from __future__ import annotations

from alembic import command

from planner.db.migrate import alembic_config, upgrade


def _app(db_url):
    from planner.app import create_app

    return create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "x"})


def test_a_database_behind_the_code_is_refused_with_the_fix(migrated_engine, db_url):
    config = alembic_config(migrated_engine)
    with migrated_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    response = _app(db_url).test_client().get("/login")
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    assert "planner init-db" in text and "0001" in text

    upgrade(migrated_engine)
    assert _app(db_url).test_client().get("/login").status_code == 200
