"""Presentations (issue #13 item 4): .pptx slides, tables, groups, notes, and OCR of pictures."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest
from extract_msg.ole_writer import OleWriter
from msoffcrypto.format.ooxml import OOXMLFile
from PIL import Image, ImageDraw, ImageFont
from pptx import Presentation
from pptx.opc.constants import RELATIONSHIP_TYPE
from pptx.opc.package import Part
from pptx.opc.packuri import PackURI
from pptx.oxml import parse_xml
from pptx.util import Inches

from ingest.errors import CorruptDocumentError, EncryptedDocumentError, TooLargeError, UnsupportedFormatError
from ingest.extractors.slides import SlidesExtractor
from ingest.model import ExtractContext, Extraction, Limits

PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
# English alone keeps the picture tests fast (no Chinese model to load).
ENGLISH_OCR = ExtractContext(ocr_languages=("eng",))
NO_OCR = ExtractContext(ocr_enabled=False)


def _picture(text: str, size: tuple[int, int] = (640, 120)) -> io.BytesIO:
    image = Image.new("L", size, 255)
    ImageDraw.Draw(image).text((12, size[1] // 4), text, fill=0, font=ImageFont.load_default(size=56))
    data = io.BytesIO()
    image.save(data, "PNG")
    data.seek(0)
    return data


def _briefing(tmp_path: Path, *, pictures: tuple[str, ...] = ()) -> Path:
    """A two-slide briefing: title, text boxes out of order, a table, a group, notes; pictures on slide 2."""
    deck = Presentation()
    deck.core_properties.title = "信访工作情况汇报"
    deck.core_properties.author = "市信访局"
    slide = deck.slides.add_slide(deck.slide_layouts[5])          # "Title Only"
    slide.shapes.title.text = "本月投诉情况"
    # Added bottom first, then right, then left: the text must still read top-down, left-right.
    slide.shapes.add_textbox(Inches(1), Inches(6.5), Inches(4), Inches(0.5)).text_frame.text = "下方：请领导审阅"
    slide.shapes.add_textbox(Inches(5), Inches(2), Inches(4), Inches(0.5)).text_frame.text = "右上：受理35件"
    slide.shapes.add_textbox(Inches(0.5), Inches(2), Inches(4), Inches(0.5)).text_frame.text = "左上：信访人王喆"
    table = slide.shapes.add_table(3, 2, Inches(1), Inches(3), Inches(6), Inches(1.5)).table
    for (row, col), text in {(0, 0): "类别", (0, 1): "件数", (1, 0): "投诉", (1, 1): "20",
                             (2, 0): "建议", (2, 1): "15"}.items():
        table.cell(row, col).text = text
    group = slide.shapes.add_group_shape()
    inner = group.shapes.add_group_shape()
    inner.shapes.add_textbox(Inches(1), Inches(5), Inches(3), Inches(0.5)).text_frame.text = "组内文字：物业漏水"
    slide.notes_slide.notes_text_frame.text = "请补充上月数据"
    second = deck.slides.add_slide(deck.slide_layouts[6])         # "Blank": no title
    for index, text in enumerate(pictures):
        second.shapes.add_picture(_picture(text), Inches(1), Inches(1 + 1.5 * index))
    path = tmp_path / "briefing.pptx"
    deck.save(str(path))
    return path


def _extract(path: Path, context: ExtractContext = NO_OCR, **kwargs: int) -> Extraction:
    return SlidesExtractor(**kwargs).extract(path, PPTX, context)


def test_each_slide_has_a_heading_and_its_text_in_reading_order(tmp_path: Path) -> None:
    """GIVEN a slide whose boxes were added out of order WHEN extracted THEN its title heads it and
    text reads top-down then left-right, the table as tab-separated rows, nested groups included."""
    slide_one = _extract(_briefing(tmp_path)).text.split("\f")[0]
    assert slide_one.split("\n") == [
        "Slide 1: 本月投诉情况",
        "左上：信访人王喆",
        "右上：受理35件",
        "类别\t件数",
        "投诉\t20",
        "建议\t15",
        "组内文字：物业漏水",
        "下方：请领导审阅",
        "Notes: 请补充上月数据",
    ]


def test_slides_are_pages_and_untitled_slides_are_numbered(tmp_path: Path) -> None:
    """GIVEN two slides, the second without a title THEN two pages, the second headed "Slide 2"."""
    extraction = _extract(_briefing(tmp_path))
    assert extraction.pages == 2
    assert extraction.text.split("\f")[1] == "Slide 2"
    assert [info.number for info in extraction.page_info] == [1, 2]


def test_hidden_slides_are_read_and_named(tmp_path: Path) -> None:
    """GIVEN a slide hidden from the show THEN its text is still extracted, its heading says hidden."""
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "内部：不予公开的处理意见"
    slide._element.set("show", "0")
    path = tmp_path / "hidden.pptx"
    deck.save(str(path))
    assert _extract(path).text == "Slide 1: 内部：不予公开的处理意见 (hidden slide)"


def test_metadata_and_language_are_recorded(tmp_path: Path) -> None:
    """GIVEN core properties in Chinese THEN title and author are kept and the language is Chinese."""
    extraction = _extract(_briefing(tmp_path))
    assert extraction.metadata["title"] == "信访工作情况汇报"
    assert extraction.metadata["author"] == "市信访局"
    assert extraction.languages[0].startswith("zh")
    assert extraction.warnings == ()


def test_pictures_are_ocrd_once_each_and_marked_on_their_slide(tmp_path: Path) -> None:
    """GIVEN a picture of text on slide 2 (and the same picture again) WHEN OCR is on THEN its text
    is found once, and slide 2's page info says it was OCR'd, with a confidence."""
    path = _briefing(tmp_path, pictures=("COMPLAINT 2026", "COMPLAINT 2026"))
    extraction = _extract(path, ENGLISH_OCR)
    slide_two = extraction.text.split("\f")[1]
    assert slide_two.count("COMPLAINT 2026") == 1
    info = extraction.page_info[1]
    assert info.ocr and info.confidence is not None and info.confidence > 60
    assert not extraction.page_info[0].ocr


def test_pictures_are_not_ocrd_when_ocr_is_off_and_beyond_the_cap(tmp_path: Path) -> None:
    """GIVEN two distinct pictures WHEN OCR is off THEN none is read; WHEN the cap is one picture
    THEN the first is read and a warning says one was not."""
    path = _briefing(tmp_path, pictures=("COMPLAINT 2026", "APPEAL 2027"))
    assert "COMPLAINT" not in _extract(path, NO_OCR).text
    capped = _extract(path, ENGLISH_OCR, max_ocr_pictures=1)
    assert "COMPLAINT 2026" in capped.text and "APPEAL" not in capped.text
    assert any("1 picture(s) not OCR'd" in warning for warning in capped.warnings)


def test_small_icons_are_not_ocrd(tmp_path: Path) -> None:
    """GIVEN a 40x40 icon THEN it is not sent to OCR (no page is marked as OCR'd)."""
    deck = Presentation()
    deck.slides.add_slide(deck.slide_layouts[6]).shapes.add_picture(_picture("X", (40, 40)), Inches(1), Inches(1))
    path = tmp_path / "icon.pptx"
    deck.save(str(path))
    assert not any(info.ocr for info in _extract(path, ENGLISH_OCR).page_info)


def _emf(size: int) -> bytes:
    """An EMF picture of ``size`` bytes (a header Pillow recognises, then empty records)."""
    header = struct.pack("<II4i4i4sIIIHHIII2i2i", 1, 108, 0, 0, 100, 100, 0, 0, 2540, 2540, b" EMF",
                         0x10000, size, 1, 0, 0, 0, 0, 0, 1024, 768, 320, 240)
    return header.ljust(size, b"\0")


def test_pictures_that_cannot_be_ocrd_are_named_not_dropped_silently(tmp_path: Path) -> None:
    """GIVEN a slide with a picture of text over the archive's pixel limit, and one with a large
    EMF (vector) picture
    WHEN the deck is extracted with OCR on
    THEN the big picture is named in a warning (flagged for review, as Word does) and the EMF in a
    note (a pasted chart, most often: the outcome stays as it is); neither is OCR'd."""
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    slide.shapes.add_picture(_picture("COMPLAINT 2026"), Inches(1), Inches(1))
    slide.shapes.add_picture(io.BytesIO(_emf(70_000)), Inches(1), Inches(3))
    path = tmp_path / "unread.pptx"
    deck.save(str(path))
    result = _extract(path, ExtractContext(ocr_languages=("eng",), limits=Limits(max_image_pixels=10_000)))
    assert result.warnings == ("slide 1 picture not OCR'd: 640x120 pixels is over the limit",)
    assert result.notes == ("slide 1 picture: vector picture (EMF/WMF) not OCR'd",)
    assert not result.page_info[0].ocr


def test_a_damaged_picture_is_named_in_a_warning_and_not_sent_to_ocr() -> None:
    """GIVEN a picture cut short in transit (a PNG whose data ends early), as Word, PowerPoint and
    OFD pictures are read (``ocr_picture``, one rule for all)
    WHEN it is prepared for OCR
    THEN no OCR runs and a warning names it as unreadable (before, slides dropped it silently)."""
    from ingest.extractors._office import ocr_picture

    whole = _picture("COMPLAINT 2026").getvalue()

    def no_engine() -> object:
        raise AssertionError("a damaged picture must not reach OCR")

    found = ocr_picture(whole[: len(whole) // 2], "slide 3 picture", ENGLISH_OCR, no_engine)  # type: ignore[arg-type]
    assert found.reading is None and found.notes == []
    assert len(found.warnings) == 1 and found.warnings[0].startswith("slide 3 picture unreadable (")


def test_truncated_presentation_is_corrupt(tmp_path: Path) -> None:
    """GIVEN a .pptx cut off in transfer THEN it is corrupt, with a reason."""
    whole = _briefing(tmp_path).read_bytes()
    path = tmp_path / "cut.pptx"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CorruptDocumentError, match="zip"):
        _extract(path)


def test_zip_bomb_is_refused_before_python_pptx_opens_it(tmp_path: Path) -> None:
    """GIVEN a part inflating absurdly THEN the deck is refused from the zip directory alone."""
    path = tmp_path / "bomb.pptx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ppt/presentation.xml", "<p:presentation/>")
        archive.writestr("ppt/media/filler.bin", b"\0" * (20 * 1024 * 1024))
    with pytest.raises(TooLargeError):
        _extract(path, ExtractContext(limits=Limits(max_expanded_bytes=8 * 1024 * 1024)))


def test_encrypted_presentation_opens_with_its_password_only(tmp_path: Path) -> None:
    """GIVEN a password-protected .pptx THEN no password → encrypted; the password → the text."""
    sealed = io.BytesIO()
    with _briefing(tmp_path).open("rb") as handle:
        OOXMLFile(handle).encrypt("汇报", sealed)
    path = tmp_path / "sealed.pptx"
    path.write_bytes(sealed.getvalue())
    with pytest.raises(EncryptedDocumentError):
        _extract(path)
    assert "左上：信访人王喆" in _extract(path, ExtractContext(password="汇报", ocr_enabled=False)).text


def test_legacy_ppt_is_reported_unsupported_not_corrupt(tmp_path: Path) -> None:
    """GIVEN a PowerPoint 97-2003 file under a .pptx type THEN it is "unsupported", saying why."""
    writer = OleWriter()
    writer.addEntry("PowerPoint Document", b"\0" * 64)
    data = io.BytesIO()
    writer.write(data)
    path = tmp_path / "old.pptx"
    path.write_bytes(data.getvalue())
    with pytest.raises(UnsupportedFormatError, match="97-2003"):
        _extract(path)


def test_slide_show_ppsx_is_read_like_a_presentation(tmp_path: Path) -> None:
    """GIVEN a .ppsx (a slide show: only its main content type differs) THEN its slides are read."""
    with zipfile.ZipFile(_briefing(tmp_path)) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"presentationml.presentation.main+xml", b"presentationml.slideshow.main+xml")
    path = tmp_path / "show.ppsx"
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    assert "Slide 1: 本月投诉情况" in _extract(path).text


