"""Helpers the API tests share (fixtures are in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends

from hotline.auth import Role, require_role

TokenMaker = Callable[..., str]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}



def admin_only_router() -> APIRouter:
    """Routes the tests mount with extra_routers, one per role level."""
    router = APIRouter(prefix="/test")

    @router.get("/admin-only", dependencies=[Depends(require_role(Role.ADMIN))])
    def admin_only() -> dict[str, str]:
        return {"ok": "admin"}

    @router.post("/operate", dependencies=[Depends(require_role(Role.OPERATOR))])
    def operate() -> dict[str, str]:
        return {"ok": "operator"}

    @router.get("/count", dependencies=[Depends(require_role(Role.MONITOR))])
    def count(limit: int) -> dict[str, int]:
        return {"limit": limit}

    @router.get("/crash", dependencies=[Depends(require_role(Role.MONITOR))])
    def crash() -> None:
        raise RuntimeError("secret internal state: token table is corrupt")

    return router
