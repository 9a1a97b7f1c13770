"""The installed package's version, as health and the OpenAPI document report it."""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "hotline"
UNKNOWN_VERSION = "0+unknown"


@cache
def service_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # running from a checkout that was never installed
        return UNKNOWN_VERSION
