"""A PostgreSQL cluster of the test's own (Debian's server binaries), so it can be restarted.

The machine's shared server is never stopped by a test; this one lives in the test's folder,
listens on a free loopback port, and belongs to the `postgres` user as PostgreSQL requires.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from hotline.phones.baresip import free_port

START_TIMEOUT_S = 30


def _bin_dir() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    if not candidates:
        raise RuntimeError("Debian's postgresql server is not installed (apt-get install postgresql)")
    return candidates[-1]


class PrivatePostgres:
    """Its own folder under the system's temporary directory: test folders are private to root,
    and the server runs as `postgres`."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
        self.data = self.folder / "data"
        self.port = 0
        self.bin = _bin_dir()

    def _as_postgres(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=START_TIMEOUT_S)

    def start(self) -> str:
        """Create (first time) and start the cluster; its SQLAlchemy URL."""
        if not (self.data / "PG_VERSION").exists():
            if os.geteuid() == 0:
                shutil.chown(self.folder, "postgres", "postgres")
            self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "--auth=trust",
                              "-U", "postgres")
            self.port = free_port()
        self._ctl("start")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, action: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}"
        extra = ["-l", str(self.folder / "server.log"), "-o", options] if action != "stop" else \
            ["-m", "fast"]
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", action, *extra)

    def pause(self) -> None:
        """Stop the server (fast shutdown: connections are cut), keeping its data."""
        self._ctl("stop")

    def resume(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._ctl("stop")
        shutil.rmtree(self.folder, ignore_errors=True)
