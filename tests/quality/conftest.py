"""The quality tests use the store on both backends, like tests/db."""

from tests.db.conftest import database_url, postgres_database, postgres_url, sqlite_url

__all__ = ["database_url", "postgres_database", "postgres_url", "sqlite_url"]
