"""The written channels' tests run on SQLite and on PostgreSQL (the store tests' fixtures)."""

from tests.db.conftest import database_url, postgres_database, postgres_url, sqlite_url  # noqa: F401
