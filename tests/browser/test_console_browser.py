"""The operator console as an operator uses it, in a real headless Chromium: sign in, read
each section, change the period, download the exports; the plots show what was ingested,
the page fits a 1366 px laptop screen and the browser logs no error."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.browser.conftest import LAPTOP, PlaywrightError
from tests.console_history import ADMIN, DOWNLOADER, SYNTHETIC, History
from tests.http_server import AppServer

SECTIONS = ("breaches", "timeliness", "completeness", "availability", "operations")
GR_TREND = 'svg[data-plot="delay-trend MSI_L0__GR"] circle'


def signed_in(browser: Any, server: AppServer) -> tuple[Any, Any, list[str]]:
    """A page of a fresh context with the admin's Basic credentials; the errors it logs."""
    context = browser.new_context(
        http_credentials={"username": ADMIN[0], "password": ADMIN[1]},
        viewport=LAPTOP,
        accept_downloads=True,
        base_url=server.url,
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page, errors


def test_sections_show_the_ingested_history(
    browser: Any, console_server: tuple[AppServer, History], artifacts: Path
) -> None:
    server, history = console_server
    with httpx.Client(base_url=server.url, timeout=30) as client:  # someone downloads
        _user_downloads(client)
    context, page, errors = signed_in(browser, server)
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url))
    answer = page.goto("/console")
    assert answer is not None and answer.status == 200
    # no CDN, fonts or scripts from elsewhere: the page works on a network with no internet
    assert fetched and all(url.startswith(server.url) for url in fetched), fetched
    for section in SECTIONS:
        assert page.locator(f"section#{section}").is_visible(), section
    # p50 and p95 of each hour in which granules were published in the last 24 h
    points = page.locator(GR_TREND)
    assert points.count() == 2 * len(history.granule_delays_24h)
    titles = points.locator("title").all_text_contents()
    assert any(t.endswith("p95 20.6 min (1 products)") for t in titles)  # the 1234 s granule
    bars = page.locator('svg[data-plot="delay-histogram MSI_L0__GR"] rect.bar')
    values = [float(v) for v in bars.evaluate_all("els => els.map(e => e.dataset.value)")]
    assert sum(values) == len(history.granule_delays_24h)
    # against the target (60 min): the L2A tile's 90 min is in a bar beyond it, no granule is
    beyond = 'svg[data-plot="delay-histogram {}"] rect[data-over="true"]'
    assert sum(_values(page, beyond.format("MSI_L2A_TL"))) == 1
    granules_beyond = _values(page, beyond.format("MSI_L0__GR"))
    assert granules_beyond and sum(granules_beyond) == 0  # the bars are there, empty
    assert page.locator("#breaches table").inner_text().count("MSI_L2A_TL") == 1
    assert page.locator('table[data-table="missing"]').inner_text().count("D12") == 1
    unreported = page.locator('table[data-table="unreported"] td:first-child')
    in_day = [n for n in unreported.all_text_contents() if n in history.unreported]
    assert len(in_day) == unreported.count() == len(history.unreported) - 1  # one is 50 h old
    parts = page.locator('svg[data-plot="completeness-daily"] rect[data-series="unreported"]')
    values = parts.evaluate_all("els => els.map(e => Number(e.dataset.value))")
    assert sum(values) == len(in_day)
    assert (
        page.locator('svg[data-plot="availability-timeline"] rect[data-state="failed"]').count()
        >= 1
    )
    assert "dana" in page.locator('table[data-table="downloads"]').inner_text()
    assert "T47XMX" in page.locator('table[data-table="quarantine"]').inner_text()
    assert _width(page) <= LAPTOP["width"]
    page.screenshot(path=str(artifacts / "console-24h.png"), full_page=True)
    assert errors == []
    context.close()


