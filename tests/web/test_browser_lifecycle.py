"""A complaint's whole life in a real browser, with no console step (issue #10 "Done means").

register → upload → accept (notice generated and filed) → investigate → extend (notice) → decide →
reply → close (refused while the reply letter is missing, then done) → seal → retention → hold and
lift → review and approval in two browser contexts signed in as two people (the reviewer refused as
approver) → destruction → certificate downloaded and verified. And a non-accepted complaint through
its shorter path. Screenshots of each step go to docs/screenshots/lifecycle-*.png.

The live server shares the fixture clock, so the test moves time forward past the retention period
instead of waiting a year; everything else is what a user does with the mouse and keyboard.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from records.model import DocumentKind, DossierState
from tests.web.conftest import PASSWORD, World
from tests.web.test_browser import CHROMIUM_ARGS, SHOTS, live_url  # noqa: F401  (the live server fixture)
from web.bootstrap import Services

playwright = pytest.importorskip("playwright.sync_api")


class Person:
    """One person in their own browser context (their own session cookie)."""

    def __init__(self, browser: Any, base: str, name: str) -> None:
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        self.page = self.context.new_page()
        self.page.goto(f"{base}/lang/zh_CN")
        self.page.goto(f"{base}/login")
        self.page.fill("input[name=name]", name)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{base}/")

    def open(self, path: str) -> Any:
        self.page.goto(f"{self.base}{path}")
        return self.page

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(SHOTS / f"lifecycle-{name}.png"), full_page=True)


def _step(person: Person, number: str, to: str, **fields: str) -> Any:
    page = person.open(f"/dossiers/{number}")
    form = page.locator(f"form.step-{to}")
    for name, value in fields.items():
        if name == "ground":
            form.locator("select[name=ground]").select_option(value)
        else:
            form.locator(f"[name={name}]").fill(value)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    return page


def _issue(person: Person, number: str, kind: str) -> None:
    """Open the notice from the dossier page's link, issue and file it."""
    page = person.open(f"/dossiers/{number}")
    page.click(f"a[data-notice={kind}]")
    page.wait_for_selector("form.notice")
    person.shot(f"notice-{kind}")
    page.click("form.notice button[type=submit] >> nth=0")
    page.wait_for_url(f"**/dossiers/{number}")


def _upload(person: Person, number: str, files: list[Path]) -> None:
    page = person.open(f"/dossiers/{number}/upload")
    page.set_input_files("input[name=files]", [str(f) for f in files])
    page.click("form.form button[type=submit]")
    page.wait_for_selector("table.results")
    for i in range(len(files)):
        page.wait_for_selector(f'table.results tbody tr:nth-child({i + 1})[data-state="filed"]', timeout=120_000)


def _kinds(services: Services, number: str) -> list[DocumentKind]:
    return [d.kind for d in services.records.get_dossier("t", number).documents]


