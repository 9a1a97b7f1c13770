"""One JSON error shape for every failure: {"error": {"code", "message", "detail"}}.

Clients (the wallboard, seat tools, scripts) branch on `code`, show `message` (always Chinese: a
person reads it on a page), and may read `detail`. Services, routes and the token check refuse by
raising a `hotline.errors.Refusal` subclass (rendered by the one `refusal_handler` here). What
the framework refuses by itself (unknown paths, wrong methods, an unreadable body, invalid input)
comes out in the same shape with a Chinese message chosen here by status, never the framework's
English text. A crash is logged with its traceback here and answered with a bare 500: stack
traces never leave the server.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.api.validation import explain_invalid, invalid_request_message
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
INTERNAL_ERROR_MESSAGE = "服务内部出错，请求未完成；详情已记入服务器日志"
STATUS_MESSAGES: dict[int, str] = {
    400: "请求无法解析：请求体不是有效的 UTF-8 或 JSON",
    401: "需要有效的 API 令牌",
    403: "无权执行此操作",
    404: "没有这个地址",
    405: "这个地址不接受此请求方法",
    409: "请求与当前状态冲突",
    413: "请求体过大",
    415: "不支持此内容类型，请发送 JSON",
    422: "请求有误",
    429: "请求过于频繁，请稍后再试",
    500: INTERNAL_ERROR_MESSAGE,
    503: "服务暂时不可用，请稍后再试",
}
"""What a person reads when the framework itself refuses (its own texts are English)."""


class ErrorInfo(BaseModel):
    code: str
    message: str
    detail: Any = None


class ErrorResponse(BaseModel):
    """Documented for every route in the OpenAPI schema."""

    error: ErrorInfo


def code_for(status_code: int) -> str:
    return CODES_BY_STATUS.get(status_code, f"http_{status_code}")


def error_body(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "detail": jsonable_encoder(detail)}}


def error_response(status_code: int, code: str, message: str, detail: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, detail), status_code=status_code,
                        headers=headers)


def status_message(status_code: int) -> str:
    """The Chinese message of a refusal the framework made, by its status."""
    known = STATUS_MESSAGES.get(status_code)
    if known is not None:
        return known
    return f"请求未能完成（HTTP {status_code}）"


async def http_exception_handler(_request: Request, exc: Exception) -> JSONResponse:
    """The framework's own refusals (routing, an unreadable body) in the one shape.

    Their text is the framework's English, so the message is the Chinese one of the status; a
    refusal with a code of its own is a Refusal subclass, never an HTTPException.
    """
    assert isinstance(exc, StarletteHTTPException)
    if exc.detail and exc.detail != _phrase(exc.status_code):
        log.debug("HTTP %s refused: %s", exc.status_code, exc.detail)
    return error_response(exc.status_code, code_for(exc.status_code), status_message(exc.status_code),
                          headers=exc.headers)


def _phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return ""


async def refusal_handler(_request: Request, exc: Exception) -> JSONResponse:
    """The one rendering of a refused request (any capability's Refusal subclass)."""
    assert isinstance(exc, Refusal)
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status, exc.code, exc.message, exc.detail, headers=headers)


async def validation_exception_handler(_request: Request, exc: Exception) -> JSONResponse:
    """422 with where and why in Chinese, but not the rejected input (it may hold a phone number)."""
    assert isinstance(exc, RequestValidationError)
    problems = [{"loc": list(error.get("loc", ())), "message": explain_invalid(error),
                 "type": error.get("type", "")} for error in exc.errors()]
    return error_response(422, code_for(422), invalid_request_message(problems), problems)


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
