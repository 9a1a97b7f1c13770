"""Helpers shared by the subcommands: loading the configuration with a clear refusal."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping

from hotline.config import ConfigError, HotlineConfig, load_config


def load_or_report(args: argparse.Namespace,
                   overrides: Mapping[str, str] | None = None) -> HotlineConfig | None:
    """Load the configuration or print every issue to stderr and return None."""
    try:
        return load_config(args.config, overrides=overrides)
    except ConfigError as exc:
        print(f"hotline：配置中有 {len(exc.issues)} 个问题：", file=sys.stderr)
        for issue in exc.issues:
            print(f"  {issue}", file=sys.stderr)
        return None
