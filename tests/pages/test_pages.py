"""The status pages in a real headless Chromium: states, history chart, masked addresses,
without JavaScript, on a phone, by keyboard, and nothing fetched from elsewhere."""

from __future__ import annotations

import asyncio
import re
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from tests.pages.browser import launch
from tests.pages.site import TOKEN, Site

playwright_api = pytest.importorskip("playwright.sync_api")

# One site and one browser serve the module (module-scoped fixtures): its tests stay on one
# pytest-xdist worker (`--dist loadgroup`) so they are started once.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pages")]

ADDRESS = re.compile(r"[A-Za-z0-9._%+-]{2,}@[A-Za-z0-9.-]+\.[a-z]{2,}")
"""An address with more than one character before the @: masked ones have a single one."""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    running = Site(tmp_path_factory.mktemp("site"))
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()
    close_stray_loop()


def close_stray_loop() -> None:
    """Playwright's sync API leaves behind an event loop it made through
    `asyncio.get_event_loop()` (never run, never closed); close it, or its sockets are
    reported unclosed during a later test."""
    policy = asyncio.get_event_loop_policy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            stray = policy.get_event_loop()
        except RuntimeError:
            return
    if not stray.is_running() and not stray.is_closed():
        stray.close()
    policy.set_event_loop(None)


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    context = browser.new_context()
    opened = context.new_page()
    outside: list[str] = []
    errors: list[str] = []
    opened.on("request", lambda r: None if r.url.startswith(site.url) else outside.append(r.url))
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield opened
    context.close()
    assert outside == [], "the page fetched something from elsewhere"
    assert errors == [], "the page logged errors (a blocked script or style, say)"


def card(page: Any, name: str) -> Any:
    return page.get_by_role("article", name=name)


def test_the_index_shows_each_destination_with_its_state_in_words(page: Any, site: Site) -> None:
    response = page.goto(site.url + "/")
    assert response.status == 200
    # The summary counts the invalid file's destination as such, not as "ready".
    # Its file is counted there, not again as "not running" (its last good version runs).
    assert (
        "3 destinations: 1 file invalid, 1 ready, 1 stalled.\n"
        in page.get_by_role("main").inner_text()
    )
    assert card(page, "vip-newsletter").locator(".badge").all_inner_texts() == ["ready"]
    assert card(page, "flash-sale").locator(".badge").all_inner_texts() == ["stalled"]
    broken = card(page, "eu-customers")
    assert broken.locator(".badge").all_inner_texts() == ["file invalid", "ready"]
    assert "its last good version runs" in broken.inner_text()
    assert "segmentz" in broken.inner_text()  # the problem itself, at its line
    assert "list" in card(page, "flash-sale").inner_text().lower()


def test_a_destination_page_has_its_history_chart_and_masked_rejected_rows(
    page: Any, site: Site
) -> None:
    page.goto(site.url + "/")
    page.get_by_role("link", name="vip-newsletter").click()
    page.wait_for_url(re.compile(r"/destinations/vip-newsletter$"))
    chart = page.get_by_role("img", name="Run history")
    assert chart.count() == 1
    assert chart.locator("rect title").count() >= 1
    rejected = page.get_by_role("region", name=re.compile("could not send"))
    text = rejected.inner_text()
    assert "***@" in text
    assert ADDRESS.search(page.content()) is None


def test_addresses_are_shown_only_to_whoever_gives_the_admin_token(
    browser: Any, site: Site
) -> None:
    anonymous = browser.new_context()
    refused = anonymous.request.get(site.url + "/destinations/vip-newsletter?showEmails=true")
    assert refused.status == 401
    assert refused.headers["www-authenticate"].startswith("Basic ")
    assert ADDRESS.search(refused.text()) is None
    anonymous.close()

    admin = browser.new_context(http_credentials={"username": "admin", "password": TOKEN})
    shown = admin.new_page()
    assert shown.goto(site.url + "/destinations/vip-newsletter?showEmails=true").status == 200
    rows = shown.get_by_role("region", name=re.compile("could not send")).inner_text()
    admin.close()
    assert ADDRESS.search(rows), "the addresses are shown to the token's holder"


def test_the_pages_read_the_same_without_javascript(browser: Any, site: Site) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site.url + "/")
    assert page.get_by_role("article").count() == 3
    assert not page.get_by_label(re.compile("refresh every")).is_visible()
    page.goto(site.url + "/destinations/flash-sale")
    assert page.get_by_role("img", name="Run history").count() == 1
    context.close()


@pytest.mark.parametrize("path", ["/", "/destinations/vip-newsletter"])
def test_a_phone_needs_no_sideways_scrolling(browser: Any, site: Site, path: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(site.url + path)
    widest = page.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert widest <= 390


def test_the_keyboard_reaches_the_content_and_the_destinations(page: Any, site: Site) -> None:
    page.goto(site.url + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    links = []
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "A":
            links.append(page.evaluate("document.activeElement.textContent"))
        if links[-1:] == ["vip-newsletter"]:
            break
    assert links[-3:] == ["eu-customers", "flash-sale", "vip-newsletter"]
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/destinations/vip-newsletter$"))


def test_every_form_control_and_image_has_a_name(page: Any, site: Site) -> None:
    for path in ("/", "/destinations/vip-newsletter"):
        page.goto(site.url + path)
        unnamed = page.evaluate(
            """() => [...document.querySelectorAll('input, progress, svg[role=img], [role=region]')]
                .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                             && !e.getAttribute('aria-labelledby'))
                .map(e => e.outerHTML.slice(0, 80))"""
        )
        assert unnamed == [], path