def test_smartart_text_is_read_from_its_data_part(tmp_path: Path) -> None:
    """GIVEN a SmartArt process diagram (its text lives in a separate data part) THEN its steps are found."""
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    data = ('<dgm:dataModel xmlns:dgm="http://schemas.openxmlformats.org/drawingml/2006/diagram" '
            'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><dgm:ptLst>'
            '<dgm:pt modelId="1"><dgm:t><a:bodyPr/><a:p><a:r><a:t>登记</a:t></a:r></a:p></dgm:t></dgm:pt>'
            '<dgm:pt modelId="2"><dgm:t><a:bodyPr/><a:p><a:r><a:t>受理</a:t></a:r></a:p></dgm:t></dgm:pt>'
            '</dgm:ptLst></dgm:dataModel>').encode()
    part = Part(PackURI("/ppt/diagrams/data1.xml"),
                "application/vnd.openxmlformats-officedocument.drawingml.diagramData+xml", deck.part.package, data)
    relationship = slide.part.relate_to(part, RELATIONSHIP_TYPE.DIAGRAM_DATA)
    slide.shapes._spTree.append(parse_xml(
        '<p:graphicFrame xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<p:nvGraphicFramePr><p:cNvPr id="9" name="Diagram"/><p:cNvGraphicFramePr/><p:nvPr/></p:nvGraphicFramePr>'
        '<p:xfrm><a:off x="0" y="0"/><a:ext cx="100" cy="100"/></p:xfrm>'
        '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/diagram">'
        '<dgm:relIds xmlns:dgm="http://schemas.openxmlformats.org/drawingml/2006/diagram" '
        f'r:dm="{relationship}" r:lo="" r:qs="" r:cs=""/></a:graphicData></a:graphic></p:graphicFrame>'))
    path = tmp_path / "smartart.pptx"
    deck.save(str(path))
    assert _extract(path).text == "Slide 1\n登记\n受理"
