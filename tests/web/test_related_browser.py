"""The related-complaints panel in a real browser (Chromium via Playwright; ACC-NO-01)."""

from __future__ import annotations

import pytest

from records.model import DocumentAnalysis, DocumentKind
from tests.web.conftest import PASSWORD
from tests.web.test_browser import CHROMIUM_ARGS, live_url  # noqa: F401  (the live server fixture)
from web.bootstrap import Services

playwright = pytest.importorskip("playwright.sync_api")
FACTS = "援助律师多次缺席调解，电话不接，导致调解失败，要求更换律师并给予处理。"


@pytest.mark.browser
def test_registering_a_repeat_shows_the_earlier_complaint_and_why(live_url: str, services: Services) -> None:  # noqa: F811
    """GIVEN a handler in a browser who registers 王五's complaint against 某法律援助中心, whose letter is then filed
    WHEN they register a second complaint by 王五 against the same centre with the same facts
    THEN the page the registration lands on shows the panel naming the first dossier, with the
    reasons same complainant, same respondent and similar text."""
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(f"{live_url}/login")
        page.fill("input[name=name]", "handler_a")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_url}/")

        def register(received_at: str) -> str:
            page.goto(f"{live_url}/register")
            page.fill("input[name=matter]", "援助律师多次缺席调解")
            page.fill("input[name=received_at]", received_at)
            page.fill("input[name=complainant]", "王五")
            page.fill("input[name=respondent]", "某法律援助中心")
            page.fill("textarea[name=facts_and_reasons]", FACTS)
            page.click("form.form button[type=submit]")
            page.wait_for_url("**/dossiers/*")
            return page.url.rsplit("/", 1)[1]

        first = register("2026-11-02T09:30")
        # Only what is filed is in the search index: the first complaint's letter (the upload page
        # and its worker are tested in test_browser.py).
        services.records.file_document("clerk", first, FACTS.encode(), kind=DocumentKind.COMPLAINT_LETTER,
                                       filename="投诉信.txt", media_type="text/plain",
                                       analysis=DocumentAnalysis(outcome="ok", text=FACTS))
        second = register("2026-11-03T09:30")

        row = page.wait_for_selector(f'#related tr[data-number="{first}"]', timeout=10_000)
        reasons = [r.get_attribute("data-reason") for r in row.query_selector_all("[data-reason]")]
        assert reasons == ["same_complainant", "same_respondent", "similar_text"]
        assert page.locator(f'#related tr[data-number="{second}"]').count() == 0
        browser.close()
