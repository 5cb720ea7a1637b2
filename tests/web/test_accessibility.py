"""Every page, as every role that may see it, checked in a real browser for accessibility and phone use.

Issue #11 item 8: axe-core (npm package, pinned in package.json, injected by Playwright) must report no
``critical`` or ``serious`` violation; at 390 px nothing may overflow horizontally; and no English developer
text may show through on a zh-CN page. zh-CN is checked on every page at 1280 px and 390 px; English on every
page at 1280 px and a representative subset at 390 px, to keep the run at a few minutes. Phone-width and
desktop screenshots of the zh-CN pages go to docs/screenshots/ (desktop-*.png, phone-*.png).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import PASSWORD, World
from tests.web.test_browser import CHROMIUM_ARGS, SHOTS, live_url  # noqa: F401  (live_url is a fixture)

playwright = pytest.importorskip("playwright.sync_api")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
ROLES = ("handler_a", "archivist", "manager", "regulator", "auditor", "admin")
DESKTOP, PHONE = 1280, 390
# English that must never show on a zh-CN page: developer words, raw MIME types, CLI hints, policy names.
DEV_TEXT = [re.compile(p) for p in (
    r"\bresults\b", r"\bkind\b", r"\bchannel\b", r"\byear\b", r"\bstate\b", r"Not Found", r"may not",
    r"give --", r"application/", r"\d B\b", r"default-1y", r"Forbidden", r"Traceback",
)]
# Pages checked in English at phone width as well (the widest tables and the chart).
EN_PHONE = {"dashboard", "dossiers", "dossier", "search", "audit", "disposal"}


def pages(world: World) -> dict[str, str]:
    """The pages by short name (also the screenshot name) and path."""
    return {
        "dashboard": "/", "dossiers": "/dossiers", "dossier": f"/dossiers/{world.dossier}", "register": "/register",
        "upload": f"/dossiers/{world.dossier}/upload", "search": "/search?q=收费",
        "document": f"/documents/{world.item}", "audit": "/audit", "reports": "/reports",
        "disposal": "/retention/disposal", "holds": "/retention/holds", "inventory": "/inventory",
        "transfer": "/transfer", "users": "/admin/users", "grants": "/admin/grants", "account": "/account",
        "intake": "/intake",
    }


def _check(page: Any, axe: str, where: str, width: int, lang: str) -> list[str]:
    """Run axe (serious/critical only), the overflow check at phone width, and the English-text check."""
    problems: list[str] = []
    page.set_viewport_size({"width": width, "height": 860})
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe)
    found = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'critical' || v.impact === 'serious')
            .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
    }""")
    problems += [f"{where} @{width}: axe {v}" for v in found]
    if width == PHONE:
        sizes = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        if sizes[0] > sizes[1] + 1:
            wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && ![...e.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 1))
                .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))""")
            problems.append(f"{where} @{width}: overflows horizontally ({sizes[0]} px > {sizes[1]} px): {wide}")
    if lang == "zh_CN":
        # The search syntax hint names the English field aliases on purpose (they are accepted in queries).
        text = page.evaluate("""() => { const h = [...document.querySelectorAll('.searchbar .hint')];
            h.forEach(e => e.hidden = true); const t = document.body.innerText;
            h.forEach(e => e.hidden = false); return t; }""")
        problems += [f"{where}: English text {p.pattern!r}: …{text[max(m.start() - 30, 0):m.end() + 30]!r}…"
                     for p in DEV_TEXT if (m := p.search(text))]
    return problems


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
# One catalogue database: the pages are the same templates over the same world on either, so
# PostgreSQL would repeat every check for nothing (~35 s a language); every other web test
# (statuses, content, log entries) runs each page on both databases.
@pytest.mark.parametrize("services", ["sqlite"], indirect=True)
def test_every_page_is_accessible_and_fits_a_phone(live_url: str, world: World, lang: str) -> None:  # noqa: F811
    """GIVEN every role signed in, in zh-CN or English
    WHEN it opens every page it may see, at 1280 px and at 390 px wide
    THEN axe-core finds no critical or serious violation, nothing overflows a phone screen,
    and no English developer text shows on a Chinese page."""
    if not AXE.exists():
        pytest.fail("axe-core is not installed: run `npm ci` (scripts/install-test-deps.sh)")
    axe = AXE.read_text(encoding="utf-8")
    problems: list[str] = []
    shot: set[str] = set()
    visited = 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for role in ROLES:
            context = browser.new_context(viewport={"width": DESKTOP, "height": 860}, bypass_csp=True)  # axe is inline
            # Sent to the browser once per role, not once per page (half a megabyte over the wire each time).
            context.add_init_script(script=axe)
            page = context.new_page()
            page.goto(f"{live_url}/lang/{lang}")
            page.goto(f"{live_url}/login")
            if role == ROLES[0]:
                problems += _check(page, axe, "login", DESKTOP, lang) + _check(page, axe, "login", PHONE, lang)
            page.fill("input[name=name]", role)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: "/login" not in url)  # the admin lands on its users page
            for name, path in pages(world).items():
                response = page.goto(f"{live_url}{path}")
                if response is None or response.status in (403, 404):
                    continue  # the role may not see this page (or this dossier)
                assert response.status < 400, f"{role} {path}: HTTP {response.status}"
                visited += 1
                where = f"{role} {path}"
                problems += _check(page, axe, where, DESKTOP, lang)
                if lang == "zh_CN" and name not in shot:
                    page.screenshot(path=str(SHOTS / f"desktop-{name}-{lang}.png"), full_page=True)
                if lang == "zh_CN" or name in EN_PHONE:
                    problems += _check(page, axe, where, PHONE, lang)
                    if lang == "zh_CN" and name not in shot:
                        page.screenshot(path=str(SHOTS / f"phone-{name}-{lang}.png"), full_page=True)
                        shot.add(name)
            context.close()
        browser.close()
    assert visited >= len(ROLES) * 5, f"only {visited} pages were visited"
    assert not problems, "\n".join(dict.fromkeys(problems))
