"""Character sets by evidence, and text files known by their byte-order mark (issue 13, items 4 and 6).

A BOM makes a file text whatever its name or what libmagic calls it (subtitles came out
``unsupported``); a UTF-16 e-mail is an e-mail. CJK-looking bytes are decoded strictly as
GB18030/Big5 before any single-byte guess: a 2.5 MB GB18030 letter was read as ``ptcp154``.
The chosen encoding is recorded in the metadata, and a mere guess becomes a warning.
"""

from __future__ import annotations

import codecs
import random
from pathlib import Path

import pytest

from ingest.detect import EML, detect_media_type
from ingest.extractors import extractor_for
from ingest.extractors._mime import decode_text
from ingest.model import ExtractContext, Extraction

SUBTITLE = ("1\n00:00:01,000 --> 00:00:04,000\n投诉人王喆反映：小区漏水问题长期未处理。\n\n"
            "2\n00:00:05,000 --> 00:00:08,000\nThe hearing starts at nine.\n")
SIMPLIFIED = [
    "投诉人王喆反映：小区物业长期不处理漏水问题，镕字也要正确显示。",
    "请尽快答复并告知处理结果，谢谢。",
    "关于堃、昇、犇、淼、鑫、燚等生僻字的处理意见。",
    "街道办事处于二〇二四年三月收到来信，已转交相关部门办理。",
    "扩展区汉字㐀㐁㐂䶵𠀀𠀁𪚥也要保留，不可丢失。",
    "信访件编号ＡＢＣ－１２３，来信人称“政府应当依法行政”。",
    "附件：现场照片三张、物业合同复印件一份（共十二页）。",
]
TRADITIONAL = [
    "陳情人反映：社區管理委員會長期不處理漏水問題，請儘速答覆。",
    "關於違章建築的檢舉，市政府已於三月間派員勘查。",
    "來函所附之證據資料共計十二頁，業經本處登記在案。",
    "請依行政程序法規定，於兩個月內作成決定並通知陳情人。",
]


def _ingest(path: Path) -> tuple[str, Extraction]:
    """Detect by content and extract with the registered extractor, as the pipeline does."""
    media_type = detect_media_type(path)
    return media_type, extractor_for(media_type).extract(path, media_type, ExtractContext())


def _letter(sentences: list[str], size: int, seed: int, number: str = "号") -> str:
    """Varied text of about ``size`` encoded bytes: shuffled sentences, numbers, line breaks."""
    rng = random.Random(seed)
    parts: list[str] = []
    length = 0
    while length < size:
        sentence = rng.choice(sentences)
        if rng.random() < 0.2:
            sentence = f"第{rng.randint(1, 99999)}{number}，{sentence}"
        parts.append(sentence + ("\n" if rng.random() < 0.25 else ""))
        length += 2 * len(parts[-1])
    return "".join(parts) + "\n"


