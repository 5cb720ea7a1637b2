"""The document viewer (issue #11 item 3): TIFF faxes page by page, Word and e-mail as safe HTML,
previous / next, thumbnails — every image a VIEW_DOCUMENT through the gate, stamped for a regulator."""

from __future__ import annotations

import io
import re
from email.message import EmailMessage
from typing import Any

import docx
import pytest
from flask.testing import FlaskClient
from PIL import Image, ImageDraw

from tests.web.conftest import LogCounter, World, sign_in_as
from web.bootstrap import Services
from web.ui.viewer import mask_personal_numbers

FAX_SIZE = (480, 320)


def _fax() -> bytes:
    """A three-page bilevel G4 TIFF, as a fax machine sends it."""
    frames = []
    for n in range(1, 4):
        img = Image.new("1", FAX_SIZE, 1)
        ImageDraw.Draw(img).rectangle((20 * n, 20, 20 * n + 100, 120), fill=0)
        frames.append(img)
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", compression="group4", save_all=True, append_images=frames[1:], dpi=(204, 196))
    return buf.getvalue()


def _docx() -> bytes:
    d = docx.Document()
    d.add_heading("投诉书", level=1)
    d.add_paragraph("律师收费过高。<script>alert('x')</script>")
    table = d.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "金额"
    table.rows[0].cells[1].text = "5000元"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _eml() -> bytes:
    m = EmailMessage()
    m["From"] = "张三 <zhangsan@example.cn>"
    m["To"] = "tousu@sfj.example.cn"
    m["Subject"] = "关于律师收费的投诉"
    m["Date"] = "Mon, 07 Dec 2026 09:00:00 +0800"
    m.set_content("请处理我的投诉。<script>alert(1)</script>")
    m.add_alternative("<html><body><p>请处理</p><script>alert(2)</script></body></html>", subtype="html")
    m.add_attachment("收据：5000元。".encode(), maintype="text", subtype="plain", filename="收据.txt")
    return bytes(m)


def _ingest(services: Services, world: World, data: bytes, name: str) -> Any:
    result = services.ingest.ingest_bytes("test", data, name, dossier=world.dossier)
    assert result.item_number, result
    return result


def _view_entries(log: LogCounter) -> list[tuple[str, str, str]]:
    return [(e.event.actor, e.event.action, e.event.outcome) for e in log.new_entries()]


@pytest.fixture
def fax(services: Services, world: World) -> str:
    return _ingest(services, world, _fax(), "传真.tif").item_number


def test_tiff_fax_is_read_page_by_page(client: FlaskClient, world: World, fax: str, log: LogCounter) -> None:
    """GIVEN a three-page TIFF fax in the handler's dossier
    WHEN the handler opens it in the viewer and asks for page 2
    THEN the viewer says "page 1 of 3" with a next-page link, page 2 is a PNG of the fax's size,
    and each image request leaves one VIEW_DOCUMENT entry."""
    sign_in_as(client, "handler_a")
    html = client.get(f"/documents/{fax}", query_string={"lang": "en"}).get_data(as_text=True)
    assert "page 1 of 3" in html
    assert f'/documents/{fax}?page=2' in html and f"/documents/{fax}/pages/1.png" in html
    html2 = client.get(f"/documents/{fax}?page=2&lang=en").get_data(as_text=True)
    assert "page 2 of 3" in html2 and f"/documents/{fax}/pages/2.png" in html2 and f'/documents/{fax}?page=1' in html2

    log.new_entries()
    resp = client.get(f"/documents/{fax}/pages/2.png")
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    page = Image.open(io.BytesIO(resp.data))
    assert page.format == "PNG" and page.size == FAX_SIZE
    assert _view_entries(log) == [("handler_a", "view_document", "allowed")]
    assert client.get(f"/documents/{fax}/pages/4.png").status_code == 404
    assert _view_entries(log) == [("handler_a", "view_document", "allowed")]  # logged, then no such page


def test_regulator_sees_stamped_pages_and_masked_text(client: FlaskClient, services: Services, world: World,
                                                      fax: str, log: LogCounter) -> None:
    """GIVEN a fax and a letter with a phone and an ID number in the dossier a regulator was granted
    WHEN the regulator and the handler view them
    THEN the regulator's page image is the stamped copy (it differs from the handler's), and the
    regulator's text shows the numbers masked while the handler's shows them plain."""
    letter = _ingest(services, world, "投诉人电话13812345678，身份证号110101199003077715。".encode(), "来信.txt").item_number
    sign_in_as(client, "handler_a")
    plain = client.get(f"/documents/{fax}/pages/1.png").data
    assert "13812345678" in client.get(f"/documents/{letter}").get_data(as_text=True)

    sign_in_as(client, "regulator")
    log.new_entries()
    stamped = client.get(f"/documents/{fax}/pages/1.png")
    assert stamped.status_code == 200 and Image.open(io.BytesIO(stamped.data)).format == "PNG"
    assert stamped.data != plain
    assert _view_entries(log) == [("regulator", "view_document", "allowed")]
    html = client.get(f"/documents/{letter}").get_data(as_text=True)
    assert "13812345678" not in html and "110101199003077715" not in html
    assert "138****5678" in html and "7715" in html