@pytest.mark.browser
def test_a_complaint_lives_its_whole_life_in_the_browser(live_url: str, world: World, services: Services,  # noqa: F811
                                                        clock: Any, tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    letter = tmp_path / "投诉书.txt"
    letter.write_text("投诉书\n投诉人：王五\n援助律师多次缺席调解，要求更换律师。", encoding="utf-8")
    minutes = tmp_path / "调查笔录.txt"
    minutes.write_text("调查笔录\n时间：2026年11月3日\n被调查人陈述：确有两次未出席调解。", encoding="utf-8")
    decision = tmp_path / "处理决定书.txt"
    decision.write_text("处理决定书\n经调查，投诉属实，责令更换承办律师。", encoding="utf-8")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        handler = Person(browser, live_url, "handler_a")

        # Register and upload the letter.
        page = handler.open("/register")
        page.fill("input[name=matter]", "援助律师多次缺席调解")
        page.fill("input[name=received_at]", "2026-11-02T09:30")
        page.fill("input[name=complainant]", "王五")
        page.fill("input[name=respondent]", "某法律援助中心")
        page.fill("input[name=department]", "A")
        page.click("form.form button[type=submit]")
        page.wait_for_url("**/dossiers/*")
        number = page.url.rsplit("/", 1)[1]
        handler.shot("01-registered")
        _upload(handler, number, [letter])
        assert _kinds(services, number) == [DocumentKind.COMPLAINT_LETTER]

        # Accept: the page offers the acceptance notice, which is generated and filed.
        page = _step(handler, number, "accepted")
        assert services.records.get_dossier("t", number).state is DossierState.ACCEPTED
        handler.shot("02-accepted")
        _issue(handler, number, "acceptance")
        assert DocumentKind.ACCEPTANCE_NOTICE in _kinds(services, number)

        # Investigate; extend the conclusion period with approver and reason, then its notice (TL-03).
        _step(handler, number, "investigating")
        _upload(handler, number, [minutes])
        before = services.records.deadlines(services.records.get_dossier("t", number))[1].due_on
        page = handler.open(f"/dossiers/{number}")
        page.fill("form.extend input[name=days]", "15")
        page.fill("form.extend input[name=reason]", "需调取法院卷宗")
        page.fill("form.extend input[name=approved_by]", "中心主任李某")
        page.click("form.extend button[type=submit]")
        page.wait_for_url(f"**/dossiers/{number}/notices/extension")
        handler.shot("03-extension-notice")
        page.click("form.notice button[type=submit] >> nth=0")
        page.wait_for_url(f"**/dossiers/{number}")
        after = services.records.deadlines(services.records.get_dossier("t", number))[1].due_on
        assert before and after and (after - before).days >= 15
        assert DocumentKind.EXTENSION_NOTICE in _kinds(services, number)

        # Decide, then reply: closing is refused while the reply letter is missing.
        _upload(handler, number, [decision])
        _step(handler, number, "decided")
        _step(handler, number, "replied")
        page = handler.open(f"/dossiers/{number}")
        close = page.locator("form.step-closed")
        assert "reply" in close.locator("ul.missing").inner_text()  # the completeness check, shown before closing
        assert close.locator("button[type=submit]").is_disabled()
        token = page.get_attribute("input[name=csrf_token]", "value") or ""
        refused = handler.context.request.post(f"{live_url}/dossiers/{number}/step",
                                               form={"csrf_token": token, "to": "closed"})
        assert refused.status == 409 and "reply" in refused.text()  # and the server refuses it too
        handler.shot("04-close-refused")
        assert services.records.get_dossier("t", number).state is DossierState.REPLIED
        page = handler.open(f"/dossiers/{number}")
        page.click("a[data-notice=reply]")
        page.wait_for_selector("form.notice textarea[name=body]")
        page.fill("form.notice textarea[name=body]", page.input_value("form.notice textarea[name=body]")
                  + "\n如对本答复不服，可依法申请行政复议。")
        page.click("form.notice button[type=submit] >> nth=0")
        page.wait_for_url(f"**/dossiers/{number}")
        _step(handler, number, "closed")
        assert services.records.get_dossier("t", number).state is DossierState.CLOSED
        handler.shot("05-closed")

        # The archive department seals it and looks at its retention; a manager holds and lifts.
        archivist = Person(browser, live_url, "archivist")
        page = archivist.open(f"/dossiers/{number}/seal")
        archivist.shot("06-seal")
        page.click("button[name=seal]")
        page.wait_for_load_state()
        assert services.records.get_dossier("t", number).state is DossierState.SEALED
        manager = Person(browser, live_url, "manager")
        page = manager.open(f"/dossiers/{number}/retention")
        manager.shot("07-retention")
        page.fill("form[action$='/retention/holds'] input[name=reason]", "审计期间暂停处置")
        page.click("form[action$='/retention/holds'] button[type=submit]")
        page.wait_for_load_state()
        assert services.retention.show(number).holds
        manager.shot("08-held")
        page.fill("form[action$='/retention/holds/lift'] input[name=reason]", "审计结束")
        page.click("form[action$='/retention/holds/lift'] button[type=submit]")
        page.wait_for_load_state()
        assert all(h.lifted_at for h in services.retention.show(number).holds)

        # A year and more later it is due: the archivist reviews, approves nothing herself, the manager approves.
        clock.now = clock.now + timedelta(days=800)
        page = archivist.open("/retention/disposal")
        page.check(f"input[name=numbers][value='{number}']")
        page.select_option("#review select[name=action]", "destroy")
        page.click("#review button[type=submit]")
        page.wait_for_load_state()
        archivist.shot("09-reviewed")
        row = page.locator(f"tr[data-state=reviewed]:has-text('{number}')")
        disposition = row.get_attribute("data-disposition")
        assert disposition
        token = page.get_attribute("input[name=csrf_token]", "value")
        refused = archivist.context.request.post(f"{live_url}/retention/dispositions/{disposition}/approve",
                                                 form={"csrf_token": token or ""}, max_redirects=0)
        assert refused.status in (303, 403)
        assert next(d for d in services.retention.dispositions() if d.disposition_id == disposition).state == "reviewed"
        page = manager.open("/retention/disposal")
        page.click(f"tr[data-disposition='{disposition}'] form[action$='/approve'] button")
        page.wait_for_load_state()
        manager.shot("10-approved")
        page = archivist.open("/retention/disposal")
        page.click(f"tr[data-disposition='{disposition}'] form[action$='/run'] button")
        page.wait_for_load_state()
        assert services.records.get_dossier("t", number).state is DossierState.DISPOSED
        archivist.shot("11-destroyed")
        with page.expect_download() as download:
            page.click(f"tr[data-disposition='{disposition}'] a[href$='certificate.pdf']")
        pdf = tmp_path / "certificate.pdf"
        download.value.save_as(str(pdf))
        assert pdf.read_bytes().startswith(b"%PDF")
        page = archivist.open(f"/retention/dispositions/{disposition}/verify")
        page.set_input_files("input[name=file]", str(pdf))
        page.click("form[enctype] button[type=submit]")
        page.wait_for_selector("[data-verified]")
        assert page.get_attribute("[data-verified]", "data-verified") == "yes"
        archivist.shot("12-certificate-verified")
        browser.close()


@pytest.mark.browser
def test_a_complaint_not_accepted_takes_the_shorter_path(live_url: str, world: World,  # noqa: F811
                                                        services: Services, tmp_path: Path) -> None:
    """Not accepted on a ground (ACC-NO) → its notice with the ground and the remedy → closed → sealed."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    letter = tmp_path / "投诉信.txt"
    letter.write_text("投诉信\n对法律援助案件的判决结果不满，要求重新审理。", encoding="utf-8")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        handler = Person(browser, live_url, "handler_a")
        number = world.dossier
        _upload(handler, number, [letter])
        _step(handler, number, "not_accepted", ground="ACC-NO-03", note="仅对判决结果有异议")
        handler.shot("20-not-accepted")
        _issue(handler, number, "non_acceptance")
        notice = next(d for d in services.records.get_dossier("t", number).documents
                      if d.kind is DocumentKind.NON_ACCEPTANCE_NOTICE)
        text = services.records.document_text("t", notice.item_number)[1]
        assert "投诉人仅对法律援助案件办理结果有异议" in text
        _step(handler, number, "closed")
        assert services.records.get_dossier("t", number).state is DossierState.CLOSED
        archivist = Person(browser, live_url, "archivist")
        page = archivist.open(f"/dossiers/{number}/seal")
        page.click("button[name=seal]")
        page.wait_for_load_state()
        assert services.records.get_dossier("t", number).state is DossierState.SEALED
        archivist.shot("21-sealed")
        browser.close()
