"""Outlook .msg extraction: ANSI code pages for Chinese, embedded messages, limits, bad files."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import io
import json
import logging
import struct
from pathlib import Path

import pytest
from extract_msg.ole_writer import OleWriter

from ingest.errors import CorruptDocumentError, EncryptedDocumentError, IngestError, UnsupportedFormatError
from ingest.extractors.msg import MsgExtractor
from ingest.model import ExtractContext, Extraction, Limits

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
OUTLOOK = "application/vnd.ms-outlook"
SUBJECT = "关于镕喆小区的投诉"          # 镕 and 喆 are GBK-only: strict gb2312 fails on them
BODY = "投诉人反映：物业长期不处理漏水问题，请尽快答复。堃"


def _ansi_msg(tmp_path: Path, *, code_page: int | None = None, lcid: int | None = None,
              codec: str = "gbk", subject: str = SUBJECT, body: str = BODY) -> Path:
    """A minimal non-Unicode Outlook message, the kind Chinese Outlook 2003 wrote."""
    def long_prop(tag: int, value: int) -> bytes:
        return struct.pack("<IIi4x", tag, 0x6, value)

    properties = b"\0" * 8 + struct.pack("<IIII", 0, 0, 0, 0) + b"\0" * 8
    if code_page is not None:
        properties += long_prop(0x3FFD0003, code_page)      # PR_MESSAGE_CODEPAGE
    if lcid is not None:
        properties += long_prop(0x3FF10003, lcid)           # PR_MESSAGE_LOCALE_ID
    writer = OleWriter()
    writer.addEntry("__properties_version1.0", properties)
    writer.addEntry("__substg1.0_001A001E", b"IPM.Note")
    writer.addEntry("__substg1.0_0037001E", subject.encode(codec))
    writer.addEntry("__substg1.0_1000001E", body.encode(codec))
    buffer = io.BytesIO()
    writer.write(buffer)
    path = tmp_path / "ansi.msg"
    path.write_bytes(buffer.getvalue())
    return path


def _extract(path: Path, context: ExtractContext | None = None) -> Extraction:
    return MsgExtractor().extract(path, OUTLOOK, context or ExtractContext())


def test_code_page_936_store_decodes_gbk_only_characters(tmp_path: Path) -> None:
    """PR_MESSAGE_CODEPAGE 936 is read as GB18030, so GBK-only characters survive."""
    result = _extract(_ansi_msg(tmp_path, code_page=936))
    assert result.metadata["subject"] == SUBJECT
    assert BODY in result.text
    assert result.metadata["encoding"] == "gb18030"
    assert result.warnings == ()


def test_chinese_locale_gives_the_code_page_when_none_is_recorded(tmp_path: Path) -> None:
    """Without a code page, the zh-CN locale (2052) still selects GB18030, not ISO-8859-15."""
    result = _extract(_ansi_msg(tmp_path, lcid=2052))
    assert result.metadata["subject"] == SUBJECT and BODY in result.text


def test_traditional_chinese_locale_selects_big5(tmp_path: Path) -> None:
    """zh-TW (1028) means code page 950."""
    subject, body = "關於社區漏水的陳情", "陳情人反映：管理委員會長期不處理漏水問題。"
    result = _extract(_ansi_msg(tmp_path, lcid=1028, codec="cp950", subject=subject, body=body))
    assert result.metadata["encoding"] == "cp950"
    assert result.metadata["subject"] == subject and body in result.text


def test_store_without_any_code_page_is_detected_and_flagged(tmp_path: Path) -> None:
    """With no code page and no locale, the bytes are detected and the guess is flagged."""
    result = _extract(_ansi_msg(tmp_path))
    assert BODY in result.text
    assert any("code page" in warning for warning in result.warnings)


def test_japanese_ansi_corpus_message_is_not_mojibake() -> None:
    """The cp932 corpus message (no code page property, locale 1041) yields Japanese."""
    result = _extract(CORPUS / "msg" / "msgreader__nonUnicodeCP932.msg")
    assert "日本語" in result.metadata["subject"]
    assert "日本語 Non Unicode 本文" in result.text


def test_extract_msg_guesses_stay_out_of_the_operator_log(caplog: pytest.LogCaptureFixture) -> None:
    """extract-msg's 'defaulting to ISO-8859-15' noise is ours to replace, not to log."""
    with caplog.at_level(logging.WARNING):
        _extract(CORPUS / "msg" / "msgreader__nonUnicodeCP932.msg")
    assert not [r for r in caplog.records if r.name.startswith("extract_msg")]


