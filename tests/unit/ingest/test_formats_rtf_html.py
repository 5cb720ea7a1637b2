"""RTF documents, HTML pages saved by browsers and .mht/.mhtml web archives (issue #13, item 4)."""

from __future__ import annotations

import base64
import quopri
from pathlib import Path

from ingest.detect import MHT, RTF, detect_media_type
from ingest.extractors import extractor_for
from ingest.extractors.rtf import rtf_text
from ingest.model import ExtractContext, Extraction


def _extract(path: Path, expected_type: str) -> Extraction:
    media_type = detect_media_type(path)
    assert media_type == expected_type
    return extractor_for(media_type).extract(path, media_type, ExtractContext())


def _hex(text: str, codec: str) -> str:
    return "".join(f"\\'{b:02x}" for b in text.encode(codec))


# A letter as Word in Chinese saves it: code page 936, GBK bytes as \'hh escapes in a fcharset134
# font, the same text again as \uN with two-byte fallbacks (\uc2), and an \info group.
WORD_RTF = (
    "{\\rtf1\\ansi\\ansicpg936\\deff0\\deflang1033\\deflangfe2052"
    "{\\fonttbl{\\f0\\froman\\fcharset0 Times New Roman;}{\\f1\\fnil\\fcharset134 " + _hex("宋体", "gbk") + ";}}"
    "{\\colortbl;\\red0\\green0\\blue0;}"
    "{\\info{\\title " + _hex("关于镕喆小区的投诉", "gbk") + "}{\\author " + _hex("张三", "gbk") + "}}"
    "{\\*\\generator Microsoft Word 11.0.0000;}"
    "\\pard\\plain\\f1\\fs24 " + _hex("投诉人：张三，镕喆小区业主。", "gbk") + "\\par "
    "\\uc2" + "".join(f"\\u{ord(c)}{_hex(c, 'gbk')}" for c in "物业长期不处理漏水问题") + "\\par "
    "{\\pict\\pngblip\\picw10\\pich10 " + "89504e470d0a1a0a" * 300 + "}"
    "\\f0 Tel 13800000000\\par}"
).encode("ascii")


def test_word_rtf_in_code_page_936_reads_as_chinese(tmp_path: Path) -> None:
    """GIVEN an RTF letter saved by Chinese Word under a .doc name (\\'hh GBK escapes, \\uN escapes
    with fallbacks, an embedded picture, an \\info group)
    WHEN detected and extracted
    THEN it is RTF and the text is the letter, GBK-only characters (镕喆) included, with no picture
    data, and the title and author come from the \\info group."""
    path = tmp_path / "投诉信.doc"
    path.write_bytes(WORD_RTF)
    result = _extract(path, RTF)
    assert result.text.splitlines() == ["投诉人：张三，镕喆小区业主。", "物业长期不处理漏水问题", "Tel 13800000000"]
    assert result.metadata["title"] == "关于镕喆小区的投诉"
    assert result.metadata["author"] == "张三"
    assert result.languages and result.languages[0] == "zh-Hans"
    assert result.warnings == ()


def test_big5_rtf_and_raw_gbk_bytes_decode(tmp_path: Path) -> None:
    """GIVEN a Traditional Chinese RTF (\\ansicpg950, a fcharset136 font) and one whose writer put
    raw GBK bytes in the file instead of escapes
    WHEN their text is taken (``rtf_text``, which the Word reader reuses for altChunk parts)
    THEN both read as the Chinese written."""
    big5 = ("{\\rtf1\\ansi\\ansicpg950{\\fonttbl{\\f0\\fnil\\fcharset136 " + _hex("新細明體", "big5") + ";}}"
            "\\f0 " + _hex("陳情人：李四", "big5") + "\\par}").encode("ascii")
    assert rtf_text(big5) == "陳情人：李四"
    raw = b"{\\rtf1\\ansi\\ansicpg936\\deff0 " + "原始字节的投诉内容".encode("gbk") + b"\\par}"
    assert rtf_text(raw) == "原始字节的投诉内容"


