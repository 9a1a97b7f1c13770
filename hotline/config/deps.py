"""The running configuration as a request dependency, for every router's signature."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hotline.config.model import HotlineConfig


def get_config(request: Request) -> HotlineConfig:
    return request.app.state.config


ConfigDep = Annotated[HotlineConfig, Depends(get_config)]

__all__ = ["ConfigDep", "get_config"]