def test_header_block_and_metadata_come_from_the_message() -> None:
    """Sender, recipients, date and subject open the text and fill the metadata."""
    result = _extract(CORPUS / "msg" / "unstructured__fake-email-with-cc-and-bcc.msg")
    assert result.text.startswith('From: "John" <johnjennings702@gmail.com>\nTo: ')
    assert result.metadata["cc"] == "steve@unstructured.io"
    assert result.metadata["date"].startswith("2024-07-29T20:38:11")
    assert result.metadata["title"] == "Fake email with cc and bcc recipients"


def test_embedded_message_is_returned_as_msg_and_its_text_included(tmp_path: Path) -> None:
    """An attached Outlook item is searchable in the outer text and can be filed on its own."""
    result = _extract(CORPUS / "msg" / "msgreader__msgInMsg.msg")
    assert "----- attached message: Microsoft Outlook テスト メッセージ" in result.text
    embedded = [a for a in result.attachments if a.media_type == OUTLOOK]
    assert len(embedded) == 1 and embedded[0].filename.endswith(".msg")
    inner = tmp_path / embedded[0].filename
    inner.write_bytes(embedded[0].data)
    assert "テスト" in _extract(inner).metadata["subject"]
    assert {a.filename for a in result.attachments} >= {"green.png"}


def test_embedded_messages_beyond_max_depth_are_skipped_with_a_warning() -> None:
    """At the depth limit, embedded items are neither read nor returned, and that is flagged."""
    context = ExtractContext(limits=Limits(max_depth=2), depth=2)
    result = _extract(CORPUS / "msg" / "msgreader__msgInMsg.msg", context)
    assert "attached message" not in result.text
    assert all(a.media_type != OUTLOOK for a in result.attachments)
    assert any("max_depth" in warning for warning in result.warnings)


def test_attachments_over_max_attachments_are_dropped_with_a_warning() -> None:
    """Only limits.max_attachments attachments come back; the rest are counted in a warning."""
    result = _extract(CORPUS / "msg" / "msgreader__attachmentsOrder.msg",
                      ExtractContext(limits=Limits(max_attachments=2)))
    assert [a.filename for a in result.attachments] == ["A.docx", "B.docx"]
    assert any("2 attachment(s) dropped" in warning for warning in result.warnings)


def test_file_that_is_not_ole_is_corrupt(tmp_path: Path) -> None:
    """Bytes that are not a compound file end as corrupt with a reason."""
    path = tmp_path / "bad.msg"
    path.write_bytes(b"From: a@b\r\n\r\nnot outlook")
    with pytest.raises(CorruptDocumentError):
        _extract(path)


def test_truncated_message_is_corrupt(tmp_path: Path) -> None:
    """A .msg cut short in transfer is reported as corrupt, not as a crash."""
    data = (CORPUS / "msg" / "tika__testMSG.msg").read_bytes()
    path = tmp_path / "cut.msg"
    path.write_bytes(data[:1500])
    with pytest.raises(CorruptDocumentError):
        _extract(path)


def test_compound_file_that_is_not_outlook_is_unsupported(tmp_path: Path) -> None:
    """An OLE file without Outlook properties is named unsupported, not parsed as mail."""
    writer = OleWriter()
    writer.addEntry("Workbook", b"\0" * 64)
    buffer = io.BytesIO()
    writer.write(buffer)
    path = tmp_path / "sheet.msg"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(UnsupportedFormatError):
        _extract(path)


def test_encrypted_office_package_is_reported_encrypted() -> None:
    """An encrypted OOXML file (also OLE) handed over as .msg is named encrypted."""
    with pytest.raises(EncryptedDocumentError):
        _extract(CORPUS / "docx" / "tika__testWORD_protected_passtika.docx")




def _corpus(group: str) -> list[tuple[Path, int]]:
    rows = [json.loads(line) for line in (CORPUS / "provenance.jsonl").read_text().splitlines() if line]
    return sorted((CORPUS / row["shared_path"].removeprefix("corpus/"), row["measured"].get("han", 0))
                  for row in rows if row["group"] == group)


@pytest.mark.parametrize(("path", "han"), _corpus("msg"), ids=lambda v: v.name if isinstance(v, Path) else "")
def test_every_corpus_message_ends_in_text_or_a_named_error(path: Path, han: int, within: Callable[[int], AbstractContextManager[None]]) -> None:
    """Each real-world .msg yields an Extraction (with Han text where measured) or a named error."""
    with within(30):
        try:
            result = _extract(path)
        except IngestError as exc:
            pytest.fail(f"{path.name}: {type(exc).__name__}: {exc.reason}")
    assert result.metadata.get("message_class")
    if han:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in result.text)
