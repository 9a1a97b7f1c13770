"""The HTTP API: application factory, error shape, dependencies, the core routes."""

from hotline.api.ami_status import AmiStatus, NotStartedAmiStatus
from hotline.api.app import API_PREFIX, UnguardedRouteError, create_app
from hotline.api.lifespan import Component

__all__ = ["API_PREFIX", "AmiStatus", "Component", "NotStartedAmiStatus", "UnguardedRouteError",
           "create_app"]
