"""Run the Alembic migrations from code: `hotline serve` and the token commands call this.

The alembic.ini and env.py ship inside the package (hotline/migrations), located from this
file rather than the working directory, so an installed service migrates from anywhere.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

from hotline.config.model import HotlineConfig
from hotline.db.engine import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
ALEMBIC_INI = MIGRATIONS_DIR / "alembic.ini"
HEAD = "head"

Target = HotlineConfig | str | URL


def _url(target: Target) -> str | URL:
    return target.database.url if isinstance(target, HotlineConfig) else target


def alembic_config() -> AlembicConfig:
    """The packaged Alembic configuration with its script location made absolute."""
    config = AlembicConfig(str(ALEMBIC_INI))
    # ConfigParser interpolates '%': escape it in case the install path holds one.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return config


def _run(target: Target, operation: str, revision: str) -> None:
    engine = make_engine(_url(target))
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            getattr(command, operation)(config, revision)
    finally:
        engine.dispose()


def upgrade_database(target: Target, revision: str = HEAD) -> None:
    """Bring the schema up to `revision` (default: the newest); a no-op when already there."""
    _run(target, "upgrade", revision)


def downgrade_database(target: Target, revision: str) -> None:
    """Step the schema back to `revision` ("base" removes every table we created)."""
    _run(target, "downgrade", revision)


def current_revision(target: Target) -> str | None:
    """The revision the database is at, or None for a database never migrated."""
    engine = make_engine(_url(target))
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The newest revision the package ships."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