def test_rtf_letter_with_a_large_picture_is_read_in_little_memory() -> None:
    """GIVEN an RTF letter holding one embedded picture of 2 MB of hex (a scanned page; real ones
    run to 30 MB) and an OLE object with binary (\\binN) data
    WHEN its text is taken
    THEN the letter's text is there, without picture data, and reading it took a few times the
    file's size in memory at most (not hundreds of megabytes, which the worker's cap would kill)."""
    import tracemalloc

    picture = (b"0123456789abcdef" * 8 + b"\r\n") * 16_000
    data = (b"{\\rtf1\\ansi\\ansicpg936 \\'cd\\'b6\\'cb\\'df\\'d0\\'c5\\par {\\pict\\jpegblip " + picture
            + b"}{\\object{\\*\\objdata\\bin4 }{}{}}Tail\\par}")
    tracemalloc.start()
    try:
        text = rtf_text(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert text == "投诉信\nTail"
    assert peak < 4 * len(data)


def _mht(*, saved_by: str = "Saved by Windows Internet Explorer 8") -> bytes:
    page = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
            "<title>投诉受理回执</title><style>p{color:red}</style>"
            '<script>var tip="脚本内容";</script></head>'
            "<body><p>投诉人：张三</p><p>您的投诉已受理，编号2024-001。</p><img src=\"logo.png\"></body></html>"
            ).encode("gbk")
    subject = base64.b64encode("投诉受理回执".encode("gbk")).decode()
    return (
        f"From: <{saved_by}>\r\nSubject: =?gb2312?B?{subject}?=\r\n"
        "Date: Tue, 5 Mar 2024 10:00:00 +0800\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/related;\r\n\ttype="text/html";\r\n\tboundary="----=_NextPart_000_0000_01DA6E.1"\r\n'
        "X-MimeOLE: Produced By Microsoft MimeOLE V6.1.7601.17514\r\n\r\n"
        "This is a multi-part message in MIME format.\r\n\r\n"
        "------=_NextPart_000_0000_01DA6E.1\r\nContent-Type: text/html;\r\n\tcharset=\"gb2312\"\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "Content-Location: http://xf.example.gov.cn/receipt.html\r\n\r\n"
        + quopri.encodestring(page).decode("ascii") + "\r\n\r\n"
        "------=_NextPart_000_0000_01DA6E.1\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
        "Content-Location: http://xf.example.gov.cn/logo.png\r\n\r\n"
        + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 40).decode() + "\r\n\r\n"
        "------=_NextPart_000_0000_01DA6E.1--\r\n"
    ).encode("ascii")


def test_saved_web_archive_is_the_page_not_an_email(tmp_path: Path) -> None:
    """GIVEN a page saved by Internet Explorer as .mht (MIME multipart/related, GB2312 HTML part
    in quoted-printable, an image part)
    WHEN detected and extracted
    THEN it is a web archive, not an e-mail: the text is the page (title, paragraphs; no script,
    no "Saved by" header block), the title is the page's, there is no sender, the address it was
    saved from is kept, and the image stays an attachment."""
    path = tmp_path / "回执.mht"
    path.write_bytes(_mht())
    result = _extract(path, MHT)
    assert result.text.splitlines()[0] == "投诉受理回执"
    assert "您的投诉已受理，编号2024-001。" in result.text
    assert "Saved by" not in result.text and "脚本内容" not in result.text and "color:red" not in result.text
    assert result.metadata["title"] == "投诉受理回执"
    assert "from" not in result.metadata and "author" not in result.metadata
    assert result.metadata["source_url"] == "http://xf.example.gov.cn/receipt.html"
    assert [a.data[:4] for a in result.attachments] == [b"\x89PNG"]


