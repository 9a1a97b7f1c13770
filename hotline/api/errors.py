"""One JSON error shape for every failure: {"error": {"code", "message", "detail"}}.

Clients (the wallboard, seat tools, scripts) branch on `code`, show `message`, and may read
`detail`. Services and routes refuse by raising a `hotline.errors.Refusal` subclass (rendered by
the one `refusal_handler` here); `fastapi.HTTPException` and `ApiError` still render in the same
shape for the framework's own refusals (auth, routing); unknown paths, wrong methods, invalid
input and crashes come out in the same shape. A crash is logged with its traceback here and
answered with a bare 500: stack traces never leave the server.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.errors import Refusal

log = logging.getLogger(__name__)

CODES_BY_STATUS: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}
INTERNAL_ERROR_MESSAGE = "internal error; the incident is in the server log"


class ErrorInfo(BaseModel):
    code: str
    message: str
    detail: Any = None


class ErrorResponse(BaseModel):
    """Documented for every route in the OpenAPI schema."""

    error: ErrorInfo


class ApiError(HTTPException):
    """An HTTP error with an explicit machine-readable code."""

    def __init__(self, status_code: int, code: str, message: str, detail: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code, detail={"code": code, "message": message,
                                              "detail": detail}, headers=headers)


def code_for(status_code: int) -> str:
    return CODES_BY_STATUS.get(status_code, f"http_{status_code}")


def error_body(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "detail": jsonable_encoder(detail)}}


def error_response(status_code: int, code: str, message: str, detail: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, detail), status_code=status_code,
                        headers=headers)


def _phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "error"


async def http_exception_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    raw = exc.detail
    if isinstance(raw, dict) and {"code", "message"} <= raw.keys():
        code, message, detail = str(raw["code"]), str(raw["message"]), raw.get("detail")
    elif isinstance(raw, str) and raw:
        code, message, detail = code_for(exc.status_code), raw, None
    else:
        code, message, detail = code_for(exc.status_code), _phrase(exc.status_code), raw
    return error_response(exc.status_code, code, message, detail, headers=exc.headers)


async def refusal_handler(_request: Request, exc: Exception) -> JSONResponse:
    """The one rendering of a refused request (any capability's Refusal subclass)."""
    assert isinstance(exc, Refusal)
    return error_response(exc.status, exc.code, exc.message, exc.detail)


async def validation_exception_handler(_request: Request, exc: Exception) -> JSONResponse:
    """422 with where and why, but not the rejected input (it may hold a phone number)."""
    assert isinstance(exc, RequestValidationError)
    problems = [{"loc": list(error.get("loc", ())), "message": error.get("msg", ""),
                 "type": error.get("type", "")} for error in exc.errors()]
    return error_response(422, code_for(422), "the request is invalid; see detail", problems)


class UnhandledErrorMiddleware:
    """Turn any exception that escaped the routes into a logged, anonymous JSON 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error in %s %s", scope["method"], scope["path"],
                          extra={"method": scope["method"], "path": scope["path"]})
            if started:  # half a response is out; the connection can only be dropped
                raise
            body = json.dumps(error_body(code_for(500), INTERNAL_ERROR_MESSAGE)).encode()
            await send({"type": "http.response.start", "status": 500, "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]})
            await send({"type": "http.response.body", "body": body})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Refusal, refusal_handler)
    app.add_exception_handler(StarletteHTTPException, http_exception_handler)
    app.add_exception_handler(RequestValidationError, validation_exception_handler)
    app.add_middleware(UnhandledErrorMiddleware)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Missing, unknown or revoked token"},
    403: {"model": ErrorResponse, "description": "The token's role may not do this"},
    422: {"model": ErrorResponse, "description": "Invalid request"},
}


ERROR_SCHEMA_REF = f"#/components/schemas/{ErrorResponse.__name__}"
BAD_BODY_RESPONSE = "The request body could not be read as JSON (bad_request)"


def document_error_bodies(schema: dict[str, Any]) -> None:
    """Routes name the error statuses they may answer; the body of every one is ErrorResponse.

    Also documents 400, which FastAPI answers for a body it cannot decode (not UTF-8), on every
    operation that takes a body.
    """
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            if "requestBody" in operation:
                responses.setdefault("400", {"description": BAD_BODY_RESPONSE})
            for status, response in responses.items():
                if status[:1] in ("4", "5") and "content" not in response:
                    response["content"] = {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}}
