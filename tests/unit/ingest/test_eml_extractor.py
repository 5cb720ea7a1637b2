"""E-mail extraction: Chinese charsets (declared or not), headers, attachments, nesting, limits."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import base64
import json
from pathlib import Path

import pytest

from ingest.errors import CorruptDocumentError, EncryptedDocumentError, IngestError, TooLargeError
from ingest.extractors.eml import EmailExtractor
from ingest.model import ExtractContext, Extraction, Limits

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
# Files whose text must contain Han characters (provenance notes: Chinese spam in gb2312,
# Japanese in shift_jis / iso-2022-jp / GBK mislabelled as gb2312).
HAN_EXPECTED = {"spamscope__mail_test_9.eml", "phpmime__failure.eml", "mimekit__japanese.eml",
                "mail__japanese_shift_jis.eml"}
ERROR_EXPECTED: dict[str, type[IngestError]] = {
    "unstructured__fake-encrypted.eml": EncryptedDocumentError,   # PGP/MIME, no key
    "unstructured__empty.eml": CorruptDocumentError,              # 13 bytes of blanks
}

SUBJECT = "关于物业镕喆的投诉"       # 镕 and 喆 are GBK-only: not in GB2312
BODY = "投诉人王喆反映：小区物业长期不处理漏水问题，请尽快答复。"


def _b64(text: str, codec: str) -> str:
    return base64.b64encode(text.encode(codec)).decode("ascii")


def _write(tmp_path: Path, data: bytes, name: str = "mail.eml") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _extract(path: Path, context: ExtractContext | None = None) -> Extraction:
    return EmailExtractor().extract(path, "message/rfc822", context or ExtractContext())


def _chinese_mail() -> bytes:
    return (
        "From: =?gb2312?B?" + _b64("王喆", "gbk") + "?= <wang@example.cn>\r\n"
        "To: xinfang@example.gov.cn\r\n"
        "Cc: =?utf-8?Q?=E5=8A=9E=E5=85=AC=E5=AE=A4?= <office@example.gov.cn>\r\n"
        "Subject: =?gb2312?B?" + _b64(SUBJECT, "gbk") + "?=\r\n"
        "Date: Tue, 5 Mar 2024 09:30:00 +0800\r\n"
        "Message-ID: <1@example.cn>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=gb2312\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        + _b64(BODY, "gbk") + "\r\n"
    ).encode("ascii")


def _multipart(*parts: str, subtype: str = "mixed", boundary: str = "BOUNDARY") -> str:
    body = "".join(f"--{boundary}\r\n{part}\r\n" for part in parts)
    return (f"From: a@example.cn\r\nSubject: test\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n{body}--{boundary}--\r\n')


def test_gb2312_labelled_gbk_subject_and_body_decode_without_loss(tmp_path: Path) -> None:
    """A gb2312 label on GBK text (镕, 喆) still yields every character, decoded as GB18030."""
    result = _extract(_write(tmp_path, _chinese_mail()))
    assert result.metadata["subject"] == SUBJECT
    assert BODY in result.text
    assert "\ufffd" not in result.text
    assert result.metadata["from"] == "王喆 <wang@example.cn>"
    assert result.metadata["cc"] == "办公室 <office@example.gov.cn>"


def test_text_starts_with_a_header_block_search_can_find(tmp_path: Path) -> None:
    """Sender, recipients, date and subject open the text, so a search for them finds the mail."""
    text = _extract(_write(tmp_path, _chinese_mail())).text
    head = text.split("\n\n", 1)[0].splitlines()
    assert head[0] == "From: 王喆 <wang@example.cn>"
    assert head[1] == "To: xinfang@example.gov.cn"
    assert f"Subject: {SUBJECT}" in head
    assert any(line.startswith("Date: Tue, 5 Mar 2024") for line in head)


def test_metadata_date_is_iso_and_message_id_kept(tmp_path: Path) -> None:
    """The Date header becomes ISO 8601 with its offset; Message-ID is kept for threading."""
    metadata = _extract(_write(tmp_path, _chinese_mail())).metadata
    assert metadata["date"] == "2024-03-05T09:30:00+08:00"
    assert metadata["message_id"] == "<1@example.cn>"


def test_unencoded_8bit_gbk_headers_and_unlabelled_body_are_detected(tmp_path: Path) -> None:
    """Raw GBK bytes in headers and an unlabelled body (common from old clients) decode."""
    data = (b"From: a@example.cn\r\nSubject: " + SUBJECT.encode("gbk") + b"\r\n\r\n"
            + (BODY * 3).encode("gbk") + b"\r\n")
    result = _extract(_write(tmp_path, data))
    assert result.metadata["subject"] == SUBJECT
    assert BODY in result.text


def test_latin1_label_on_gbk_body_is_overridden_with_a_warning(tmp_path: Path) -> None:
    """A Western label on Chinese bytes is a classic mislabel: the text is rescued and flagged."""
    part = ("Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + _b64(BODY * 3, "gbk"))
    result = _extract(_write(tmp_path, _multipart(part).encode("ascii")))
    assert BODY in result.text
    assert any("iso-8859-1" in warning for warning in result.warnings)


def test_html_only_body_becomes_text_without_markup(tmp_path: Path) -> None:
    """With no text/plain part, the HTML part is converted; scripts and tags disappear."""
    html = f"<html><head><style>p{{}}</style><script>alert(1)</script></head><body><p>{BODY}</p></body></html>"
    part = ("Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + _b64(html, "utf-8"))
    text = _extract(_write(tmp_path, _multipart(part).encode("ascii"))).text
    assert BODY in text
    assert "<p>" not in text and "alert" not in text


def test_alternative_prefers_the_plain_part(tmp_path: Path) -> None:
    """multipart/alternative yields the plain text once, not plain and HTML both."""
    plain = "Content-Type: text/plain; charset=utf-8\r\n\r\nplain version"
    html = "Content-Type: text/html; charset=utf-8\r\n\r\n<p>html version</p>"
    text = _extract(_write(tmp_path, _multipart(plain, html, subtype="alternative").encode())).text
    assert "plain version" in text and "html version" not in text


def test_attachment_names_decode_from_rfc2231_and_rfc2047(tmp_path: Path) -> None:
    """Chinese attachment names arrive as RFC 2231 (UTF-8) or RFC 2047 (GB2312) and both decode."""
    rfc2231 = ("Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
               "Content-Disposition: attachment; filename*=UTF-8''%E6%8A%95%E8%AF%89%E4%BF%A1.pdf\r\n\r\n"
               + base64.b64encode(b"%PDF-1.4 fake").decode())
    rfc2047 = ("Content-Type: application/msword; name=\"=?gb2312?B?" + _b64("证据材料.doc", "gbk")
               + "?=\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment\r\n\r\n"
               + base64.b64encode(b"doc bytes").decode())
    result = _extract(_write(tmp_path, _multipart("Content-Type: text/plain\r\n\r\nsee attached",
                                                  rfc2231, rfc2047).encode()))
    assert [(a.filename, a.data, a.media_type) for a in result.attachments] == [
        ("投诉信.pdf", b"%PDF-1.4 fake", "application/pdf"),
        ("证据材料.doc", b"doc bytes", "application/msword"),
    ]


def test_attached_message_text_is_included_and_returned_as_eml(tmp_path: Path) -> None:
    """A forwarded message/rfc822 part is searchable in the outer text and filed on its own."""
    inner = _chinese_mail().decode("ascii")
    nested = "Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n" + inner
    result = _extract(_write(tmp_path, _multipart("Content-Type: text/plain\r\n\r\nFYI", nested).encode()))
    assert "----- attached message" in result.text
    assert BODY in result.text
    [attachment] = result.attachments
    assert attachment.media_type == "message/rfc822"
    assert attachment.filename.endswith(".eml")
    reparsed = _extract(_write(tmp_path, attachment.data, "inner.eml"))
    assert reparsed.metadata["subject"] == SUBJECT


def test_attached_messages_beyond_max_depth_are_skipped_with_a_warning(tmp_path: Path) -> None:
    """Nested messages past limits.max_depth are neither read nor returned, and that is flagged."""
    inner = _chinese_mail().decode("ascii")
    nested = "Content-Type: message/rfc822\r\n\r\n" + inner
    path = _write(tmp_path, _multipart("Content-Type: text/plain\r\n\r\nFYI", nested).encode())
    result = _extract(path, ExtractContext(limits=Limits(max_depth=1), depth=1))
    assert BODY not in result.text
    assert result.attachments == ()
    assert any("max_depth" in warning for warning in result.warnings)


def test_attachments_over_max_attachments_are_dropped_with_a_warning(tmp_path: Path) -> None:
    """Only limits.max_attachments attachments come back; the rest are counted in a warning."""
    parts = [f"Content-Type: application/octet-stream; name=\"f{i}.bin\"\r\n\r\nx{i}" for i in range(5)]
    path = _write(tmp_path, _multipart("Content-Type: text/plain\r\n\r\nbody", *parts).encode())
    result = _extract(path, ExtractContext(limits=Limits(max_attachments=2)))
    assert [a.filename for a in result.attachments] == ["f0.bin", "f1.bin"]
    assert any("3 attachment(s) dropped" in warning for warning in result.warnings)


def test_tnef_winmail_dat_is_kept_and_flagged(tmp_path: Path) -> None:
    """Outlook's TNEF wrapper is not decoded, but it is kept and the result is flagged."""
    tnef = ("Content-Type: application/ms-tnef; name=\"winmail.dat\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.b64encode(b"\x78\x9f\x3e\x22tnef").decode())
    result = _extract(_write(tmp_path, _multipart("Content-Type: text/plain\r\n\r\nbody", tnef).encode()))
    assert [a.filename for a in result.attachments] == ["winmail.dat"]
    assert any("TNEF" in warning for warning in result.warnings)


def test_pgp_encrypted_body_is_reported_as_encrypted(tmp_path: Path) -> None:
    """A PGP/MIME message has no readable body: it ends as 'encrypted', not as empty text."""
    data = ("From: a@example.cn\r\nSubject: secret\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b"\r\n\r\n'
            "--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
            "--b\r\nContent-Type: application/octet-stream\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n--b--\r\n")
    with pytest.raises(EncryptedDocumentError):
        _extract(_write(tmp_path, data.encode()))


def test_mime_nesting_bomb_ends_in_too_large_not_a_crash(tmp_path: Path) -> None:
    """Thousands of nested multiparts exhaust the parser's recursion: reported as too large."""
    opening = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(3000))
    closing = "".join(f"--b{i}--\r\n" for i in reversed(range(3000)))
    data = "From: a@example.cn\r\n" + opening + "Content-Type: text/plain\r\n\r\nbottom\r\n" + closing
    with pytest.raises(TooLargeError):
        _extract(_write(tmp_path, data.encode()))