@pytest.mark.parametrize("name", ["letter.srt", "letter.vtt", "letter.bin"])
@pytest.mark.parametrize(("bom", "codec", "encoding"), [
    pytest.param(codecs.BOM_UTF8, "utf-8", "utf-8", id="utf-8-bom"),
    pytest.param(codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le", id="utf-16-le-bom"),
    pytest.param(codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be", id="utf-16-be-bom"),
    pytest.param(codecs.BOM_UTF32_LE, "utf-32-le", "utf-32-le", id="utf-32-le-bom"),
])
def test_a_file_with_a_byte_order_mark_is_text_whatever_its_name(
        tmp_path: Path, name: str, bom: bytes, codec: str, encoding: str) -> None:
    """GIVEN a subtitle (or any) file that starts with a BOM, named .srt/.vtt/.bin
    WHEN it is detected and extracted
    THEN it is plain text, decoded with the BOM's encoding, the BOM gone, the encoding recorded."""
    path = tmp_path / name
    path.write_bytes(bom + SUBTITLE.encode(codec))
    media_type, result = _ingest(path)
    assert media_type == "text/plain"
    assert result.text == SUBTITLE
    assert result.metadata["encoding"] == encoding
    assert result.metadata["charset_basis"] == "bom"
    assert result.warnings == ()


def test_binary_that_happens_to_start_like_a_bom_is_not_text(tmp_path: Path) -> None:
    """GIVEN binary data whose first bytes are FF FE
    WHEN it is detected
    THEN it is not taken for UTF-16 text (the decoded start is not printable)."""
    rng = random.Random(7)
    path = tmp_path / "blob.bin"
    path.write_bytes(codecs.BOM_UTF16_LE + bytes(rng.randrange(256) for _ in range(4096)))
    assert detect_media_type(path) != "text/plain"


MAIL = ("From: 王喆 <wang@example.cn>\r\nTo: xinfang@example.gov.cn\r\nSubject: 关于物业漏水的投诉\r\n"
        "Date: Tue, 5 Mar 2024 09:30:00 +0800\r\nMessage-ID: <u16@example.cn>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "投诉人反映：小区物业长期不处理漏水问题，请尽快答复。\r\n")


@pytest.mark.parametrize(("prefix", "codec"), [
    pytest.param(codecs.BOM_UTF16_LE, "utf-16-le", id="utf-16-le-bom"),
    pytest.param(b"", "utf-16-le", id="utf-16-le-no-bom"),
    pytest.param(b"", "utf-16-be", id="utf-16-be-no-bom"),
    pytest.param(codecs.BOM_UTF8, "utf-8", id="utf-8-bom"),
])
def test_a_utf16_email_is_an_email(tmp_path: Path, prefix: bytes, codec: str) -> None:
    """GIVEN an .eml saved as UTF-16 by a Windows tool (with or without BOM)
    WHEN it is detected and extracted
    THEN it is an e-mail whose subject, sender and body are read."""
    path = tmp_path / "complaint.eml"
    path.write_bytes(prefix + MAIL.encode(codec))
    media_type, result = _ingest(path)
    assert media_type == EML
    assert result.metadata["subject"] == "关于物业漏水的投诉"
    assert "wang@example.cn" in result.metadata["from"]
    assert "小区物业长期不处理漏水问题" in result.text


@pytest.mark.parametrize("seed", range(1, 7))
def test_a_large_gb18030_text_decodes_exactly_as_gb18030(tmp_path: Path, seed: int) -> None:
    """GIVEN a 2.5 MB GB18030 letter with rare characters (GBK-only, extension A/B four-byte codes)
    WHEN it is detected and extracted
    THEN it decodes exactly, by a strict GB18030 decode, recorded in the metadata without a warning.

    Several letters, because a detector that samples the file fails only when its sample
    happens to end inside a character."""
    letter = _letter(SIMPLIFIED, 2_500_000, seed=seed)
    data = letter.encode("gb18030")
    assert len(data) > 2_400_000
    path = tmp_path / "letter.txt"
    path.write_bytes(data)
    media_type, result = _ingest(path)
    assert media_type == "text/plain"
    assert result.text == letter
    assert result.metadata["encoding"] == "gb18030"
    assert result.metadata["charset_basis"] == "cjk-strict"
    assert result.warnings == ()


def test_a_big5_text_decodes_as_big5(tmp_path: Path) -> None:
    """GIVEN a Big5 letter (which GB18030 would also decode 'cleanly', into nonsense)
    WHEN it is extracted
    THEN the Big5 decode wins because its characters are everyday Traditional ones."""
    letter = _letter(TRADITIONAL, 400_000, seed=5, number="號")
    path = tmp_path / "letter.txt"
    path.write_bytes(letter.encode("big5"))
    media_type, result = _ingest(path)
    assert media_type == "text/plain"
    assert result.text == letter
    assert result.metadata["encoding"] == "big5hkscs"
    assert result.metadata["charset_basis"] == "cjk-strict"


def test_a_large_gb18030_mail_body_without_charset_is_gb18030(tmp_path: Path) -> None:
    """GIVEN an e-mail whose 8-bit body is 1 MB of GB18030 and declares no charset
    WHEN it is extracted
    THEN the body is decoded exactly as GB18030, not guessed as a single-byte code page."""
    body = _letter(SIMPLIFIED, 1_000_000, seed=21)
    head = b"From: a@example.cn\r\nTo: b@example.cn\r\nSubject: letter\r\nMIME-Version: 1.0\r\n\r\n"
    path = tmp_path / "big.eml"
    path.write_bytes(head + body.encode("gb18030"))
    media_type, result = _ingest(path)
    assert media_type == EML
    assert body.strip() in result.text
    assert not any("guess" in warning for warning in result.warnings)


def test_a_latin1_file_still_decodes_as_before_and_the_guess_is_named(tmp_path: Path) -> None:
    """GIVEN a plain Latin-1 (Western) letter
    WHEN it is extracted
    THEN it decodes exactly as before (charset-normalizer's cp1252), and the guess is named in a warning."""
    letter = ("Sehr geehrte Damen und Herren, für die Grüße aus München danken wir. "
              "Café crème, très élégant; à bientôt. Die Straße ist übermäßig laut.\n") * 40
    data = letter.encode("latin-1")
    path = tmp_path / "letter.txt"
    path.write_bytes(data)
    media_type, result = _ingest(path)
    assert extractor_for(media_type).name == "text"     # libmagic may say text/csv
    before = decode_text(data)
    assert result.text == letter == before.text
    assert result.metadata["encoding"] == before.encoding == "cp1252"
    assert result.metadata["charset_basis"] == "guess"
    assert any("cp1252" in warning for warning in result.warnings)


def test_chinese_text_that_opens_like_a_dos_program_is_text(tmp_path: Path) -> None:
    """GIVEN a GBK letter opening with 附件 (byte 0xB8, which libmagic reads as an x86 MOV of a COM program)
    WHEN it is detected and extracted
    THEN it is text, decoded as GB18030."""
    letter = "附件：现场照片三张、物业合同复印件一份。\n投诉人反映：小区物业长期不处理漏水问题。\n" * 50
    path = tmp_path / "letter.txt"
    path.write_bytes(letter.encode("gbk"))
    media_type, result = _ingest(path)
    assert media_type == "text/plain"
    assert result.text == letter
    assert result.metadata["encoding"] == "gb18030"
