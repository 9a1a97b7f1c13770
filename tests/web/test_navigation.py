"""Every page's top bar lists every page (one list, in ui.js) and marks the one shown."""

from __future__ import annotations

from playwright.sync_api import expect

from hotline.auth import Role
from hotline.web import PAGES
from tests.web.conftest import Pages, WebApp


def test_every_page_navigates_to_every_other_and_marks_itself(web: WebApp, pages: Pages) -> None:
    token = web.token(Role.ADMIN, "nav-check")
    wanted = sorted(path for path in PAGES if path != "/")
    for path in wanted:
        page = pages.open(path, token=token)
        nav = page.locator('header nav[aria-label="页面"] a')
        expect(nav).to_have_count(len(wanted))
        assert sorted(nav.evaluate_all("links => links.map(a => a.getAttribute('href'))")) == wanted
        current = page.locator('header nav[aria-label="页面"] a[aria-current="page"]')
        expect(current).to_have_count(1)
        expect(current).to_have_attribute("href", path)
        page.close()
