"""A console served over HTTP for a real headless Chromium, driven by Playwright.

The PRIP runs on SQLite and on the session's PostgreSQL, with a history from
tests/console_history.py, served by uvicorn on a free loopback port (no Ray). Chromium is
Debian's (/usr/bin/chromium, or PRIP_TEST_CHROMIUM): Playwright cannot download its own
here. Under ``CI=true`` a missing browser fails the run; elsewhere these tests skip.
Screenshots are kept as artifacts under ``PRIP_TEST_ARTIFACTS`` (default: test-artifacts/
in the checkout, ignored by git), one folder per test, replaced by the next run.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from prip_ray.bootstrap import Components
from prip_ray.config import load_settings
from prip_ray.serve.app import create_app
from prip_ray.serve.wiring import api_services
from tests.console_history import OLQC_EXPECTED, History, build_history
from tests.http_server import AppServer, serving

try:
    from playwright.sync_api import Error as PlaywrightError
except ImportError:  # the browser fixture says so (and fails under CI)
    PlaywrightError = Exception  # type: ignore[assignment,misc]

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
LAPTOP = {"width": 1366, "height": 768}
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the browser tests are required under CI: {reason}")
    pytest.skip(reason)


# Module, not session: while Playwright's sync API is open it keeps an asyncio loop running
# in the main thread, and every later test that calls asyncio.run (the SFTP client) fails.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = os.environ.get("PRIP_TEST_CHROMIUM", "/usr/bin/chromium")
    if not Path(executable).exists():
        _unavailable(f"no Chromium at {executable} (.ci/deps installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (the test extra has it)")
        return
    with sync_playwright() as playwright:
        # launch() gives the browser a fresh profile dir of its own (removed on close)
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """The test's own folder of artifacts, emptied first: what it holds is this run's."""
    root = Path(os.environ.get("PRIP_TEST_ARTIFACTS", ARTIFACTS))
    folder = root / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture(params=["sqlite", "postgresql"])
def console_server(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[AppServer, History]]:
    db_url = None
    if request.param == "postgresql":
        db_url = request.getfixturevalue("clean_pg").url.render_as_string(hide_password=False)
    settings = load_settings(
        data_dir=tmp_path / "prip",
        db={"url": db_url},
        ingest={"settle_s": 0},
        kpi=OLQC_EXPECTED,
        environ={},
    )
    components = Components(settings)
    components.migrate()
    history = build_history(components, datetime.now(UTC), tmp_path / "work")
    with serving(create_app(api_services(components))) as server:
        yield server, history
    components.close()
    shutil.rmtree(settings.data_dir, ignore_errors=True)