def test_word_and_email_render_as_escaped_html(client: FlaskClient, services: Services, world: World) -> None:
    """GIVEN a Word file and an e-mail with an attachment, each carrying a <script>
    WHEN the handler views them
    THEN the Word paragraphs and table and the e-mail's headers, body and attachment link are shown,
    and the script appears as text, never as markup."""
    word = _ingest(services, world, _docx(), "投诉书.docx").item_number
    mail = _ingest(services, world, _eml(), "投诉邮件.eml")
    sign_in_as(client, "handler_a")

    html = client.get(f"/documents/{word}", query_string={"lang": "en"}).get_data(as_text=True)
    assert "<h3>投诉书</h3>" in html and "<td>5000元</td>" in html
    assert "&lt;script&gt;alert(" in html and "<script>alert" not in html
    assert "cannot be shown here" not in html

    html = client.get(f"/documents/{mail.item_number}", query_string={"lang": "en"}).get_data(as_text=True)
    assert "关于律师收费的投诉" in html and "zhangsan@example.cn" in html and "请处理我的投诉" in html
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)" in html
    child = next(c.item_number for c in mail.children if c.item_number)
    assert re.search(rf'href="/documents/{re.escape(child)}">收据.txt</a>', html)


def test_previous_and_next_document(client: FlaskClient, world: World, fax: str) -> None:
    """GIVEN a dossier with a letter and then a fax
    WHEN the handler views each
    THEN the fax links back to the letter and the letter forward to the fax."""
    sign_in_as(client, "handler_a")
    html = client.get(f"/documents/{fax}").get_data(as_text=True)
    assert re.search(rf'rel="prev" href="/documents/{re.escape(world.item)}"', html)
    html = client.get(f"/documents/{world.item}").get_data(as_text=True)
    assert re.search(rf'rel="next" href="/documents/{re.escape(fax)}"', html)


def test_thumbnail_in_the_dossier_list(client: FlaskClient, world: World, fax: str, log: LogCounter) -> None:
    """GIVEN a dossier with a text letter and a fax
    WHEN the handler opens the dossier and fetches the fax's thumbnail (twice)
    THEN only the fax has a lazily loaded thumbnail with a text alternative, the thumbnail is a small
    PNG, each request is one VIEW_DOCUMENT entry, and a text document has none."""
    sign_in_as(client, "handler_a")
    html = client.get(f"/dossiers/{world.dossier}").get_data(as_text=True)
    assert re.search(rf'<img class="thumb" loading="lazy" src="/documents/{re.escape(fax)}/thumb.png" alt="[^"]+">', html)
    assert f"/documents/{world.item}/thumb.png" not in html
    log.new_entries()
    for _ in range(2):
        resp = client.get(f"/documents/{fax}/thumb.png")
        assert resp.status_code == 200
        thumb = Image.open(io.BytesIO(resp.data))
        assert thumb.format == "PNG" and thumb.width <= 120 and thumb.height <= 160
    assert _view_entries(log) == [("handler_a", "view_document", "allowed")] * 2
    assert client.get(f"/documents/{world.item}/thumb.png").status_code == 404
    assert client.get("/search", query_string={"q": "收费"}).status_code == 200  # hits render with the thumb line


def test_other_department_gets_404(client: FlaskClient, world: World, fax: str, log: LogCounter) -> None:
    """GIVEN a fax in department A
    WHEN a handler of department B asks for its page, its thumbnail or its viewer
    THEN each is 404, and each refusal is logged."""
    sign_in_as(client, "handler_b")
    log.new_entries()
    for path in (f"/documents/{fax}/pages/1.png", f"/documents/{fax}/thumb.png", f"/documents/{fax}"):
        assert client.get(path).status_code == 404
    assert [a for _, a, o in _view_entries(log) if o != "allowed"] == ["view_document", "view_document", "view_text"]


def test_masking_keeps_the_last_four() -> None:
    """GIVEN text with a mobile, a landline and an ID number
    WHEN it is masked for a regulator
    THEN each keeps only enough to tell numbers apart, and other text is untouched."""
    text = "电话 13812345678、010-62345678，身份证 11010119900307771X，案号 2611-007。"
    assert mask_personal_numbers(text) == "电话 138****5678、010-****5678，身份证 **************771X，案号 2611-007。"


def test_search_hits_get_thumbnails_only_for_pages() -> None:
    """GIVEN search hits titled by their file name (a fax, a PDF, a Word file) or by an e-mail's subject
    WHEN the result page asks which get a first-page thumbnail
    THEN the fax and the PDF do; the Word file and the e-mail (even one whose subject ends in .pdf) do not."""
    from types import SimpleNamespace

    from web.ui.viewer import thumbable

    assert thumbable(SimpleNamespace(title="传真.TIF", kind="fax"))
    assert thumbable(SimpleNamespace(title="决定书.pdf", kind="decision"))
    assert not thumbable(SimpleNamespace(title="投诉书.docx", kind="complaint_letter"))
    assert not thumbable(SimpleNamespace(title="请看附件 决定书.pdf", kind="email"))


def test_outlook_msg_renders_headers_and_body() -> None:
    """GIVEN an Outlook .msg from the shared corpus
    WHEN the viewer renders it
    THEN its subject and sender are header rows and its body is escaped text."""
    from pathlib import Path

    from web.ui.viewer import MSG, render_html

    sample = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "msg" / "tika__testMSG.msg"
    assert sample.exists(), f"the shared corpus belongs beside the repository: {sample}"
    rendered = render_html(sample.read_bytes(), MSG)
    assert rendered is not None
    labels = dict(rendered.headers)
    assert labels.get("Subject") and labels.get("From")
    assert str(rendered.html).startswith('<pre class="mail-body">') and "I&#39;d like" in str(rendered.html)
