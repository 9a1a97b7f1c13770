"""Oversized request bodies are refused (413) before anything reads them, token check included.

Raw sockets against the real server: the request's headers announce 20 MB and only a little is
sent; the answer must come without the rest (a server reading the whole body first would wait).
"""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

from hotline.api.body_limit import MAX_BODY_BYTES
from hotline.auth import Role
from tests.web.conftest import WebApp

TIMEOUT_S = 10.0
ANNOUNCED = 20 * 1024 * 1024


def exchange(base_url: str, head: str, body: bytes) -> tuple[int, dict]:
    """Send `head` and `body` (not necessarily all the announced body); the status and JSON."""
    address = urlsplit(base_url)
    with socket.create_connection((address.hostname, address.port), timeout=TIMEOUT_S) as conn:
        conn.sendall(head.encode("latin-1") + body)
        received = b""
        while b"\r\n\r\n" not in received:
            received += conn.recv(65536)
        headers, _, rest = received.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in headers.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        while len(rest) < length:
            rest += conn.recv(65536)
    return int(headers.split()[1]), json.loads(rest[:length])


def test_an_announced_oversized_body_is_refused_unread_before_the_token_check(base_url: str) -> None:
    head = (f"POST /api/seats/07/pause HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {ANNOUNCED}\r\n\r\n")
    status, body = exchange(base_url, head, b'{"reason": "' + b"x" * 1000)
    assert status == 413 and body["error"]["code"] == "body_too_large"
    assert body["error"]["message"] == f"请求体过大：最多 {MAX_BODY_BYTES} 字节"


def test_a_chunked_body_is_refused_once_past_the_limit(web: WebApp, base_url: str) -> None:
    token = web.token(Role.OPERATOR, "07")
    chunk = b"x" * 65536
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(MAX_BODY_BYTES // len(chunk) + 2))
    head = (f"POST /api/seats/07/pause HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    status, body = exchange(base_url, head, chunks)  # never terminated: the limit decides
    assert status == 413 and body["error"]["code"] == "body_too_large"


def test_a_small_body_still_reaches_its_route(web: WebApp, base_url: str) -> None:
    token = web.token(Role.OPERATOR, "07")
    payload = json.dumps({"reason": "午休"}).encode()
    head = (f"POST /api/seats/07/pause HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n")
    status, body = exchange(base_url, head, payload)
    assert (status, body["error"]["code"]) == (409, "not_logged_in")  # the route's own answer
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(payload), payload)
    status, body = exchange(base_url, head.replace(f"Content-Length: {len(payload)}",
                                                   "Transfer-Encoding: chunked"), chunked)
    assert (status, body["error"]["code"]) == (409, "not_logged_in")
