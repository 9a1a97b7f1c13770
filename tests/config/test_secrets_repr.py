"""repr() of the configuration (logs, tracebacks, debuggers) never shows a secret."""

from __future__ import annotations

import shutil
from pathlib import Path

from hotline.config import load_config
from hotline.config.secrets import write_demo_secrets

REPO = Path(__file__).resolve().parents[2]
DB_PASSWORD = "pg-Pa55word"


def test_repr_of_the_configuration_hides_every_secret(tmp_path: Path) -> None:
    shutil.copy(REPO / "hotline.conf", tmp_path / "hotline.conf")
    shutil.copy(REPO / "remit.conf", tmp_path / "remit.conf")
    assert write_demo_secrets(tmp_path / "hotline.conf") is not None
    with (tmp_path / "hotline.secrets").open("a", encoding="utf-8") as handle:
        handle.write("\n[trunk]\npassword = trunk-Pa55\n")
    config = load_config(tmp_path / "hotline.conf", overrides={
        "database.url": f"postgresql+psycopg://hotline:{DB_PASSWORD}@db.example/hotline",
        "trunk.host": "127.0.0.2", "trunk.username": "hotline"})
    assert config.trunk is not None
    secrets = {config.ami.secret, config.trunk.password, DB_PASSWORD,
               *(seat.password for seat in config.seats),
               *(expert.password for expert in config.experts if expert.password)}
    assert all(len(secret) >= 4 for secret in secrets)
    shown = repr(config) + str(config) + repr(config.database) + repr(config.seats[0])
    assert [secret for secret in secrets if secret in shown] == []
    assert "postgresql+psycopg://hotline:***@db.example/hotline" in shown  # still says where
    assert config.database.url.endswith(f":{DB_PASSWORD}@db.example/hotline")  # value intact