def test_deep_but_parseable_nesting_is_cut_off_with_a_warning(tmp_path: Path) -> None:
    """A few hundred levels parse, but the walk stops at its own bound and says so."""
    opening = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(150))
    closing = "".join(f"--b{i}--\r\n" for i in reversed(range(150)))
    data = "From: a@example.cn\r\nSubject: deep\r\n" + opening + "Content-Type: text/plain\r\n\r\nbottom\r\n" + closing
    result = _extract(_write(tmp_path, data.encode()))
    assert result.metadata["subject"] == "deep"
    assert any("nested deeper" in warning for warning in result.warnings)


def test_mbox_yields_every_message_and_their_count(tmp_path: Path) -> None:
    """An mbox export is one document holding the text of all its messages."""
    one = "From a@example.cn Mon Jan  1 00:00:00 2024\nFrom: a@example.cn\nSubject: first\n\n第一封\n\n"
    two = "From b@example.cn Tue Jan  2 00:00:00 2024\nFrom: b@example.cn\nSubject: second\n\n第二封\n"
    result = EmailExtractor().extract(_write(tmp_path, (one + two).encode(), "box.mbox"),
                                      "application/mbox", ExtractContext())
    assert "第一封" in result.text and "第二封" in result.text
    assert result.metadata["messages"] == "2"
    assert result.metadata["subject"] == "first"


