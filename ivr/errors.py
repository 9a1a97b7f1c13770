"""The one error a render raises when a valid hotline.conf still cannot become a PBX."""

from __future__ import annotations


class RenderError(Exception):
    """The configuration cannot be rendered; the message says what to change."""
