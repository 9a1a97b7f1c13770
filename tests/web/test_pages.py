"""The pages and static files as the server sends them (no browser)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hotline.api.routing import route_table
from hotline.web import PAGES, PUBLIC_PATHS, STATIC_DIR, STATIC_PATH
from tests.web.conftest import WebApp

PAGE_TITLES = {"/": "12345 热线", "/wallboard": "实时大屏", "/callbacks": "回拨工作台",
               "/operator": "座席面板", "/screening": "留言筛选台", "/messages": "留言审核",
               "/reports": "统计报表", "/qa": "质检工作台"}
SCRIPT_SINKS = re.compile(r"\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function")


@pytest.fixture
def client(web: WebApp) -> Iterator[TestClient]:
    with TestClient(web.app, raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("path", sorted(PAGES))
def test_each_page_is_utf8_chinese_html_with_a_strict_policy(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    text = response.content.decode("utf-8")
    assert '<html lang="zh-CN">' in text
    assert '<meta charset="utf-8">' in text
    assert PAGE_TITLES[path] in text
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    assert response.headers["referrer-policy"] == "no-referrer"
    # Every script and stylesheet is served by the app itself: no CDN, no inline code.
    for url in re.findall(r'(?:src|href)="([^"]+)"', text):
        assert url.startswith(("/", "#", "data:")), url
    assert "<script>" not in text and "<style" not in text and " style=" not in text


def test_static_files_are_served_with_their_types(client: TestClient) -> None:
    script = client.get(f"{STATIC_PATH}/js/api.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cache-control"] == "no-cache"
    style = client.get(f"{STATIC_PATH}/css/hotline.css")
    assert style.headers["content-type"].startswith("text/css")
    assert '"WenQuanYi Micro Hei"' in style.text and '"Noto Sans CJK SC"' in style.text


def test_unknown_static_file_is_a_json_404_and_nothing_escapes_the_folder(client: TestClient) -> None:
    missing = client.get(f"{STATIC_PATH}/js/nope.js")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    escape = client.get(f"{STATIC_PATH}/..%2F__init__.py")
    assert escape.status_code == 404


def test_the_public_paths_are_exactly_the_non_api_routes_the_pages_add(web: WebApp) -> None:
    non_api = {route.path for route in route_table(web.app) if not route.is_api}
    assert non_api >= PUBLIC_PATHS
    assert non_api - PUBLIC_PATHS <= {web.app.docs_url, web.app.openapi_url}


def test_scripts_never_parse_data_as_html() -> None:
    scripts = sorted((STATIC_DIR / "js").glob("*.js"))
    assert {p.name for p in scripts} >= {"api.js", "ui.js", "format.js", "wallboard.js", "callbacks.js",
                                         "operator.js", "reports.js"}
    for script in scripts:
        text = script.read_text(encoding="utf-8")
        assert not SCRIPT_SINKS.search(text), f"{script.name} builds HTML from strings"
        # The token only ever travels in the Authorization header.
        assert "token=" not in text.replace("#token=", "").replace("(?:^#|&)token=", ""), script.name


def test_every_stylesheet_has_balanced_blocks() -> None:
    """A rule left open (as a careless merge of two appended blocks once did) silently swallows
    every rule after it: the stale banner lost its style that way."""
    for sheet in sorted((Path(__file__).resolve().parents[2] / "hotline/web/static/css").glob("*.css")):
        depth = 0
        for char in re.sub(r"/\*.*?\*/", "", sheet.read_text(encoding="utf-8"), flags=re.S):
            depth += {"{": 1, "}": -1}.get(char, 0)
            assert depth >= 0, sheet.name
        assert depth == 0, f"{sheet.name}: {depth} block(s) left open"


def test_the_start_page_links_every_page() -> None:
    static = Path(__file__).resolve().parents[2] / "hotline/web/static"
    index = (static / "index.html").read_text(encoding="utf-8")
    missing = [path for path in PAGES if path != "/" and f'href="{path}"' not in index]
    assert not missing, f"index.html has no card for {missing}"