def test_word_saved_web_archive_keeps_a_first_paragraph_that_looks_like_headers(tmp_path: Path) -> None:
    """GIVEN a letter saved by Word as .mht (no From/Date/Subject headers) whose first paragraph is
    "Ref: …" / "Date: …" lines
    WHEN extracted
    THEN that paragraph is part of the text (only a header block the mail reader wrote is dropped),
    and the web-archive reader takes a password (handed on to its attachments)."""
    page = (b'<html><body><p>Ref: HX-2024-118<br>Date: 3 March 2024</p>'
            b'<p>Dear Sir, I complain about the noise.</p></body></html>')
    path = tmp_path / "letter.mht"
    path.write_bytes(b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="B"\r\n\r\n--B\r\n'
                     b'Content-Location: file:///C:/x/file.htm\r\nContent-Type: text/html; charset="utf-8"\r\n\r\n'
                     + page + b"\r\n--B--\r\n")
    result = _extract(path, MHT)
    assert result.text.splitlines()[:2] == ["Ref: HX-2024-118", "Date: 3 March 2024"]
    assert result.text.endswith("Dear Sir, I complain about the noise.")
    assert extractor_for(MHT).takes_password is True  # type: ignore[attr-defined]


def test_html_mail_with_inline_images_stays_an_email() -> None:
    """GIVEN a mailed HTML message whose top part is multipart/related (inline images), with To/Received
    WHEN detected
    THEN it is still an e-mail."""
    mailed = _mht(saved_by="zhangsan@example.cn").replace(
        b"MIME-Version", b"To: xinfang@example.gov.cn\r\nMessage-ID: <1@example.cn>\r\nMIME-Version")
    assert detect_media_type(mailed) == "message/rfc822"


def test_page_saved_by_a_browser_reads_as_its_text_with_its_title(tmp_path: Path) -> None:
    """GIVEN a page saved by a browser ("saved from url" mark, GBK declared in <meta http-equiv>,
    a big inline style and script, a <title>)
    WHEN detected and extracted
    THEN the text is the page's visible text decoded as GBK (no script or style), and the title and
    the address it was saved from become metadata."""
    page = ("<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\">\r\n"
            "<!-- saved from url=(0041)http://xf.example.gov.cn/notice/2024.html -->\r\n"
            '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk">\r\n'
            "<title>关于镕喆小区物业问题的答复 - 某市信访局</title>\r\n"
            "<style>" + "body{color:#333}" * 50 + "</style>\r\n"
            '<script type="text/javascript">var notice="脚本里的字";</script></head>\r\n'
            "<body><h1>关于镕喆小区物业问题的答复</h1><p>张三同志：您反映的问题已转交区住建局办理。</p></body></html>")
    path = tmp_path / "答复.html"
    path.write_bytes(page.encode("gbk"))
    result = _extract(path, "text/html")
    assert "张三同志：您反映的问题已转交区住建局办理。" in result.text.splitlines()
    assert "脚本里的字" not in result.text and "color" not in result.text
    assert result.metadata["encoding"] == "gb18030"
    assert result.metadata["title"] == "关于镕喆小区物业问题的答复 - 某市信访局"
    assert result.metadata["source_url"] == "http://xf.example.gov.cn/notice/2024.html"


def test_xhtml_page_is_read_as_html_not_as_data(tmp_path: Path) -> None:
    """GIVEN an XHTML page (an XML declaration first, so libmagic calls it text/xml)
    WHEN extracted
    THEN it is read as a web page: its script is dropped and its title is metadata."""
    path = tmp_path / "page.xhtml"
    path.write_bytes(
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n'
        b'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Notice</title>'
        b'<script type="text/javascript">var tracking = 1;</script></head>'
        + "<body><p>信访事项已受理。</p></body></html>".encode())
    result = _extract(path, "text/xml")
    assert "信访事项已受理。" in result.text
    assert "tracking" not in result.text
    assert result.metadata["title"] == "Notice"
