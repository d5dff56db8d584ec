"""`make screenshots`: docs/images/ gets a picture of each status page, from the example
deployment of the page tests (one destination ready, one stalled, one with a broken file)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.pages.browser import CHROMIUM_ARGS, chromium_path
from tests.pages.site import REPOSITORY, Site

IMAGES = REPOSITORY / "docs" / "images"
SHOTS = [
    ("status-page.png", "/", {"width": 1100, "height": 900}),
    ("destination-page.png", "/destinations/vip-newsletter", {"width": 1100, "height": 900}),
    ("status-page-phone.png", "/", {"width": 390, "height": 844}),
]


def main() -> int:
    path = chromium_path()
    if path is None:
        print("no Chromium: apt-get install chromium (or set SYNCD_CHROMIUM)", file=sys.stderr)
        return 1
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as root:
        site = Site(Path(root))
        try:
            site.start()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
                for name, where, viewport in SHOTS:
                    page = browser.new_page(viewport=viewport)  # type: ignore[arg-type]
                    page.goto(site.url + where)
                    page.screenshot(path=str(IMAGES / name), full_page=True)
                    page.close()
                    print(f"wrote docs/images/{name}")
                browser.close()
        finally:
            site.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
