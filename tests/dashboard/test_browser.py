"""One real browser: headless Chromium opens the served dashboard's Data page."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served_app(tmp_path):
    port = _free_port()
    log = open(tmp_path / "streamlit.log", "wb")  # noqa: SIM115 closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/app.py"]
        + ["--server.port", str(port), "--server.address", "127.0.0.1"]
        + ["--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(
                    f"dashboard did not start:\n{(tmp_path / 'streamlit.log').read_text()}"
                )
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@pytest.mark.browser
def test_data_page_renders_in_chromium(served_app, tmp_path):
    if not CHROMIUM.exists():
        pytest.fail(
            "Chromium is missing: `bash scripts/test.sh` installs it with apt-get"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(served_app)
            page.get_by_role("heading", name="Sizes and class balance").wait_for(
                timeout=90_000
            )
            page.get_by_role("heading", name="Features").wait_for(timeout=30_000)
            # The class-balance chart is drawn by plotly in the page.
            page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
            page.screenshot(path=str(tmp_path / "data-page.png"), full_page=True)
            body = page.inner_text("body")
            assert "Traceback" not in body
            assert page.locator('[data-testid="stException"]').count() == 0
            assert "train" in body and "test" in body
        finally:
            browser.close()
