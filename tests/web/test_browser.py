"""The pages in a real browser (Chromium via Playwright), in zh-CN and English; screenshots go to docs/screenshots."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from ingest.jobs import IntakeWorker
from tests.web.conftest import PASSWORD, World
from web.bootstrap import Services

playwright = pytest.importorskip("playwright.sync_api")
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


@pytest.fixture
def live_url(app: Flask, world: World, services: Services) -> Iterator[str]:
    """The app on a loopback port, with a background intake worker in a thread (as `dossier serve` runs one)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with IntakeWorker(services.intake, poll_seconds=0.2).in_thread():
        yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_register_upload_search_and_read_in_a_browser(live_url: str, lang: str, tmp_path: Path) -> None:
    """GIVEN a handler in a browser WHEN they register, upload, search and open the document THEN each page works."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    upload = tmp_path / "投诉信.txt"
    upload.write_text("投诉信：援助律师多次缺席调解，要求更换律师。", encoding="utf-8")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(f"{live_url}/lang/{lang}")
        page.goto(f"{live_url}/login")
        page.fill("input[name=name]", "handler_a")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_url}/")
        page.screenshot(path=str(SHOTS / f"dashboard-{lang}.png"), full_page=True)

        page.goto(f"{live_url}/register")
        page.fill("input[name=matter]", "援助律师多次缺席调解")
        page.fill("input[name=received_at]", "2026-11-02T09:30")
        page.fill("input[name=complainant]", "王五")
        page.fill("input[name=respondent]", "某法律援助中心")
        page.screenshot(path=str(SHOTS / f"register-{lang}.png"), full_page=True)
        page.click("form.form button[type=submit]")
        page.wait_for_url("**/dossiers/*")
        number = page.url.rsplit("/", 1)[1]

        page.goto(f"{live_url}/dossiers/{number}/upload")
        page.set_input_files("input[name=files]", str(upload))
        page.click("form.form button[type=submit]")
        page.wait_for_selector("table.results")  # the answer comes at once, each file queued
        page.wait_for_selector('table.results tr[data-state="filed"]', timeout=120_000)  # the worker filed it
        assert page.locator("table.results td.col-item a").first.inner_text() == f"{number}-01"
        page.screenshot(path=str(SHOTS / f"upload-{lang}.png"), full_page=True)

        page.goto(f"{live_url}/search?q=缺席")
        assert page.locator(".snippet mark").first.inner_text() == "缺席"
        page.screenshot(path=str(SHOTS / f"search-{lang}.png"), full_page=True)

        page.click(".hit h3 a")
        page.wait_for_selector(".viewer pre")
        assert "缺席调解" in page.inner_text(".viewer pre")
        page.screenshot(path=str(SHOTS / f"document-{lang}.png"), full_page=True)

        page.goto(f"{live_url}/dossiers/{number}")
        page.screenshot(path=str(SHOTS / f"dossier-{lang}.png"), full_page=True)
        browser.close()