def test_changing_the_period(
    browser: Any, console_server: tuple[AppServer, History], artifacts: Path
) -> None:
    server, history = console_server
    context, page, errors = signed_in(browser, server)
    page.goto("/console")
    day = page.locator(GR_TREND).count()
    page.get_by_role("link", name="last 7 days").click()
    page.wait_for_url("**period=7d")
    in_week = len(history.granule_delays_24h) + sum(1 for _, h in SYNTHETIC if 24 <= h < 168)
    assert page.locator(GR_TREND).count() == 2 * in_week > day
    days = page.locator('svg[data-plot="completeness-daily"] rect.part')
    assert days.count() >= 2
    assert _width(page) <= LAPTOP["width"]
    page.screenshot(path=str(artifacts / "console-7d.png"), full_page=True)
    page.get_by_role("link", name="last 30 days").click()
    page.wait_for_url("**period=30d")
    assert _exported_days(page) == 30
    assert page.locator(GR_TREND).count() == 2 * in_week  # the whole history is this month's
    assert _width(page) <= LAPTOP["width"]
    page.screenshot(path=str(artifacts / "console-30d.png"), full_page=True)
    page.fill('input[name="since"]', "2021-03-01T00:00")
    page.fill('input[name="until"]', "2021-03-02T00:00")
    page.get_by_role("button", name="show").click()
    page.wait_for_url("**period=custom**")
    assert page.locator(GR_TREND).count() == 0
    assert page.locator("text=2021-03-01 00:00 to 2021-03-02 00:00 UTC").is_visible()
    assert (
        page.locator('svg[data-plot="throughput"] text').text_content() == "nothing in this period"
    )
    assert errors == []
    context.close()


def test_exports_download(
    browser: Any, console_server: tuple[AppServer, History], tmp_path: Path
) -> None:
    server, _ = console_server
    context, page, errors = signed_in(browser, server)
    page.goto("/console?period=7d")
    with page.expect_download() as csv_download:
        page.click("#export-csv")
    saved = tmp_path / csv_download.value.suggested_filename
    csv_download.value.save_as(saved)
    assert saved.name.startswith("prip-kpi-") and saved.suffix == ".csv"
    rows = list(csv.DictReader(io.StringIO(saved.read_text())))
    p95 = {r["subject"]: float(r["value"]) for r in rows if r["metric"] == "p95_s"}
    assert p95["MSI_L2A_TL"] == 5400.0
    with page.expect_download() as json_download:
        page.click("#export-json")
    assert json_download.value.suggested_filename.endswith(".json")
    assert errors == []
    context.close()


def test_the_console_asks_for_credentials(
    browser: Any, console_server: tuple[AppServer, History]
) -> None:
    """No credentials, or wrong ones: a Basic challenge, and the browser shows no page."""
    server, _ = console_server
    for credentials in (None, {"username": ADMIN[0], "password": "wrong"}):
        context = browser.new_context(base_url=server.url, http_credentials=credentials)
        answer = context.request.get("/console")
        assert answer.status == 401
        assert answer.headers["www-authenticate"].startswith("Basic")
        page = context.new_page()
        try:
            shown = page.goto("/console")
        except PlaywrightError as e:  # Chromium gives up on the challenge it cannot answer
            assert "ERR_INVALID_AUTH_CREDENTIALS" in str(e)
        else:  # or shows the 401's body
            assert shown is not None and shown.status == 401
        assert page.locator("section#timeliness").count() == 0
        context.close()


def _values(page: Any, selector: str) -> list[float]:
    """The figures the marks a selector finds carry (their data-value)."""
    found = page.locator(selector).evaluate_all("els => els.map(e => e.dataset.value)")
    return [float(v) for v in found]


def _width(page: Any) -> int:
    """How wide the page is laid out: wider than the window means a horizontal scroll."""
    return int(page.evaluate("document.documentElement.scrollWidth"))


def _exported_days(page: Any) -> float:
    """The days between since and until of the period the page's JSON export is of."""
    query = parse_qs(urlsplit(page.locator("#export-json").get_attribute("href")).query)
    since, until = (datetime.fromisoformat(query[k][0]) for k in ("since", "until"))
    return (until - since) / timedelta(days=1)


def _user_downloads(client: httpx.Client) -> int:
    """A downloader fetches one product through the API: the bytes it got."""
    auth = httpx.BasicAuth(*DOWNLOADER)
    found = client.get("/odata/v1/Products", params={"$top": 1}, auth=auth).json()["value"]
    got = client.get(f"/odata/v1/Products({found[0]['Id']})/$value", auth=auth)
    assert got.status_code == 200
    return len(got.content)
