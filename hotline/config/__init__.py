"""The hall's configuration: hotline.conf parsed, validated and typed in one place."""

from hotline.config.errors import ConfigError, ConfigIssue
from hotline.config.loader import is_valid_phone, load_config, normalise_phone
from hotline.config.model import HotlineConfig

__all__ = ["ConfigError", "ConfigIssue", "HotlineConfig", "is_valid_phone", "load_config",
           "normalise_phone"]
