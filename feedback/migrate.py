"""Bring a feedback store's schema to the newest Alembic revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Engine

from feedback import db

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Replicas start together: the first migrates, the others wait here and then find nothing to do.
MIGRATION_LOCK = 0x6C6578666C6F7701


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    config = alembic_config()
    with db.writer(engine).begin() as connection:  # SQLite: BEGIN IMMEDIATE serialises the migrators
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
