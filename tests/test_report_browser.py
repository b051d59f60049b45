"""Open a built report in headless Chromium, offline, and check what a reader would see."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.test_report_bundle import (  # the same hostile investigation as the bundle tests
    EVIL_FILE,
    EVIL_PACKAGE,
    EVIL_PATH,
    build_hostile_bundle,
    figures_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: EVIL_PATH as the report shows it: relative to /clones/acme, which every input shares.
SHOWN_EVIL_PATH = EVIL_PATH.removeprefix("/clones/acme/")

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
COUNT_CHARTS = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .filter(el => el.querySelector('svg.main-svg')).length"""


def screenshot(page: Any, name: str, tmp_path: Path) -> Path:
    """Save a full-page screenshot: in $IRCORE_SCREENSHOTS when set, else in the test's tmp dir.

    Never in the checkout by default: a test run should not leave files behind.
    """
    folder = Path(os.environ.get("IRCORE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    page.screenshot(path=str(path), full_page=True)
    return path


#: The width of a small phone.
PHONE = 390
LAYOUT_AT_PHONE_WIDTH = """() => {
  const box = document.querySelector('.ircore-box[role=alert] .ircore-scroll');
  const verdict = document.querySelector('.ircore-box h3');
  const problems = document.querySelector('.ircore-box[role=alert]');
  const figures = Array.from(document.querySelectorAll('.ircore-card .v'));
  return {
    pageScrolls: document.documentElement.scrollWidth > window.innerWidth,
    tableScrolls: box ? box.scrollWidth > box.clientWidth : null,
    tableInsideBox: box ? box.getBoundingClientRect().right
        <= problems.getBoundingClientRect().right : null,
    verdictAbove: verdict.getBoundingClientRect().top < problems.getBoundingClientRect().top,
    verdict: verdict.textContent,
    wrappedFigures: figures.filter(v => v.getClientRects().length !== 1
        || v.getBoundingClientRect().height > 1.6 * parseFloat(getComputedStyle(v).lineHeight))
        .map(v => v.textContent),
    brokenIds: Array.from(document.querySelectorAll('code.id'))
        .filter(c => c.getClientRects().length !== 1).map(c => c.textContent),
  };
}"""


def assert_phone_layout(browser: Any, url: str, tmp_path: Path, name: str) -> dict[str, Any]:
    """At 390 px: no sideways page, problems scroll in their box, verdict first, no broken figures."""
    page = browser.new_page(viewport={"width": PHONE, "height": 844})
    page.goto(url, wait_until="load")
    layout: dict[str, Any] = page.evaluate(LAYOUT_AT_PHONE_WIDTH)
    screenshot(page, name, tmp_path)
    page.close()
    assert layout["pageScrolls"] is False
    assert layout["tableInsideBox"] is True
    assert layout["verdictAbove"] is True
    assert layout["wrappedFigures"] == []
    assert layout["brokenIds"] == []
    return layout


def require_chromium() -> None:
    """Skip on a developer machine without chromium; in CI its absence is a failure."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing in CI: .ci/run must install it")
        pytest.skip("/usr/bin/chromium is not installed (make chromium)")


@dataclass
class Watch:
    """Everything the page tried that it should not have."""

    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_chromium()
    out = tmp_path_factory.mktemp("browser") / "report"
    build_hostile_bundle(out)
    return out


@pytest.fixture(scope="module")
def browser(bundle: Path) -> Iterator[Any]:
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def open_page(browser: Any, url: str) -> tuple[Any, Watch]:
    watch = Watch()
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    def route(r: Any) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            watch.requests.append(r.request.url)
            r.abort()

    def dialog(d: Any) -> None:
        watch.dialogs.append(f"{d.type}: {d.message}")
        d.dismiss()

    page.route("**/*", route)
    page.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.page_errors.append(str(e)))
    page.on("dialog", dialog)
    page.goto(url, wait_until="load")
    return page, watch


def assert_quiet(watch: Watch) -> None:
    assert watch.requests == []
    assert watch.console_errors == []
    assert watch.page_errors == []
    assert watch.dialogs == []


def test_section_renders_every_chart_offline(browser: Any, bundle: Path, tmp_path: Path) -> None:
    page, watch = open_page(browser, (bundle / "blast_radius.html").as_uri())
    expected = figures_in(bundle / "notebooks" / "blast_radius.ipynb")
    assert expected == 6
    page.wait_for_function(f"() => ({COUNT_CHARTS})() >= {expected}", timeout=20_000)
    page.wait_for_timeout(500)  # let late errors surface
    assert page.evaluate(COUNT_CHARTS) == expected

    text = page.evaluate("() => document.body.innerText")
    # the hostile path is shown (as text), relative to the folder every input shares
    for hostile in (EVIL_PACKAGE, SHOWN_EVIL_PATH, EVIL_FILE):
        assert hostile in text, hostile
    assert EVIL_PATH not in text
    # the package name is drawn as text inside the charts too, not swallowed as a tag
    charts = page.evaluate(
        "() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
        ".map(el => el.textContent).join(' ')"
    )
    assert EVIL_PACKAGE in charts
    assert page.evaluate("() => document.querySelectorAll('img').length") == 0
    # the modebar keeps "download as PNG" (local) but has no "Share chart" upload button
    titles = page.evaluate(
        "() => Array.from(document.querySelectorAll('.modebar-btn'))"
        ".map(b => b.getAttribute('data-title'))"
    )
    assert "Download plot as a PNG" in titles
    assert not [t for t in titles if "share" in (t or "").lower() or "cloud" in (t or "").lower()]
    assert "cannot be concluded" in text
    # no code in a shared report
    assert "setup_notebook" not in text and "Investigation.load" not in text

    screenshot(page, "blast_radius.png", tmp_path)
    assert_quiet(watch)
    page.close()
    assert_phone_layout(browser, (bundle / "blast_radius.html").as_uri(), tmp_path, "phone.png")


def test_index_renders_and_links(browser: Any, bundle: Path, tmp_path: Path) -> None:
    page, watch = open_page(browser, (bundle / "index.html").as_uri())
    text = page.evaluate("() => document.body.innerText")
    assert EVIL_PACKAGE in text and SHOWN_EVIL_PATH in text and EVIL_PATH not in text
    assert "cannot be concluded" in text
    assert page.evaluate("() => document.querySelectorAll('script, img').length") == 0
    screenshot(page, "index.png", tmp_path)
    assert_phone_layout(browser, (bundle / "index.html").as_uri(), tmp_path, "index-phone.png")

    page.click("text=Blast radius")
    page.wait_for_load_state("load")
    assert page.url.endswith("/blast_radius.html")
    page.wait_for_function(f"() => ({COUNT_CHARTS})() >= 2", timeout=20_000)
    page.click("text=All sections of this report")
    page.wait_for_load_state("load")
    assert page.url.endswith("/index.html")
    assert_quiet(watch)
    page.close()