def test_emlx_byte_count_line_and_trailing_plist_are_ignored(tmp_path: Path) -> None:
    """Apple Mail's .emlx wraps the message in a byte count and a property list."""
    message = b"From: a@example.cn\nSubject: apple\n\nbody text\n"
    data = str(len(message)).encode() + b"\n" + message + b"<?xml version=\"1.0\"?><plist/>"
    result = _extract(_write(tmp_path, data, "1.emlx"))
    assert result.metadata["subject"] == "apple"
    assert "plist" not in result.text


def test_message_saved_as_utf16_is_parsed(tmp_path: Path) -> None:
    """A whole message stored as UTF-16 LE (as some Windows tools save it) still parses."""
    message = "From: a@example.cn\r\nSubject: 十六位\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n正文内容\r\n"
    result = _extract(_write(tmp_path, message.encode("utf-16-le")))
    assert result.metadata["subject"] == "十六位"
    assert "正文内容" in result.text


def test_file_over_max_file_bytes_is_too_large(tmp_path: Path) -> None:
    """The size limit is checked before the message is read into memory."""
    with pytest.raises(TooLargeError):
        _extract(_write(tmp_path, _chinese_mail()), ExtractContext(limits=Limits(max_file_bytes=100)))




def _corpus(group: str) -> list[Path]:
    rows = [json.loads(line) for line in (CORPUS / "provenance.jsonl").read_text().splitlines() if line]
    return sorted(CORPUS / row["shared_path"].removeprefix("corpus/") for row in rows if row["group"] == group)


@pytest.mark.parametrize("path", _corpus("email"), ids=lambda p: p.name)
def test_every_corpus_mail_ends_in_text_or_a_named_error(path: Path, within: Callable[[int], AbstractContextManager[None]]) -> None:
    """Each real-world mail yields an Extraction or a named IngestError, promptly."""
    with within(30):
        try:
            result = EmailExtractor().extract(path, "message/rfc822", ExtractContext())
        except IngestError as exc:
            assert type(exc) is ERROR_EXPECTED.get(path.name), f"{path.name}: {exc.reason}"
            return
    assert path.name not in ERROR_EXPECTED
    assert isinstance(result, Extraction)
    if path.name in HAN_EXPECTED:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in result.text)
